"""The web platform's pages and REST reads on both backends: projects (list, one with its lifecycle, findings and
cases), districts, monitoring runs with their unit tables and downloadable products, the assessment (JSON and
CSV), treatment progress, stations, warnings — each checked against the records or the files themselves."""

from __future__ import annotations

import csv
import re
import io
import os
import shutil
import socket
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from shapely.geometry import MultiPolygon, box
from sqlalchemy import select

from shuibao.io.vector import VectorLayer, write_gpkg
from shuibao.plan.reference import load_reference
from shuibao.services.platform import auth
from shuibao.services.supervision import cases, compliance, patches, projects
from shuibao.services.governance import treatment as governance
from shuibao.services.assessment.responsibility import run_assessment
from shuibao.services.platform.database import init
from shuibao.services.monitoring.annual_run import run_monitoring
from shuibao.demo.scene_files import write_scene
from shuibao.store import Store, schema
from shuibao.demo.scene import make_scene
from shuibao.web import Settings, create_app

from tests.helpers import patch_row, project_row, square, write_layer

ROWS, COLS, CELL = 60, 90, 30.0
RUN_DISTRICTS = (("yubei", 0, 30), ("jiangbei", 30, 60), ("fuling", 60, 90))


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    """A small synthetic scene and three district rectangles (EPSG of the scene), shared by the tests."""
    folder = tmp_path_factory.mktemp("pages-inputs")
    scene = make_scene(ROWS, COLS, seed=5)
    write_scene(scene, folder, stations=5, years=(2022, 2023))
    x0, y0 = scene.transform[2], scene.transform[5]
    geoms = [MultiPolygon([box(x0 + c0 * CELL, y0 - ROWS * CELL, x0 + c1 * CELL, y0)]) for _, c0, c1 in RUN_DISTRICTS]
    write_gpkg(folder / "districts.gpkg", [VectorLayer("districts", "test districts", scene.crs, geoms,
                                                       {"code": [c for c, _, _ in RUN_DISTRICTS]})],
               timestamp=datetime(2024, 1, 1, tzinfo=UTC))
    return folder


def _spec(folder: Path, inputs: Path) -> Path:
    spec = folder / "spec.toml"
    spec.write_text(f"""
[run]
name = "页面测试 2023 年水土流失动态监测"
year = 2023
output = "out"
synthetic = true

[inputs]
dem = "{inputs / 'dem.tif'}"
landuse = "{inputs / 'landuse.tif'}"
ndvi = "{inputs / 'ndvi.tif'}"
rain = "{inputs / 'rain.csv'}"
soil = "{inputs / 'soil.tif'}"
soil_table = "{inputs / 'soil.csv'}"
districts = {{ path = "{inputs / 'districts.gpkg'}", code_field = "code" }}

[parameters]
watershed_threshold_km2 = 0.5
""", encoding="utf-8")
    return spec


