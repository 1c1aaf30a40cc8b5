"""H2: a case's district is derived on the server from its patch or project; a body district that disagrees,
or none from a district officer, is refused; a case without a district is stepped by city administrators
only; the source of a case is set by the server (review: security.md H2, every variant)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from shuibao.services.supervision import cases, compliance
from shuibao.store import Store, schema

ON = "2025-08-01"


def _case(db, no):
    with Store(db) as store, store.reading() as conn:
        return conn.execute(select(schema.cases).where(schema.cases.c.case_no == no)).first()


def test_officer_a_cannot_preempt_a_finding_on_b_s_patch(city, tmp_path):
    db, client, h, fids = city
    body = {"title": "pre-empt", "category": "unapproved", "on": ON, "patch_fid": fids["TB"]}
    r = client.post("/api/cases", headers=h["offa"], json={**body, "district": "wanzhou"})
    assert r.status_code == 422 and "lies in district wushan" in r.json()["detail"]
    r = client.post("/api/cases", headers=h["offa"], json=body)  # no district: derived wushan, not A's
    assert r.status_code == 403 and "in district Wushan" in r.json()["detail"]  # the district by its label
    compliance.run_compliance(db, period="2025H1", out=tmp_path / "c.gpkg")
    opened = cases.open_cases_from_findings(db, period="2025H1", on=date(2025, 8, 2))
    b_cases = [c["case_no"] for c in cases.list_cases(db, district="wushan")]
    assert len(opened) == 2 and any(no in b_cases for no in opened)  # the finding is not suppressed


def test_officer_b_opens_on_own_patch_and_the_district_comes_from_the_patch(city):
    db, client, h, fids = city
    r = client.post("/api/cases", headers=h["offb"], json={"title": "巫山图斑", "category": "unapproved", "on": ON,
                                                          "patch_fid": fids["TB"]})
    assert r.status_code == 201
    head = _case(db, r.json()["case_no"])
    assert (head.district_code, head.source_kind, head.patch_fid) == ("wushan", "manual", fids["TB"])


def test_b_s_project_with_a_s_district_is_refused(city):
    _db, client, h, _ = city
    r = client.post("/api/cases", headers=h["offa"], json={"title": "x", "category": "other", "on": ON,
                                                          "project": "PB", "district": "wanzhou"})
    assert r.status_code == 422 and "project PB covers district(s) wushan" in r.json()["detail"]
    r = client.post("/api/cases", headers=h["admin"], json={"title": "x", "category": "other", "on": ON,
                                                           "project": "PB", "district": "wanzhou"})
    assert r.status_code == 422  # nobody files a project's case under a district it does not cover


def test_a_project_spanning_two_districts_gives_the_officer_s_own(city):
    db, client, h, _ = city
    r = client.post("/api/cases", headers=h["offa"], json={"title": "跨区项目", "category": "other", "on": ON,
                                                          "project": "PAB"})
    assert r.status_code == 201 and _case(db, r.json()["case_no"]).district_code == "wanzhou"
    r = client.post("/api/cases", headers=h["admin"], json={"title": "跨区项目", "category": "other", "on": ON,
                                                           "project": "PAB"})
    assert r.status_code == 201 and _case(db, r.json()["case_no"]).district_code == "wushan"  # the first
    r = client.post("/api/cases", headers=h["offa"], json={"title": "x", "category": "other", "on": ON,
                                                          "project": "PAB", "district": "wushan"})
    assert r.status_code == 403


def test_no_district_from_anyone_is_refused_never_a_null_district_case(city):
    db, client, h, _ = city
    for who in ("offa", "admin"):
        r = client.post("/api/cases", headers=h[who], json={"title": "无区县", "category": "other", "on": ON})
        assert r.status_code == 422 and "needs a district" in r.json()["detail"]
    r = client.post("/api/cases", headers=h["admin"], json={"title": "自由案件", "category": "other", "on": ON,
                                                           "district": "巫山县"})
    assert r.status_code == 201 and _case(db, r.json()["case_no"]).district_code == "wushan"
    with Store(db) as store, store.reading() as conn:
        assert conn.execute(select(schema.cases).where(schema.cases.c.district_code.is_(None))).first() is None


def test_a_stored_case_without_district_is_stepped_by_city_admins_only(city):
    db, client, h, _ = city
    with Store(db) as store, store.transaction() as conn:  # as the old code stored it
        no = cases.insert_case(conn, source_kind="manual", source_id=None, patch_fid=None, project_id=None,
                                district=None, subject=None, category="other", title="旧案件", on=date(2025, 8, 1),
                                note="", evidence=[], by="old", at=cases.now())
    step = {"step": "verify", "outcome": "confirmed", "on": "2025-08-02", "note": "x", "subject": "某公司"}
    for who in ("offb", "offa", "insp"):
        r = client.post(f"/api/cases/{no}/steps", headers=h[who], data=step)
        assert r.status_code == 403 and "no district" in r.json()["detail"]
    assert client.post(f"/api/cases/{no}/steps", headers=h["admin"], data=step).status_code == 200


def test_the_source_cannot_be_forged_from_the_web(city):
    db, client, h, fids = city
    r = client.post("/api/cases", headers=h["offb"], json={"title": "x", "category": "unapproved", "on": ON,
                                                          "patch_fid": fids["TB"], "source": "finding"})
    assert r.status_code == 422 and "source" in r.text
    with Store(db) as store, store.reading() as conn:
        assert conn.execute(select(schema.cases)).first() is None


def test_the_map_no_longer_sends_district_or_source(city):
    _db, client, h, _ = city
    page = client.get("/map", headers=h["offa"])
    assert page.status_code == 200 and "open-case" in page.text
    assert 'source: "finding"' not in page.text and "btn.dataset.district" not in page.text
