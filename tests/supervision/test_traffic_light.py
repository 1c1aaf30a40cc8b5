"""绿黄红三色评价: scheme file checks and scoring.

The colour thresholds of the packaged file are [R] (unverified), so the colour
tests run on a scheme file written here with the thresholds they test; the
indicator names and points are [V] (methods.md §5.4) and are checked directly.
"""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from shuibao.errors import InputError, ReferenceDataError
from shuibao.supervision.traffic_light import evaluate, load_scheme

# methods.md §5.4 [V]: 办水保〔2020〕161号 indicator table
TABLE_5_4 = [
    ("机构人员", 2), ("方案和设计", 4), ("问题整改", 3), ("成果公开", 4), ("资料管理", 2),
    ("弃渣堆放位置", 8), ("弃渣堆置方式和分层碾压", 4), ("弃渣场拦挡及截排水设施布设", 8),
    ("乱弃渣土及清理整治", 10), ("扰动范围控制", 10), ("表土剥离与保护", 7), ("临时措施", 8),
    ("工程措施", 10), ("植物措施及覆盖率", 10), ("土壤流失量", 10),
]


def scheme_text(green=80, yellow=60, red_if_zero=(), indicators=None, extra="") -> str:
    indicators = indicators if indicators is not None else [(f"i{n:02d}", name, pts)
                                                            for n, (name, pts) in enumerate(TABLE_5_4, 1)]
    red = ", ".join(f'"{k}"' for k in red_if_zero)
    lines = ['version = "test-1"', 'source = "test scheme"', f"red_if_zero = [{red}]", extra,
             "[thresholds]", f"green = {green}", f"yellow = {yellow}"]
    for key, name, pts in indicators:
        lines += ["[[indicators]]", f'key = "{key}"', f'name_zh = "{name}"', f"points = {pts}"]
    return "\n".join(lines) + "\n"


@pytest.fixture
def make_scheme(tmp_path):
    def make(**kw):
        path = tmp_path / "scheme.toml"
        path.write_text(scheme_text(**kw), encoding="utf-8")
        return load_scheme(path)
    return make


def full(scheme) -> dict[str, float]:
    return {i.key: i.points for i in scheme.indicators}


def test_packaged_scheme_matches_table_5_4():
    s = load_scheme()
    assert [(i.name_zh, i.points) for i in s.indicators] == TABLE_5_4
    assert len({i.key for i in s.indicators}) == 15
    assert sum(i.points for i in s.indicators) == 100
    assert s.verified is False and "thresholds" in s.note  # the cut-offs are flagged [R]
    assert s.red_if_zero == ()
    assert s.indicator("土壤流失量").key == "soil_loss" and s.indicator("organisation").name_zh == "机构人员"


def test_packaged_scheme_evaluates_with_its_own_thresholds():
    s = load_scheme()
    scores = full(s)
    scores["soil_loss"] = 0
    result = evaluate(s, scores)
    assert result.total == 90
    assert result.colour == ("green" if 90 >= s.green else "yellow" if 90 >= s.yellow else "red")
    assert result.scheme_version == s.version


@pytest.mark.parametrize("total, colour, zh", [
    (100, "green", "绿"), (80, "green", "绿"), (79.9, "yellow", "黄"), (60, "yellow", "黄"),
    (59.9, "red", "红"), (0, "red", "红"),
])
def test_colour_boundaries(make_scheme, total, colour, zh):
    s = make_scheme(green=80, yellow=60)
    scores = full(s)
    missing = Decimal(100) - Decimal(str(total))  # take points off, indicator by indicator, as written
    for ind in s.indicators:
        cut = min(missing, Decimal(str(ind.points)))
        scores[ind.key] = float(Decimal(str(ind.points)) - cut)
        missing -= cut
    result = evaluate(s, scores)
    assert result.total == pytest.approx(total)
    assert (result.colour, result.colour_zh) == (colour, zh)
    assert result.scheme_version == "test-1"
    assert len(result.reasons) == 1