@pytest.fixture
def site(db_url, tmp_path, inputs):
    """A store with users, four projects (one moved to completed, one renamed), a period of patches with its
    compliance analysis, three cases, a monitoring run and an assessment of 2023."""
    init(db_url, boundaries=False)
    auth.create_user(db_url, "look", "paper-mountain-2754", "viewer")
    rows = [project_row("P1", district="渝北区"), project_row("P2", district="渝北区,江北区"),
            project_row("Q3", district="江北区", name="江北大道"), project_row("P4", district="涪陵区")]
    areas = [square(0, 0, 500), square(2000, 0, 500), square(4000, 0, 500), square(6000, 0, 500)]
    projects.import_projects(db_url, write_layer(tmp_path / "p.gpkg", rows, areas))
    projects.set_status(db_url, "P1", "completed", note="竣工")
    renamed = [dict(rows[0], name="项目P1（二期）", status="完工")]
    projects.import_projects(db_url, write_layer(tmp_path / "p2.gpkg", renamed, [areas[0]]))
    # two patches inside P1's area, one far from every project
    patches.import_patches(db_url, write_layer(tmp_path / "t.gpkg", [patch_row("IN-1"), patch_row("IN-2"),
                                                                     patch_row("FAR-1")],
                                               [square(50, 50, 100), square(300, 300, 100),
                                                square(30_000, 30_000, 100)]))
    compliance.run_compliance(db_url)
    case_p1 = cases.open_case(db_url, title="P1 弃渣", category="other", on=date(2023, 3, 1), project_code="P1",
                              district="渝北区")
    closed = cases.open_case(db_url, title="已销号", category="other", on=date(2023, 3, 2), district="渝北区")
    cases.add_step(db_url, closed, "verify", on=date(2023, 3, 3), outcome="not_confirmed", note="不属实")
    cases.add_step(db_url, closed, "close", on=date(2023, 3, 4))
    other = cases.open_case(db_url, title="江北案件", category="other", on=date(2023, 4, 1), district="江北区")
    run = run_monitoring(_spec(tmp_path, inputs), db_url)
    assessed = run_assessment(db_url, 2023)
    client = TestClient(create_app(Settings(db=db_url)))
    r = client.post("/api/login", json={"username": "look", "password": "paper-mountain-2754"})
    assert r.status_code == 200, r.text
    return {"db": db_url, "client": client, "h": {"Authorization": f"Bearer {r.json()['token']}"}, "run": run,
            "assessed": assessed, "case_p1": case_p1, "closed": closed, "other": other, "tmp": tmp_path}


def test_every_new_read_needs_a_caller_and_unknown_ids_are_404(site):
    c, h, rid = site["client"], site["h"], site["run"].run_id
    paths = ["/api/projects", "/api/projects/P1", "/api/districts/yubei", f"/api/runs/{rid}/units",
             f"/api/runs/{rid}/files", f"/api/runs/{rid}/files/provenance.json", "/api/assessment",
             "/api/assessment.csv", "/api/governance/progress", "/api/stations", "/api/warnings"]
    anonymous = TestClient(c.app)  # the logged-in client holds the session cookie
    for path in paths:
        r = anonymous.get(path)
        assert r.status_code == 401, path
    for path in ("/api/projects/NOPE", "/api/districts/火星区", "/api/runs/999", "/api/runs/999/units",
                 "/api/runs/999/files", f"/api/runs/{rid}/files/rasters/nope.tif", "/api/assessment?year=1999",
                 "/api/assessment.csv?year=1999", "/api/warnings?date=2023-07-01"):
        r = c.get(path, headers=h)
        assert r.status_code == 404, (path, r.text)
    for path in ("/api/projects?status=flying", "/api/projects?limit=0", "/api/projects?offset=-1",
                 "/api/projects?district=火星区", "/api/runs/abc", f"/api/runs/{rid}/units?level=planet",
                 "/api/warnings?date=yesterday"):
        assert c.get(path, headers=h).status_code == 422, path
    spec = c.get("/openapi.json").json()
    for path in ("/api/projects", "/api/projects/{code}", "/api/districts/{district}", "/api/runs/{run}/files",
                 "/api/runs/{run}/files/{name}", "/api/assessment", "/api/stations", "/api/warnings"):
        assert path in spec["paths"] and spec["paths"][path]["get"]["summary"], path


def test_projects_list_filters_and_pages(site):
    c, h = site["client"], site["h"]
    every = c.get("/api/projects", headers=h).json()
    assert every["total"] == 4 and [p["code"] for p in every["items"]] == ["P1", "P2", "P4", "Q3"]
    yubei = c.get("/api/projects", headers=h, params={"district": "渝北区"}).json()
    assert [p["code"] for p in yubei["items"]] == ["P1", "P2"]
    assert yubei["items"][1]["district_codes"] == ["yubei", "jiangbei"]
    assert [p["code"] for p in c.get("/api/projects", headers=h, params={"q": "大道"}).json()["items"]] == ["Q3"]
    assert [p["code"] for p in c.get("/api/projects", headers=h, params={"q": "p4"}).json()["items"]] == ["P4"]
    done = c.get("/api/projects", headers=h, params={"status": "completed"}).json()
    assert [p["code"] for p in done["items"]] == ["P1"] and done["items"][0]["status_zh"] == "完工"
    page = c.get("/api/projects", headers=h, params={"limit": 3, "offset": 2}).json()
    assert page["total"] == 4 and [p["code"] for p in page["items"]] == ["P4", "Q3"]


