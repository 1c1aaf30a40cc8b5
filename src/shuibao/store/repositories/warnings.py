"""Rain warnings (暴雨预警): the runs, their footprints per level and their hits (the sites with their tasks),
and what a warning reads of a monitoring run (its output folder and its small watersheds)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import Connection, Row, func, select

from .. import schema

from ._keys import inserted_id


def add_warning_run(conn: Connection, **values) -> int:
    """Insert one ``warning_runs`` row; returns its id."""
    return inserted_id(conn.execute(schema.warning_runs.insert().values(**values)))


def add_footprint(conn: Connection, **values) -> None:
    conn.execute(schema.warning_footprints.insert().values(**values))


def add_hits(conn: Connection, rows: list[dict]) -> None:
    if rows:
        conn.execute(schema.warning_hits.insert(), rows)


def warning_exists(conn: Connection, run_id: int) -> bool:
    w = schema.warning_runs
    return conn.execute(select(w.c.id).where(w.c.id == run_id)).first() is not None


def hits_of(conn: Connection, run_id: int) -> list[dict]:
    """The hits of a warning, by kind and label."""
    t = schema.warning_hits
    return [dict(r._mapping) for r in conn.execute(select(t).where(t.c.run_id == run_id)
                                                   .order_by(t.c.target_kind, t.c.target_label))]


def footprints_of(conn: Connection, run_id: int) -> list[dict]:
    """Every column of the footprints of a warning (geometry included)."""
    fp = schema.warning_footprints
    return [dict(r._mapping) for r in conn.execute(select(fp).where(fp.c.run_id == run_id))]


def footprint_levels(conn: Connection, run_id: int) -> list[dict]:
    """level, threshold_mm, area_km2 of a warning's footprints, in the order they were stored."""
    fp = schema.warning_footprints
    return [dict(r._mapping) for r in conn.execute(
        select(fp.c.level, fp.c.threshold_mm, fp.c.area_km2).where(fp.c.run_id == run_id).order_by(fp.c.fid))]


def newest_warning_id(conn: Connection, day: date | None = None) -> int | None:
    """The newest warning (of ``day``, if given)."""
    w = schema.warning_runs
    q = select(func.max(w.c.id))
    if day is not None:
        q = q.where(w.c.rain_date == day)
    return conn.execute(q).scalar()


def warning_head(conn: Connection, run_id: int) -> dict:
    w = schema.warning_runs
    return dict(conn.execute(select(w).where(w.c.id == run_id)).one()._mapping)


def warnings_between(conn: Connection, first: date, last: date) -> Sequence[Row]:
    """(id, rain_date) of the warnings of the days first…last."""
    w = schema.warning_runs
    return conn.execute(select(w.c.id, w.c.rain_date).where(w.c.rain_date >= first, w.c.rain_date <= last)).all()


def hits_by_kind(conn: Connection, run_ids: list[int]) -> Sequence[Row]:
    """(target_kind, count) of the hits of the warnings ``run_ids``."""
    h = schema.warning_hits
    return conn.execute(select(h.c.target_kind, func.count()).where(h.c.run_id.in_(run_ids))
                        .group_by(h.c.target_kind)).all()


def monitoring_run_row(conn: Connection, run_id: int):
    """The ``monitoring_runs`` row of a run (its output folder holds the grade and watershed rasters)."""
    m = schema.monitoring_runs
    return conn.execute(select(m).where(m.c.id == run_id)).one()


def watershed_names(conn: Connection, run_id: int) -> dict:
    """label → (label, code, name, district_code) of a monitoring run's small watersheds."""
    w = schema.monitoring_watersheds
    return {r.label: r for r in conn.execute(select(w.c.label, w.c.code, w.c.name, w.c.district_code)
                                             .where(w.c.run_id == run_id))}
