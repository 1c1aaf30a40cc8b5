"""The store as GDAL (and so QGIS) sees it: only data layers, each feature layer with a spatial index, stations as
points (migration 8, docs/adr/0011-store-layers.md).

The oracles are independent of the store's code: the GDAL bundled with pyogrio lists and reads the file (the
``ogrinfo -so -al`` view; the GDAL command-line tools are not installed here), the table names come from
``sqlite_master``, and station coordinates from the CSV the demo imported.
"""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path

import pyogrio
import pytest
import shapely
from sqlalchemy import text

from shuibao.services.platform import database
from shuibao.services.stations import records as stations_service
from shuibao.store import Store
from shuibao.store.repositories import stations as station_rows

OPERATIONAL = {"schema_migrations", "reference_loads", "users", "api_keys", "web_sessions", "audit_log",
               "login_failures", "login_lockouts", "import_mappings"}
"""Written out here, not read from the schema: the tables no GIS user should see (ADR 0011)."""

FEATURE_LAYERS = {"district_boundaries": "MultiPolygon", "monitoring_watersheds": "MultiPolygon",
                  "responsibility_areas": "MultiPolygon", "disturbance_patches": "MultiPolygon",
                  "treatment_patches": "MultiPolygon", "warning_footprints": "MultiPolygon",
                  "zone_evaluations": "MultiPolygon", "applications": "MultiPolygon",  # 9: 方案审批
                  "stations": "Point"}


def _user_tables(path) -> set[str]:
    """Every table of the file that is not SQLite's, GeoPackage's or an RTree's own."""
    with sqlite3.connect(path) as con:
        names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    return {n for n in names if not n.startswith(("sqlite_", "gpkg_", "rtree_"))}


def _has_spatial_index(path, layer: str) -> int:
    """GDAL's own HasSpatialIndex(), through the SQLite dialect of the GPKG driver."""
    *_, (value,) = pyogrio.raw.read(path, sql=f"SELECT HasSpatialIndex('{layer}', 'geom') AS h",
                                    sql_dialect="SQLITE")
    return int(value[0])


def _demo_stations(demo: str) -> dict[str, tuple[float, float]]:
    with open(Path(demo).parent / "supervision" / "stations-synthetic.csv", encoding="utf-8-sig", newline="") as fh:
        return {r["code"]: (float(r["lon"]), float(r["lat"])) for r in csv.DictReader(fh)}


