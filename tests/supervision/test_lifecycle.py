"""The whole supervision loop on both backends: patch → finding → case → rectification → closure → credit list,
and the programmes around it (inspections, reports, acceptance, fees)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from shuibao.errors import InputError
from shuibao.services.supervision import cases, compliance, patches, projects
from shuibao.services.supervision import programs

from tests.helpers import patch_row, project_row, square, write_layer

SCORES_GREEN = {"organisation": 2, "plan_and_design": 4, "rectification": 3, "disclosure": 4, "records": 2,
                "spoil_location": 8, "spoil_stacking": 4, "spoil_site_protection": 8, "spoil_dumping_cleanup": 10,
                "disturbance_control": 10, "topsoil": 7, "temporary_measures": 8, "engineering_measures": 10,
                "vegetation_measures": 10, "soil_loss": 10}


def _projects(db, tmp_path):
    rows = [project_row("P1", builder="甲公司", disturbed_area_hm2=2.5),
            project_row("P2", builder="乙公司", district="江北区"),
            project_row("P3", builder="丙公司", district="万州区", status="approved")]
    projects.import_projects(db, write_layer(tmp_path / "projects.gpkg", rows,
                                             [square(0, 0, 1000), square(5000, 0, 500), square(9000, 0, 300)]))


def test_patch_to_closed_case_to_watch_list(sdb, tmp_path):
    _projects(sdb, tmp_path)
    src = write_layer(tmp_path / "patches.gpkg", [patch_row("T-in"), patch_row("T-out"), patch_row("T-far")],
                      [square(100, 100, 200), square(900, 100, 300), square(30_000, 0, 100)])
    patches.import_patches(sdb, src)
    result = compliance.run_compliance(sdb, out=tmp_path / "compliance.csv")
    assert result.counts["compliant"] == 1 and result.counts["out_of_bounds"] == 1
    assert result.counts["unapproved"] == 1
    rows = {r["patch_id"]: r for r in compliance.findings(sdb)[0]}
    assert rows["T-out"]["project_code"] == "P1" and rows["T-out"]["outside_m2"] == pytest.approx(60_000, rel=5e-3)
    idle = {p["code"]: p["finding"] for p in compliance.project_findings(sdb)}
    assert idle == {"P2": "no_disturbance_seen"}  # under construction, nothing seen; P3 only approved

    opened = cases.open_cases_from_findings(sdb, on=date(2025, 7, 5))
    assert len(opened) == 2 and cases.open_cases_from_findings(sdb, on=date(2025, 7, 6)) == []
    no = next(r["case_no"] for r in cases.list_cases(sdb) if "T-out" in r["title"])
    photo = tmp_path / "site.jpg"
    photo.write_bytes(b"\xff\xd8 restored")
    cases.add_step(sdb, no, "verify", on=date(2025, 7, 10), outcome="confirmed", note="超出范围开挖")
    cases.add_step(sdb, no, "order_rectification", on=date(2025, 7, 11), deadline=date(2025, 9, 30), note="限期整改")
    cases.add_step(sdb, no, "rectify", on=date(2025, 9, 1), evidence=[photo], note="已回填复绿")
    cases.add_step(sdb, no, "review", on=date(2025, 9, 5), outcome="passed", note="复核通过")
    closed = cases.add_step(sdb, no, "close", on=date(2025, 9, 6), note="销号")
    assert closed.state == "closed" and closed.subject == "甲公司"

    listed = programs.update_credit(sdb, as_of=date(2025, 10, 1))
    watch = [e for e in listed if e["subject"] == "甲公司"]
    assert [(e["list_kind"], e["rule_id"]) for e in watch] == [("watch_list", "watch_confirmed_violation")]
    assert watch[0]["evidence"] == [["case", closed.id]] and watch[0]["valid_from"] == date(2025, 7, 10)
    assert all(e["subject"] != "乙公司" for e in listed)
    again = programs.update_credit(sdb, as_of=date(2025, 10, 1))
    assert again == listed  # stored once
    assert programs.credit_lists(sdb, as_of=date(2026, 7, 10)) == []  # expired after 365 days


def test_programmes_open_cases_and_keep_fees(sdb, tmp_path):
    _projects(sdb, tmp_path)
    # a red quarterly report opens a verification case
    red = dict(SCORES_GREEN, spoil_dumping_cleanup=0, disturbance_control=0, vegetation_measures=0,
               engineering_measures=0, soil_loss=0)
    green = programs.submit_report(sdb, "P1", "2025Q1", date(2025, 3, 31), SCORES_GREEN)
    assert (green["colour"], green["case_no"]) == ("green", None)
    r = programs.submit_report(sdb, "P1", "2025Q2", date(2025, 6, 30), red)
    assert (r["total"], r["colour"]) == (50.0, "red") and r["case_no"]
    assert cases.get_case(sdb, r["case_no"]).category == "red_report"
    with pytest.raises(InputError, match="already stored"):
        programs.submit_report(sdb, "P1", "2025Q2", date(2025, 6, 30), SCORES_GREEN)

    # 双随机: no inspector from the project's own district; problems open a case
    (tmp_path / "inspectors.csv").write_text("code,name,district\nI1,张三,渝北区\nI2,李四,万州区\nI3,王五,江北区\n"
                                             "I4,赵六,涪陵区\n", encoding="utf-8")
    assert programs.import_inspectors(sdb, tmp_path / "inspectors.csv") == 4
    d = programs.draw(sdb, seed=20250701, count=2)
    d2 = programs.draw(sdb, seed=20250701, count=2)
    assert d["assignments"] == d2["assignments"]
    home = {"I1": "yubei", "I2": "wanzhou", "I3": "jiangbei", "I4": "fuling"}
    for project_id, team in d["assignments"]:
        district = "yubei" if project_id == 1 else "jiangbei"
        assert len(team) == 2 and all(home[i] != district for i in team)
    case_no = programs.record_inspection(sdb, 1, on=date(2025, 7, 20), result="problems", findings="临时措施缺失")
    assert cases.get_case(sdb, case_no).category == "inspection_problem"
    public = programs.publish_draw(sdb, d["draw_id"], tmp_path / "public.csv")
    assert public.read_bytes().startswith("\ufeffproject_code,".encode()) and "临时措施缺失" in public.read_text("utf-8-sig")
    assert '"shuibao:seed": 20250701' in public.with_name("public.csv-metadata.json").read_text(encoding="utf-8")

    # acceptance: filing → seeded sample → verification
    projects.set_status(sdb, "P2", "completed")
    fid = programs.file_acceptance(sdb, "P2", filed_on=date(2025, 8, 1), reference="验收报备-001")
    s = programs.sample_acceptance(sdb, ratio=1.0, seed=7)
    assert s["selected"] == [fid]
    case_no = programs.verify_acceptance(sdb, fid, on=date(2025, 8, 20), result="fail", notes="排水沟未建")
    assert case_no and [p["status"] for p in projects.list_projects(sdb) if p["code"] == "P2"] == ["completed"]

    # fees: assessed on the disturbed area at the table's rate, paid in part, outstanding tracked
    a = programs.assess_fee(sdb, "P1", on=date(2025, 8, 1))
    assert Decimal(a["billable_quantity"]) == Decimal("25000") and a["rate_status"] == "derived"
    assert Decimal(a["amount_yuan"]) == Decimal("35000.00")  # 25,000 m² × 1.4 元/m² (the default, derived)
    programs.pay_fee(sdb, a["assessment_id"], paid_on=date(2025, 8, 15), amount_yuan="10000", receipt="R-1")
    with pytest.raises(InputError, match="already recorded"):
        programs.pay_fee(sdb, a["assessment_id"], paid_on=date(2025, 8, 16), amount_yuan="1", receipt="R-1")
    (row,) = programs.fee_ledger(sdb, as_of=date(2025, 12, 31))
    assert row["outstanding_yuan"] == Decimal(a["amount_yuan"]) - 10000 and row["overdue_days"] == 122
    listed = programs.update_credit(sdb, as_of=date(2026, 1, 1))
    assert ("watch_list", "甲公司", "watch_unpaid_fee") in {(e["list_kind"], e["subject"], e["rule_id"])
                                                          for e in listed}
