"""The assessment: scoring rules on hand numbers, and leaf values computed from records with their evidence."""

from __future__ import annotations

import csv
import re
from datetime import date

import pytest

from shuibao.assessment.scoring import load_scheme, score_district
from shuibao.errors import ReferenceDataError
from shuibao.services.supervision import cases, projects
from shuibao.services.supervision import programs
from shuibao.services.assessment.responsibility import get_assessment, run_assessment
from shuibao.services.platform.database import init

from tests.helpers import project_row, square, write_layer

SCHEME = load_scheme()


def test_scoring_by_hand():
    values = {"rate_progress": 0.5, "treatment_completion": 0.55, "approval_coverage": 1.0, "case_closure": 0.25,
              "inspections_done": None, "fee_collection": 2.0, "report_not_red": 0.0, "station_completeness": None}
    s = score_district(SCHEME, values)
    leaf = {x["indicator"]: x["score"] for x in s["leaves"]}
    # 30·0.5 = 15; 0.55 < 0.6 → 0; 10; 10·0.25 = 2.5; fee clipped to 1 → 5; 0; two leaves without data (10 points)
    assert leaf == {"rate_progress": 15.0, "treatment_completion": 0.0, "approval_coverage": 10.0, "case_closure": 2.5,
                    "inspections_done": 0.0, "fee_collection": 5.0, "report_not_red": 0.0, "station_completeness": 0.0}
    assert s["points_with_data"] == 90.0 and s["total"] == pytest.approx(100 * 32.5 / 90)
    assert s["grade"] == "不合格"
    full = score_district(SCHEME, {k: 1.0 for k in values})
    assert (full["total"], full["grade"]) == (100.0, "优秀")


def test_scheme_problems_are_reported_together(tmp_path):
    bad = tmp_path / "a.toml"
    bad.write_text('version = "x"\nsource = "s"\nverified = true\nmissing = "maybe"\n'
                   '[[indicators]]\nkey = "popularity"\npoints = 50\n[[indicators]]\nkey = "case_closure"\npoints = 20\n'
                   '[[grades]]\nname_zh = "好"\nmin = 50\n', encoding="utf-8")
    with pytest.raises(ReferenceDataError) as err:
        load_scheme(bad)
    msg = str(err.value)
    assert "popularity" in msg and "add up to 20" in msg and "min = 0" in msg and "missing" in msg


def test_leaves_from_records_with_their_evidence(db_url, tmp_path):
    init(db_url, boundaries=False)
    rows = [project_row("A1", district="渝北区", builder="甲"), project_row("A2", district="渝北区", builder="乙"),
            project_row("B1", district="江北区", builder="丙")]
    projects.import_projects(db_url, write_layer(tmp_path / "p.gpkg", rows,
                                                 [square(0, 0, 100), square(300, 0, 100), square(600, 0, 100)]))
    # 渝北: two cases opened in 2025, one closed by the year's end; a third closed only in 2026
    c1 = cases.open_case(db_url, title="a", category="other", on=date(2025, 3, 1), district="渝北区")
    c2 = cases.open_case(db_url, title="b", category="other", on=date(2025, 4, 1), district="yubei")
    cases.add_step(db_url, c1, "verify", on=date(2025, 3, 5), outcome="not_confirmed", note="不属实")
    cases.add_step(db_url, c1, "close", on=date(2025, 3, 6))
    cases.add_step(db_url, c2, "verify", on=date(2025, 12, 30), outcome="not_confirmed", note="不属实")
    cases.add_step(db_url, c2, "close", on=date(2026, 1, 5))
    # fees: 渝北 A1 fully paid, A2 unpaid; 江北 B1 half paid
    fa = [programs.assess_fee(db_url, code, on=date(2025, 5, 1)) for code in ("A1", "A2", "B1")]
    programs.pay_fee(db_url, fa[0]["assessment_id"], paid_on=date(2025, 6, 1), amount_yuan=fa[0]["amount_yuan"],
                     receipt="r1")
    half = str(round(float(fa[2]["amount_yuan"]) / 2, 2))
    programs.pay_fee(db_url, fa[2]["assessment_id"], paid_on=date(2025, 6, 1), amount_yuan=half, receipt="r2")
    r = run_assessment(db_url, 2025, out=tmp_path / "assess.csv")
    a = get_assessment(db_url, r["assessment_id"])
    by = {(s["district_code"], s["indicator"]): s for s in a["scores"]}
    assert by[("yubei", "case_closure")]["value"] == pytest.approx(0.5)
    assert sorted(by[("yubei", "case_closure")]["evidence"]["cases"]) == sorted([c1, c2])
    assert by[("yubei", "fee_collection")]["value"] == pytest.approx(
        float(fa[0]["amount_yuan"]) / (float(fa[0]["amount_yuan"]) + float(fa[1]["amount_yuan"])))
    assert by[("jiangbei", "fee_collection")]["value"] == pytest.approx(0.5, abs=1e-4)
    assert by[("jiangbei", "case_closure")]["value"] is None  # no case: no data, not zero
    assert by[("yubei", "rate_progress")]["value"] is None  # no monitoring run stored
    total = by[("yubei", "total")]
    expected = 100 * (10 * 0.5 + 5 * by[("yubei", "fee_collection")]["value"]) / 15
    assert total["score"] == pytest.approx(expected, abs=1e-3)
    text = (tmp_path / "assess.csv").read_text(encoding="utf-8-sig")
    long = list(csv.DictReader(text.splitlines()))
    assert len(long) == 9 * 39 and (tmp_path / "assess.summary.csv").exists()
    # for people: district names and 行政区划代码, indicator labels, evidence as labelled text with the case numbers
    closure = next(r for r in long if r["区县"] == "渝北区" and r["考核指标"] == "案件销号率")
    assert closure["行政区划代码"] == "500112"
    label, _, cases_cited = closure["依据记录"].partition(": ")
    assert label == "案件" and set(cases_cited.split("、")) == set(by[("yubei", "case_closure")]["evidence"]["cases"])
    assert not re.search(r"\b[a-z]+_[a-z_]+\b|\{|\[|\bNone\b", text), text[:300]
