"""The embedded store is a GeoPackage file; bad files and locks give clear errors."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import struct

import pyogrio
import pytest
import shapely

from shuibao.errors import InputError, StoreError
from shuibao.services.platform import database
from shuibao.store import Store
from shuibao.store.geometry import from_gpkg_blob, to_gpkg_blob
from shuibao.store.store import to_url


@pytest.fixture
def gpkg(tmp_path):
    path = tmp_path / "shuibao.gpkg"
    database.init(str(path))
    return path


def test_file_is_a_geopackage(gpkg):
    con = sqlite3.connect(gpkg)
    assert con.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47
    assert con.execute("PRAGMA user_version").fetchone()[0] == 10300  # GeoPackage 1.3.0
    contents = dict(con.execute("SELECT table_name, data_type FROM gpkg_contents"))
    assert contents["district_boundaries"] == "features" and contents["districts"] == "attributes"
    assert con.execute("SELECT count(*) FROM gpkg_spatial_ref_sys WHERE srs_id = 4490").fetchone()[0] == 1
    con.close()


def test_ogrinfo_opens_the_store_without_a_warning(gpkg):
    """The GDAL command-line tools a bureau's GIS staff use (ogrinfo, QGIS's GDAL) read the store silently."""
    ogrinfo = shutil.which("ogrinfo")
    if ogrinfo is None:
        pytest.skip("ogrinfo not installed (apt install gdal-bin)")
    done = subprocess.run([ogrinfo, "-ro", "-q", str(gpkg)], capture_output=True, text=True, check=True)
    assert "Warning" not in done.stderr, done.stderr
    assert "district_boundaries" in done.stdout


def test_gdal_reads_the_layers(gpkg):
    layers = dict(pyogrio.list_layers(gpkg))
    assert layers["district_boundaries"] == "MultiPolygon"
    info = pyogrio.read_info(gpkg, layer="district_boundaries")
    assert info["crs"] == "EPSG:4490" and info["features"] == 38
    assert list(info["dtypes"][list(info["fields"]).index("area_km2")]) == list("float64")
    _, _, geoms, fields = pyogrio.raw.read(gpkg, layer="district_boundaries", columns=["name"])
    names = list(fields[0])
    yuzhong = shapely.from_wkb(geoms[names.index("渝中区")])
    assert yuzhong.contains(shapely.Point(106.577, 29.557))


def test_every_table_has_geopackage_column_types(gpkg):
    """GDAL warns on a column type GeoPackage does not define (e.g. BIGINT, VARCHAR, NUMERIC)."""
    allowed = {"BOOLEAN", "TINYINT", "SMALLINT", "MEDIUMINT", "INT", "INTEGER", "FLOAT", "DOUBLE", "REAL", "TEXT",
               "BLOB", "DATE", "DATETIME", "MULTIPOLYGON", "POLYGON", "GEOMETRY", "POINT"}
    con = sqlite3.connect(gpkg)
    bad = []
    for (table,) in con.execute("SELECT table_name FROM gpkg_contents"):
        for _, name, decl, *_ in con.execute(f'PRAGMA table_info("{table}")'):
            if decl.split("(")[0].upper() not in allowed:
                bad.append(f"{table}.{name} {decl}")
    con.close()
    assert bad == []
    assert {"projects", "disturbance_patches", "case_events"} <= set(dict(pyogrio.list_layers(gpkg)))


def test_gpkg_blob_layout():
    geom = shapely.box(106.0, 29.0, 107.0, 30.0)
    blob = to_gpkg_blob(geom, 4490)
    assert blob[:2] == b"GP" and blob[2] == 0 and blob[3] == 0b11
    assert struct.unpack("<i4d", blob[4:40]) == (4490, 106.0, 107.0, 29.0, 30.0)
    back, srs = from_gpkg_blob(blob)
    assert srs == 4490 and back.equals(geom)
    empty, _ = from_gpkg_blob(to_gpkg_blob(shapely.Polygon(), 4490))
    assert empty.is_empty
    with pytest.raises(StoreError, match="not a GeoPackage blob"):
        from_gpkg_blob(b"XX123456")


def test_not_a_database(tmp_path):
    bad = tmp_path / "notes.gpkg"
    bad.write_text("hello, not a database")
    with pytest.raises(StoreError, match="not a Shuibao database"):
        database.status(str(bad))


def test_corrupt_database(gpkg):
    data = bytearray(gpkg.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)  # clobber the schema page, keep the magic
    gpkg.write_bytes(bytes(data))
    with pytest.raises(StoreError, match="corrupt|database error"):
        database.status(str(gpkg))


def test_missing_database_tells_how_to_create_it(tmp_path):
    with pytest.raises(StoreError, match="does not exist; create it with `shuibao db init"):
        database.status(str(tmp_path / "nope.gpkg"))


def test_locked_database(gpkg, monkeypatch):
    import shuibao.store.store as store_module

    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_MS", 200)
    holder = sqlite3.connect(gpkg, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreError, match="locked by another process"):
            database.init(str(gpkg))
    finally:
        holder.execute("ROLLBACK")
        holder.close()


@pytest.mark.parametrize("target, message", [
    ("mysql://u@h/db", "unsupported database 'mysql'"),
    ("sqlite://", "needs a file path"),
])
def test_bad_urls(target, message):
    with pytest.raises(InputError, match=message):
        to_url(target)


def test_postgres_url_is_normalised():
    assert to_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert to_url("x.gpkg").drivername == "sqlite"


def test_unreachable_postgres_is_a_store_error():
    with pytest.raises(StoreError, match="cannot connect|database error"):
        with Store("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2") as store:
            store.status()