def test_the_project_page_carries_its_lifecycle_findings_and_cases(site):
    c, h, db = site["client"], site["h"], site["db"]
    d = c.get("/api/projects/P1", headers=h).json()
    assert d["project"]["name"] == "项目P1（二期）" and d["project"]["status"] == "completed"
    events = d["events"]
    history = projects.project_history(db, "P1")
    assert [(e["id"], e["event"]) for e in events] == [(e["id"], e["event"]) for e in history]
    assert events[0]["event"] == "created" and events[0]["after"]["name"] == "项目P1"
    status = next(e for e in events if e["event"] == "status")
    assert status["before"] == {"status": "under_construction"} and status["after"] == {"status": "completed"}
    assert status["note"] == "竣工"
    update = next(e for e in events if e["event"] == "updated")
    assert update["before"]["name"] == "项目P1" and update["after"]["name"] == "项目P1（二期）"
    # the findings: exactly the two patches inside P1's area, with the categories the analysis stored
    stored, _ = compliance.findings(db)
    expected = {r["patch_id"]: r["category"] for r in stored if r["project_code"] == "P1"}
    assert set(expected) == {"IN-1", "IN-2"}
    assert {f["patch_code"]: f["category"] for f in d["findings"]} == expected
    with Store(db) as store, store.reading() as conn:
        a = schema.responsibility_areas
        area = conn.execute(select(a.c.area_m2).join(schema.projects, schema.projects.c.id == a.c.project_id)
                            .where(schema.projects.c.code == "P1", a.c.superseded_at.is_(None))).scalar()
    assert d["current_area_m2"] == pytest.approx(area)
    assert [x["case_no"] for x in d["open_cases"]] == [site["case_p1"]]
    assert d["fees"] == [] and d["acceptance"] == []
    assert c.get("/api/projects/P2", headers=h).json()["open_cases"] == []


def _unit_row(db: str, run_id: int, code: str) -> dict:
    u = schema.monitoring_units
    with Store(db) as store, store.reading() as conn:
        return dict(conn.execute(select(u).where(u.c.run_id == run_id, u.c.level == "district",
                                                 u.c.code == code)).one()._mapping)


def test_the_district_page_matches_the_stored_unit_row(site):
    c, h, db, rid = site["client"], site["h"], site["db"], site["run"].run_id
    row = _unit_row(db, rid, "yubei")
    for ref in ("yubei", "渝北区"):
        d = c.get(f"/api/districts/{ref}", headers=h).json()
        assert d["district"]["code"] == "yubei" and d["district"]["name"] == "渝北区"
        assert d["latest"]["run_id"] == rid and d["latest"]["rate_pct"] == pytest.approx(row["rate_pct"])
        assert d["latest"]["target_2025_pct"] == pytest.approx(row["target_2025_pct"])
        assert d["latest"]["slight_km2"] == pytest.approx(row["slight_km2"])
    assert [t["run_id"] for t in d["trend"]] == [rid]
    counts = {s["status"]: s["count"] for s in d["projects_by_status"]}
    assert counts["completed"] == 1 and counts["under_construction"] == 1 and d["projects_total"] == 2
    assert [x["case_no"] for x in d["open_cases"]] == [site["case_p1"]]  # the closed one is not listed
    total = next(x for x in site["assessed"]["districts"] if x["district_code"] == "yubei")["total"]
    assert d["assessment"]["year"] == 2023 and d["assessment"]["total"] == pytest.approx(total)
    jb = c.get("/api/districts/jiangbei", headers=h).json()
    assert [x["case_no"] for x in jb["open_cases"]] == [site["other"]]
    assert jb["latest"]["rate_pct"] == pytest.approx(_unit_row(db, rid, "jiangbei")["rate_pct"])
    none = c.get("/api/districts/wanzhou", headers=h).json()  # outside the run: no row, no invented number
    assert none["latest"] is None and none["trend"] == [] and none["projects_total"] == 0


