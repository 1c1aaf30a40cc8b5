"""Issue 15 / M6: the supervision programmes' command-line writes (双随机 draws and results, monitoring reports,
acceptance filings, samples and verifications, fees, credit lists) leave an audit row naming the operating-system
user (role 命令行) — the review found the command line's writes unaudited."""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import select

from shuibao.services.supervision import projects
from shuibao.services.supervision import programs
from shuibao.store import Store, schema

from ..supervision.test_lifecycle import SCORES_GREEN, _projects


def _rows(db) -> list:
    t = schema.audit_log
    with Store(db) as store, store.reading() as conn:
        return conn.execute(select(t).order_by(t.c.id)).all()


def test_every_programme_write_from_the_command_line_is_audited(sdb, tmp_path, monkeypatch):
    _projects(sdb, tmp_path)
    monkeypatch.setenv("SHUIBAO_ACTOR", "张工")
    before = len(_rows(sdb))
    programs.submit_report(sdb, "P1", "2025Q1", date(2025, 3, 31), SCORES_GREEN)
    (tmp_path / "inspectors.csv").write_text("code,name,district\nI1,张三,渝北区\nI2,李四,万州区\nI3,王五,江北区\n"
                                             "I4,赵六,涪陵区\n", encoding="utf-8")
    programs.import_inspectors(sdb, tmp_path / "inspectors.csv")
    d = programs.draw(sdb, seed=1, count=2)
    programs.record_inspection(sdb, 1, on=date(2025, 7, 20), result="pass")
    projects.set_status(sdb, "P2", "completed")
    fid = programs.file_acceptance(sdb, "P2", filed_on=date(2025, 8, 1), reference="验收报备-001")
    programs.sample_acceptance(sdb, ratio=1.0, seed=7)
    programs.verify_acceptance(sdb, fid, on=date(2025, 8, 20), result="pass")
    a = programs.assess_fee(sdb, "P1", on=date(2025, 8, 1))
    programs.pay_fee(sdb, a["assessment_id"], paid_on=date(2025, 8, 15), amount_yuan="10000", receipt="R-1")
    programs.update_credit(sdb, as_of=date(2026, 1, 1))
    rows = [r for r in _rows(sdb)[before:] if r.action != "project.status"]
    assert [r.action for r in rows] == ["report.submit", "inspectors.import", "inspection.draw", "inspection.result",
                                        "acceptance.file", "acceptance.sample", "acceptance.verify", "fee.assess",
                                        "fee.pay", "credit.update"]
    assert {(r.actor, r.role) for r in rows} == {("张工", "command_line")}
    draw_row = rows[2]
    assert draw_row.object_id == str(d["draw_id"]) and json.loads(draw_row.after_json)["seed"] == 1
    assert json.loads(rows[8].after_json)["amount_yuan"] == "10000.00"
