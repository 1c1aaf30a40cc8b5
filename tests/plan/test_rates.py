"""水土保持率 against numbers typed from the plan text itself, with the arithmetic done here.

The oracle is the plan (/work/shared/seed/chongqing-swc-plan-2021-2025.txt), not the
CSV files the loader reads: every number below is quoted from its line in the plan,
and each expected rate is recomputed by hand as 1 − 水土流失面积 / 总面积 (附表1's
"合计" column), a different route from the code's 微度 / 总面积.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from shuibao.plan.rates import CSV_COLUMNS, conservation_rates

D = Decimal
Q = D("0.01")
HALF_HUNDREDTH = D("0.005")  # the plan prints rates to 2 decimals

# 附表1 rows: (总面积 km², 微度 km², 微度 占总面积比 %, 水土流失面积 合计 km²).
SCHEDULE1 = {
    # "1 / 涪陵区 / 2941 / 1785.15 / 60.70 / ... / 1155.85 / 39.30"
    "涪陵区": ("2941", "1785.15", "60.70", "1155.85"),
    # "2 / 渝中区 / 23 / 23 / 100.00 /" (no erosion columns)
    "渝中区": ("23", "23", "100.00", "0"),
    # "39 / 彭水县 / 3897 / 2889.90 / 74.16 / ... / 1007.10 / 25.84"
    "彭水县": ("3897", "2889.90", "74.16", "1007.10"),
    # "主城都市区 / 28655 / 21392.55 / 74.66 / ... / 7262.45 / 25.34"
    "主城都市区": ("28655", "21392.55", "74.66", "7262.45"),
    # "渝东北三峡库区城镇群 / 33901 / 21555.49 / 63.58 / ... / 12345.51 / 36.42"
    "渝东北三峡库区城镇群": ("33901", "21555.49", "63.58", "12345.51"),
    # "渝东南武陵山区城镇群 / 19814 / 14279.50 / 72.07 / ... / 5534.50 / 27.93"
    "渝东南武陵山区城镇群": ("19814", "14279.50", "72.07", "5534.50"),
    # "三峡库区 / 46158 / 30404.88 / 65.87 / ... / 15753.12 / 34.13"
    "三峡库区": ("46158", "30404.88", "65.87", "15753.12"),
    # "全市 / 82370 / 57227.54 / 69.48 / ... / 25142.46 / 30.52"
    "全市": ("82370", "57227.54", "69.48", "25142.46"),
}

# 附表2 rows: (水土保持率现状值 %, 水土保持率目标值 %).
SCHEDULE2 = {
    "涪陵区": ("60.7", "63.50"),  # "1 / 主城都市区 / 涪陵区 / 60.7 / 63.50"
    "渝中区": ("100", "100"),  # "2 / 渝中区 / 100 / 100"
    "荣昌区": ("84.52", "87.00"),  # "21 / 荣昌区 / 84.52 / 87.00"
    "万州区": ("59.05", "62.00"),  # "23 / 渝东北三峡库区城镇群 / 万州区 / 59.05 / 62.00"
    # "39 / 彭水苗族土家族自治县 / 74.16 / 76.50" (附表1 names it 彭水县, the unit's key here)
    "彭水县": ("74.16", "76.50"),
    "主城都市区": ("74.66", "77.34"),  # "总体平均 / 74.66 / 77.34" (after 万盛经开区)
    "渝东北三峡库区城镇群": ("63.58", "66.52"),  # "总体平均 / 63.58 / 66.52" (after 巫溪县)
    "渝东南武陵山区城镇群": ("72.07", "74.62"),  # "总体平均 / 72.07 / 74.62" (after 彭水)
    "三峡库区": ("65.87", "68.78"),  # "三峡库区 / 65.87 / 68.78"
    "全市": ("69.48", "72.23"),  # "全市 / 69.48 / 72.23"
}


@pytest.fixture
def rows(ref):
    return {r.unit: r for r in conservation_rates(ref)}


@pytest.mark.parametrize("unit", sorted(SCHEDULE1))
def test_rate_is_one_minus_loss_over_land_area(rows, unit):
    total, slight, printed_pct, loss = (D(v) for v in SCHEDULE1[unit])
    row = rows[unit]
    assert row.total_km2 == total
    assert row.slight_km2 == slight
    by_hand = (1 - loss / total) * 100
    assert abs(row.rate_2020_pct - by_hand) < D("1e-20")
    assert abs(row.rate_2020_pct - printed_pct) <= HALF_HUNDREDTH


@pytest.mark.parametrize("unit", sorted(SCHEDULE2))
def test_targets_are_the_plans(rows, unit):
    _, target = SCHEDULE2[unit]
    assert abs(rows[unit].target_2025_pct - D(target)) <= HALF_HUNDREDTH


@pytest.mark.parametrize("unit", ["主城都市区", "渝东北三峡库区城镇群", "渝东南武陵山区城镇群", "三峡库区", "全市"])
def test_aggregate_rates_are_schedule2s(rows, unit):
    rate, _ = SCHEDULE2[unit]
    assert abs(rows[unit].rate_2020_pct - D(rate)) <= HALF_HUNDREDTH


def test_column1_headline_figures():
    """专栏1: "水土保持率 / 69.5% / 72.2% / 约束性" is 附表1/附表2's 69.48 and 72.23 to one decimal."""
    assert round(D("57227.54") / D("82370") * 100, 1) == D("69.5")
    assert round(D("72.23"), 1) == D("72.2")


