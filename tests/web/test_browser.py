"""The UI in a real browser (Playwright driving Debian's Chromium), on both backends: log in, read the city's
rate, open the map, click a district and read its rate, open a suspect patch, open a case from it, close it,
and find the closure in the audit log.  Screenshots go to artifacts/screenshots/ (kept by CI)."""

from __future__ import annotations

import os
import shutil
from datetime import date
from pathlib import Path

import pytest

from shuibao.services.platform import auth
from shuibao.services.supervision import compliance, patches, projects
from shuibao.services.monitoring.runs import get_run

from .live import live_server

pytestmark = pytest.mark.browser
CHROMIUM = os.environ.get("SHUIBAO_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory):
    """The demo's two synthetic runs at 2 km (embedded store), copied per backend below."""
    from shuibao.demo.run import run_demo

    out = tmp_path_factory.mktemp("browser-demo")
    run_demo(out, resolution_m=2000, with_supervision=False)
    return out


@pytest.fixture
def site(db_url, demo_store, tmp_path):
    from shuibao.demo.run import run_demo

    if "://" in db_url:  # PostGIS: run the same demo into it
        run_demo(demo_store, resolution_m=2000, db=db_url, with_supervision=False)
        db = db_url
    else:
        db = str(tmp_path / "ui.gpkg")
        shutil.copy(demo_store / "shuibao.gpkg", db)
    auth.create_user(db, "yubei", "yellow-kettle-5823", "district_officer", district="渝北区")
    # one unapproved patch in 渝北区, 15 km from anything approved
    from shapely.geometry import box

    from shuibao.store import Store
    from shuibao.store.reference_loader import read_boundaries

    from tests.helpers import patch_row, project_row, write_layer

    with Store(db) as store, store.reading() as conn:
        yubei = next(b["geom"] for b in read_boundaries(conn) if b["district_code"] == "yubei")
    p = yubei.representative_point()
    projects.import_projects(db, write_layer(tmp_path / "p.gpkg", [project_row("P1", district="渝北区")],
                                             [box(p.x + 0.15, p.y, p.x + 0.16, p.y + 0.01)], crs="EPSG:4490"))
    patches.import_patches(db, write_layer(tmp_path / "t.gpkg", [patch_row("U-1")],
                                           [box(p.x, p.y, p.x + 0.004, p.y + 0.004)], crs="EPSG:4490"))
    compliance.run_compliance(db)
    return db, p


def _grade_at(run: dict, lon: float, lat: float) -> int:
    """The run's SL 190 grade under a point, read from its raster (independently of the tile server)."""
    import rasterio
    from pyproj import Transformer

    with rasterio.open(Path(run["info"].output_dir) / "rasters" / "grade.tif") as src:
        x, y = Transformer.from_crs("EPSG:4326", src.crs, always_xy=True).transform(lon, lat)
        row, col = src.index(x, y)
        return int(src.read(1)[row, col])


@pytest.fixture
def server(site):
    with live_server(site[0]) as url:
        yield url


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt install chromium; scripts/check.sh does)")
def test_login_map_district_patch_case_audit(server, site, request):
    from playwright.sync_api import expect, sync_playwright

    db, point = site
    tag = request.node.callspec.id
    SHOTS.mkdir(parents=True, exist_ok=True)
    run = get_run(db, "latest")
    city = next(u for u in run["units"] if u["level"] == "city")
    yubei = next(u for u in run["units"] if u["level"] == "district" and u["code"] == "yubei")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(server + "/map")
        expect(page).to_have_url(server + "/login")  # not logged in: sent to the login page
        page.fill("#username", "yubei")
        page.fill("#password", "yellow-kettle-5823")
        page.click("#login-submit")
        expect(page.locator("#city-rate")).to_have_text(f"{city['rate_pct']:.2f}%")
        page.screenshot(path=str(SHOTS / f"dashboard-{tag}.png"))
        page.click("#nav-map")
        page.wait_for_function("() => document.body.dataset.mapReady === '1'", timeout=30_000)
        # a district: centre the map on a point inside 渝北区 and click it
        page.evaluate(f"window.shuibaoMap.setView([{point.y + 0.03}, {point.x + 0.06}], 10, {{animate: false}})")
        box = page.locator("#map").bounding_box()
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        popup = page.locator(".popup.district")
        expect(popup).to_have_attribute("data-code", "yubei")
        expect(popup.locator(".rate")).to_have_text(f"{yubei['rate_pct']:.2f}%")
        page.screenshot(path=str(SHOTS / f"map-district-{tag}.png"))
        # the erosion-grade tiles: switch them on, click the same place, read the grade under the click
        page.evaluate("window.shuibaoMap.closePopup()")
        page.get_by_label("土壤侵蚀强度").check()
        expect(page.locator(".leaflet-tile-loaded").first).to_be_visible(timeout=30_000)
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        grade = page.locator(".popup.district .grade")
        expect(grade).to_be_visible(timeout=30_000)
        lon, lat = float(grade.get_attribute("data-lon")), float(grade.get_attribute("data-lat"))
        assert int(grade.get_attribute("data-grade")) == _grade_at(run, lon, lat)
        page.screenshot(path=str(SHOTS / f"map-grade-{tag}.png"))
        page.get_by_label("土壤侵蚀强度").uncheck()
        # the suspect patch: zoom onto it and click it
        page.evaluate(f"window.shuibaoMap.closePopup(); "
                      f"window.shuibaoMap.setView([{point.y + 0.002}, {point.x + 0.002}], 16, {{animate: false}})")
        page.wait_for_function("() => document.body.dataset.patchesBusy === '0'", timeout=30_000)  # the view's patches
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        patch = page.locator(".popup.patch")
        expect(patch).to_have_attribute("data-code", "U-1")
        expect(patch.locator(".category")).to_have_text("疑似未批先建")
        page.screenshot(path=str(SHOTS / f"map-patch-{tag}.png"))
        patch.locator(".open-case").click()
        page.wait_for_url(server + "/cases/*")
        case_no = page.inner_text("#case-no")
        expect(page.locator("#case-state")).to_have_text("待核查")
        today = date.today().isoformat()
        page.select_option("#step", "verify")
        page.select_option("#outcome", "not_confirmed")
        page.fill("#on", today)
        page.fill("#note", "现场核查：农户自建，不属实")
        page.click("#step-submit")
        expect(page.locator("#case-state")).to_have_text("核查不属实")
        page.select_option("#step", "close")
        page.fill("#on", today)
        page.click("#step-submit")
        expect(page.locator("#case-state")).to_have_text("已销号")
        page.screenshot(path=str(SHOTS / f"case-{tag}.png"))
        page.click("#nav-audit")
        row = page.locator("#audit tbody tr", has_text=case_no).filter(has_text="销号").first  # case.close
        expect(row).to_contain_text(case_no)
        expect(row).to_contain_text("yubei")
        page.screenshot(path=str(SHOTS / f"audit-{tag}.png"))
        page.goto(server + "/dashboard?lang=en")
        expect(page.locator("#nav-map")).to_have_text("Map")
        browser.close()
