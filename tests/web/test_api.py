"""The web API on both backends: authentication (401), roles and districts (403), the audit log, 404/413/422,
and OGC API Features with bbox and paging."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient

from shuibao.services.platform import auth
from shuibao.services.supervision import patches, projects
from shuibao.services.platform.database import init
from shuibao.web import Settings, create_app

from tests.helpers import bearer as login, patch_row, project_row, square, write_layer


@pytest.fixture
def web(db_url, tmp_path):
    init(db_url, boundaries=False)
    auth.create_user(db_url, "admin", "river-lantern-4127", "city_admin")
    auth.create_user(db_url, "yubei", "yellow-kettle-5823", "district_officer", district="渝北区")
    auth.create_user(db_url, "insp", "quiet-harbor-9361", "inspector")
    auth.create_user(db_url, "look", "paper-mountain-2754", "viewer")
    key = auth.issue_api_key(db_url, "自然资源局", collections=list(auth.KEY_COLLECTIONS))  # every collection
    rows = [project_row(f"P{i}", district="渝北区" if i % 2 else "江北区") for i in range(12)]
    projects.import_projects(db_url, write_layer(tmp_path / "p.gpkg", rows, [square(i * 2000, 0, 500)
                                                                          for i in range(12)]))
    patches.import_patches(db_url, write_layer(tmp_path / "t.gpkg", [patch_row(f"T{i}") for i in range(25)],
                                               [square(i * 1000, 5000, 100) for i in range(25)]))
    app = create_app(Settings(db=db_url, max_upload_mb=0.01))
    return TestClient(app), key


def test_anonymous_callers_get_401_and_wrong_passwords_too(web):
    client, _ = web
    for path in ("/api/cases", "/api/me", "/ogc", "/ogc/collections/patches/items"):
        r = client.get(path)
        assert r.status_code == 401 and "log in" in r.json()["detail"]
    assert client.post("/api/login", json={"username": "admin", "password": "nope-nope"}).status_code == 401
    assert client.get("/api/me", headers={"Authorization": "Bearer forged"}).status_code == 401
    assert client.get("/api/me", headers={"X-API-Key": "sbk_forged"}).status_code == 401


def test_a_district_officer_writes_only_in_their_district(web):
    client, _ = web
    admin, officer = login(client, "admin", "river-lantern-4127"), login(client, "yubei", "yellow-kettle-5823")
    other = client.post("/api/cases", headers=admin, json={"title": "江北案件", "category": "other",
                                                          "on": "2025-07-01", "district": "江北区"})
    assert other.status_code == 201
    no = other.json()["case_no"]
    r = client.post(f"/api/cases/{no}/steps", headers=officer, data={"step": "note", "on": "2025-07-02",
                                                                     "note": "越权"})
    assert r.status_code == 403 and "district" in r.json()["detail"]
    assert client.post("/api/cases", headers=officer, json={"title": "x", "category": "other", "on": "2025-07-01",
                                                            "district": "江北区"}).status_code == 403
    own = client.post("/api/cases", headers=officer, json={"title": "渝北案件", "category": "other",
                                                          "on": "2025-07-01", "district": "渝北区"})
    assert own.status_code == 201
    assert client.get(f"/api/cases/{no}", headers=officer).status_code == 200  # reads everything
    viewer = login(client, "look", "paper-mountain-2754")
    assert client.post("/api/cases", headers=viewer, json={"title": "x", "category": "other", "on": "2025-07-01",
                                                           "district": "渝北区"}).status_code == 403


def test_every_write_is_in_the_audit_log_with_before_and_after(web):
    client, _ = web
    officer = login(client, "yubei", "yellow-kettle-5823")
    no = client.post("/api/cases", headers=officer, json={"title": "渝北案件", "category": "unapproved",
                                                         "on": "2025-07-01", "district": "yubei"}).json()["case_no"]
    r = client.post(f"/api/cases/{no}/steps", headers=officer,
                    data={"step": "verify", "on": "2025-07-03", "outcome": "not_confirmed", "note": "不属实"})
    assert r.status_code == 200 and r.json()["state"] == "dismissed"
    r = client.post(f"/api/cases/{no}/steps", headers=officer, data={"step": "close", "on": "2025-07-04"})
    assert r.json()["state"] == "closed"
    log = client.get("/api/audit", headers=officer, params={"kind": "case", "object_id": no}).json()
    assert [e["action"] for e in log] == ["case.close", "case.verify", "case.open"]
    assert all(e["actor"] == "yubei" and e["role"] == "district_officer" for e in log)
    assert '"state": "open"' in log[1]["before_json"] and '"state": "dismissed"' in log[1]["after_json"]


def test_evidence_uploads_and_the_413_414_422_404_answers(web):
    client, _ = web
    admin = login(client, "admin", "river-lantern-4127")
    no = client.post("/api/cases", headers=admin, json={"title": "a", "category": "other", "on": "2025-07-01",
                                                       "district": "渝北区"}).json()["case_no"]
    small = client.post(f"/api/cases/{no}/steps", headers=admin, data={"step": "note", "on": "2025-07-02"},
                        files={"evidence": ("site.jpg", b"\xff\xd8 photo", "image/jpeg")})
    assert small.status_code == 200
    sha = small.json()["events"][-1]["evidence"][0]["sha256"]
    got = client.get(f"/api/evidence/{sha}", headers=admin)
    assert got.status_code == 200 and got.content == b"\xff\xd8 photo"
    big = client.post(f"/api/cases/{no}/steps", headers=admin, data={"step": "note", "on": "2025-07-02"},
                      files={"evidence": ("big.bin", b"x" * 20_000, "application/octet-stream")})
    assert big.status_code == 413
    assert len(client.get(f"/api/cases/{no}", headers=admin).json()["events"]) == 2  # nothing half-written
    assert client.get("/api/cases/SB2099-99999", headers=admin).status_code == 404
    assert client.get("/ogc/collections/nope", headers=admin).status_code == 404
    assert client.get("/ogc/collections/patches/items/999999", headers=admin).status_code == 404
    bad = client.post("/api/cases", headers=admin, json={"category": "other", "on": "2025-07-01"})
    assert bad.status_code == 422
    bad = client.post(f"/api/cases/{no}/steps", headers=admin, data={"step": "close", "on": "2025-07-05"})
    assert bad.status_code == 422 and "cannot take the step Closure" in bad.json()["detail"]
    assert client.get("/ogc/collections/patches/items", headers=admin, params={"bbox": "1,2,3"}).status_code == 422


def test_ogc_api_features_with_an_api_key(web):
    client, key = web
    h = {"X-API-Key": key}
    landing = client.get("/ogc", headers=h).json()
    assert {lk["rel"] for lk in landing["links"]} >= {"self", "conformance", "data", "service-desc"}
    assert any("core" in c for c in client.get("/ogc/conformance", headers=h).json()["conformsTo"])
    ids = [c["id"] for c in client.get("/ogc/collections", headers=h).json()["collections"]]
    assert ids == ["districts", "watersheds", "patches", "projects", "treatment", "stations"]
    page = client.get("/ogc/collections/patches/items", headers=h, params={"limit": 10})
    assert page.headers["content-type"].startswith("application/geo+json")
    body = page.json()
    assert (body["numberMatched"], body["numberReturned"]) == (25, 10)
    nxt = next(lk["href"] for lk in body["links"] if lk["rel"] == "next")
    second = client.get(nxt, headers=h).json()
    assert second["numberReturned"] == 10 and {f["id"] for f in second["features"]}.isdisjoint(
        {f["id"] for f in body["features"]})
    every = client.get("/ogc/collections/patches/items", headers=h, params={"limit": 100}).json()["features"]
    lon = sorted((f["geometry"]["coordinates"][0][0][0][0], f["properties"]["patch_code"]) for f in every)
    box = f"{lon[0][0] - 1e-4},20,{lon[4][0] + 1e-4},40"  # the five westernmost patches
    inside = client.get("/ogc/collections/patches/items", headers=h, params={"bbox": box}).json()
    assert sorted(f["properties"]["patch_code"] for f in inside["features"]) == sorted(c for _, c in lon[:5])
    with_query_key = client.get(f"/ogc/collections/projects/items?limit=5&api_key={key}").json()
    assert with_query_key["numberMatched"] == 12 and all("api_key=" in lk["href"] for lk in with_query_key["links"])
    assert client.post("/api/cases", headers=h, json={"title": "x", "category": "other", "on": str(date.today()),
                                                      "district": "渝北区"}).status_code == 403
    assert client.get("/openapi.json").status_code == 200


def test_geojson_upload_and_downloads(web, tmp_path):
    import json

    import pyogrio

    client, key = web
    admin = login(client, "admin", "river-lantern-4127")
    officer = login(client, "yubei", "yellow-kettle-5823")
    bad = client.post("/api/patches", headers=admin, content=b"{not json")
    assert bad.status_code == 422 and "not valid JSON" in bad.json()["detail"]
    bad = client.post("/api/patches", headers=admin, json={"type": "Feature"})
    assert bad.status_code == 422 and "FeatureCollection" in bad.json()["detail"]
    feature = {"type": "Feature", "properties": {"patch_id": "G1", "image_date": "2025-09-30"},
               "geometry": {"type": "Polygon", "coordinates": [[[107.0, 29.5], [107.001, 29.5], [107.001, 29.501],
                                                                [107.0, 29.501], [107.0, 29.5]]]}}
    broken = dict(feature, properties={"patch_id": "G2", "image_date": "soon"})
    r = client.post("/api/patches?period=2025H2", headers=admin,
                    json={"type": "FeatureCollection", "features": [feature, broken]})
    assert r.status_code == 422 and "row 2 (G2)" in r.json()["detail"] and "not a date" in r.json()["detail"]
    assert client.post("/api/patches?period=2025H2", headers=officer,
                       json={"type": "FeatureCollection", "features": [feature]}).status_code == 403
    ok = client.post("/api/patches?period=2025H2", headers=admin,
                     json={"type": "FeatureCollection", "features": [feature]})
    assert ok.status_code == 201 and ok.json()["features"] == 1
    log = client.get("/api/audit", headers=admin, params={"kind": "import"}).json()
    assert log[0]["action"] == "patches.import" and '"period": "2025H2"' in log[0]["after_json"]
    gj = client.get("/api/download/patches.geojson", headers={"X-API-Key": key})
    assert gj.status_code == 200 and len(json.loads(gj.content)["features"]) == 26
    raw = client.get("/api/download/projects.csv", headers={"X-API-Key": key}).content
    assert raw.startswith("\ufefffid,".encode())  # a BOM: Excel on a Chinese Windows reads the download
    assert len(raw.decode("utf-8-sig").splitlines()) == 13
    gp = client.get("/api/download/treatment.gpkg", headers={"X-API-Key": key})
    assert gp.status_code == 200 and gp.content[:16] == b"SQLite format 3\x00"
    path = tmp_path / "patches.gpkg"
    with open(path, "wb") as fh:
        fh.write(client.get("/api/download/patches.gpkg", headers={"X-API-Key": key}).content)
    assert pyogrio.read_info(path)["features"] == 26
    assert client.get("/api/download/patches.shp", headers={"X-API-Key": key}).status_code == 422


# ------------------------------------------------------------------ paging of the list endpoints (limit/offset)
def test_the_case_ledger_and_the_audit_log_are_paged_with_the_total_in_a_header(web):
    client, _ = web
    admin = login(client, "admin", "river-lantern-4127")
    opened = [client.post("/api/cases", headers=admin, json={"title": f"案件{i}", "category": "other",
                                                              "on": "2025-07-01", "district": "渝北区"}).json()["case_no"]
              for i in range(7)]
    every = client.get("/api/cases", headers=admin)  # no limit: every case, as before paging
    assert [c["case_no"] for c in every.json()] == sorted(opened) and every.headers["X-Total-Count"] == "7"
    pages = [client.get("/api/cases", headers=admin, params={"limit": 3, "offset": o}) for o in (0, 3, 6, 9)]
    assert [len(p.json()) for p in pages] == [3, 3, 1, 0]
    assert all(p.headers["X-Total-Count"] == "7" for p in pages)
    assert [c["case_no"] for p in pages for c in p.json()] == sorted(opened)
    few = client.get("/api/cases", headers=admin, params={"state": "closed", "limit": 5})
    assert few.json() == [] and few.headers["X-Total-Count"] == "0"  # the total counts what matches the filter

    # the audit log: seven case.open entries among the logins; pages of it are slices of the whole, newest first
    log = client.get("/api/audit", headers=admin, params={"limit": 1000}).json()
    assert [e["object_id"] for e in log if e["action"] == "case.open"] == sorted(opened, reverse=True)
    page = client.get("/api/audit", headers=admin, params={"limit": 2, "offset": 3})
    assert page.json() == log[3:5] and page.headers["X-Total-Count"] == str(len(log))
    cases_only = client.get("/api/audit", headers=admin, params={"kind": "case", "limit": 4, "offset": 4})
    assert [e["object_id"] for e in cases_only.json()] == sorted(opened, reverse=True)[4:]
    assert cases_only.headers["X-Total-Count"] == "7"

    projects = client.get("/api/projects", headers=admin, params={"limit": 5, "offset": 10})
    assert len(projects.json()["items"]) == 2 and projects.headers["X-Total-Count"] == "12" == str(
        projects.json()["total"])
    runs = client.get("/api/runs", headers=admin, params={"limit": 5})
    assert runs.json() == [] and runs.headers["X-Total-Count"] == "0"  # no run stored in this store


@pytest.mark.parametrize("path, name", [("/api/cases?offset=-1", "offset"), ("/api/cases?limit=0", "limit"),
                                        ("/api/cases?limit=1001", "limit"), ("/api/audit?offset=-5", "offset"),
                                        ("/api/audit?limit=1001", "limit"), ("/api/runs?limit=1001", "limit"),
                                        ("/api/runs?offset=-1", "offset"), ("/api/projects?limit=501", "limit"),
                                        ("/api/cases?offset=9223372036854775808", "offset"),
                                        ("/api/cases?limit=ten", "limit")])
def test_a_page_out_of_bounds_is_a_422_naming_the_parameter(web, path, name):
    client, _ = web
    r = client.get(path, headers=login(client, "admin", "river-lantern-4127"))
    assert r.status_code == 422, r.text
    assert name in r.text and "X-Total-Count" not in r.headers
