"""Version 8 (issue 18, 2026-12-07): the store as GDAL and QGIS see it.  The operational tables leave the
GeoPackage contents, every feature table gets a spatial index, and ``stations`` becomes a point layer
(docs/adr/0011-store-layers.md).

* ``stations.geom``: a CGCS2000 point from the stored ``lon``/``lat`` (NULL for a station without coordinates, such
  as a planned one); the store's station writes keep it in step with them.
* A spatial index on each feature table: the GeoPackage RTree extension (with its triggers and a
  ``gpkg_extensions`` row) in the embedded store, a GiST index on PostGIS (the older feature tables have had one
  since they were created).
* Out of ``gpkg_contents``: the tables that run the platform (users, API keys, web sessions, login throttling, the
  audit log) and the store's own bookkeeping (``reference_loads``; ``schema_migrations`` never was in it).  GDAL
  lists tables missing from ``gpkg_contents`` only when no table is registered as attributes, and the reference
  tables are, so QGIS and ``ogrinfo`` list only data.

Frozen: the columns, indexes and registrations as this migration made them.  Never edit; add a new version.
"""

from __future__ import annotations

import shapely
from sqlalchemy import Column, Connection, Float, Integer, MetaData, Table, bindparam, func, select

from .. import gpkg
from ..geometry import Geometry
from . import _ddl

STORAGE_SRID = 4490  # CGCS2000 geographic

metadata = MetaData()

stations = Table(
    "stations", metadata,
    Column("id", Integer, primary_key=True),
    Column("lon", Float),
    Column("lat", Float),
    Column("geom", Geometry("POINT", STORAGE_SRID)),
)
"""The columns of version 4's ``stations`` this version reads, and the one it adds."""

DESCRIPTIONS = {
    "stations": "监测站点: comprehensive stations, runoff plots, rain gauges, hydrological stations",
}

FEATURE_TABLES = (("district_boundaries", "fid"), ("monitoring_watersheds", "fid"), ("responsibility_areas", "fid"),
                  ("disturbance_patches", "fid"), ("treatment_patches", "fid"), ("warning_footprints", "fid"),
                  ("stations", "id"))
"""Every table with a geometry column at this version, with its integer primary key (the RTree's id)."""

OPERATIONAL_TABLES = ("reference_loads", "users", "api_keys", "web_sessions", "audit_log", "login_failures",
                      "login_lockouts")
"""Tables taken out of gpkg_contents."""


def apply(conn: Connection, backend: str) -> None:
    """Add and fill ``stations.geom``, register ``stations`` as a point layer, index every feature table, and take
    the operational tables out of the GeoPackage contents."""
    _ddl.add_columns(conn, "stations", {"geom": Geometry("POINT", STORAGE_SRID)})
    s = stations
    located = conn.execute(select(s.c.id, s.c.lon, s.c.lat).where(s.c.lon.is_not(None), s.c.lat.is_not(None))).all()
    if located:
        conn.execute(s.update().where(s.c.id == bindparam("_id")).values(
            geom=bindparam("_geom", type_=s.c.geom.type)),
            [{"_id": r.id, "_geom": shapely.Point(r.lon, r.lat)} for r in located])
    if backend == "sqlite":
        gpkg.register(conn, s, DESCRIPTIONS["stations"])
        if located:
            box = conn.execute(select(func.min(s.c.lon), func.min(s.c.lat), func.max(s.c.lon), func.max(s.c.lat))
                               .where(s.c.lon.is_not(None), s.c.lat.is_not(None))).one()
            gpkg.update_extent(conn, s, tuple(box))
    for table, key in FEATURE_TABLES:
        _ddl.spatial_index(conn, backend, table, key)
    _ddl.unregister(conn, backend, OPERATIONAL_TABLES)
