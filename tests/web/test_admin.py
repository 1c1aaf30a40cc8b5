"""The batch writes through the web (/api/*/import, /api/*/run) and the /admin page, on both backends: anonymous
401; a district officer, an inspector and a viewer 403 with nothing written; the city administrator 201 with the
rows stored and one audit row naming the action and the administrator; a malformed input 422 with its reason
(and every refused row) and nothing stored; an upload above the limit 413."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Callable

import pytest
from fastapi.testclient import TestClient
from shapely.geometry import box
from sqlalchemy import Table, func, select

from shuibao.services.platform import auth
from shuibao.services.governance import treatment as governance
from shuibao.services.supervision import patches, projects
from shuibao.services.stations import records as station_service
from shuibao.services.platform.database import init
from shuibao.store import Store, schema
from shuibao.web import Settings, create_app

from tests.helpers import STATIONS, bearer, patch_row, project_row, square, write_layer, write_csv

LIMIT_MB = 0.5
STORM = date(2025, 7, 12)
USERS = (("admin", "river-lantern-4127", "city_admin", None), ("yubei", "yellow-kettle-5823", "district_officer", "渝北区"),
         ("insp", "quiet-harbor-9361", "inspector", None), ("look", "paper-mountain-2754", "viewer", None))


@pytest.fixture
def world(db_url, tmp_path):
    """Users of every role, stored projects and patches (for the compliance run), three stations with a stormy
    day of rain (for the warning), and a client whose uploads are limited to LIMIT_MB."""
    init(db_url, boundaries=False)
    for name, password, role, district in USERS:
        auth.create_user(db_url, name, password, role, district=district)
    projects.import_projects(db_url, write_layer(tmp_path / "p.gpkg", [project_row(f"P{i}") for i in range(3)],
                                                 [square(i * 2000, 0, 500) for i in range(3)]))
    patches.import_patches(db_url, write_layer(tmp_path / "t.gpkg", [patch_row(f"T{i}") for i in range(4)],
                                               [square(i * 2000 + 100, 100, 100) for i in range(4)]))
    station_service.import_stations(db_url, write_csv(tmp_path / "s.csv", STATIONS))
    days = [STORM + timedelta(days=k) for k in range(-2, 1)]
    station_service.import_observations(db_url, write_csv(tmp_path / "o.csv", [
        dict(station=s["code"], date=d.isoformat(), value="120.0" if d == STORM else "2.0")
        for s in STATIONS for d in days]))
    client = TestClient(create_app(Settings(db=db_url, max_upload_mb=LIMIT_MB, preload=False)))
    return db_url, client


def login(client, user: str) -> dict:
    return bearer(client, user, next(p for n, p, _, _ in USERS if n == user))


def count(db, table: Table, *where) -> int:
    with Store(db) as store, store.reading() as conn:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar()


WRITES = schema.audit_log.c.action.notlike("login.%")  # logins are audited too; these tests count the writes


def written(db, case: Endpoint) -> tuple[int, ...]:
    return (count(db, case.table), count(db, schema.supervision_imports), count(db, schema.audit_log, WRITES))


def last_audit(db) -> dict:
    return next(e for e in auth.audit_entries(db, principal=auth.SYSTEM, limit=20)
                if not e["action"].startswith("login."))


# --------------------------------------------------------------------------- the inputs of each endpoint
def _projects(folder: Path, bad: bool) -> dict:
    rows = ([project_row("B1"), project_row("B2", district="火星区"), project_row("B3", approval_date="someday")]
            if bad else [project_row("N1"), project_row("N2", district="江北区")])
    path = write_layer(folder / "new-projects.gpkg", rows, [square(20000 + i * 1000, 0, 300) for i in range(len(rows))])
    return {"files": {"file": (path.name, path.read_bytes(), "application/geopackage+sqlite3")}}


def _patches(folder: Path, bad: bool) -> dict:
    rows = [patch_row("H1", period="2025H2", image_date="2025-12-01"),
            patch_row("H2", period="2025H2", image_date="someday" if bad else "2025-12-01")]
    path = write_layer(folder / "patches.gpkg", rows, [square(30000 + i * 500, 0, 100) for i in range(2)])
    return {"files": {"file": (path.name, path.read_bytes(), "application/geopackage+sqlite3")}}


def _treatment(folder: Path, bad: bool) -> dict:
    rows = [dict(patch_code="Z1", project_code="XLY-YB", project_name="渝北小流域", kind="小流域水土流失综合治理",
                 measure="afforestation", year=2025, status="completed", district="渝北区"),
            dict(patch_code="Z2", project_code="XLY-YB", project_name="渝北小流域", kind="small_watershed",
                 measure="魔法" if bad else "grass_shrub", year=2025, status="planned", district="渝北区")]
    geoms = [box(106.60 + 0.02 * i, 29.70, 106.61 + 0.02 * i, 29.71) for i in range(2)]
    path = write_layer(folder / "treatment.gpkg", rows, geoms, crs="EPSG:4490")
    return {"files": {"file": (path.name, path.read_bytes(), "application/geopackage+sqlite3")}}


def _stations(folder: Path, bad: bool) -> dict:
    rows = [dict(code="S8", name="渝北雨量站", kind="雨量站", district="渝北区", lon="106.63", lat="29.72"),
            dict(code="S9", name="江北雨量站", kind="雨量站", district="江北区", lon="east" if bad else "106.57",
                 lat="29.60")]
    path = write_csv(folder / "stations.csv", rows)
    return {"files": {"file": (path.name, path.read_bytes(), "text/csv")}}


def _observations(folder: Path, bad: bool) -> dict:
    rows = [dict(station="S1", date=f"2025-08-0{d}", value="3.5") for d in (1, 2, 3)]
    if bad:
        rows.append(dict(station="NOPE", date="2025-08-01", value="1.0"))
    path = write_csv(folder / "obs.csv", rows)
    return {"files": {"file": (path.name, path.read_bytes(), "text/csv")}, "data": {"variable": "rain_mm"}}


@dataclass(frozen=True)
class Endpoint:
    path: str
    action: str
    table: Table
    good: Callable[[Path], dict]
    bad: Callable[[Path], dict]
    reason: str  # in the 422 detail
    upload: bool
    id_key: str
    added: int  # rows of table the good request adds


ENDPOINTS = [
    Endpoint("/api/projects/import", "projects.import", schema.projects, lambda f: _projects(f, False),
             lambda f: _projects(f, True), "火星区", True, "import_id", 2),
    Endpoint("/api/patches/import", "patches.import", schema.disturbance_patches, lambda f: _patches(f, False),
             lambda f: _patches(f, True), "'someday' is not a date", True, "import_id", 2),
    Endpoint("/api/compliance/run", "compliance.run", schema.compliance_findings,
             lambda f: {"json": {"period": "2025H1"}}, lambda f: {"json": {"period": "1999H1"}},
             "no disturbance patches stored for period '1999H1'", False, "analysis_id", 4),
    Endpoint("/api/treatment/import", "treatment.import", schema.treatment_patches, lambda f: _treatment(f, False),
             lambda f: _treatment(f, True), "魔法", True, "import_id", 2),
    Endpoint("/api/stations/import", "stations.import", schema.stations, lambda f: _stations(f, False),
             lambda f: _stations(f, True), "lon: 'east' is not a number", True, "import_id", 2),
    Endpoint("/api/stations/observations", "observations.import", schema.station_observations,
             lambda f: _observations(f, False), lambda f: _observations(f, True),
             "'NOPE' is not a registered station code", True, "import_id", 3 + 19),  # + the gap days 13–31 July
    Endpoint("/api/warnings/run", "warning.run", schema.warning_runs, lambda f: {"json": {"date": str(STORM)}},
             lambda f: {"json": {"date": "2024-01-01"}}, "no station has a quality-checked rain observation",
             False, "warning_id", 1),
    Endpoint("/api/assessment/run", "assessment.run", schema.assessment_runs, lambda f: {"json": {"year": 2025}},
             lambda f: {"json": {"year": 1800}}, "year", False, "assessment_id", 1),
]


@pytest.mark.parametrize("case", ENDPOINTS, ids=[e.path.removeprefix("/api/") for e in ENDPOINTS])
def test_only_the_city_administrator_writes_and_is_audited(world, case, tmp_path):
    db, client = world
    before = written(db, case)
    assert client.post(case.path, **case.good(tmp_path)).status_code == 401
    for user in ("yubei", "insp", "look"):
        r = client.post(case.path, headers=login(client, user), **case.good(tmp_path))
        assert r.status_code == 403 and "may not admin" in r.json()["detail"], (user, r.text)
    assert written(db, case) == before  # nothing written by anybody refused
    admin = login(client, "admin")
    bad = client.post(case.path, headers=admin, **case.bad(tmp_path))
    assert bad.status_code == 422 and case.reason in str(bad.json()["detail"]), bad.text
    assert written(db, case) == before  # a refused input stores nothing
    r = client.post(case.path, headers=admin, **case.good(tmp_path))
    assert r.status_code == 201, r.text
    body = r.json()
    assert count(db, case.table) == before[0] + case.added
    entry = last_audit(db)
    assert count(db, schema.audit_log, WRITES) == before[2] + 1
    assert (entry["action"], entry["actor"], entry["role"]) == (case.action, "admin", "city_admin")
    assert entry["object_id"] == str(body[case.id_key])
    if case.upload:  # the import's lineage names the administrator
        assert count(db, schema.supervision_imports, schema.supervision_imports.c.id == body["import_id"],
                     schema.supervision_imports.c.recorded_by == "admin") == 1
        big = {k: v for k, v in case.good(tmp_path).items() if k != "files"}
        too_big = client.post(case.path, headers=admin,
                              files={"file": ("big.csv", b"x" * int(LIMIT_MB * 2**20 + 1), "text/csv")}, **big)
        assert too_big.status_code == 413 and "larger than" in too_big.json()["detail"]
        assert count(db, case.table) == before[0] + case.added


def test_the_results_are_the_services_records(world, tmp_path):
    """Each answer agrees with what the services read back; a refused import lists every refused row."""
    db, client = world
    admin = login(client, "admin")
    bad = client.post("/api/projects/import", headers=admin, **_projects(tmp_path, True)).json()
    assert [(r["row"], r["key"]) for r in bad["rows"]] == [(2, "B2"), (3, "B3")]  # features from 1
    assert "火星区" in bad["rows"][0]["messages"] and "approval_date" in bad["rows"][1]["messages"]
    # counted in the one "N problem(s)" format; the rows are the items (no second copy as "issues")
    assert "2 problem(s) (2 of" in bad["detail"] and "issues" not in bad
    r = client.post("/api/projects/import", headers=admin, **_projects(tmp_path, False)).json()
    assert (r["features"], r["created"], r["new_areas"]) == (2, 2, 2) and len(r["rows"]) == 2
    stored = {p["code"]: p for p in projects.list_projects(db)}
    assert stored["N2"]["district_codes"] == "jiangbei" and stored["N1"]["area_version"] == 1
    log = auth.audit_entries(db, principal=auth.SYSTEM, kind="import", limit=1)[0]
    assert '"created": 2' in log["after_json"] and '"source": "new-projects.gpkg"' in log["after_json"]

    r = client.post("/api/treatment/import", headers=admin, **_treatment(tmp_path, False)).json()
    assert (r["created"], r["projects_created"]) == (2, 1)
    progress = governance.progress(db, year=2025)
    assert progress["patches"] == 2 and {d["district_code"] for d in progress["by_district"]} == {"yubei"}

    r = client.post("/api/stations/import", headers=admin, **_stations(tmp_path, False)).json()
    assert r["created"] == 2 and {"S8", "S9"} <= {s["code"] for s in station_service.list_stations(db)}
    r = client.post("/api/stations/observations", headers=admin, **_observations(tmp_path, False)).json()
    assert (r["rows"], r["stations"], r["counts"]["ok"]) == (3, 1, 3)
    summary = {s["station"]: s for s in station_service.annual_summary(db, 2025)}
    assert summary["S1"]["total"] == pytest.approx(2 * 2.0 + 120.0 + 3 * 3.5)

    c = client.post("/api/compliance/run", headers=admin, json={}).json()  # default: the latest period
    assert c["period"] == "2025H1" and sum(c["counts"].values()) == 4
    w = client.post("/api/warnings/run", headers=admin, json={"date": str(STORM), "run": None}).json()
    assert w["rain_date"] == str(STORM) and w["source"] == "stations:3" and w["footprints_km2"]["heavy_rainstorm"] > 0
    a = client.post("/api/assessment/run", headers=admin, json={"year": 2025}).json()
    assert a["year"] == 2025 and len(a["districts"]) > 30
    assert client.get("/api/assessment", headers=admin, params={"year": 2025}).status_code == 200
    actions = [e["action"] for e in auth.audit_entries(db, principal=auth.SYSTEM, limit=7)]
    assert actions == ["assessment.run", "warning.run", "compliance.run", "observations.import", "stations.import",
                       "treatment.import", "projects.import"]


def test_the_endpoints_are_documented(world):
    _, client = world
    spec = client.get("/openapi.json").json()
    for e in ENDPOINTS:
        op = spec["paths"][e.path]["post"]
        assert op["summary"] and "201" in op["responses"] and "Admin" in op["tags"], e.path
    form = spec["paths"]["/api/projects/import"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in form


def test_the_admin_page_for_the_administrator_only(world):
    _, client = world
    admin = login(client, "admin")
    page = client.get("/admin", headers=admin)
    assert page.status_code == 200 and "<h1>数据管理</h1>" in page.text and 'id="nav-admin"' in page.text
    assert all(f'data-endpoint="{e.path}"' in page.text for e in ENDPOINTS) and "/static/admin.js" in page.text
    en = client.get("/admin?lang=en", headers=admin).text
    assert "<h1>Data management</h1>" in en and "Import station observations" in en
    assert client.get("/static/admin.js").status_code == 200
    viewer = login(client, "look")
    dash = client.get("/dashboard", headers=viewer, params={"lang": "zh"})
    assert dash.status_code == 200 and 'id="nav-admin"' not in dash.text and 'href="/admin"' not in dash.text
    denied = client.get("/admin", headers=viewer)
    assert denied.status_code == 200 and 'id="admin-denied"' in denied.text and "data-endpoint" not in denied.text
    assert "/static/admin.js" not in denied.text
    client.cookies.clear()  # the logins above left a session cookie
    assert client.get("/admin", follow_redirects=False).status_code == 303  # anonymous: to the login page