def test_city_row_by_hand(rows):
    city = rows["全市"]
    # 57227.54 / 82370 = 0.694761... by long division
    assert city.rate_2020_pct.quantize(Q) == D("69.48")
    assert round(city.rate_2020_pct, 1) == D("69.5")  # 专栏1 "69.5%"
    assert round(city.target_2025_pct, 1) == D("72.2")  # 专栏1 "72.2%"
    # The three regions' 总面积 add up to the city's: 28655 + 33901 + 19814 = 82370.
    assert sum(rows[u].total_km2 for u in ("主城都市区", "渝东北三峡库区城镇群", "渝东南武陵山区城镇群")) == 82370
    assert len([r for r in rows.values() if r.level == "district"]) == 39  # 附表2 numbers them 1..39


def test_fuling_gap_by_hand(rows):
    # 涪陵区: target 63.50 % of 2941 km² = 1867.535 km² must be 微度; 1785.15 km² is: 82.385 km² to go.
    row = rows["涪陵区"]
    assert row.gap_km2 == D("82.385")
    # 63.50 − 1785.15 / 2941 × 100 = 63.50 − 60.6987... = 2.8012... pp
    assert row.gap_pp.quantize(Q) == D("2.80")


def test_city_gap_by_hand(rows):
    # (72.23 − 69.48) pp of 82370 km² ≈ 2265 km²; 72.23 % × 82370 − 57227.54 = 2268.31 km², and the
    # printed 72.23 is rounded (±0.005 pp × 82370 km² ≈ ±4.2 km²).
    assert abs(rows["全市"].gap_km2 - D("2268.31")) < D("4.2")


def test_yuzhong_has_no_gap(rows):
    # 渝中区: 23 km², all 微度 (附表1), target 100 (附表2): nothing to gain.
    assert rows["渝中区"].gap_pp == 0 and rows["渝中区"].gap_km2 == 0
    assert rows["渝中区"].rate_2020_pct == 100


def test_rounded_row_has_the_csv_columns(rows):
    assert tuple(rows["全市"].rounded()) == CSV_COLUMNS
    assert rows["全市"].rounded()["rate_2020_pct"] == "69.48"
    assert rows["全市"].rounded()["target_2025_pct"] == "72.23"


def test_the_direction_against_the_target_follows_the_gap():
    from shuibao.plan.rates import target_direction

    # gaps in percentage points (target − rate): by hand from their definition
    assert target_direction(3.0, -0.1) == "reached" and target_direction(3.0, 0.0) == "reached"
    assert target_direction(3.0, 2.0) == "toward" and target_direction(2.0, 3.0) == "away"
    assert target_direction(2.0, 2.0) == "unchanged" and target_direction(None, 1.0) == "n/a"
