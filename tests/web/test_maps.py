"""Maps with context: the configurable base map and the Content-Security-Policy that admits exactly its tile hosts;
the map search (GET /api/search) over the demo's districts, projects, cases and patches, who finds what; the
GeoJSON of the project and case pages' small maps.  Expected values are read from the store's own rows."""

from __future__ import annotations

import json
import re
import shutil

import pytest
import shapely
from fastapi.testclient import TestClient
from sqlalchemy import select

from shuibao.errors import ShuibaoError
from shuibao.services.platform import auth
from shuibao.services.platform.database import init
from shuibao.store import Store, schema
from shuibao.web import Settings, create_app

from tests.helpers import bearer as login

ADMIN, ADMIN_PW = "map-admin", "silver-compass-7301"
OFFICER, OFFICER_PW = "map-yubei", "amber-meadow-4418"


def _csp(response) -> dict[str, str]:
    return {d.split(" ", 1)[0]: d.split(" ", 1)[1] if " " in d else ""
            for d in (x.strip() for x in response.headers["content-security-policy"].split(";")) if d}


def _map_page(tmp_path, **settings) -> tuple[str, dict]:
    db = str(tmp_path / "basemap.gpkg")
    init(db, boundaries=False)
    auth.create_user(db, ADMIN, ADMIN_PW, "city_admin")
    client = TestClient(create_app(Settings(db=db, preload=False, **settings)))
    assert client.post("/api/login", json={"username": ADMIN, "password": ADMIN_PW}).status_code == 200
    r = client.get("/map")
    assert r.status_code == 200
    return r.text, _csp(r)


def _basemap(html: str):
    """The base map the page's script is given (``const BASEMAP = …;``)."""
    return json.loads(re.search(r"const BASEMAP = (.*?);  //", html).group(1))


def test_without_a_base_map_the_page_has_none_and_images_come_from_this_origin_only(tmp_path):
    html, csp = _map_page(tmp_path)
    assert _basemap(html) is None
    assert csp["img-src"] == "'self' data: blob:"
    assert "tianditu" not in html


def test_the_bureaus_tile_server_is_on_the_page_and_the_only_host_the_csp_adds(tmp_path):
    url = "https://tiles.swc.cq.gov.cn:8443/basemap/{z}/{x}/{y}.png"
    html, csp = _map_page(tmp_path, basemap_url=url, basemap_attribution="重庆市水利局底图")
    assert _basemap(html)["layers"] == [{"url": url, "subdomains": [], "attribution": "重庆市水利局底图",
                                         "referrerPolicy": None}]
    assert csp["img-src"] == "'self' data: blob: https://tiles.swc.cq.gov.cn:8443"
    assert csp["connect-src"] == "'self'" and csp["script-src"].startswith("'self' 'nonce-")  # nothing else widened


def test_tianditu_with_a_key_brings_its_layer_and_annotation_and_its_eight_hosts(tmp_path):
    html, csp = _map_page(tmp_path, tianditu_key="0123456789abcdef0123456789abcdef", tianditu_layer="img")
    urls = [t["url"] for t in _basemap(html)["layers"]]
    assert len(urls) == 2
    assert "/img_w/wmts?" in urls[0] and "LAYER=img" in urls[0] and "/cia_w/wmts?" in urls[1]
    assert all("tk=0123456789abcdef0123456789abcdef" in u and "TILEMATRIXSET=w" in u for u in urls)
    assert csp["img-src"] == "'self' data: blob: " + " ".join(f"https://t{i}.tianditu.gov.cn" for i in range(8))


def test_bad_base_map_settings_are_named():
    with pytest.raises(ShuibaoError) as e:
        Settings.from_env({"SHUIBAO_BASEMAP_URL": "ftp://tiles/{z}/{x}/{y}.png", "SHUIBAO_TIANDITU_LAYER": "ter",
                           "SHUIBAO_TIANDITU_KEY": "key with spaces"})
    text = str(e.value)
    assert "SHUIBAO_BASEMAP_URL" in text and "http(s)" in text
    assert "SHUIBAO_TIANDITU_LAYER" in text and "vec, img" in text
    assert "SHUIBAO_TIANDITU_KEY" in text
    with pytest.raises(ShuibaoError, match=r"\{z\}, \{x\} and \{y\}"):
        Settings.from_env({"SHUIBAO_BASEMAP_URL": "https://tiles/{z}/{x}.png"})
    s = Settings.from_env({"SHUIBAO_BASEMAP_URL": "http://{s}.tiles.lan/{z}/{x}/{y}.png",
                           "SHUIBAO_BASEMAP_SUBDOMAINS": "a,b"})
    assert s.basemap().origins == ("http://a.tiles.lan", "http://b.tiles.lan")


