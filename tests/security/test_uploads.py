"""H1 and the import parts of L2 (security review): uploads are opened only as GeoPackage, GeoJSON, zipped shapefile
or CSV, recognised by their bytes; a GDAL VRT — the review's file read of /etc/passwd, SQL over the platform's own
users table, a /vsicurl/ URL — is refused through the web and the services alike, GDAL makes no network request,
and errors name the upload, never the server's temporary folder.  The legitimate formats still import."""

from __future__ import annotations

import http.server
import json
import sqlite3
import threading
import zipfile

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from shuibao.cli.main import run
from shuibao.errors import InputError
from shuibao.io.features import FeatureSet, write_features
from shuibao.services.platform import auth
from shuibao.services.governance import treatment as governance
from shuibao.services.supervision import patches, projects
from shuibao.services.platform.database import init
from shuibao.store import Store, schema
from shuibao.supervision.imports import SHAPEFILE_NAMES
from shuibao.web import Settings, create_app

from tests.helpers import patch_row, project_row, square, write_layer

PASSWD_VRT = ('<OGRVRTDataSource><OGRVRTLayer name="projects"><SrcDataSource>CSV:/etc/passwd</SrcDataSource>'
              '<SrcLayer>passwd</SrcLayer></OGRVRTLayer></OGRVRTDataSource>')


def users_vrt(db: str) -> str:
    """The review's lfi2.vrt: every user as a project whose builder is the password hash (no geometry needed)."""
    sql = ("SELECT 'LFI-' || id AS code, username AS name, password_hash AS builder, '公路' AS industry, "
           "'渝北区' AS district, 'x' AS approval_number, '2024-01-10' AS approval_date, 'y' AS approval_authority, "
           "1.0 AS total_area_hm2 FROM users")
    return (f'<OGRVRTDataSource><OGRVRTLayer name="projects"><SrcDataSource>{db}</SrcDataSource>'
            f'<SrcSQL>{sql}</SrcSQL></OGRVRTLayer></OGRVRTDataSource>')


def url_vrt(port: int) -> str:
    return (f'<OGRVRTDataSource><OGRVRTLayer name="projects"><SrcDataSource>/vsicurl/http://127.0.0.1:{port}/'
            'ssrf-probe.csv</SrcDataSource></OGRVRTLayer></OGRVRTDataSource>')


@pytest.fixture
def site(tmp_path):
    db = str(tmp_path / "shuibao.gpkg")
    init(db, boundaries=False)
    auth.create_user(db, "admin", "copper-meadow-4417", "city_admin")
    client = TestClient(create_app(Settings(db=db, preload=False)))
    r = client.post("/api/login", json={"username": "admin", "password": "copper-meadow-4417"})
    assert r.status_code == 200, r.text
    return db, client, {"Authorization": f"Bearer {r.json()['token']}"}


@pytest.fixture
def probe():
    """An HTTP server on 127.0.0.1 that records every request it receives."""
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self):
            hits.append(f"{self.command} {self.path}")
            self.send_response(200)
            self.send_header("Content-Length", "8")
            self.end_headers()
            if self.command == "GET":
                self.wfile.write(b"a,b\n1,2\n")

        do_GET = do_HEAD = _answer

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], hits
    server.shutdown()
    server.server_close()


def project_count(db: str) -> int:
    with Store(db) as store, store.reading() as conn:
        return conn.execute(select(func.count()).select_from(schema.projects)).scalar()


def post(client, headers, route: str, path, name: str | None = None, **extra):
    files = {"file": (name or path.name, path.read_bytes())}
    for field, p in extra.items():
        files[field] = (p.name, p.read_bytes())
    return client.post(route, headers=headers, files=files)


@pytest.mark.parametrize("name", ["lfi.vrt", "lfi.csv", "lfi.geojson", "lfi.gpkg", "lfi"])
def test_a_vrt_reading_the_password_file_is_refused_under_any_name(site, tmp_path, name):
    db, client, admin = site
    vrt = tmp_path / name
    vrt.write_text(PASSWD_VRT, encoding="utf-8")
    r = post(client, admin, "/api/projects/import", vrt)
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert "root:" not in r.text and name in detail and "VRT" in detail and "GeoPackage" in detail
    assert str(tmp_path) not in r.text and "shuibao-upload-" not in r.text  # the upload's name, no server path
    with pytest.raises(InputError, match="VRT"):
        projects.import_projects(db, vrt)
    assert project_count(db) == 0


def test_a_vrt_with_sql_over_the_platforms_own_users_table_is_refused(site, tmp_path):
    db, client, admin = site
    vrt = tmp_path / "lfi2.csv"
    vrt.write_text(users_vrt(db), encoding="utf-8")
    r = post(client, admin, "/api/projects/import", vrt)
    assert r.status_code == 422 and "argon2" not in r.text and "VRT" in r.json()["detail"]
    assert project_count(db) == 0