def test_decimal_scores_sum_exactly_to_the_threshold(make_scheme):
    # 0.1 steps: a float sum of these is 79.99999999999999, below 80
    s = make_scheme()
    scores = full(s)
    for key in ("i09", "i10", "i13", "i14", "i15"):
        scores[key] = 6.1  # each −3.9 from 10
    scores["i12"] = 7.5  # −0.5
    assert sum(scores.values()) != 80  # the float trap this guards against
    result = evaluate(s, scores)
    assert result.total == 80 and result.colour == "green"


def test_chinese_names_and_keys_both_accepted(make_scheme):
    s = make_scheme()
    scores = {name if n % 2 else f"i{n:02d}": pts for n, (name, pts) in enumerate(TABLE_5_4, 1)}
    assert evaluate(s, scores).total == 100


def test_every_problem_reported_at_once(make_scheme):
    s = make_scheme()
    scores = full(s)
    del scores["i15"]
    scores["i01"] = 2.5  # above its 2 points
    scores["i02"] = -1
    scores["i03"] = "3"
    scores["i04"] = math.nan
    scores["i05"] = True
    scores["机构人员"] = 1  # i01 again, by name
    scores["不存在"] = 1
    with pytest.raises(InputError) as err:
        evaluate(s, scores)
    msg = str(err.value)
    for part in ("i01 (机构人员): 2.5 is outside [0, 2]", "i02 (方案和设计): -1 is outside [0, 4]",
                 "i03 (问题整改): '3' is not a number", "i04 (成果公开): nan is not a number",
                 "i05 (资料管理): True is not a number", "i01 (机构人员): given twice",
                 "'不存在': unknown indicator", "missing indicator(s): i15 (土壤流失量)"):
        assert part in msg


def test_not_a_mapping(make_scheme):
    with pytest.raises(InputError, match="mapping"):
        evaluate(make_scheme(), [("i01", 2)])


def test_red_if_zero_overrides_total(make_scheme):
    s = make_scheme(red_if_zero=("i09",))
    scores = full(s)
    scores["i09"] = 0  # 乱弃渣土及清理整治
    result = evaluate(s, scores)
    assert result.total == 90 and result.colour == "red"
    assert any("i09" in r and "red_if_zero" in r for r in result.reasons)
    scores["i09"] = 0.5
    assert evaluate(s, scores).colour == "green"
    plain = make_scheme()
    assert evaluate(plain, {**full(plain), "i09": 0}).colour == "green"


def test_loader_checks_points_sum(tmp_path, make_scheme):
    rows = [(f"i{n:02d}", name, pts) for n, (name, pts) in enumerate(TABLE_5_4, 1)]
    rows[0] = ("i01", "机构人员", 3)
    with pytest.raises(ReferenceDataError,
                       match=r"scheme\.toml: 1 problem\(s\):\n  - indicators: points sum to 101, expected 100"):
        make_scheme(indicators=rows)


@pytest.mark.parametrize("green, yellow", [(60, 80), (70, 70), (80, 0), (101, 60)])
def test_loader_checks_threshold_order(make_scheme, green, yellow):
    with pytest.raises(ReferenceDataError, match="0 < yellow < green ≤ 100"):
        make_scheme(green=green, yellow=yellow)


def test_loader_reports_every_problem(make_scheme):
    rows = [(f"i{n:02d}", name, pts) for n, (name, pts) in enumerate(TABLE_5_4, 1)]
    rows[1] = ("i01", "方案和设计", 4)  # duplicate key
    rows[2] = ("Bad Key", "问题整改", 3)
    with pytest.raises(ReferenceDataError) as err:
        make_scheme(indicators=rows, red_if_zero=("nope",), green="'x'", extra="verified = false")
    msg = str(err.value)
    for part in ("scheme.toml", "duplicate key(s) i01", "indicators #3 (Bad Key), key", "thresholds, green",
                 "red_if_zero: 'nope'", "note: required when verified = false"):
        assert part in msg


def test_loader_file_errors(tmp_path):
    with pytest.raises(ReferenceDataError, match="not found"):
        load_scheme(tmp_path / "none.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("version = \n", encoding="utf-8")
    with pytest.raises(ReferenceDataError, match=r"bad\.toml: not valid TOML"):
        load_scheme(bad)
