"""GeoPackage core tables for the embedded store (OGC 12-128r18, GeoPackage 1.4).

The embedded SQLite file carries the three mandatory GeoPackage tables and the
``GPKG`` application id, and registers every data table in ``gpkg_contents``,
so QGIS and GDAL open it directly as a GeoPackage.  The operational tables (users,
sessions, API keys, login throttling, the audit log, the store's own bookkeeping)
are left out of ``gpkg_contents``, so GDAL and QGIS do not list them
(docs/adr/0011-store-layers.md).  Feature tables carry the RTree spatial index
extension, whose triggers call the ``ST_*`` SQL functions of
:func:`register_functions`.
"""

from __future__ import annotations

import sqlite3
import struct
from datetime import UTC, datetime
from typing import cast

import shapely
from pyproj import CRS
from sqlalchemy import BigInteger, Connection, Float, String, Table, text
from sqlalchemy.ext.compiler import compiles

from .geometry import Geometry


@compiles(String, "sqlite")
def _gpkg_text(type_: String, compiler, **kw) -> str:
    """GeoPackage column types are TEXT(n), not VARCHAR(n) (OGC 12-128r18 Table 1)."""
    return f"TEXT({type_.length})" if type_.length else "TEXT"


@compiles(Float, "sqlite")
def _gpkg_double(type_: Float, compiler, **kw) -> str:
    """GeoPackage FLOAT is 4 bytes; areas need DOUBLE (8 bytes)."""
    return "DOUBLE"

@compiles(BigInteger, "sqlite")
def _gpkg_integer(type_: BigInteger, compiler, **kw) -> str:
    """GeoPackage INTEGER is already 8 bytes; BIGINT is not a GeoPackage type (GDAL warns)."""
    return "INTEGER"


APPLICATION_ID = 0x47504B47  # "GPKG"
USER_VERSION = 10300  # GeoPackage 1.3.0: what GDAL < 3.7 (QGIS LTR on many bureau desktops) reads without a
# "may only be partially supported" warning; nothing here needs 1.4 (OGC 12-128r18 changes only editorial items)

_CORE_DDL = (
    """CREATE TABLE IF NOT EXISTS gpkg_spatial_ref_sys (
        srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY, organization TEXT NOT NULL,
        organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT)""",
    """CREATE TABLE IF NOT EXISTS gpkg_contents (
        table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE,
        description TEXT DEFAULT '', last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
        min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
        CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id))""",
    """CREATE TABLE IF NOT EXISTS gpkg_geometry_columns (
        table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL,
        srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
        CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
        CONSTRAINT uk_gc_table_name UNIQUE (table_name),
        CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
        CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id))""",
)

EXTENSIONS_DDL = """CREATE TABLE IF NOT EXISTS gpkg_extensions (
    table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL, definition TEXT NOT NULL, scope TEXT NOT NULL,
    CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name))"""
"""The extensions table (OGC 12-128r18 §2.5.2.1.1)."""

RTREE_EXTENSION = ("gpkg_rtree_index", "http://www.geopackage.org/spec120/#extension_rtree", "write-only")
"""The RTree spatial index extension's row in gpkg_extensions (Annex F.3), as GDAL 3.12 writes it."""


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"