def test_a_vrt_with_a_url_makes_no_request(site, tmp_path, probe):
    db, client, admin = site
    port, hits = probe
    vrt = tmp_path / "ssrf.vrt"
    vrt.write_text(url_vrt(port), encoding="utf-8")
    r = post(client, admin, "/api/projects/import", vrt)
    assert r.status_code == 422 and "VRT" in r.json()["detail"]
    with pytest.raises(InputError, match="VRT"):
        projects.import_projects(db, vrt)
    assert hits == []


def test_the_server_process_has_gdal_network_access_off(site, probe):
    """Beyond the allow-list: once the app exists, neither GDAL (pyogrio's nor rasterio's) reaches a URL."""
    import pyogrio
    import rasterio
    from pyogrio.errors import DataSourceError
    from rasterio.errors import RasterioIOError

    port, hits = probe
    with pytest.raises(DataSourceError):
        pyogrio.list_layers(f"/vsicurl/http://127.0.0.1:{port}/x.csv")
    with pytest.raises(DataSourceError):
        pyogrio.list_layers(f"WFS:http://127.0.0.1:{port}/wfs")
    with pytest.raises(RasterioIOError):
        rasterio.open(f"/vsicurl/http://127.0.0.1:{port}/r.tif")
    assert hits == []


def test_vrt_attributes_and_treatment_uploads_are_refused(site, tmp_path):
    db, client, admin = site
    good = write_layer(tmp_path / "p.gpkg", [project_row("P1")], [square(0, 0, 100)])
    vrt = tmp_path / "attrs.csv"
    vrt.write_text(PASSWD_VRT, encoding="utf-8")
    r = post(client, admin, "/api/projects/import", good, attributes=vrt)
    assert r.status_code == 422 and "root:" not in r.text and "attrs.csv" in r.json()["detail"]
    r = post(client, admin, "/api/treatment/import", vrt, name="t.geojson")
    assert r.status_code == 422 and "root:" not in r.text and "t.geojson" in r.json()["detail"]
    with pytest.raises(InputError, match="VRT"):
        governance.import_treatment(db, vrt)
    with pytest.raises(InputError, match="VRT"):
        patches.import_patches(db, vrt)
    assert project_count(db) == 0


def test_a_renamed_gpkg_that_is_not_a_geopackage_is_refused(site, tmp_path):
    db, client, admin = site
    text = tmp_path / "text.gpkg"
    text.write_text("code,name\nP1,x\n", encoding="utf-8")
    plain = tmp_path / "plain.gpkg"
    with sqlite3.connect(plain) as con:
        con.execute("CREATE TABLE projects (code TEXT)")
    for path, found in ((text, "CSV text"), (plain, "not a GeoPackage")):
        r = post(client, admin, "/api/projects/import", path)
        assert r.status_code == 422 and found in r.json()["detail"] and path.name in r.json()["detail"], r.text
    assert project_count(db) == 0


def _zip(path, members: dict[str, bytes]):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_zips_that_are_not_one_safe_shapefile_are_refused(site, tmp_path):
    db, client, admin = site
    shp = write_layer(tmp_path / "shp" / "p.shp", [project_row("P1")], [square(0, 0, 100)])
    parts = {f"p{s}": (shp.with_suffix(s)).read_bytes() for s in (".shp", ".shx", ".dbf", ".prj")}
    cases = {
        "traversal": ({**parts, "../../evil.prj": b"x"}, "not a plain relative name"),
        "vrt": ({**parts, "p.vrt": PASSWD_VRT.encode()}, "not part of a shapefile"),
        "two": ({**parts, "q.shp": parts["p.shp"], "q.shx": parts["p.shx"], "q.dbf": parts["p.dbf"]}, "2 .shp"),
        "many": ({**parts, **{f"d{i}/p.xml": b"<x/>" for i in range(40)}}, "entries"),
        "bomb": ({**parts, "p.shp.xml": b"\0" * (50 * 2**20)}, "zip bomb"),
        "noshx": ({k: v for k, v in parts.items() if k != "p.shx"}, "no .shx"),
    }
    for label, (members, reason) in cases.items():
        r = post(client, admin, "/api/projects/import", _zip(tmp_path / f"{label}.zip", members))
        assert r.status_code == 422 and reason in r.json()["detail"], (label, r.text)
        if label == "traversal":  # each unsafe entry also as an item, the server's folder cut from it
            assert r.json()["issues"] == [{"where": "zip entry", "field": "'../../evil.prj'",
                                           "message": "not a plain relative name"}], r.text
    assert not (tmp_path.parent / "evil.prj").exists() and project_count(db) == 0


