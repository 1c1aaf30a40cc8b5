"""The audit: rules over the data, checked on the seed and on deliberately broken copies."""

from __future__ import annotations

from decimal import Decimal

import pytest

from shuibao.errors import ReferenceDataError
from shuibao.plan.audit import audit
from shuibao.plan.interval import Interval, half_ulp, round_like
from shuibao.plan.reference import load_reference
from tests.conftest import edit_csv


def _inconsistent(report):
    return {(c.rule, c.table, c.row, c.column) for c in report.checks if c.status == "inconsistent"}


# Every inconsistency below was found by reading the plan and re-computing by hand:
#   附表2 writes 丰都区/垫江区 for the counties 丰都县/垫江县;
#   附表2's 2020 rates of 綦江区 (78.66) and 万盛经开区 (79.70) differ from 附表1 (77.15, 85.56);
#   表2 writes 其它土地 (GB/T 21010-2017: 其他土地) and skips 序号 7; 专栏4 skips item 04;
#   园地's share of moderate-or-worse erosion is 303.96/6276.25 = 4.843 %, printed 4.83 %;
#   the TGR's 15753.12 km² is 1.58万 km², printed 1.57万;
#   "10 个控制性站点" = 6 + 1 + 3 + 1 = 11; 2.87万/82370 = 34.84 %, printed 36.50 %;
#   chapter 3 still names 开县 (开州区 since 2016) and heads section (三) "渝东南武陵山区城镇".
EXPECTED_SEED_INCONSISTENCIES = {
    ("schedule2.names", "附表2", "27", "区县"),
    ("schedule2.names", "附表2", "28", "区县"),
    ("schedule2.rate_vs_schedule1", "附表2", "綦江区", "水土保持率现状值（%）"),
    ("schedule2.rate_vs_schedule1", "附表2", "万盛经开区", "水土保持率现状值（%）"),
    ("table2.classes", "表2", "8", "土地利用类型"),
    ("numbering", "表2", "序号", "序号"),
    ("numbering", "专栏4", "序号", "序号"),
    ("narrative", "第一章二", "中度及以上：低盖度园地占4.83%", "text"),
    ("narrative", "第一章一", "三峡库区水土流失面积2020年1.57万km2", "text"),
    ("narrative", "第六章一",
     "共计规划建设10个控制性水土保持监测站点（新建6个+提档升级万州付沟站1个+新建3个+信息化改造1个）", "text"),
    ("narrative", "第一章一", "水土流失率从2016年的36.50%下降至2020年的30.52%（2016年水土流失面积2.87万km2）", "text"),
    ("narrative.names", "第三章二(二)", "万州、梁平、垫江、丰都、忠县、开县6 个区县", "name"),
    ("narrative.names", "第三章二(三)", "（三）渝东南武陵山区城镇", "name"),
}


def test_seed_inconsistencies_are_exactly_the_hand_checked_ones(ref):
    assert _inconsistent(audit(ref)) == EXPECTED_SEED_INCONSISTENCIES


def test_seed_notes_explain_names_and_the_wansheng_pair(ref):
    report = audit(ref)
    notes = {(c.rule, c.row) for c in report.checks if c.status == "note"}
    assert ("schedule2.parent_combined", "綦江区+万盛经开区") in notes
    assert ("schedule2.names", "36") in notes  # 石柱土家族自治县: full name, not an error
    assert ("table2.classes", "7") in notes  # 水域及水利设施用地 explains the gap


def test_the_audit_checks_every_cell_class(ref):
    rules = {c.rule for c in audit(ref).checks}
    assert {"schedule1.grade_sum", "schedule1.area_sum", "schedule1.share_of_total", "schedule1.share_of_loss",
            "schedule1.aggregate", "schedule1.city_vs_regions", "schedule2.aggregate", "table2.total",
            "table2.vs_schedule1", "narrative"} <= rules
    aggregates = [c for c in audit(ref).checks if c.rule == "schedule1.aggregate"]
    assert len(aggregates) == 5 * 8  # 3 regions + TGR + city; 总面积, six grades, 合计


