"""双随机一公开 draws and 核查 samples: reproducibility and the assignment constraints."""

from __future__ import annotations

import hashlib
import itertools
import random
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shuibao.errors import InputError
from shuibao.supervision.draws import DrawProject, Inspector, draw_inspections, sample

DISTRICTS = ["500101", "500102", "500103", "500104", "500105"]


def population(n_projects=40, n_inspectors=12, seed=0):
    rnd = random.Random(seed)
    projects = [DrawProject(i, f"项目{i}", frozenset(rnd.sample(DISTRICTS, rnd.randint(1, 2))))
                for i in range(1, n_projects + 1)]
    inspectors = [Inspector(f"I{k:03d}", f"检查员{k}", DISTRICTS[k % len(DISTRICTS)]) for k in range(n_inspectors)]
    return projects, inspectors


def check_constraints(draw, projects, inspectors, per_project, max_load=None):
    home = {i.id: i.district_code for i in inspectors}
    districts = {p.id: p.district_codes for p in projects}
    for a in draw.assignments:
        assert len(a.inspector_ids) == per_project == len(set(a.inspector_ids))
        assert a.inspector_ids == tuple(sorted(a.inspector_ids))
        assert not any(home[k] in districts[a.project_id] for k in a.inspector_ids), a
    loads = Counter(k for a in draw.assignments for k in a.inspector_ids)
    if max_load is not None:
        assert max(loads.values(), default=0) <= max_load
    return loads


def test_same_seed_same_draw_whatever_the_input_order():
    projects, inspectors = population()
    d1 = draw_inspections(projects, inspectors, seed=20250101, ratio=0.25)
    shuffled_p, shuffled_i = projects[:], inspectors[:]
    random.Random(7).shuffle(shuffled_p)
    random.Random(8).shuffle(shuffled_i)
    d2 = draw_inspections(shuffled_p, shuffled_i, seed=20250101, ratio=0.25)
    assert d1 == d2
    assert len(d1.assignments) == 10 and d1.seed == 20250101
    assert [a.project_id for a in d1.assignments] == sorted(a.project_id for a in d1.assignments)


def test_different_seed_different_draw():
    projects, inspectors = population(200, 30)
    draws = {draw_inspections(projects, inspectors, seed=s, count=20).assignments for s in range(5)}
    assert len(draws) == 5
    picks = {tuple(a.project_id for a in d) for d in draws}
    assert len(picks) == 5


def test_population_digest():
    projects, inspectors = population(5, 4)
    d = draw_inspections(projects, inspectors, seed=1, count=2)
    text = '{"inspectors":["I000","I001","I002","I003"],"projects":[1,2,3,4,5]}'
    assert d.population_digest == hashlib.sha256(text.encode()).hexdigest()
    other = draw_inspections(projects[:4], inspectors, seed=1, count=2)
    assert other.population_digest != d.population_digest
    assert d.parameters["count"] == 2 and d.parameters["per_project"] == 2 and d.parameters["ratio"] is None


@pytest.mark.parametrize("ratio, n, expected", [
    (0.3, 10, 3),  # 0.3 × 10 is 3.0000000000000004 in floats; must not round up to 4
    (0.25, 10, 3), (0.01, 10, 1), (1, 10, 10), (0.1, 7, 1), (0.5, 7, 4), (0.7, 10, 7),
])
def test_ratio_rounds_up(ratio, n, expected):
    projects = [DrawProject(i, f"p{i}", frozenset({"A"})) for i in range(n)]
    inspectors = [Inspector(f"k{j}", "", "B") for j in range(4)]
    d = draw_inspections(projects, inspectors, seed=3, ratio=ratio, per_project=1)
    assert len(d.assignments) == expected == d.parameters["count"]


def test_loads_are_balanced_without_district_conflicts():
    projects = [DrawProject(i, f"p{i}", frozenset({"X"})) for i in range(1, 31)]
    inspectors = [Inspector(f"k{j}", "", "Y") for j in range(7)]
    d = draw_inspections(projects, inspectors, seed=11, count=30, per_project=2)
    loads = check_constraints(d, projects, inspectors, 2)
    assert sum(loads.values()) == 60 and max(loads.values()) - min(loads.values()) <= 1  # 60 / 7 → 8 or 9


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 2**63), n_projects=st.integers(1, 25), n_inspectors=st.integers(0, 10),
       per_project=st.integers(1, 3), max_load=st.one_of(st.none(), st.integers(1, 6)),
       data=st.data())
