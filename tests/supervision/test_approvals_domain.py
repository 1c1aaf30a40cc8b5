"""方案审批 domain: plan classes at their thresholds, paths, the state machine, working days and time limits,
the unified social credit code.  Expected values are worked out by hand from the sources (水利部令第53号,
国务院办公厅 holiday notices, GB 32100-2015), not by the code under test."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from shuibao.errors import InputError
from shuibao.supervision.approvals import (
    TRANSITIONS, Limit, Path_, PlanClass, State, Step, clock, load_classes, load_rules, next_state, valid_steps,
)
from shuibao.supervision.credit_code import CHARSET, check_character, credit_code_problem, normalise_credit_code
from shuibao.supervision.workdays import CalendarError, load_holidays

R, F, N = PlanClass.report, PlanClass.form, PlanClass.not_required


@pytest.mark.parametrize("land, earth, expected", [
    (5, 0, R), ("4.9999", 49999, F), (0, 50000, R), (0, "49999.9", F), ("0.3", 60000, R),  # either test decides
    ("0.5", 0, F), (0, 1000, F), ("0.4999", "999.9", N), (0, 0, N), ("0.49", 999, N),
])
def test_plan_class_thresholds_include_the_number(land, earth, expected):
    """令53: 5 hm² 以上 or 5万 m³ 以上 → 报告书; 0.5 hm² or 1000 m³ 以上 → 报告表; below both → 不需编报."""
    assert load_classes().classify(Decimal(str(land)), Decimal(str(earth))) == expected


def test_the_thresholds_are_a_replaceable_table(tmp_path):
    old = tmp_path / "old.toml"  # the former 水利部令第5号 tiers: 1 hm² / 10,000 m³
    old.write_text('version = "order-5"\nsource = "水利部令第5号"\n[[classes]]\ncode = "report"\n'
                   'min_land_take_hm2 = "1"\nmin_earthwork_m3 = "10000"\n', encoding="utf-8")
    assert load_classes().classify(2, 0) == F and load_classes(old).classify(2, 0) == R
    assert load_classes(old).classify("0.9", 9999) == N


def test_a_negative_quantity_is_refused():
    with pytest.raises(InputError, match="negative"):
        load_classes().classify(-1, 0)


def test_paths_follow_class_and_zone():
    rules = load_rules()
    assert rules.path_for("report", False) == Path_.ordinary
    assert rules.path_for("form", False) == Path_.commitment
    assert rules.path_for("report", True) == Path_.zone
    assert rules.path_for("form", True) == Path_.filing
    assert rules.path_for("not_required", True) == rules.path_for("not_required", False) == Path_.not_required
    assert rules.limits[Path_.ordinary].decision_days == 10 and rules.limits[Path_.ordinary].review_days == 30
    assert rules.limits[Path_.commitment].decision_days == 0 and rules.limits[Path_.filing].decision_days is None
    assert rules.recheck_ratio == Decimal("0.1896")


WALKS = {
    Path_.ordinary: [(Step.intake, None), (Step.assign_review, None), (Step.opinion, "revise"), (Step.revision, None),
                     (Step.conclude_review, "pass"), (Step.decide, "approve")],
    Path_.commitment: [(Step.intake, None)],
    Path_.zone: [(Step.intake, None), (Step.decide, "approve")],
    Path_.filing: [(Step.intake, None), (Step.file, None)],
    Path_.not_required: [(Step.intake, None)],
}
ENDS = {Path_.ordinary: State.approved, Path_.commitment: State.approved, Path_.zone: State.approved,
        Path_.filing: State.filed, Path_.not_required: State.closed_not_required}


@pytest.mark.parametrize("path", list(Path_))
def test_each_path_walks_to_its_end(path):
    state = next_state(path, None, Step.register)
    assert state == State.registered
    for step, outcome in WALKS[path]:
        assert step in valid_steps(path, state)
        state = next_state(path, state, step, outcome)
    assert state == ENDS[path]
    assert valid_steps(path, state) == ([Step.recheck] if state == State.approved else [])


def test_a_step_out_of_order_is_refused_naming_what_is_allowed():
    with pytest.raises(InputError, match=r"step: decide is not allowed on path ordinary in state accepted "
                                         r"\(allowed: assign_review, extend\)"):
        next_state("ordinary", "accepted", "decide", "approve")
    with pytest.raises(InputError, match="step: assign_review is not allowed on path commitment"):
        next_state("commitment", "registered", "assign_review")
    with pytest.raises(InputError, match="outcome: decide needs one of approve, refuse"):
        next_state("ordinary", "review_concluded", "decide", "maybe")


def test_every_state_is_reachable_and_every_non_final_state_has_a_way_on():
    reached = {t.after for t in TRANSITIONS}
    assert reached == set(State)
    for t in TRANSITIONS:
        if t.after not in (State.approved, State.refused, State.filed, State.closed_not_required):
            assert valid_steps(t.path or "ordinary", t.after), t


# ------------------------------------------------------------------------------ working days
CAL = load_holidays()


def test_national_day_2025_with_its_make_up_days():
    """国办发明电〔2024〕12号: 10-01..10-08 off, Sun 09-28 and Sat 10-11 working."""
    assert CAL.is_working_day(date(2025, 9, 28)) and CAL.is_working_day(date(2025, 10, 11))
    assert not any(CAL.is_working_day(date(2025, 10, d)) for d in range(1, 9))
    assert CAL.add_working_days(date(2025, 9, 26), 1) == date(2025, 9, 28)  # Fri → the Sunday make-up day
    assert CAL.add_working_days(date(2025, 9, 30), 1) == date(2025, 10, 9)
    assert CAL.add_working_days(date(2025, 9, 30), 3) == date(2025, 10, 11)  # Thu, Fri, then the Saturday
    assert CAL.working_days_between(date(2025, 9, 29), date(2025, 10, 12)) == 4  # 9-30, 10-9, 10-10, 10-11


def test_national_day_2026_and_plain_weekends():
    assert CAL.add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert CAL.is_working_day(date(2026, 9, 20)) and CAL.is_working_day(date(2026, 10, 10))
    assert CAL.add_working_days(date(2026, 12, 4), 1) == date(2026, 12, 7)  # Fri → Mon
    assert CAL.add_working_days(date(2026, 12, 4), 0) == date(2026, 12, 4)
    assert CAL.is_working_day(date(2026, 2, 28)) and not CAL.is_working_day(date(2026, 2, 23))  # 春节


def test_a_year_outside_the_table_is_an_error_not_weekends_only():
    with pytest.raises(CalendarError, match="covers 2025, 2026 only"):
        CAL.is_working_day(date(2027, 1, 4))
    with pytest.raises(CalendarError):
        CAL.add_working_days(date(2026, 12, 30), 5)
    with pytest.raises(CalendarError):
        CAL.is_working_day(date(2024, 12, 31))


def test_the_decision_clock_skips_holidays_and_review_time():
    """Intake Mon 2026-09-21; 10 working days: 9-22..24, 9-28..30, 10-8, 10-9, Sat 10-10, Mon 10-12."""
    limit = Limit(10, 10, 30, "令53")
    c = clock(limit, date(2026, 9, 21), [], date(2026, 10, 12), CAL)
    assert c.due_on == date(2026, 10, 12) and c.counted_days == 10 and not c.overdue
    assert clock(limit, date(2026, 9, 21), [], date(2026, 10, 13), CAL).overdue
    # a review from 9-22 to 9-24 (2 working days) does not count: due two working days later
    c = clock(limit, date(2026, 9, 21), [(date(2026, 9, 22), date(2026, 9, 24))], date(2026, 10, 13), CAL)
    assert c.review_days == 2 and c.counted_days == 9 and c.due_on == date(2026, 10, 14) and not c.overdue
    # a review still open past 30 working days is overdue by the review's own limit
    c = clock(limit, date(2026, 3, 2), [(date(2026, 3, 3), None)], date(2026, 4, 30), CAL)
    assert c.review_days > 30 and c.counted_days == 1 and c.overdue
    assert not clock(Limit(None, 0, None, "none"), date(2026, 1, 5), [], date(2026, 12, 1), CAL).overdue
    # extended once by 10 working days: 10-13..16, 10-19..23, 10-26 → due Mon 10-26
    c = clock(limit, date(2026, 9, 21), [], date(2026, 10, 26), CAL, extended=True)
    assert c.limit_days == 20 and c.due_on == date(2026, 10, 26) and not c.overdue
    assert clock(limit, date(2026, 9, 21), [], date(2026, 10, 27), CAL, extended=True).overdue


# ------------------------------------------------------------------------------ credit codes
VALID = ["11500000009276433Y", "115003830093369776", "115001110093482494", "11500228739838987E",
         "91512081MA62K0260E"]


@pytest.mark.parametrize("code", VALID)
def test_published_codes_validate(code):
    assert credit_code_problem(code) is None


def test_a_code_with_a_wrong_check_character_is_refused():
    problem = credit_code_problem("91350100M0001TGQXM")  # research file: computes 1, printed M
    assert problem is not None and "expected 1" in str(problem)


@pytest.mark.parametrize("code, words", [("9151208", "has 7 characters"), ("91512081MA62K0260I", "I not allowed"),
                                         ("9151A081MA62K0260E", "must be digits")])
def test_malformed_codes_name_what_is_wrong(code, words):
    assert words in str(credit_code_problem(code))


def test_the_worked_example_and_normalisation():
    assert check_character("91512081MA62K0260") == "E"  # Σ = 1495, 1495 mod 31 = 17, 31 − 17 = 14 → E
    assert normalise_credit_code(" 91512081ma62k0260e ") == "91512081MA62K0260E"


@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.text(alphabet=CHARSET, min_size=9, max_size=9), st.integers(0, 999999), st.integers(0, 17),
       st.integers(1, 30))
def test_any_single_substitution_is_detected(body, region, pos, shift):
    """Weights 3^i mod 31 are all non-zero mod the prime 31, so changing one character always changes the sum."""
    first17 = "91" + f"{region:06d}" + "".join(body)
    code = first17 + check_character(first17)
    assert credit_code_problem(code) is None
    if pos in range(2, 8):  # keep the digits-only positions digits
        changed = str((int(code[pos]) + 1 + shift % 9) % 10)
    else:
        changed = CHARSET[(CHARSET.index(code[pos]) + shift) % 31]
    bad = code[:pos] + changed + code[pos + 1:]
    assert credit_code_problem(bad) is not None


def test_random_valid_codes_round_trip():
    rng = random.Random(19)
    for _ in range(200):
        first17 = rng.choice("159Y") + rng.choice("123") + "".join(rng.choice("0123456789") for _ in range(6)) + \
            "".join(rng.choice(CHARSET) for _ in range(9))
        assert credit_code_problem(first17 + check_character(first17)) is None