def test_a_changed_district_area_shows_up_in_its_row_and_every_aggregate(data_copy):
    edit_csv(data_copy / "schedule1_erosion_2020.csv", {"label": "涪陵区"}, {"light_km2": "927.64"})
    new = _inconsistent(audit(load_reference(data_copy))) - EXPECTED_SEED_INCONSISTENCIES
    assert ("schedule1.grade_sum", "附表1", "涪陵区", "合计 面积") in new
    assert ("schedule1.share_of_loss", "附表1", "涪陵区", "轻度 占侵蚀面积比（%）") in new
    for aggregate in ("主城都市区", "三峡库区", "全市"):  # 涪陵 is in all three
        assert ("schedule1.aggregate", "附表1", aggregate, "轻度 面积") in new
    assert ("schedule1.aggregate", "附表1", "渝东北三峡库区城镇群", "轻度 面积") not in new


def test_a_wrong_target_changes_the_region_average(data_copy):
    edit_csv(data_copy / "schedule2_targets.csv", {"label": "巫溪县"}, {"target_2025_pct": "84.50"})
    new = _inconsistent(audit(load_reference(data_copy))) - EXPECTED_SEED_INCONSISTENCIES
    assert ("schedule2.aggregate", "附表2", "渝东北三峡库区城镇群 总体平均", "水土保持率目标值（%）") in new
    assert ("schedule2.aggregate", "附表2", "全市", "水土保持率目标值（%）") in new
    assert ("schedule2.aggregate", "附表2", "三峡库区", "水土保持率目标值（%）") in new  # 巫溪县 is a TGR district
    assert ("schedule2.aggregate", "附表2", "主城都市区 总体平均", "水土保持率目标值（%）") not in new


def test_target_below_current_rate_is_flagged(data_copy):
    edit_csv(data_copy / "schedule2_targets.csv", {"label": "忠县"}, {"target_2025_pct": "70.00"})
    new = _inconsistent(audit(load_reference(data_copy)))
    assert ("schedule2.target_range", "附表2", "忠县", "水土保持率目标值（%）") in new


def test_a_misplaced_district_breaks_region_sums(data_copy):
    edit_csv(data_copy / "districts.csv", {"code": "chengkou"}, {"region": "southeast"})
    new = _inconsistent(audit(load_reference(data_copy))) - EXPECTED_SEED_INCONSISTENCIES
    assert ("schedule1.aggregate", "附表1", "渝东北三峡库区城镇群", "总面积") in new
    assert ("schedule1.aggregate", "附表1", "渝东南武陵山区城镇群", "总面积") in new
    assert ("schedule2.region", "附表2", "26", "分区") in new
    assert ("schedule1.aggregate", "附表1", "全市", "总面积") not in new


def test_narrative_expressions_cannot_run_code(data_copy):
    edit_csv(data_copy / "narrative_figures.csv", {"quote": "全市水土流失面积25142.46km2"},
             {"expression": "__import__('os').system('true')"})
    with pytest.raises(ReferenceDataError, match="uses something other than numbers"):
        audit(load_reference(data_copy))


def test_interval_rules():
    assert half_ulp(Decimal("12.34")) == Decimal("0.005")
    assert half_ulp(Decimal("2941")) == Decimal("0.5")
    a, b = Interval.printed(Decimal("314.65")), Interval.printed(Decimal("499.01"))
    share = a / b * Interval.exact(100)
    assert share.lo < Decimal("63.055") < share.hi  # so 綦江's printed 63.06 is a rounding difference
    assert not Interval.printed(Decimal("63.07")).meets(share)
    assert round_like(Decimal("4.8430"), Decimal("4.83")) == Decimal("4.84")
    with pytest.raises(ZeroDivisionError):
        Interval.exact(1) / Interval.printed(Decimal("0"))


def test_rounding_is_not_an_inconsistency(ref):
    qijiang = [c for c in audit(ref).checks if c.row == "綦江区" and c.rule == "schedule1.share_of_loss"
               and c.column.startswith("轻度")]
    assert [c.status for c in qijiang] == ["rounding"]