# ------------------------------------------------------------------------------------------------ the search
@pytest.fixture(scope="module")
def searched(demo, tmp_path_factory):
    """A copy of the demo's database with a city administrator, a district officer of 渝北区 and two API keys."""
    db = str(tmp_path_factory.mktemp("search") / "search.gpkg")
    shutil.copy(demo, db)
    auth.create_user(db, ADMIN, ADMIN_PW, "city_admin")
    auth.create_user(db, OFFICER, OFFICER_PW, "district_officer", district="渝北区")
    geography = auth.issue_api_key(db, "规划局", collections=["districts"])
    patches_key = auth.issue_api_key(db, "林业局", collections=["patches", "projects"])
    client = TestClient(create_app(Settings(db=db, preload=False)))
    return db, client, login(client, ADMIN, ADMIN_PW), login(client, OFFICER, OFFICER_PW), geography, patches_key


def _rows(db: str, query):
    with Store(db) as store, store.reading() as conn:
        return conn.execute(query).all()


def _bounds(geoms) -> list[float]:
    return [round(v, 6) for v in shapely.union_all(list(geoms)).bounds]


def _near(a, b, tol=2e-6) -> bool:
    return a is not None and all(abs(x - y) <= tol for x, y in zip(a, b))


def test_a_district_is_found_by_its_chinese_name_pinyin_english_name_and_adcode(searched):
    db, client, admin, *_ = searched
    b = schema.district_boundaries
    geom = _rows(db, select(b.c.geom).where(b.c.district_code == "yubei"))[0].geom
    for q in ("渝北区", "渝北", "yubei", "Yubei", "500112"):
        hits = client.get("/api/search", params={"q": q}, headers=admin).json()
        first = hits[0]
        assert (first["kind"], first["id"], first["label"]) == ("district", "yubei", "渝北区"), q
        assert _near(first["bbox"], _bounds([geom])) and first["url"] == "/districts/yubei"
        assert first["collection"] == "districts"
    english = client.get("/api/search", params={"q": "yubei", "lang": "en"}, headers=admin).json()[0]
    assert english["label"] == "Yubei"


def test_a_project_is_found_by_code_and_name_with_the_box_of_its_current_areas(searched):
    db, client, admin, *_ = searched
    p, a = schema.projects, schema.responsibility_areas
    row = _rows(db, select(p.c.id, p.c.code, p.c.name).order_by(p.c.id.desc()).limit(1))[0]
    areas = _rows(db, select(a.c.geom).where((a.c.project_id == row.id) & a.c.superseded_at.is_(None)))
    for q in (row.code, row.code.lower(), row.name):
        hit = next(h for h in client.get("/api/search", params={"q": q}, headers=admin).json() if h["kind"] == "project")
        assert hit["id"] == row.code and row.name in hit["label"], q
        assert _near(hit["bbox"], _bounds(r.geom for r in areas))
    exact = client.get("/api/search", params={"q": row.code}, headers=admin).json()[0]
    assert exact["id"] == row.code  # the exact match comes first


def test_a_case_is_found_by_number_and_title_with_the_box_of_its_patch(searched):
    db, client, admin, *_ = searched
    c, d = schema.cases, schema.disturbance_patches
    case = _rows(db, select(c.c.case_no, c.c.title, c.c.patch_fid).where(c.c.patch_fid.is_not(None))
                 .order_by(c.c.id).limit(1))[0]
    patch = _rows(db, select(d.c.geom).where(d.c.fid == case.patch_fid))[0]
    hit = client.get("/api/search", params={"q": case.case_no}, headers=admin).json()[0]
    assert (hit["kind"], hit["id"], hit["url"]) == ("case", case.case_no, f"/cases/{case.case_no}")
    assert _near(hit["bbox"], _bounds([patch.geom])) and (hit["collection"], hit["fid"]) == ("patches", case.patch_fid)
    by_title = client.get("/api/search", params={"q": case.title, "limit": 50}, headers=admin).json()
    assert case.case_no in [h["id"] for h in by_title if h["kind"] == "case"]


def test_a_patch_code_finds_the_patch_in_each_period(searched):
    db, client, admin, *_ = searched
    d = schema.disturbance_patches
    code = _rows(db, select(d.c.patch_code).order_by(d.c.fid.desc()).limit(1))[0].patch_code
    rows = _rows(db, select(d.c.fid, d.c.period, d.c.geom).where(d.c.patch_code == code))
    hits = [h for h in client.get("/api/search", params={"q": code}, headers=admin).json() if h["kind"] == "patch"
            and h["id"] == code]
    assert sorted(h["fid"] for h in hits) == sorted(r.fid for r in rows)
    for h in hits:
        r = next(r for r in rows if r.fid == h["fid"])
        assert r.period in h["detail"] and _near(h["bbox"], _bounds([r.geom]))


