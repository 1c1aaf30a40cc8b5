"""Monitoring runs (监测成果): the run row, its unit, land-use and watershed rows, and the districts they are
reported against.

Every function takes a SQLAlchemy ``Connection`` from :meth:`shuibao.store.Store.transaction` (writes) or
:meth:`~shuibao.store.Store.reading` (reads); rows come back as plain dicts.
"""

from __future__ import annotations

from collections.abc import Iterable

import shapely
from sqlalchemy import Connection, delete, func, select

from .. import gpkg, schema

from ._keys import inserted_id
from ..schema import MAX_ROW_ID


def run_id_by_key(conn: Connection, key: str) -> int | None:
    """The id of the run stored under ``key`` (its digest), or None."""
    t = schema.monitoring_runs
    existing = conn.execute(select(t.c.id).where(t.c.run_key == key)).scalar()
    return None if existing is None else int(existing)


def insert_run(conn: Connection, values: dict) -> int:
    """Insert one run row; returns its id."""
    return int(inserted_id(conn.execute(schema.monitoring_runs.insert().values(**values))))


def insert_units(conn: Connection, rows: list[dict]) -> None:
    conn.execute(schema.monitoring_units.insert(), rows)


def insert_landuse(conn: Connection, rows: list[dict]) -> None:
    conn.execute(schema.monitoring_landuse.insert(), rows)


def insert_watersheds(conn: Connection, rows: list[dict]) -> None:
    if rows:
        conn.execute(schema.monitoring_watersheds.insert(), rows)


def record_watershed_extent(conn: Connection, geoms: Iterable) -> None:
    """The GeoPackage's extent of the watershed layer (QGIS zooms to it); PostGIS keeps none."""
    geoms = list(geoms)
    if conn.dialect.name == "sqlite" and geoms:
        b = shapely.total_bounds(geoms)
        gpkg.update_extent(conn, schema.monitoring_watersheds, tuple(map(float, b)))


def run_rows(conn: Connection) -> list:
    """Every run row, oldest first."""
    t = schema.monitoring_runs
    return list(conn.execute(select(t).order_by(t.c.id)))


def latest_run_id(conn: Connection) -> int | None:
    rid = conn.execute(select(func.max(schema.monitoring_runs.c.id))).scalar()
    return None if rid is None else int(rid)


def run_exists(conn: Connection, run_id: int) -> bool:
    t = schema.monitoring_runs
    return run_id <= MAX_ROW_ID and conn.execute(select(t.c.id).where(t.c.id == run_id)).scalar() is not None


def run_row(conn: Connection, run_id: int):
    t = schema.monitoring_runs
    return conn.execute(select(t).where(t.c.id == run_id)).one()


def unit_rows(conn: Connection, run_id: int) -> list[dict]:
    u = schema.monitoring_units
    return [dict(r._mapping) for r in conn.execute(select(u).where(u.c.run_id == run_id).order_by(u.c.seq))]


def landuse_rows(conn: Connection, run_id: int) -> list[dict]:
    lu = schema.monitoring_landuse
    return [dict(r._mapping) for r in conn.execute(select(lu).where(lu.c.run_id == run_id)
                                                   .order_by(lu.c.class_code))]


def delete_run(conn: Connection, run_id: int) -> None:
    """The run and every row that belongs to it."""
    for t in (schema.monitoring_watersheds, schema.monitoring_landuse, schema.monitoring_units):
        conn.execute(delete(t).where(t.c.run_id == run_id))
    conn.execute(delete(schema.monitoring_runs).where(schema.monitoring_runs.c.id == run_id))


def district_rows(conn: Connection) -> list[dict]:
    """Every district in the plan's order."""
    d = schema.districts
    return [dict(r._mapping) for r in conn.execute(select(d).order_by(d.c.seq))]