@pytest.fixture(scope="module")
def store_file(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("layers") / "shuibao.gpkg"
    database.init(str(path))
    return str(path)


# --------------------------------------------------------------------------- what OGR lists
@pytest.mark.parametrize("which", ["fresh", "demo"])
def test_ogr_lists_only_data_layers(which, store_file, request):
    path = store_file if which == "fresh" else request.getfixturevalue("demo")
    listed = dict(pyogrio.list_layers(path))
    assert not OPERATIONAL & set(listed)
    assert set(listed) == _user_tables(path) - OPERATIONAL  # every data table is a layer
    assert {k: v for k, v in listed.items() if v is not None} == FEATURE_LAYERS
    for layer in listed:  # `ogrinfo -so -al`: no layer carries a password hash or a session token
        fields = set(pyogrio.read_info(path, layer=layer)["fields"])
        assert not fields & {"password_hash", "key_hash", "token_hash"}, layer


def test_an_operational_table_cannot_be_opened_as_a_layer(store_file):
    for name in ("users", "api_keys", "web_sessions", "audit_log"):
        with pytest.raises(pyogrio.errors.DataLayerError):
            pyogrio.read_info(store_file, layer=name)


@pytest.mark.parametrize("which", ["fresh", "demo"])
def test_every_feature_layer_has_a_spatial_index(which, store_file, request):
    path = store_file if which == "fresh" else request.getfixturevalue("demo")
    with sqlite3.connect(path) as con:
        extensions = set(con.execute("SELECT table_name, column_name, extension_name FROM gpkg_extensions"))
    for layer in FEATURE_LAYERS:
        assert (layer, "geom", "gpkg_rtree_index") in extensions
        assert _has_spatial_index(path, layer) == 1, layer
        assert pyogrio.read_info(path, layer=layer)["capabilities"]["fast_spatial_filter"], layer


def test_gdal_sees_a_missing_spatial_index(store_file, tmp_path):
    """Not vacuous: without its RTree table a layer has no spatial index for GDAL."""
    import shutil

    copy = str(tmp_path / "copy.gpkg")
    shutil.copy(store_file, copy)
    with sqlite3.connect(copy) as con:
        con.execute("DROP TABLE rtree_stations_geom")
    assert _has_spatial_index(copy, "stations") == 0 and _has_spatial_index(copy, "district_boundaries") == 1


def test_the_indexes_hold_every_demo_feature_at_its_bounds(demo):
    """Each RTree holds one box per feature with a geometry, around the geometry GDAL reads."""
    with sqlite3.connect(demo) as con:
        for layer in FEATURE_LAYERS:
            key = "id" if layer == "stations" else "fid"
            boxes = {r[0]: r[1:] for r in con.execute(f"SELECT id, minx, miny, maxx, maxy FROM rtree_{layer}_geom")}
            _, fids, geoms, _ = pyogrio.raw.read(demo, layer=layer, columns=[], return_fids=True)
            located = {int(f): shapely.from_wkb(g).bounds for f, g in zip(fids, geoms) if g is not None}
            assert set(boxes) == set(located), (layer, key)
            for fid, bounds in located.items():  # an RTree stores 32-bit floats, rounded outwards
                assert boxes[fid] == pytest.approx(bounds, abs=1e-4), (layer, fid)
    assert boxes  # the demo registered stations


# --------------------------------------------------------------------------- stations as points
def test_ogr_reads_the_demo_stations_as_points_at_the_imported_coordinates(demo):
    expected = _demo_stations(demo)
    assert len(expected) >= 3
    meta, _, geoms, fields = pyogrio.raw.read(demo, layer="stations", columns=["code", "status"])
    assert meta["geometry_type"] == "Point" and meta["crs"] == "EPSG:4490"
    got = dict(zip(fields[0], geoms))
    for code, (lon, lat) in expected.items():
        point = shapely.from_wkb(got[code])
        assert (point.x, point.y) == pytest.approx((lon, lat), abs=1e-9), code
    planned = [code for code, status in zip(fields[0], fields[1]) if status == "planned"]
    assert planned and all(got[code] is None for code in planned)  # the plan's stations have no coordinates yet
    code, (lon, lat) = next(iter(expected.items()))  # a bounding-box query through OGR finds it
    *_, near = pyogrio.raw.read(demo, layer="stations", columns=["code"],
                                bbox=(lon - 1e-3, lat - 1e-3, lon + 1e-3, lat + 1e-3))
    assert list(near[0]) == [code]


def _rtree_hits(path, table: str, lon: float, lat: float) -> set[int]:
    with sqlite3.connect(path) as con:
        return {r[0] for r in con.execute(f"SELECT id FROM rtree_{table}_geom WHERE minx <= ? AND maxx >= ? "
                                          "AND miny <= ? AND maxy >= ?", (lon, lon, lat, lat))}


def test_a_station_written_through_the_repository_is_found_through_the_rtree(tmp_path):
    path = str(tmp_path / "s.gpkg")
    database.init(path, boundaries=False)
    from datetime import UTC, datetime

    with Store(path) as store, store.transaction() as conn:
        station_rows.add_station(conn, code="T1", name="测试站", kind="rain_gauge", status="operating",
                                 lon=106.5, lat=29.5, created_at=datetime.now(UTC))
        (sid,) = conn.execute(text("SELECT id FROM stations WHERE code = 'T1'")).one()
    assert _rtree_hits(path, "stations", 106.5, 29.5) == {sid}
    with Store(path) as store, store.transaction() as conn:
        station_rows.update_station(conn, sid, lat=30.25)  # moved north: its point follows
    assert _rtree_hits(path, "stations", 106.5, 29.5) == set()
    assert _rtree_hits(path, "stations", 106.5, 30.25) == {sid}
    *_, geoms, _ = pyogrio.raw.read(path, layer="stations", columns=[])
    assert shapely.from_wkb(geoms[0]).coords[0] == (106.5, 30.25)
    with Store(path) as store, store.transaction() as conn:
        station_rows.update_station(conn, sid, lon=None, lat=None)  # coordinates withdrawn: no point, no box
    assert _rtree_hits(path, "stations", 106.5, 30.25) == set()
    with sqlite3.connect(path) as con:
        assert con.execute("SELECT count(*) FROM rtree_stations_geom").fetchone()[0] == 0


def test_a_polygon_loaded_by_the_store_is_found_through_ogrs_spatial_filter(store_file):
    """渝中区 (the district around 106.577 E, 29.557 N) through an OGR bbox query, which uses the RTree."""
    _, fids, _, names = pyogrio.raw.read(store_file, layer="district_boundaries", columns=["name"],
                                         bbox=(106.576, 29.556, 106.578, 29.558), return_fids=True)
    assert list(names[0]) == ["渝中区"]
    assert int(fids[0]) in _rtree_hits(store_file, "district_boundaries", 106.577, 29.557)  # its box holds it


def test_a_version_7_store_upgrades_to_points_and_indexes(tmp_path):
    """An existing store (made before migration 8) with stations gets their points and every index."""
    path = str(tmp_path / "old.gpkg")
    with Store(path, create=True) as store:
        store.upgrade(to=7)
        with store.transaction() as conn:
            conn.execute(text("INSERT INTO stations (code, name, kind, lon, lat, status, created_at) VALUES "
                              "('A', '甲站', 'rain_gauge', 107.25, 30.5, 'operating', '2026-01-01 00:00:00'), "
                              "('B', '乙站', 'rain_gauge', NULL, NULL, 'planned', '2026-01-01 00:00:00')"))
    assert "stations" in dict(pyogrio.list_layers(path)) and "users" in dict(pyogrio.list_layers(path))
    with Store(path) as store:
        assert [a.split()[0] for a in store.upgrade()][0] == "0008"  # and any later migration
    layers = dict(pyogrio.list_layers(path))
    assert layers["stations"] == "Point" and "users" not in layers
    _, _, geoms, fields = pyogrio.raw.read(path, layer="stations", columns=["code"])
    got = dict(zip(fields[0], geoms))
    assert shapely.from_wkb(got["A"]).coords[0] == (107.25, 30.5) and got["B"] is None
    assert _rtree_hits(path, "stations", 107.25, 30.5) and _has_spatial_index(path, "stations") == 1
    info = pyogrio.read_info(path, layer="stations")
    assert info["total_bounds"] == pytest.approx((107.25, 30.5, 107.25, 30.5))


def test_a_writer_without_the_functions_is_refused_not_left_with_a_stale_index(store_file, tmp_path):
    """A plain sqlite3 connection cannot write a feature table (the triggers need ST_MinX …), so no write can
    leave the RTree behind its table."""
    import shutil

    copy = tmp_path / "copy.gpkg"
    shutil.copy(store_file, copy)
    with sqlite3.connect(copy) as con, pytest.raises(sqlite3.OperationalError, match="no such function"):
        con.execute("UPDATE district_boundaries SET geom = geom WHERE fid = 1")


# --------------------------------------------------------------------------- both backends
def test_stations_are_points_with_a_spatial_index_on_both_backends(db_url, tmp_path):
    database.init(db_url, boundaries=False)
    registry = tmp_path / "stations.csv"
    registry.write_text("code,name,kind,district,lon,lat,status\n"
                        "S1,一号站,rain_gauge,渝中区,106.56,29.55,operating\n"
                        "S2,二号站,rain_gauge,万州区,108.41,30.81,operating\n", encoding="utf-8")
    expected = {"S1": (106.56, 29.55), "S2": (108.41, 30.81)}
    stations_service.import_stations(db_url, registry, actor="测试")
    with Store(db_url) as store, store.reading() as conn:
        if store.backend == "postgresql":
            rows = conn.execute(text("SELECT code, ST_X(geom), ST_Y(geom), ST_SRID(geom) FROM stations")).all()
            assert {r[0]: (r[1], r[2]) for r in rows} == expected and {r[3] for r in rows} == {4490}
            registered = conn.execute(text("SELECT f_table_name, type, srid FROM geometry_columns "
                                           "WHERE f_table_schema = current_schema()")).all()
            gist = {r[0] for r in conn.execute(text(
                "SELECT t.relname FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid "
                "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam "
                "WHERE a.amname = 'gist' AND t.relnamespace = "
                "(SELECT oid FROM pg_namespace WHERE nspname = current_schema())"))}
            assert {(n, t.upper()) for n, t, _ in registered} == {(n, g.upper()) for n, g in FEATURE_LAYERS.items()}
            assert gist == set(FEATURE_LAYERS)
            near = conn.execute(text("SELECT code FROM stations WHERE geom && "
                                     "ST_MakeEnvelope(106.5, 29.5, 106.6, 29.6, 4490)")).scalars().all()
            assert near == ["S1"]
            return
    _, _, geoms, fields = pyogrio.raw.read(db_url, layer="stations", columns=["code"])
    assert {c: shapely.from_wkb(g).coords[0] for c, g in zip(fields[0], geoms)} == expected
