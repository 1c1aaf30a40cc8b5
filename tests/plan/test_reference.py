"""The transcription of the plan's tables, checked against values typed from the plan by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest

from shuibao.errors import ReferenceDataError, ShuibaoError, UnknownUnitError
from shuibao.plan.reference import load_reference
from tests.conftest import edit_csv

# Rows typed from 附表1 of the plan (not produced by the transcription script).
SCHEDULE1_BY_HAND = {
    "涪陵区": ("2941", "1785.15", "60.70", "917.64", "171.9", "61.76", "3.87", "0.68", "1155.85", "39.30"),
    "开州区": ("3964", "2149.03", "54.21", "1344.64", "194.90", "196.82", "77.82", "0.79", "1814.97", "45.79"),
    "彭水县": ("3897", "2889.90", "74.16", "806.10", "97.11", "59.13", "41.43", "3.33", "1007.10", "25.84"),
    "全市": ("82370", "57227.54", "69.48", "18866.21", "3611.59", "2082.44", "518.58", "63.64", "25142.46", "30.52"),
}


def test_units_regions_and_membership(ref):
    assert len(ref.districts) == 39
    adcodes = [d.adcode for d in ref.districts if d.adcode]
    assert len(adcodes) == len(set(adcodes)) == 38
    assert all(a.startswith("500") for a in adcodes)
    assert [len(ref.members(r.code)) for r in ref.regions] == [22, 11, 6]
    wansheng = ref.district("万盛经开区")
    assert wansheng.adcode is None and wansheng.parent_code == "qijiang" and wansheng.region == "metro"
    # The Three Gorges Reservoir Area's 22 districts in Chongqing (State Council delimitation).
    expected_tgr = {"万州区", "涪陵区", "渝中区", "大渡口区", "江北区", "沙坪坝区", "九龙坡区", "南岸区", "北碚区",
                    "渝北区", "巴南区", "长寿区", "江津区", "武隆区", "丰都县", "忠县", "开州区", "云阳县",
                    "奉节县", "巫山县", "巫溪县", "石柱县"}
    assert {d.name for d in ref.three_gorges_members()} == expected_tgr


def test_three_gorges_members_reproduce_the_plans_row(ref):
    """The membership is data; its sums must reproduce 附表1's 三峡库区 row in every area column."""
    row = ref.erosion_row("三峡库区")
    members = [ref.erosion_of(d) for d in ref.three_gorges_members()]
    assert sum(m.total_km2 for m in members) == row.total_km2 == Decimal("46158")
    for grade in ("slight", "light", "moderate", "intense", "very_intense", "severe"):
        assert sum(m.area(grade) for m in members) == row.area(grade)
    assert sum(m.loss_or_zero for m in members) == row.loss_km2 == Decimal("15753.12")


@pytest.mark.parametrize("label", sorted(SCHEDULE1_BY_HAND))
def test_schedule1_rows_match_the_plan(ref, label):
    total, slight, slight_pct, light, moderate, intense, very, severe, loss, loss_pct = SCHEDULE1_BY_HAND[label]
    row = ref.erosion_row(label)
    assert (row.total_km2, row.area_km2["slight"], row.pct["slight"]) == tuple(map(Decimal, (total, slight, slight_pct)))
    assert [row.area_km2[g] for g in ("light", "moderate", "intense", "very_intense", "severe")] == \
        list(map(Decimal, (light, moderate, intense, very, severe)))
    assert (row.loss_km2, row.loss_pct) == (Decimal(loss), Decimal(loss_pct))


def test_yuzhong_has_only_slight_erosion(ref):
    row = ref.erosion_row("渝中区")
    assert row.total_km2 == row.area_km2["slight"] == 23
    assert row.loss_km2 is None and row.loss_or_zero == 0


def test_schedule2_targets_typed_from_the_plan(ref):
    by_hand = {"涪陵区": "63.50", "渝中区": "100", "万盛经开区": "81.50", "开州区": "57.50", "巫溪县": "74.50",
               "彭水县": "76.50", "綦江区": "81.50"}
    for name, target in by_hand.items():
        assert ref.target_of(ref.district(name)).target_2025_pct == Decimal(target)
    city = next(r for r in ref.schedule2 if r.row_kind == "city")
    assert (city.rate_2020_pct, city.target_2025_pct) == (Decimal("69.48"), Decimal("72.23"))


def test_other_tables(ref):
    total = next(r for r in ref.table2 if r.row_kind == "total")
    assert total.loss_km2 == Decimal("25142.46")
    assert {g.key: g.quantity for g in ref.governance}["mine_restoration"] == Decimal("24.5")
    assert sum(s.count for s in ref.stations) == 9
    assert {i.key: i.target_2025 for i in ref.indicators}["conservation_rate"] == Decimal("72.2")


@pytest.mark.parametrize("key", ["涪陵区", "fuling", "500102", "Fuling", "fuling ", "涪陵"])
def test_district_lookup(ref, key):
    assert ref.district(key).code == "fuling"


def test_full_and_former_names_resolve(ref):
    assert ref.district("石柱土家族自治县").code == "shizhu"
    assert ref.district("开县").code == "kaizhou"
    assert ref.district("忠县").code == "zhongxian"


def test_unknown_district_is_a_keyerror_with_guidance(ref):
    with pytest.raises(UnknownUnitError) as info:
        ref.district("丰都区")
    assert isinstance(info.value, KeyError) and isinstance(info.value, ShuibaoError)
    assert "丰都区" in str(info.value) and "shuibao plan districts" in str(info.value)


def test_malformed_number_names_file_row_and_column(data_copy):
    edit_csv(data_copy / "schedule1_erosion_2020.csv", {"label": "涪陵区"}, {"light_km2": "91x.64"})
    with pytest.raises(ReferenceDataError) as info:
        load_reference(data_copy)
    msg = str(info.value)
    assert "schedule1_erosion_2020.csv" in msg and "row 2" in msg and "light_km2" in msg and "91x.64" in msg
    assert isinstance(info.value, OSError)


def test_missing_column_is_reported(data_copy):
    path = data_copy / "districts.csv"
    path.write_text(path.read_text(encoding="utf-8").replace(",adcode,", ",ad_code,", 1), encoding="utf-8")
    with pytest.raises(ReferenceDataError, match="missing column.*adcode"):
        load_reference(data_copy)


def test_bad_region_code_is_reported(data_copy):
    edit_csv(data_copy / "districts.csv", {"code": "wuxi"}, {"region": "north"})
    with pytest.raises(ReferenceDataError, match=r"districts.csv, row 34, column region: 'north' is not one of"):
        load_reference(data_copy)
