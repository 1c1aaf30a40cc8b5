"""L2/L3 for cases: text limits, NUL, unknown patch and evidence, the evidence quota; and M6 for cases:
command-line case writes are audited as the operating-system user (review: security.md L2, L3, M6)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from shuibao.cli.main import run
from shuibao.services.supervision import cases, compliance
from shuibao.store import Store, schema


def _new(client, h, **kw):
    return client.post("/api/cases", headers=h["admin"], json={"title": "t", "category": "other", "on": "2025-08-01",
                                                               "district": "wushan", **kw})


@pytest.mark.parametrize("field, value, words", [
    ("title", "长" * 201, "at most 200"), ("title", "   \t ", "empty"), ("title", "a\x00b", "NUL"),
    ("note", "x" * 4001, "at most 4000"), ("note", "a\x00", "NUL"), ("subject", "s" * 201, "at most 200"),
])
def test_case_text_is_bounded_and_clean(city, field, value, words):
    _db, client, h, _ = city
    r = _new(client, h, **{field: value})
    assert r.status_code == 422 and words in r.json()["detail"]


def test_step_notes_are_bounded_and_clean(city):
    _db, client, h, _ = city
    no = _new(client, h).json()["case_no"]
    for note in ("n\x00", "n" * 4001):
        r = client.post(f"/api/cases/{no}/steps", headers=h["admin"], data={"step": "note", "on": "2025-08-02",
                                                                            "note": note})
        assert r.status_code == 422 and "note" in r.json()["detail"]


def test_an_unknown_patch_is_named_without_a_database_error(city):
    db, client, h, _ = city
    for fid in (999_999, 2**70):
        r = _new(client, h, patch_fid=fid)
        assert r.status_code == 422 and r.json()["detail"] == f"patch {fid} does not exist"
        assert db not in r.text and "FOREIGN KEY" not in r.text


def test_an_unknown_evidence_file_is_404(city):
    _db, client, h, _ = city
    r = client.get("/api/evidence/" + "0" * 64, headers=h["admin"])
    assert r.status_code == 404 and "no evidence file" in r.json()["detail"]


def test_the_evidence_quota_per_step_and_per_case(city, monkeypatch):
    _db, client, h, _ = city
    no = _new(client, h).json()["case_no"]
    many = [("evidence", (f"p{i}.jpg", f"photo {i}".encode(), "image/jpeg")) for i in range(21)]
    r = client.post(f"/api/cases/{no}/steps", headers=h["admin"], data={"step": "note", "on": "2025-08-02"},
                    files=many)
    assert r.status_code == 422 and "at most 20" in r.json()["detail"]
    monkeypatch.setattr(cases, "MAX_CASE_EVIDENCE_BYTES", 1500)  # the quota is read at each write
    for i, expect in ((0, 200), (1, 422)):
        r = client.post(f"/api/cases/{no}/steps", headers=h["admin"], data={"step": "note", "on": "2025-08-02"},
                        files={"evidence": (f"site{i}.jpg", bytes([i]) * 1000, "image/jpeg")})
        assert r.status_code == expect
    assert "MiB a case" in r.json()["detail"]
    r = client.post(f"/api/cases/{no}/steps", headers=h["admin"], data={"step": "note", "on": "2025-08-03"},
                    files={"evidence": ("again.jpg", bytes([0]) * 1000, "image/jpeg")})
    assert r.status_code == 200  # a file the case already cites costs nothing
    assert len(client.get(f"/api/cases/{no}", headers=h["admin"]).json()["events"]) == 3


def _audit(db):
    with Store(db) as store, store.reading() as conn:
        t = schema.audit_log
        return conn.execute(select(t.c.action, t.c.actor, t.c.role, t.c.object_id)
                            .where(t.c.object_kind == "case").order_by(t.c.id)).all()


def test_command_line_case_writes_are_audited(city, tmp_path, capsys):
    db, _client, _h, _ = city
    base = ["--db", db, "supervise", "--actor", "李四", "cases"]
    assert run([*base, "open", "--title", "举报", "--category", "other", "--district", "巫山县",
                "--on", "2025-08-01"]) == 0
    no = capsys.readouterr().out.strip()
    assert run([*base, "step", no, "note", "--on", "2025-08-02", "--note", "电话核实"]) == 0
    compliance.run_compliance(db, period="2025H1", out=tmp_path / "c.gpkg")
    opened = cases.open_cases_from_findings(db, period="2025H1", on=date(2025, 8, 2), actor="批量")
    rows = _audit(db)
    assert rows[:2] == [("case.open", "李四", "command_line", no), ("case.note", "李四", "command_line", no)]
    assert rows[2:] == [("case.open", "批量", "command_line", n) for n in opened] and len(opened) == 2