def test_run_units_files_and_downloads(site):
    c, h, db, run = site["client"], site["h"], site["db"], site["run"]
    units = c.get(f"/api/runs/{run.run_id}/units", headers=h, params={"level": "district"}).json()["units"]
    assert {u["code"] for u in units} == {"yubei", "jiangbei", "fuling"}
    for u in units:
        assert u["rate_pct"] == pytest.approx(_unit_row(db, run.run_id, u["code"])["rate_pct"])
    detail = c.get(f"/api/runs/{run.run_id}", headers=h).json()
    assert detail["spec"]["year"] == 2023 and detail["spec"]["name"].startswith("页面测试")
    assert detail["grid"]["rows"] == ROWS
    folder = Path(run.output)
    on_disk = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                     if p.is_file() and not any(x.startswith(".") for x in p.relative_to(folder).parts))
    listed = c.get(f"/api/runs/{run.run_id}/files", headers=h).json()["files"]
    assert sorted(f["name"] for f in listed) == on_disk
    assert {"rasters/grade.tif", "tables/erosion_by_unit.csv", "monitoring.gpkg", "provenance.json"} <= set(on_disk)
    assert not any(f["modified_after_run"] for f in listed)
    for name in ("rasters/grade.tif", "tables/erosion_by_unit.csv", "provenance.json"):
        got = c.get(f"/api/runs/{run.run_id}/files/{name}", headers=h)
        assert got.status_code == 200 and got.content == (folder / name).read_bytes(), name
        assert next(f for f in listed if f["name"] == name)["size_bytes"] == (folder / name).stat().st_size
    # names not in the listing: work files, traversal, absolute paths
    (site["tmp"] / "secret.txt").write_text("secret", encoding="utf-8")
    assert (folder / ".work" / "counts.json").is_file()
    for bad in (".work/counts.json", "%2E%2E/secret.txt", "..%2Fsecret.txt", "rasters/..%2F..%2Fsecret.txt",
                "%2F" + str(site["tmp"] / "secret.txt").lstrip("/"), "../spec.toml"):
        r = c.get(f"/api/runs/{run.run_id}/files/{bad}", headers=h)
        assert r.status_code == 404 and r.content != b"secret" and r.json()["detail"], bad
    # a product rewritten after the run is flagged
    later = folder / "tables" / "conservation_rate.csv"
    same = folder / "tables" / "erosion_by_unit.csv"
    later.write_bytes(later.read_bytes() + b"# rewritten\n")
    t = datetime.now(UTC).timestamp() + 3600
    for path in (later, same):  # the second only touched: its bytes are still the recorded ones
        os.utime(path, (t, t))
    listed = c.get(f"/api/runs/{run.run_id}/files", headers=h).json()["files"]
    assert [f["name"] for f in listed if f["modified_after_run"]] == ["tables/conservation_rate.csv"]


def test_assessment_json_and_csv_match_the_assessment_service(site):
    c, h = site["client"], site["h"]
    expected = {r["district_code"]: r for r in site["assessed"]["districts"]}
    d = c.get("/api/assessment", headers=h, params={"year": 2023}).json()
    assert d["assessment_id"] == site["assessed"]["assessment_id"] and d["years"] == [2023]
    got = {r["district_code"]: r for r in d["districts"]}
    assert set(got) == set(expected)
    keys = [i["key"] for i in d["indicators"]]
    assert "rate_progress" in keys and "case_closure" in keys
    for code, row in expected.items():
        assert got[code]["total"] == pytest.approx(row["total"]) and got[code]["grade"] == row["grade"]
        for k in keys:
            assert got[code][k] == (pytest.approx(row[k]) if row[k] is not None else None), (code, k)
    assert got["yubei"]["rate_progress"] is not None and got["wanzhou"]["rate_progress"] is None
    r = c.get("/api/assessment.csv", headers=h, params={"year": 2023})
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    text = r.content.decode("utf-8-sig")
    table = list(csv.DictReader(io.StringIO(text)))  # labelled for people: names, not codes; no reprs
    code_of = {d.name: d.code for d in load_reference().districts}
    assert {code_of[x["区县"]]: float(x["总分"]) for x in table} == pytest.approx(
        {k: v["total"] for k, v in expected.items()})
    wanzhou = next(x for x in table if x["区县"] == "万州区")
    assert wanzhou["行政区划代码"] == "500101" and wanzhou["水土保持率进展（30）"] == ""
    assert {x["等级"] for x in table} <= {"优秀", "良好", "合格", "不合格"}
    assert not re.search(r"\b[a-z]+_[a-z_]+\b|\{'|\[\[|\bNone\b", text), text[:300]
    en = list(csv.DictReader(io.StringIO(c.get("/api/assessment.csv", headers=h, params={"year": 2023, "lang": "en"})
                                         .content.decode("utf-8-sig"))))
    assert {x["District"] for x in en} >= {"Wanzhou", "Yubei"} and {x["Grade"] for x in en} <= {
        "Excellent", "Good", "Pass", "Fail"}