def test_legitimate_gpkg_geojson_zipped_shapefile_and_csv_still_import(site, tmp_path):
    db, client, admin = site
    gpkg = write_layer(tmp_path / "a.gpkg", [project_row("G1")], [square(0, 0, 100)])
    geojson = write_layer(tmp_path / "b.geojson", [project_row("J1")], [square(200, 0, 100)])
    shp = tmp_path / "shp" / "c.shp"
    write_features(shp, [FeatureSet("c", [project_row("S1")], [square(400, 0, 100)])], "EPSG:4545",
                   rename=SHAPEFILE_NAMES)
    zipped = _zip(tmp_path / "c.zip", {f"地块/c{s}": shp.with_suffix(s).read_bytes()
                                       for s in (".shp", ".shx", ".dbf", ".prj", ".cpg")})
    csv_file = tmp_path / "d.csv"
    row = project_row("C1")
    csv_file.write_text(",".join(row) + "\n" + ",".join(str(v) for v in row.values()) + "\n", encoding="utf-8")
    for path in (gpkg, geojson, zipped, csv_file):
        r = post(client, admin, "/api/projects/import", path)
        assert r.status_code == 201 and r.json()["created"] == 1, (path.name, r.text)
    assert project_count(db) == 4


def test_an_impossible_attribute_date_is_a_row_error_on_the_web_and_the_command_line(site, tmp_path, capsys):
    """L2: pyogrio's "day is out of range for month" ended the whole import with a 500 / a 54-line traceback."""
    db, client, admin = site
    src = write_layer(tmp_path / "bad.geojson", [patch_row("A"), patch_row("B", image_date="2026-02-30")],
                      [square(0, 0, 50), square(100, 0, 50)])
    doc = json.loads(src.read_text(encoding="utf-8"))
    r = client.post("/api/patches", headers=admin, content=json.dumps(doc))
    assert r.status_code == 422, r.text
    rows = {row["row"]: row["messages"] for row in r.json()["rows"]}
    assert "image_date" in rows[2] and "2026-02-30" in rows[2] and 1 not in rows
    assert "/tmp" not in r.text and "upload.geojson" in r.json()["detail"]
    for suffix in (".gpkg", ".shp"):
        other = _dated_layer(tmp_path / f"bad{suffix}")
        with pytest.raises(InputError, match=r"row 2 \(B\): image_date: '2026/02/30' is not a date"):
            patches.import_patches(db, other)
    code = run(["--db", db, "supervise", "patches", "import", str(src)])
    err = capsys.readouterr().err
    assert code == 2 and "image_date" in err and "Traceback" not in err


def _dated_layer(path):
    """Two patches with a real date field (GDAL's Date type), the second's set to 2026-02-30 behind GDAL's back."""
    import numpy as np
    import pyogrio.raw
    import shapely

    wkb = np.array([shapely.to_wkb(square(0, 0, 50)), shapely.to_wkb(square(100, 0, 50))], dtype=object)
    fields = [np.array(["A", "B"], dtype=object), np.array(["2025H1"] * 2, dtype=object),
              np.array(["2026-02-01", "2026-02-01"], dtype="datetime64[D]")]
    driver = "GPKG" if path.suffix == ".gpkg" else "ESRI Shapefile"
    pyogrio.raw.write(str(path), wkb, fields, ["patch_id", "period", "image_date"], driver=driver,
                      geometry_type="Polygon", crs="EPSG:4545", layer="data")
    if path.suffix == ".shp":
        dbf = path.with_suffix(".dbf")
        data = dbf.read_bytes()
        at = data.rindex(b"20260201")
        dbf.write_bytes(data[:at] + b"20260230" + data[at + 8:])
        return path
    with sqlite3.connect(path) as con:
        for (trigger,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
            con.execute(f'DROP TRIGGER "{trigger}"')  # GDAL's R-tree triggers call functions sqlite3 lacks
        con.execute("UPDATE data SET image_date = '2026-02-30' WHERE patch_id = 'B'")
    return path


def test_geojson_nested_100000_deep_is_a_422(site):
    db, client, admin = site
    body = '{"type": "FeatureCollection", "features": [' + "[" * 100_000 + "]" * 100_000 + "]}"
    r = client.post("/api/patches", headers=admin, content=body)
    assert r.status_code == 422 and "nested too deeply" in r.json()["detail"]


def test_a_database_error_on_the_web_does_not_name_the_servers_database_file(site):
    """L2: a 503 said "<scratch>/shuibao.gpkg: database error: …"; the web says "the database" instead."""
    db, client, admin = site
    with open(db, "r+b") as fh:  # the store breaks under the running server
        fh.write(b"\0" * 4096)
    r = client.get("/api/projects", headers=admin)
    assert r.status_code == 503 and "the database" in r.json()["detail"], r.text
    assert db not in r.text and "shuibao.gpkg" not in r.text


def test_the_upload_folder_is_cut_from_issues_too(tmp_path):
    """A validator's problems answered as items (``issues``) must not name the server's temporary folder."""
    from shuibao.errors import Issue, issues_error
    from shuibao.web.uploads import hide_folder

    folder = tmp_path / "shuibao-upload-x"
    err = issues_error([Issue(f"{folder}/a/p.gpkg", "layer", f"no CRS in {folder}/a/p.gpkg")], "patches")
    hide_folder(err, folder)
    assert all(str(folder) not in t for i in err.issues for t in (i.where, i.field, i.message))
    assert err.issues[0].where == "p.gpkg" and str(folder) not in str(err)
