"""H3 (repair): a step can be voided (作废) or corrected (更正) by a new event; a case frozen by a 9999-12-31
step in an old ledger is repaired that way, through the service, the web and the command line; the voided
step stays visible but counts for nothing (review: security.md H3)."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import func, select

from shuibao.cli.main import run
from shuibao.errors import SchemaVersionError, InputError
from shuibao.services.supervision import case_corrections, cases
from shuibao.store import Store, schema

FAR = date(9999, 12, 31)


def _freeze(db, no, *, by="insp"):
    """A note dated 9999-12-31 written straight into the ledger, as the old code accepted it."""
    with Store(db) as store, store.transaction() as conn:
        cid = conn.execute(select(schema.cases.c.id).where(schema.cases.c.case_no == no)).scalar()
        seq = conn.execute(select(func.max(schema.case_events.c.seq)).where(schema.case_events.c.case_id == cid)
                           ).scalar()
        conn.execute(schema.case_events.insert().values(
            case_id=cid, seq=seq + 1, step="note", state="open", outcome=None, on_date=FAR,
            deadline=date(2025, 8, 31), subject=None, category=None, note="freeze", evidence_json="[]",
            recorded_at=cases.now(), recorded_by=by))
    return seq + 1


@pytest.fixture
def frozen(city):
    db, client, h, fids = city
    no = cases.open_case(db, title="冻结", category="unapproved", on=date(2025, 8, 1), patch_fid=fids["TB"])
    return db, client, h, no, _freeze(db, no)


def test_a_frozen_case_is_repaired_by_voiding_the_far_future_step_through_the_service(frozen):
    db, _client, _h, no, seq = frozen
    with pytest.raises(InputError, match="before the case's last event"):
        cases.add_step(db, no, "verify", on=date(2025, 8, 10), outcome="confirmed", note="x")
    v = case_corrections.void_step(db, no, seq, reason="日期录入错误（9999-12-31）", actor="王审核")
    frozen_row = next(e for e in v.events if e["seq"] == seq)
    assert frozen_row["voided_by"]["reason"] == "日期录入错误（9999-12-31）"
    assert frozen_row["voided_by"]["recorded_by"] == "王审核" and v.events[-1]["step_zh"] == "作废"
    v = cases.add_step(db, no, "verify", on=date(2025, 8, 10), outcome="confirmed", note="现场核实")
    assert v.state == "confirmed" and [e["seq"] for e in v.effective] == [1, 4]


def test_a_frozen_case_is_repaired_through_the_web_by_the_district_officer(frozen):
    _db, client, h, no, seq = frozen
    r = client.post(f"/api/cases/{no}/steps", headers=h["offb"], data={
        "step": "verify", "outcome": "confirmed", "on": "2025-08-10", "note": "x"})
    assert r.status_code == 422
    r = client.post(f"/api/cases/{no}/steps/{seq}/void", headers=h["offa"], data={"reason": "越权"})
    assert r.status_code == 403  # another district's officer
    r = client.post(f"/api/cases/{no}/steps/{seq}/void", headers=h["offb"], data={"reason": "  "})
    assert r.status_code == 422 and "reason" in r.json()["detail"]
    r = client.post(f"/api/cases/{no}/steps/{seq}/void", headers=h["offb"], data={"reason": "日期错误"},
                    files={"evidence": ("说明.txt", "原始记录".encode(), "text/plain")})
    assert r.status_code == 200
    voided = next(e for e in r.json()["events"] if e["seq"] == seq)
    assert voided["voided_by"]["recorded_by"] == "offb" and r.json()["events"][-1]["evidence"]
    r = client.post(f"/api/cases/{no}/steps", headers=h["offb"], data={
        "step": "verify", "outcome": "confirmed", "on": "2025-08-10", "note": "现场核实"})
    assert r.status_code == 200 and r.json()["state"] == "confirmed"
    log = client.get("/api/audit", headers=h["admin"], params={"kind": "case", "object_id": no}).json()
    assert [e["action"] for e in log][:2] == ["case.verify", "case.void"] and log[1]["actor"] == "offb"


def test_a_voided_step_no_longer_counts_for_state_deadline_subject_and_overdue(city):
    db, _client, _h, _ = city
    no = cases.open_case(db, title="t", category="unapproved", on=date(2025, 8, 1), district="wushan",
                         subject="原单位")
    cases.add_step(db, no, "verify", on=date(2025, 8, 5), outcome="confirmed", note="x", subject="错认单位",
                   category="out_of_bounds")
    v = cases.add_step(db, no, "order_rectification", on=date(2025, 8, 6), note="整改")
    assert (v.state, v.deadline) == ("rectification_ordered", date(2025, 10, 5))
    with pytest.raises(InputError, match="void the later steps first"):
        case_corrections.void_step(db, no, 2, reason="错案")
    case_corrections.void_step(db, no, 3, reason="通知有误")
    v = case_corrections.void_step(db, no, 2, reason="错认")
    assert (v.state, v.deadline, v.subject, v.category, v.confirmed) == ("open", date(2025, 8, 31), "原单位",
                                                                          "unapproved", False)
    late = cases.list_cases(db, overdue=True, as_of=date(2025, 9, 10))
    assert [(r["case_no"], r["overdue_days"], r["state"]) for r in late] == [(no, 10, "open")]
    assert len(v.events) == 5  # nothing removed
    with pytest.raises(InputError, match="already voided"):
        case_corrections.void_step(db, no, 2, reason="again")
    with pytest.raises(InputError, match="opening cannot be voided"):
        case_corrections.void_step(db, no, 1, reason="x")
    with pytest.raises(InputError, match="itself a correction"):
        case_corrections.void_step(db, no, 4, reason="x")


def test_inspectors_void_only_their_own_steps(city):
    db, client, h, _ = city
    no = cases.open_case(db, title="t", category="other", on=date(2025, 8, 1), district="wanzhou")
    mine = client.post(f"/api/cases/{no}/steps", headers=h["insp"], data={"step": "note", "on": "2025-08-02",
                                                                          "note": "检查记录"})
    theirs = client.post(f"/api/cases/{no}/steps", headers=h["offa"], data={"step": "note", "on": "2025-08-03",
                                                                            "note": "区县记录"})
    assert mine.status_code == theirs.status_code == 200
    r = client.post(f"/api/cases/{no}/steps/3/void", headers=h["insp"], data={"reason": "x"})
    assert r.status_code == 403 and "only the steps they recorded" in r.json()["detail"]
    assert client.post(f"/api/cases/{no}/steps/2/void", headers=h["insp"], data={"reason": "重复"}).status_code == 200


def test_correct_replaces_a_step_s_date_and_note(city):
    db, client, h, _ = city
    no = cases.open_case(db, title="t", category="other", on=date(2025, 8, 1), district="wushan")
    cases.add_step(db, no, "verify", on=date(2025, 9, 20), outcome="not_confirmed", note="错日期")
    r = client.post(f"/api/cases/{no}/steps/2/correct", headers=h["offb"],
                    data={"on": "2025-08-20", "note": "农户自建", "reason": "日期录错"})
    assert r.status_code == 200, r.text
    c = r.json()
    assert [(e["seq"], e["step"]) for e in c["events"]] == [(1, "open"), (2, "verify"), (3, "correct"), (4, "verify")]
    assert c["events"][1]["voided_by"]["reason"] == "日期录错" and c["events"][3]["on_date"] == "2025-08-20"
    assert (c["state"], c["deadline"]) == ("dismissed", "2025-09-04")
    assert cases.add_step(db, no, "close", on=date(2025, 8, 25), note="销号").state == "closed"


def test_the_command_line_voids_and_is_audited_as_the_os_user(frozen, capsys):
    db, client, h, no, seq = frozen
    code = run(["--db", db, "supervise", "--actor", "张三", "cases", "void", no, "--seq", str(seq),
                "--reason", "日期错误"])
    out, err = capsys.readouterr()
    assert code == 0 and f"step {seq} voided" in out, err
    code = run(["--db", db, "supervise", "cases", "show", no, "--format", "table"])
    out, _ = capsys.readouterr()
    assert code == 0 and "已作废" in out and "日期错误" in out
    log = client.get("/api/audit", headers=h["admin"], params={"kind": "case", "object_id": no}).json()
    assert (log[0]["action"], log[0]["actor"], log[0]["role"]) == ("case.void", "张三", "command_line")
    assert json.loads(log[0]["before_json"])["voided"]["on_date"] == "9999-12-31"


def test_migration_6_adds_the_column_to_a_version_5_store(tmp_path):
    from shuibao.services.platform.database import init
    from shuibao.store.migrations import LATEST

    db = str(tmp_path / "old.gpkg")
    init(db, boundaries=False)
    with Store(db) as store, store.transaction() as conn:  # migration 6 undone (a store that got 7 first)
        conn.exec_driver_sql("ALTER TABLE case_events DROP COLUMN voids_seq")
        conn.exec_driver_sql("DELETE FROM schema_migrations WHERE version = 6")
    with Store(db) as store:
        assert store.status().pending == ("0006 case corrections: void and correct steps (case_events.voids_seq)",)
        with store.reading() as conn, pytest.raises(SchemaVersionError, match=r"migration\(s\) 6 not applied"):
            store.require_current(conn)  # the highest version is current, but 6 is missing: refused, not a crash
        store.upgrade()
        with store.reading() as conn:
            cols = [r[1] for r in conn.exec_driver_sql("PRAGMA table_info(case_events)")]
            triggers = {r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type='trigger' "
                                                           "AND tbl_name='case_events'")}
    assert "voids_seq" in cols and LATEST >= 6
    assert triggers == {"case_events_no_update", "case_events_no_delete"}  # still append-only