def create_core(conn: Connection, srids: tuple[int, ...] = (4326, 4490)) -> None:
    """Create the mandatory GeoPackage tables and the spatial reference systems we use."""
    conn.exec_driver_sql(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.exec_driver_sql(f"PRAGMA user_version = {USER_VERSION}")
    for ddl in _CORE_DDL:
        conn.exec_driver_sql(ddl)
    rows = [
        ("Undefined cartesian SRS", -1, "NONE", -1, "undefined", "undefined cartesian coordinate reference system"),
        ("Undefined geographic SRS", 0, "NONE", 0, "undefined", "undefined geographic coordinate reference system"),
    ]
    for srid in srids:
        crs = CRS.from_epsg(srid)
        rows.append((crs.name, srid, "EPSG", srid, crs.to_wkt("WKT1_GDAL"), crs.name))
    conn.execute(
        text("INSERT OR IGNORE INTO gpkg_spatial_ref_sys (srs_name, srs_id, organization, organization_coordsys_id, "
             "definition, description) VALUES (:a, :b, :c, :d, :e, :f)"),
        [dict(zip("abcdef", r)) for r in rows],
    )


def register(conn: Connection, table: Table, description: str = "") -> None:
    """Register a table in gpkg_contents (features if it has a geometry column, else attributes)."""
    geom_cols = [c for c in table.columns if isinstance(c.type, Geometry)]
    data_type = "features" if geom_cols else "attributes"
    srs_id = cast(Geometry, geom_cols[0].type).srid if geom_cols else None
    conn.execute(
        text("INSERT OR REPLACE INTO gpkg_contents (table_name, data_type, identifier, description, last_change, "
             "srs_id) VALUES (:t, :d, :t, :desc, :now, :srs)"),
        {"t": table.name, "d": data_type, "desc": description, "now": _now(), "srs": srs_id},
    )
    for col in geom_cols:
        geom = cast(Geometry, col.type)
        conn.execute(
            text("INSERT OR REPLACE INTO gpkg_geometry_columns VALUES (:t, :c, :g, :s, 0, 0)"),
            {"t": table.name, "c": col.name, "g": geom.geometry_type, "s": geom.srid},
        )


def update_extent(conn: Connection, table: Table, bounds: tuple[float, ...] | None) -> None:
    """Record a feature table's extent and change time (QGIS uses it for zoom-to-layer)."""
    minx, miny, maxx, maxy = bounds if bounds else (None, None, None, None)
    conn.execute(
        text("UPDATE gpkg_contents SET min_x=:a, min_y=:b, max_x=:c, max_y=:d, last_change=:now WHERE table_name=:t"),
        {"a": minx, "b": miny, "c": maxx, "d": maxy, "now": _now(), "t": table.name},
    )


# --------------------------------------------------------------------------- SQL functions of the RTree triggers
_ENVELOPE_DOUBLES = {1: 4, 2: 6, 3: 6, 4: 8}  # envelope indicator → number of doubles (OGC 12-128r18 §2.1.3)


def blob_envelope(blob: bytes | None) -> tuple[float, float, float, float] | None:
    """(minx, maxx, miny, maxy) of a GeoPackage geometry blob; None for NULL, an empty geometry or a value that is
    not a GeoPackage blob (the RTree triggers then index nothing)."""
    if not isinstance(blob, bytes) or len(blob) < 8 or blob[:2] != b"GP":
        return None
    flags = blob[3]
    if flags & 0b1_0000:  # the empty-geometry flag
        return None
    indicator, order = (flags >> 1) & 0b111, "<" if flags & 1 else ">"
    if indicator in _ENVELOPE_DOUBLES:
        return cast(tuple[float, float, float, float], struct.unpack(order + "4d", blob[8:40]))
    if indicator:
        return None
    try:  # no envelope (GDAL writes none for points): read the WKB
        geom = shapely.from_wkb(blob[8:])
    except shapely.errors.GEOSException:
        return None
    if geom.is_empty:
        return None
    minx, miny, maxx, maxy = geom.bounds
    return (minx, maxx, miny, maxy)


def _st_is_empty(blob: bytes | None) -> int | None:
    if blob is None:
        return None
    return 1 if blob_envelope(blob) is None else 0


def _bound(k: int):
    def fn(blob: bytes | None) -> float | None:
        env = blob_envelope(blob)
        return None if env is None else env[k]
    return fn


def register_functions(dbapi_conn: sqlite3.Connection) -> None:
    """Define ``ST_IsEmpty``, ``ST_MinX``, ``ST_MaxX``, ``ST_MinY`` and ``ST_MaxY`` on an SQLite connection: the
    RTree extension's triggers call them (OGC 12-128r18 Annex F.3, as GDAL does), so every write through the store
    keeps the spatial indexes in step.  A connection without them cannot write a feature table ("no such
    function")."""
    dbapi_conn.create_function("ST_IsEmpty", 1, _st_is_empty, deterministic=True)
    for k, name in enumerate(("ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY")):
        dbapi_conn.create_function(name, 1, _bound(k), deterministic=True)