def test_a_district_officer_finds_the_whole_city_with_their_own_district_first(searched):
    db, client, admin, officer, *_ = searched
    mine = client.get("/api/search", params={"q": "区", "limit": 50}, headers=officer).json()
    city = client.get("/api/search", params={"q": "区", "limit": 50}, headers=admin).json()
    assert mine[0]["district_code"] == "yubei" and city[0]["district_code"] != "yubei"
    assert sorted(h["id"] for h in mine) == sorted(h["id"] for h in city)  # reads are not limited by district
    only = client.get("/api/search", params={"q": "SYN", "district": "渝北区", "limit": 50}, headers=admin).json()
    assert only and all(h["district_code"] == "yubei" or h["kind"] == "project" for h in only)


def test_an_api_key_finds_only_its_collections_and_never_cases(searched):
    db, client, admin, officer, geography, patches_key = searched
    c = schema.cases
    case_no = _rows(db, select(c.c.case_no).limit(1))[0].case_no
    assert [h["kind"] for h in client.get("/api/search", params={"q": "渝北"}, headers={"X-API-Key": geography}).json()] \
        == ["district"]
    assert client.get("/api/search", params={"q": case_no}, headers={"X-API-Key": geography}).json() == []
    kinds = {h["kind"] for h in client.get("/api/search", params={"q": "SYN", "limit": 50},
                                           headers={"X-API-Key": patches_key}).json()}
    assert kinds and kinds <= {"project", "patch"}
    assert client.get("/api/search", params={"q": "渝北"}, headers={"X-API-Key": patches_key}).json() == []
    assert client.get("/api/search", params={"q": case_no}, headers=admin).json()[0]["kind"] == "case"


def test_bad_searches_are_422_and_anonymous_ones_401(searched):
    db, client, admin, *_ = searched
    assert TestClient(client.app).get("/api/search", params={"q": "渝北"}).status_code == 401  # no cookie
    for params in ({"q": ""}, {"q": "x" * 101}, {"q": "渝北", "limit": 0}, {"q": "渝北", "lang": "fr"}):
        assert client.get("/api/search", params=params, headers=admin).status_code == 422, params
    r = client.get("/api/search", params={"q": "渝北", "district": "火星区"}, headers=admin)
    assert r.status_code == 422 and "火星区" in r.json()["detail"]
    assert client.get("/api/search", params={"q": "   "}, headers=admin).status_code == 422


# ------------------------------------------------------------------------------------------------ small maps
def test_the_project_map_holds_every_area_version_and_the_patches_found_for_it(searched):
    db, client, admin, *_ = searched
    f, a, p = schema.compliance_findings, schema.responsibility_areas, schema.projects
    pid, code = _rows(db, select(p.c.id, p.c.code).join(f, f.c.project_id == p.c.id).limit(1))[0]
    versions = _rows(db, select(a.c.version, a.c.superseded_at).where(a.c.project_id == pid))
    r = client.get(f"/api/projects/{code}/map", headers=admin)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/geo+json")
    got = r.json()["features"]
    areas = [x["properties"] for x in got if x["properties"]["layer"] == "area"]
    assert sorted((x["version"], x["current"]) for x in areas) == sorted((v.version, v.superseded_at is None)
                                                                       for v in versions)
    patch_fids = {x["properties"]["fid"] for x in got if x["properties"]["layer"] == "patch"}
    runs = {row[0] for row in _rows(db, select(schema.compliance_runs.c.id))}
    named = {row.patch_fid for row in _rows(db, select(f.c.patch_fid, f.c.run_id).where(f.c.project_id == pid))
             if row.run_id in runs}
    assert patch_fids and patch_fids <= named
    assert client.get("/api/projects/NO-SUCH/map", headers=admin).status_code == 404


def test_the_case_map_holds_its_patch_and_its_district(searched):
    db, client, admin, *_ = searched
    c, d = schema.cases, schema.disturbance_patches
    case = _rows(db, select(c.c.case_no, c.c.patch_fid, c.c.district_code).where(c.c.patch_fid.is_not(None))
                 .limit(1))[0]
    got = client.get(f"/api/cases/{case.case_no}/map", headers=admin).json()["features"]
    patch = next(x for x in got if x["properties"]["layer"] == "patch")
    assert patch["properties"]["fid"] == case.patch_fid
    stored = _rows(db, select(d.c.geom).where(d.c.fid == case.patch_fid))[0].geom
    assert _near(list(shapely.geometry.shape(patch["geometry"]).bounds), _bounds([stored]), 1e-6)
    assert [x["properties"]["district_code"] for x in got if x["properties"]["layer"] == "district"] \
        == [case.district_code]
    assert client.get("/api/cases/SB0000-00000/map", headers=admin).status_code == 404
