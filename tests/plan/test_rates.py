"""水土保持率 against the plan's printed numbers (附表2, 专栏1) and the rate identities."""

from __future__ import annotations

import csv
from decimal import Decimal

import pytest

from shuibao.plan.rates import CSV_COLUMNS, conservation_rates
from shuibao.plan.reference import data_dir

Q = Decimal("0.01")

# Aggregate rows printed in 附表2 (总体平均, 三峡库区, 全市): (2020 rate, 2025 target), typed by hand.
PLAN_AGGREGATES = {
    "主城都市区": ("74.66", "77.34"),
    "渝东北三峡库区城镇群": ("63.58", "66.52"),
    "渝东南武陵山区城镇群": ("72.07", "74.62"),
    "三峡库区": ("65.87", "68.78"),
    "全市": ("69.48", "72.23"),
}


@pytest.fixture
def rows(ref):
    return {r.unit: r for r in conservation_rates(ref)}


@pytest.mark.parametrize("unit", sorted(PLAN_AGGREGATES))
def test_aggregates_match_the_plan_to_a_hundredth(rows, unit):
    rate, target = PLAN_AGGREGATES[unit]
    row = rows[unit]
    assert abs(row.rate_2020_pct - Decimal(rate)) <= Decimal("0.005")
    assert abs(row.target_2025_pct - Decimal(target)) <= Decimal("0.005")


def test_every_district_target_is_the_plans(rows, ref):
    with open(data_dir() / "schedule2_targets.csv", encoding="utf-8") as fh:
        printed = {int(r["seq"]): Decimal(r["target_2025_pct"]) for r in csv.DictReader(fh) if r["seq"]}
    for d in ref.districts:
        assert rows[d.name].target_2025_pct == printed[d.seq]
    assert len([r for r in rows.values() if r.level == "district"]) == 39


def test_city_rate_is_slight_over_total(rows):
    city = rows["全市"]
    assert city.total_km2 == 82370 and city.slight_km2 == Decimal("57227.54")
    assert city.rate_2020_pct.quantize(Q) == Decimal("69.48")


def test_gap_identities(rows, ref):
    for r in rows.values():
        assert r.gap_pp == r.target_2025_pct - r.rate_2020_pct
        assert abs(r.gap_km2 - r.gap_pp * r.total_km2 / 100) < Decimal("1e-9")
    for region in ref.regions:
        members = [rows[d.name] for d in ref.members(region.code)]
        assert abs(sum(m.gap_km2 for m in members) - rows[region.name].gap_km2) < Decimal("1e-9")
    assert abs(sum(rows[r.name].total_km2 for r in ref.regions) - rows["全市"].total_km2) == 0


def test_yuzhong_has_no_gap(rows):
    assert rows["渝中区"].gap_pp == 0 and rows["渝中区"].rate_2020_pct == 100


def test_rounded_row_has_the_csv_columns(rows):
    assert tuple(rows["全市"].rounded()) == CSV_COLUMNS
    assert rows["全市"].rounded()["target_2025_pct"] == "72.23"