def test_constraints_hold_over_many_seeds(seed, n_projects, n_inspectors, per_project, max_load, data):
    districts = st.frozensets(st.sampled_from(DISTRICTS[:4]), min_size=1, max_size=2)
    projects = [DrawProject(i, f"p{i}", data.draw(districts)) for i in range(n_projects)]
    inspectors = [Inspector(f"k{j}", "", data.draw(st.sampled_from(DISTRICTS[:4]))) for j in range(n_inspectors)]
    count = data.draw(st.integers(0, n_projects))
    try:
        d = draw_inspections(projects, inspectors, seed=seed, count=count, per_project=per_project,
                             max_load=max_load)
    except InputError as exc:
        assert "cannot staff project" in str(exc)
        return
    assert len(d.assignments) == count
    check_constraints(d, projects, inspectors, per_project, max_load)


def test_a_project_without_enough_outside_inspectors_is_named():
    projects = [DrawProject(1, "渝北某项目", frozenset({"500112"})), DrawProject(2, "江北某项目", frozenset({"500105"})),
                DrawProject(3, "巴南某项目", frozenset({"500113", "500112"}))]
    inspectors = [Inspector("a", "", "500112"), Inspector("b", "", "500105"), Inspector("c", "", "500113")]
    with pytest.raises(InputError) as err:
        draw_inspections(projects, inspectors, seed=1, count=3, per_project=2)
    msg = str(err.value)
    assert "project 1 '渝北某项目'" not in msg and "project 2 '江北某项目'" not in msg  # b+c / a+c are outside
    assert "project 3 '巴南某项目': 1 inspector(s) are based outside its district(s) 500112, 500113, 2 needed" in msg


def test_every_unstaffable_project_is_named():
    projects = [DrawProject(i, f"p{i}", frozenset({"A"})) for i in (5, 6)]
    inspectors = [Inspector("x", "", "A"), Inspector("y", "", "B")]
    with pytest.raises(InputError) as err:
        draw_inspections(projects, inspectors, seed=1, count=2, per_project=2)
    assert "project 5 'p5'" in str(err.value) and "project 6 'p6'" in str(err.value)


def test_max_load_infeasible_is_reported():
    projects = [DrawProject(i, f"p{i}", frozenset({"A"})) for i in range(1, 4)]
    inspectors = [Inspector("x", "", "B"), Inspector("y", "", "C")]
    with pytest.raises(InputError, match="max_load 2"):
        draw_inspections(projects, inspectors, seed=1, count=3, per_project=2, max_load=2)
    d = draw_inspections(projects, inspectors, seed=1, count=3, per_project=2, max_load=3)
    assert all(a.inspector_ids == ("x", "y") for a in d.assignments)


def test_only_feasible_assignment_is_found_for_every_seed():
    # per_project 1, max_load 1: P2 can only take b, so P1 must take c and P3 must take a.
    # Greedy in draw order can give c to P3 first; the draw must then move c to P1.
    projects = [DrawProject(1, "P1", frozenset({"D"})), DrawProject(2, "P2", frozenset({"D", "A"})),
                DrawProject(3, "P3", frozenset({"C"}))]
    inspectors = [Inspector("a", "", "D"), Inspector("b", "", "C"), Inspector("c", "", "A")]
    for seed in range(40):
        d = draw_inspections(projects, inspectors, seed=seed, count=3, per_project=1, max_load=1)
        assert [(a.project_id, a.inspector_ids) for a in d.assignments] == [(1, ("c",)), (2, ("b",)), (3, ("a",))]


def brute_force_feasible(projects, inspectors, per, cap):
    options = [list(itertools.combinations([i.id for i in inspectors if i.district_code not in p.district_codes], per))
               for p in projects]
    return any(max(Counter(k for team in combo for k in team).values(), default=0) <= cap
               for combo in itertools.product(*options))