def test_progress_stations_and_warnings_reads(site):
    c, h, db = site["client"], site["h"], site["db"]
    p = c.get("/api/governance/progress", headers=h, params={"year": 2025}).json()
    assert p == governance.progress(db, year=2025)  # nothing recorded yet: the plan's types with zeros
    assert {k["key"] for k in p["by_kind"]} >= {"small_watershed"} and p["patches"] == 0
    s = c.get("/api/stations", headers=h).json()
    assert s == {"year": None, "stations": []}
    assert c.get("/api/warnings", headers=h).status_code == 404


@pytest.mark.parametrize("path,zh,en", [
    ("/projects", "生产建设项目", "Projects"), ("/runs", "监测运行", "Monitoring runs"),
    ("/assessment", "目标责任考核", "Assessment")])
def test_pages_render_in_chinese_and_english(db_url, path, zh, en):
    init(db_url, boundaries=False)
    auth.create_user(db_url, "look", "paper-mountain-2754", "viewer")
    client = TestClient(create_app(Settings(db=db_url)))
    anonymous = client.get(path, follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/login"
    client.post("/api/login", json={"username": "look", "password": "paper-mountain-2754"})  # sets the cookie
    r = client.get(path)
    assert r.status_code == 200 and f"<title>{zh} · 水保" in r.text and 'href="/projects" id="nav-projects"' in r.text
    assert "/static/pages.js" in r.text
    r = client.get(path, params={"lang": "en"})
    assert r.status_code == 200 and f"<title>{en} · Shuibao" in r.text and "Assessment</a>" in r.text


def test_record_pages_check_the_record_and_answer_404_in_the_pages_language(site):
    """A record page is rendered only for a stored record (the server asks the store); an unknown one is a real
    404 HTML page saying what was not found, with links to its list and the dashboard, and no CLI hint."""
    c, rid, case_no = site["client"], site["run"].run_id, site["case_p1"]
    known = [("/districts/渝北区", "区县概况 渝北区", "District overview 渝北区"),
             ("/projects/P1", "项目 P1", "Project P1"), (f"/cases/{case_no}", f"案件 {case_no}", f"Case {case_no}"),
             (f"/runs/{rid}", f"监测运行详情 #{rid}", f"Monitoring run #{rid}")]
    for path, zh, en in known:
        r = c.get(path, params={"lang": "zh"})
        assert r.status_code == 200 and f"<title>{zh} · 水保</title>" in r.text, path
        r = c.get(path, params={"lang": "en"})
        assert r.status_code == 200 and f"<title>{en} · Shuibao</title>" in r.text, path
    unknown = [("/districts/火星区", "没有名为“火星区”的区县。", "No district is named “火星区”.", None),
               ("/projects/NOPE", "没有编号为“NOPE”的生产建设项目。", "No project has the code “NOPE”.", "/projects"),
               ("/cases/NOPE-1", "没有编号为“NOPE-1”的案件。", "No case has the number “NOPE-1”.", "/cases"),
               ("/runs/999", "没有编号为“999”的监测运行。", "No monitoring run has the id “999”.", "/runs"),
               ("/runs/abc", "没有编号为“abc”的监测运行。", "No monitoring run has the id “abc”.", "/runs")]
    for path, zh, en, back in unknown:
        for lang, text, title in (("zh", zh, "<title>未找到 · 水保</title>"), ("en", en, "<title>Not found · Shuibao</title>")):
            r = c.get(path, params={"lang": lang})
            assert r.status_code == 404 and r.headers["content-type"].startswith("text/html"), (path, lang)
            assert text in r.text and title in r.text, (path, lang, r.text)
            assert 'href="/dashboard">' in r.text and "shuibao " not in r.text and "`" not in r.text, path
            if back:
                assert f'<li><a href="{back}">' in r.text, path
            assert "案件 NOPE" not in r.text and "step-form" not in r.text  # no empty record skeleton
    anonymous = TestClient(c.app)  # not logged in: the login page first, nothing said about the record
    r = anonymous.get("/projects/NOPE", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"


def test_unknown_urls_are_an_html_404_for_browsers_and_json_for_api_clients(site):
    c = site["client"]
    page = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    r = c.get("/nonexistent", headers=page, params={"lang": "zh"})
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "没有地址为 /nonexistent 的页面。" in r.text and "<title>未找到 · 水保</title>" in r.text
    assert '"detail"' not in r.text
    r = c.get("/nonexistent", headers=page, params={"lang": "en"})
    assert r.status_code == 404 and "There is no page at /nonexistent." in r.text
    r = TestClient(c.app).get("/nonexistent", headers=page, params={"lang": "en"})  # not logged in: no menu
    assert r.status_code == 404 and "There is no page at /nonexistent." in r.text and 'id="nav-' not in r.text
    r = TestClient(c.app).post("/dashboard", headers={**page, **site["h"]}, params={"lang": "en"})  # Bearer: no CSRF
    assert r.status_code == 405 and "This page does not answer POST requests." in r.text
    assert r.headers["content-type"].startswith("text/html") and "GET" in r.headers["allow"]
    for path in ("/api/nope", "/ogc/nope", "/tiles/nope"):  # the API's clients keep JSON, even from a browser
        r = c.get(path, headers=page, params={"lang": "en"})
        assert r.status_code == 404 and r.json() == {"detail": "Not Found"}, path
    r = c.get("/nonexistent", params={"lang": "en"})  # no text/html in Accept: JSON
    assert r.status_code == 404 and r.json() == {"detail": "Not Found"}


CHROMIUM = os.environ.get("SHUIBAO_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt install chromium; scripts/check.sh does)")
def test_the_pages_fill_in_a_browser(site):
    """Each page's script runs without an error and shows the records (a real browser)."""
    import threading
    import time

    import uvicorn
    from playwright.sync_api import expect, sync_playwright

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(create_app(Settings(db=site["db"])), host="127.0.0.1", port=port,
                                        log_level="error"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    while not srv.started:
        time.sleep(0.05)
    base, rid = f"http://127.0.0.1:{port}", site["run"].run_id
    row = _unit_row(site["db"], rid, "yubei")
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(base + "/login")
            page.fill("#username", "look")
            page.fill("#password", "paper-mountain-2754")
            page.click("#login-submit")
            expect(page).to_have_url(base + "/dashboard")
            page.click("#districts a.district >> text=渝北区")
            expect(page.locator("#district-rate")).to_have_text(f"{row['rate_pct']:.2f}%")
            expect(page.locator("#open-cases tbody tr")).to_have_count(1)
            page.goto(base + "/projects?district=yubei")
            expect(page.locator("#projects tbody tr")).to_have_count(2)
            page.click("#projects a >> text=P1")
            expect(page.locator("#events tbody tr")).to_have_count(len(projects.project_history(site["db"], "P1")))
            expect(page.locator("#findings tbody tr")).to_have_count(2)
            expect(page.locator(f"#cases a[href='/cases/{site['case_p1']}']")).to_have_count(1)
            page.goto(base + "/runs")
            page.click(f"#runs a[href='/runs/{rid}']")
            expect(page.locator("#files a.product >> text=rasters/grade.tif")).to_have_count(1)
            expect(page.locator("#units tbody tr")).to_have_count(len(c_units(site)))
            _check_run_records(page, site["db"], rid)
            page.goto(base + "/assessment")
            expect(page.locator("#assessment tbody tr")).to_have_count(len(site["assessed"]["districts"]))
            answer = page.goto(base + "/projects/NOPE")  # the server's 404 page, not an empty project page
            assert answer is not None and answer.status == 404
            expect(page.locator("#not-found-message")).to_contain_text("NOPE")
            expect(page.locator("#not-found-links a[href='/projects']")).to_have_count(1)
            browser.close()
        assert errors == []
    finally:
        srv.should_exit = True
        thread.join(5)


def _check_run_records(page, db: str, rid: int) -> None:
    """The run page shows its spec and provenance as labelled records: an input by its file name and the
    first 12 hex digits of the file's own SHA-256 (hashed here), the parameters with their units, the grid's CRS
    by the name pyproj gives it; never the server's folders."""
    import hashlib

    from pyproj import CRS
    from playwright.sync_api import expect

    from shuibao.services.reporting.overviews import run_detail

    detail = run_detail(db, str(rid))
    dem = Path(detail["spec"]["inputs"]["dem"])
    digest = hashlib.sha256(dem.read_bytes()).hexdigest()[:12]
    row = page.locator("#spec-inputs tbody tr", has_text="数字高程模型")
    expect(row).to_contain_text(dem.name)
    expect(row).to_contain_text(digest)
    tolerance = detail["spec"]["parameters"]["tolerance_t_km2"]
    expect(page.locator("#spec dl.record", has_text="容许土壤流失量（t/(km²·a)）")).to_contain_text(f"{tolerance:,.0f}")
    expect(page.locator("#provenance")).to_contain_text(CRS.from_wkt(detail["grid"]["crs"]).name)
    expect(page.locator("#steps > tbody > tr")).to_have_count(len(detail["provenance"]["steps"]))
    shown = page.locator("main").inner_text()
    assert str(dem.parent) not in shown and detail["spec"]["output"] not in shown
    assert "{" not in page.locator("#spec").inner_text() + page.locator("#provenance").inner_text()


def c_units(site) -> list[dict]:
    u = schema.monitoring_units
    with Store(site["db"]) as store, store.reading() as conn:
        return conn.execute(select(u.c.id).where(u.c.run_id == site["run"].run_id)).all()


def test_stations_and_a_days_warning_with_data(site):
    """Stations with a year of observations, and the warning of their wettest day, read back through /api with
    values counted by hand from the inputs."""
    from shuibao.services.stations import records as station_service
    from shuibao.services.stations.rain_warning import warn

    from tests.helpers import STATIONS, write_csv

    c, h, db, tmp = site["client"], site["h"], site["db"], site["tmp"]
    station_service.import_stations(db, write_csv(tmp / "s.csv", STATIONS), actor="t")
    rain = {"2023-07-01": "12.5", "2023-07-02": "130.0", "2023-07-03": "55.0", "2023-07-04": "0"}
    obs = [dict(station="S1", date=d, value=v) for d, v in rain.items()]
    station_service.import_observations(db, write_csv(tmp / "o.csv", obs), actor="t")
    s = c.get("/api/stations", headers=h).json()
    assert s["year"] == 2023
    by = {x["code"]: x for x in s["stations"]}
    assert (by["S1"]["lon"], by["S1"]["lat"]) == (106.40, 29.80)
    assert by["S1"]["summary"]["total"] == pytest.approx(197.5)  # 12.5 + 130 + 55 + 0
    assert by["S1"]["summary"]["days_ge_50"] == 2 and by["S2"]["summary"] is None
    stored = warn(db, rain_date=date(2023, 7, 2), actor="t")
    w = c.get("/api/warnings", headers=h, params={"date": "2023-07-02"}).json()
    assert w["warning"]["rain_date"] == "2023-07-02" and w["warning"]["id"] == stored.run_id
    assert w["footprints"] and all(f["threshold_mm"] <= 130.0 for f in w["footprints"])  # the day's most: 130 mm
    assert {f["level"] for f in w["footprints"]} == set(stored.footprints) and len(w["hits"]) == len(stored.hits)
    assert c.get("/api/warnings", headers=h, params={"date": "2023-07-03"}).status_code == 404
