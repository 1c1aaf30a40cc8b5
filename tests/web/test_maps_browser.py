"""The maps in a real browser (Playwright driving Debian's Chromium) over the demo's records: on /map the scale
bar, the coordinate readout following the pointer, district labels that do not overlap, a legend entry for every
layer and class shown, the search zooming to a district and to a project; the small maps of the district,
project and case pages drawing their features; on a phone, the legend and layer switch folded, the search box,
scale bar and readout clear of each other, a tap read, the city fitted to what the controls leave.  No script
error on any of them."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
import shapely
from sqlalchemy import select

from shuibao import vocabulary
from shuibao.plan.map_classes import RATE_CLASSES
from shuibao.services.platform import auth
from shuibao.store import Store, schema

from .live import live_server

pytestmark = pytest.mark.browser
CHROMIUM = os.environ.get("SHUIBAO_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
USER, PASSWORD = "map-viewer", "copper-lantern-5190"
CHONGQING = (105.2, 28.1, 110.2, 32.3)  # lon/lat box around the city
SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


@pytest.fixture
def map_site(demo, tmp_path):
    db = str(tmp_path / "maps.gpkg")
    shutil.copy(demo, db)
    auth.create_user(db, USER, PASSWORD, "viewer")
    return db


def _rows(db, query):
    with Store(db) as store, store.reading() as conn:
        return conn.execute(query).all()


def _expected(message) -> bool:
    """A console error that is the platform's design: a grade tile off the run's raster is 404 (docs/web.md)."""
    url = (message.location or {}).get("url", "")
    return message.text.startswith("Failed to load resource") and ("/tiles/tiles/" in url or "favicon" in url)


def _overlap(a: dict, b: dict) -> bool:
    return a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"] and \
        a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"]


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt install chromium; scripts/check.sh does)")
def test_map_tools_legend_search_and_small_maps(map_site):
    from playwright.sync_api import expect, sync_playwright

    db = map_site
    p, f, a = schema.projects, schema.compliance_findings, schema.responsibility_areas
    project = _rows(db, select(p.c.id, p.c.code).join(f, f.c.project_id == p.c.id).order_by(p.c.id).limit(1))[0]
    area = shapely.union_all([r.geom for r in _rows(db, select(a.c.geom).where(
        (a.c.project_id == project.id) & a.c.superseded_at.is_(None)))])
    yubei = _rows(db, select(schema.district_boundaries.c.geom)
                  .where(schema.district_boundaries.c.district_code == "yubei"))[0].geom
    n_districts = len(_rows(db, select(schema.district_boundaries.c.fid)))
    c = schema.cases
    case = _rows(db, select(c.c.case_no).where(c.c.patch_fid.is_not(None)).order_by(c.c.id).limit(1))[0].case_no
    errors: list[str] = []
    with live_server(db) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("pageerror", lambda e: errors.append(f"{page.url}: {e}"))
        page.on("console", lambda m: m.type == "error" and not _expected(m) and errors.append(f"{page.url}: {m.text}"))
        page.goto(base + "/login")
        page.fill("#username", USER)
        page.fill("#password", PASSWORD)
        page.click("#login-submit")
        page.wait_for_url(base + "/dashboard")
        page.goto(base + "/map")
        page.wait_for_function("() => document.body.dataset.mapReady === '1'", timeout=30_000)

        # on a desk the legend and the layer switch are open
        expect(page.locator("#legend-toggle")).to_have_attribute("aria-expanded", "true")
        expect(page.locator('#legend .legend-layer[data-layer="districts"]')).to_be_visible()
        expect(page.locator(".leaflet-control-layers-list").first).to_be_visible()
        # the scale bar, metric
        expect(page.locator(".leaflet-control-scale-line")).to_have_text(re.compile(r"^\d+ (km|m)$"))
        # the readout follows the pointer: two places, two readings, both in the city's box, 5 decimals
        box = page.locator("#map").bounding_box()
        readings = []
        for fx, fy in ((0.45, 0.5), (0.6, 0.35)):
            page.mouse.move(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)
            text = page.inner_text("#coords")
            m = re.fullmatch(r"CGCS2000 经度 (\d+\.\d{5})° 纬度 (\d+\.\d{5})°", text)
            assert m, text
            lon, lat = float(m.group(1)), float(m.group(2))
            assert CHONGQING[0] < lon < CHONGQING[2] and CHONGQING[1] < lat < CHONGQING[3]
            readings.append((lon, lat))
        assert readings[1][0] > readings[0][0] and readings[1][1] > readings[0][1]  # right and up

        # district labels: the names of districts, several shown at the city's zoom, none over another
        labels = page.locator(".district-label span:visible")
        shown = labels.count()
        assert 8 <= shown <= n_districts
        names = {vocabulary.label("district", code) for code in vocabulary.labels("district")}
        boxes = []
        for i in range(shown):
            assert labels.nth(i).inner_text() in names
            boxes.append(labels.nth(i).bounding_box())
        assert not any(_overlap(boxes[i], boxes[j]) for i in range(shown) for j in range(i))

        # the legend: every layer switched on has its section, with each of its classes
        for name in ("土壤侵蚀强度", "生产建设项目", "治理图斑", "监测站点"):
            page.get_by_label(name, exact=True).check()
        legend = page.locator("#legend")
        for layer in ("districts", "grade", "patches", "projects", "treatment", "stations"):
            expect(legend.locator(f'.legend-layer[data-layer="{layer}"] .legend-entry').first).to_be_visible()
        districts = legend.locator('.legend-layer[data-layer="districts"] .legend-entry')
        expect(districts).to_have_count(len(RATE_CLASSES.classes) + 1)  # the classes and "no data"
        patches = legend.locator('.legend-layer[data-layer="patches"]')
        for category in ("compliant", "out_of_bounds", "unapproved", "relocated", "not_project"):
            expect(patches).to_contain_text(vocabulary.label("compliance", category))
        stations = legend.locator('.legend-layer[data-layer="stations"]')
        for kind in ("comprehensive", "runoff_plot", "rain_gauge", "hydrological"):
            expect(stations).to_contain_text(vocabulary.label("station_kind", kind))
        expect(legend.locator('.legend-layer[data-layer="grade"] .legend-entry')).to_have_count(6)
        for name in vocabulary.labels("erosion_grade").values():  # 微度 … 剧烈
            expect(legend.locator('.legend-layer[data-layer="grade"]')).to_contain_text(name)
        for name in ("土壤侵蚀强度", "生产建设项目", "治理图斑", "监测站点"):
            page.get_by_label(name, exact=True).uncheck()
        expect(legend.locator('.legend-layer[data-layer="stations"]')).to_have_count(0)  # off: out of the legend

        # search: a district by name, then a project by code; each zooms the map onto it
        zoom0 = page.evaluate("window.shuibaoMap.getZoom()")
        page.fill("#map-search", "渝北")
        expect(page.locator("#search-results button").first).to_contain_text("渝北区")
        page.locator("#search-results button").first.click()
        page.wait_for_function("() => document.body.dataset.searchHit === 'district:yubei'", timeout=15_000)
        view = page.evaluate("(() => { const b = window.shuibaoMap.getBounds(); return [b.getWest(), b.getSouth(), "
                             "b.getEast(), b.getNorth(), window.shuibaoMap.getZoom()]; })()")
        assert view[4] > zoom0
        assert shapely.box(*view[:4]).contains(yubei.representative_point())
        assert shapely.box(*view[:4]).buffer(1e-3).contains(shapely.box(*yubei.bounds))  # all of it in view
        expect(page.locator("#search-picked a")).to_have_attribute("href", "/districts/yubei")
        page.fill("#map-search", project.code)
        expect(page.locator("#search-results button").first).to_contain_text(project.code)
        page.press("#map-search", "ArrowDown")  # the keyboard reaches the hits
        expect(page.locator("#search-results button").first).to_be_focused()
        page.press("#search-results button >> nth=0", "Escape")
        expect(page.locator("#search-results")).to_be_hidden()
        page.press("#map-search", "Enter")
        page.wait_for_function(f"() => document.body.dataset.searchHit === 'project:{project.code}'", timeout=15_000)
        view = page.evaluate("(() => { const b = window.shuibaoMap.getBounds(); return [b.getWest(), b.getSouth(), "
                             "b.getEast(), b.getNorth()]; })()")
        assert shapely.box(*view).contains(shapely.box(*area.bounds))
        expect(legend.locator('.legend-layer[data-layer="search"]')).to_contain_text(project.code)

        # the small maps
        for url, at_least in (("/districts/yubei", n_districts), (f"/projects/{project.code}", 2),
                              (f"/cases/{case}", 1)):
            page.goto(base + url)
            page.wait_for_function("() => document.getElementById('minimap').dataset.ready === '1'", timeout=15_000)
            drawn = int(page.get_attribute("#minimap", "data-features"))
            assert drawn >= at_least, url
            assert page.locator("#minimap path.leaflet-interactive").count() >= min(drawn, at_least), url
            expect(page.locator("#minimap .leaflet-control-scale-line")).to_be_visible()
            expect(page.locator("#minimap .minimap-legend .legend-entry").first).to_be_visible()
        expect(page.locator("#minimap .minimap-legend")).to_contain_text("图斑：")  # the case's patch, by category
        browser.close()
    assert errors == []


def _login(page, base):
    page.goto(base + "/login")
    page.fill("#username", USER)
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url(base + "/dashboard")


def _inside(point, box: dict) -> bool:
    return box["x"] <= point[0] <= box["x"] + box["width"] and box["y"] <= point[1] <= box["y"] + box["height"]


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt install chromium; scripts/check.sh does)")
def test_the_map_on_a_phone(map_site):
    """390×844 with a touch screen: what a reviewer found covered, cut or dead on a phone."""
    from playwright.sync_api import expect, sync_playwright

    db = map_site
    city = shapely.union_all([r.geom for r in _rows(db, select(schema.district_boundaries.c.geom))]).bounds
    c = schema.cases
    case = _rows(db, select(c.c.case_no).where(c.c.patch_fid.is_not(None)).order_by(c.c.id).limit(1))[0].case_no
    errors: list[str] = []
    with live_server(db) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
        page = context.new_page()
        page.on("pageerror", lambda e: errors.append(f"{page.url}: {e}"))
        page.on("console", lambda m: m.type == "error" and not _expected(m) and errors.append(f"{page.url}: {m.text}"))
        _login(page, base)
        page.goto(base + "/map")
        page.wait_for_function("() => document.body.dataset.mapReady === '1'", timeout=30_000)
        frame = page.locator("#map").bounding_box()

        # the legend: folded to its button at first, a tap opens it, another folds it
        toggle = page.locator("#legend-toggle")
        expect(toggle).to_have_attribute("aria-expanded", "false")
        expect(toggle).to_have_text(re.compile("图例"))
        expect(page.locator("#legend-body")).to_be_hidden()
        folded = page.locator("#legend").bounding_box()
        assert folded["width"] * folded["height"] < 0.05 * frame["width"] * frame["height"]
        toggle.tap()
        expect(toggle).to_have_attribute("aria-expanded", "true")
        expect(page.locator('#legend .legend-layer[data-layer="districts"] .legend-entry').first).to_be_visible()
        expect(page.locator('#legend .legend-layer[data-layer="patches"]')).to_contain_text("未经合规性分析")
        toggle.tap()
        expect(page.locator("#legend-body")).to_be_hidden()

        # the layer switch folded to its button; the search box the map's width, its placeholder whole, uncovered
        expect(page.locator(".leaflet-control-layers-list").first).to_be_hidden()
        expect(page.locator("a.leaflet-control-layers-toggle")).to_be_visible()
        search = page.locator("#map-search")
        box = search.bounding_box()
        assert frame["x"] <= box["x"] and box["x"] + box["width"] <= frame["x"] + frame["width"]
        assert box["width"] >= 0.8 * frame["width"]
        for fx in (0.5, 0.02, 0.98):  # the centre and both ends: the input itself is on top
            at = (box["x"] + box["width"] * fx, box["y"] + box["height"] / 2)
            assert page.evaluate("([x, y]) => document.elementFromPoint(x, y) === document.getElementById('map-search')",
                                 list(at)), at
        assert page.evaluate("""() => { const el = document.getElementById('map-search'), s = getComputedStyle(el);
            const ctx = document.createElement('canvas').getContext('2d'); ctx.font = s.font;
            return ctx.measureText(el.placeholder).width <=
                   el.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight); }""")

        # the scale bar and the readout side by side or stacked, never one over the other
        scale = page.locator(".leaflet-control-scale").bounding_box()
        coords = page.locator("#coords").bounding_box()
        assert not _overlap(scale, coords), (scale, coords)
        assert not _overlap(page.locator("#legend").bounding_box(), coords)
        assert not _overlap(page.locator("#legend").bounding_box(), scale)

        # the whole city in the part of the map the controls leave, and not a speck in it
        controls = page.evaluate("""() => [...document.querySelectorAll('#map .leaflet-control')]
            .map(el => { const r = el.getBoundingClientRect(), top = !!el.closest('.leaflet-top');
                         return {top, y0: r.top, y1: r.bottom, h: r.height}; }).filter(c => c.h > 0)""")
        free_top = max(c["y1"] for c in controls if c["top"])
        free_bottom = min(c["y0"] for c in controls if not c["top"])
        corners = page.evaluate("""([w, s, e, n]) => [[n, w], [s, e]].map(ll => {
            const p = window.shuibaoMap.latLngToContainerPoint(ll), r = document.getElementById('map').getBoundingClientRect();
            return [p.x + r.left, p.y + r.top]; })""", list(city))
        (x0, y0), (x1, y1) = corners
        assert frame["x"] <= x0 and x1 <= frame["x"] + frame["width"], (corners, frame)
        assert free_top <= y0 and y1 <= free_bottom, (corners, free_top, free_bottom)
        assert x1 - x0 >= 0.6 * frame["width"] or y1 - y0 >= 0.6 * (free_bottom - free_top)

        # a tap shows the tapped point's coordinates (no pointer hovers on a touch screen): before one, a hint
        expect(page.locator("#coords")).to_have_text("点按地图显示坐标")
        readings = []
        for fx, fy in ((0.35, 0.45), (0.65, 0.6)):
            at = (frame["x"] + frame["width"] * fx, frame["y"] + frame["height"] * fy)
            want = page.evaluate("""([x, y]) => { const r = document.getElementById('map').getBoundingClientRect();
                const ll = window.shuibaoMap.containerPointToLatLng([x - r.left, y - r.top]); return [ll.lng, ll.lat]; }""",
                                 list(at))
            page.evaluate("window.shuibaoMap.closePopup()")
            before = page.inner_text("#coords")
            page.touchscreen.tap(*at)
            expect(page.locator("#coords")).not_to_have_text(before)
            expect(page.locator("#coords")).to_have_text(re.compile(r"CGCS2000 经度 \d+\.\d{5}° 纬度 \d+\.\d{5}°"))
            m = re.fullmatch(r"CGCS2000 经度 (\d+\.\d{5})° 纬度 (\d+\.\d{5})°", page.inner_text("#coords"))
            lon, lat = float(m.group(1)), float(m.group(2))
            assert abs(lon - want[0]) < 0.05 and abs(lat - want[1]) < 0.05, ((lon, lat), want)
            readings.append((lon, lat))
        assert readings[1][0] > readings[0][0] and readings[1][1] < readings[0][1]  # right and down
        shown = page.inner_text("#coords")
        page.locator("#legend-toggle").tap()  # a tap on a control is no tap on the map: the reading stays
        page.locator("#legend-toggle").tap()
        page.locator("header strong").first.tap()  # nor one beside the map
        expect(page.locator("#coords")).to_have_text(shown)
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "map-phone.png"))

        # in English: the legend's words capitalised as their neighbours, a small map's "Patch: …"
        page.goto(base + "/map?lang=en")
        page.wait_for_function("() => document.body.dataset.mapReady === '1'", timeout=30_000)
        expect(page.locator("#legend-toggle")).to_have_text(re.compile("Legend"))
        page.locator("#legend-toggle").tap()
        expect(page.locator('#legend .legend-layer[data-layer="patches"]')).to_contain_text("Not analysed")
        page.goto(base + f"/cases/{case}?lang=en")
        page.wait_for_function("() => document.getElementById('minimap').dataset.ready === '1'", timeout=15_000)
        legend = page.locator("#minimap .minimap-legend")
        expect(legend).to_contain_text("Patch: ")
        assert "：" not in legend.inner_text() and " :" not in legend.inner_text()
        small = page.locator("#minimap .leaflet-control-scale").bounding_box()
        assert not _overlap(small, page.locator("#minimap #coords").bounding_box())
        browser.close()
    assert errors == []


@pytest.fixture
def tile_server():
    """A stand-in for the bureau's tile server on another origin (another port): one grey PNG for any tile, and
    the paths it was asked for."""
    import io
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (256, 256), (200, 200, 200)).save(buf, "PNG")
    png, asked = buf.getvalue(), []

    class Tiles(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            asked.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(png)))
            self.end_headers()
            self.wfile.write(png)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Tiles)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", asked
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt install chromium; scripts/check.sh does)")
def test_a_configured_base_map_is_drawn_from_its_own_server_under_the_csp(map_site, tile_server):
    from playwright.sync_api import expect, sync_playwright

    origin, asked = tile_server
    errors: list[str] = []
    with live_server(map_site, basemap_url=origin + "/base/{z}/{x}/{y}.png", basemap_attribution="测试底图") as base, \
            sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: m.type == "error" and not _expected(m) and errors.append(m.text))
        page.goto(base + "/login")
        page.fill("#username", USER)
        page.fill("#password", PASSWORD)
        page.click("#login-submit")
        page.wait_for_url(base + "/dashboard")
        page.goto(base + "/map")
        page.wait_for_function("() => document.body.dataset.mapReady === '1'", timeout=30_000)
        tiles = page.locator(f'img.leaflet-tile-loaded[src^="{origin}/base/"]')
        expect(tiles.first).to_be_visible(timeout=15_000)  # loaded: the CSP let the image through
        assert any(re.fullmatch(r"/base/\d+/\d+/\d+\.png", p) for p in asked)
        expect(page.locator(".leaflet-control-attribution")).to_contain_text("测试底图")
        page.get_by_label("底图", exact=True).uncheck()
        expect(page.locator(f'img[src^="{origin}/base/"]')).to_have_count(0)
        page.goto(base + "/districts/yubei")
        page.wait_for_function("() => document.getElementById('minimap').dataset.ready === '1'", timeout=15_000)
        expect(page.locator(f'#minimap img.leaflet-tile-loaded[src^="{origin}/base/"]').first).to_be_visible()
        browser.close()
    assert errors == []