def test_draw_fails_only_when_no_assignment_exists():
    rnd = random.Random(2)
    for trial in range(400):
        projects = [DrawProject(i, "", frozenset(rnd.sample("ABCD", rnd.randint(1, 2))))
                    for i in range(rnd.randint(1, 4))]
        inspectors = [Inspector(str(k), "", rnd.choice("ABCD")) for k in range(rnd.randint(1, 5))]
        per, cap = rnd.randint(1, 2), rnd.randint(1, 2)
        try:
            draw_inspections(projects, inspectors, seed=trial, count=len(projects), per_project=per, max_load=cap)
            drawn = True
        except InputError:
            drawn = False
        assert drawn == brute_force_feasible(projects, inspectors, per, cap), (projects, inspectors, per, cap)


@pytest.mark.parametrize("kwargs, message", [
    ({}, "exactly one of count and ratio"),
    ({"count": 2, "ratio": 0.5}, "exactly one of count and ratio"),
    ({"count": 9}, r"count: expected an integer in \[0, 3\]"),
    ({"ratio": 0}, r"ratio: expected a number in \(0, 1\]"),
    ({"ratio": 1.5}, "ratio"),
    ({"count": 1, "per_project": 0}, "per_project"),
    ({"count": 1, "max_load": 0}, "max_load"),
    ({"count": 1, "seed": -1}, "seed"),
])
def test_bad_parameters(kwargs, message):
    projects = [DrawProject(i, "", frozenset({"A"})) for i in range(3)]
    inspectors = [Inspector(f"k{j}", "", "B") for j in range(3)]
    kwargs = {"seed": 1, **kwargs}
    with pytest.raises(InputError, match=message):
        draw_inspections(projects, inspectors, **kwargs)


def test_bad_population():
    projects = [DrawProject(1, "", frozenset({"A"})), DrawProject(1, "", frozenset({"B"})),
                DrawProject(2, "", "500101")]
    inspectors = [Inspector("k", "", "B"), Inspector("k", "", "C")]
    with pytest.raises(InputError) as err:
        draw_inspections(projects, inspectors, seed=1, count=1)
    assert "project 2: district_codes must be a frozenset" in str(err.value)
    projects = projects[:2]
    with pytest.raises(InputError) as err:
        draw_inspections(projects, inspectors, seed=1, count=1)
    assert "duplicate project id(s): 1" in str(err.value) and "duplicate inspector id(s): k" in str(err.value)


def test_empty_draw():
    d = draw_inspections([], [], seed=1, ratio=0.5)
    assert d.assignments == () and d.parameters["count"] == 0


def test_sample_is_deterministic_sorted_and_order_free():
    ids = list(range(100, 200))
    s1 = sample(ids, ratio=0.1, seed=42)
    assert len(s1) == 10 and list(s1) == sorted(s1) and set(s1) <= set(ids)
    assert sample(ids[::-1], ratio=0.1, seed=42) == s1
    assert sample(ids, ratio=0.1, seed=43) != s1


@pytest.mark.parametrize("n, ratio, minimum, expected", [
    (10, 0.3, 1, 3), (10, 0.01, 1, 1), (10, 0.01, 4, 4), (10, 0.01, 0, 1), (3, 0.5, 5, 3), (10, 1, 1, 10),
    (0, 0.5, 1, 0),
])
def test_sample_size(n, ratio, minimum, expected):
    assert len(sample(list(range(n)), ratio=ratio, seed=1, minimum=minimum)) == expected


@pytest.mark.parametrize("kwargs", [{"ratio": 0}, {"ratio": -0.1}, {"ratio": 1.01}, {"ratio": 0.5, "minimum": -1},
                                    {"ratio": 0.5, "seed": -3}])
def test_sample_rejects_bad_arguments(kwargs):
    with pytest.raises(InputError):
        sample([1, 2, 3], **{"seed": 1, **kwargs})


def test_sample_rejects_duplicates():
    with pytest.raises(InputError, match="duplicate id"):
        sample([1, 2, 2], ratio=0.5, seed=1)
