"""Production and construction projects (生产建设项目): their rows, events (``project_events``) and versioned
responsibility areas (``responsibility_areas``; a changed polygon supersedes the current one)."""

from __future__ import annotations

from collections.abc import Sequence
from collections import Counter

import shapely
from sqlalchemy import Connection, Row, func, select

from shuibao.store import gpkg, schema


def project_statuses(conn: Connection) -> dict[str, str]:
    """code → status of every project."""
    t = schema.projects
    return dict(conn.execute(select(t.c.code, t.c.status)).all())


def projects_by_code(conn: Connection) -> dict:
    """code → full row of every project."""
    return {r.code: r for r in conn.execute(select(schema.projects))}


def project_by_code(conn: Connection, code: str):
    """The full row of one project (None when not known)."""
    p = schema.projects
    return conn.execute(select(p).where(p.c.code == code)).first()


def project_by_id(conn: Connection, pid: int):
    """The full row of one project (None when not known)."""
    p = schema.projects
    return conn.execute(select(p).where(p.c.id == pid)).first()


def project_case_header(conn: Connection, code: str):
    """id, code, builder and district_codes of one project, for a case about it (None when not known)."""
    p = schema.projects
    return conn.execute(select(p.c.id, p.c.code, p.c.builder, p.c.district_codes).where(p.c.code == code)).first()


def project_id(conn: Connection, code: str) -> int | None:
    t = schema.projects
    return conn.execute(select(t.c.id).where(t.c.code == code)).scalar()


def insert_projects(conn: Connection, values: list[dict]) -> dict[str, int]:
    """Store new projects; code → new id."""
    t = schema.projects
    return {row.code: row.id for row in conn.execute(t.insert().returning(t.c.id, t.c.code), values)}


def update_project(conn: Connection, pid: int, **values) -> None:
    t = schema.projects
    conn.execute(t.update().where(t.c.id == pid).values(**values))


def add_events(conn: Connection, events: list[dict]) -> None:
    """Append ``project_events`` rows (project_id, event, before/after JSON, note, recorded_at/by)."""
    conn.execute(schema.project_events.insert(), events)


def add_event(conn: Connection, **values) -> None:
    conn.execute(schema.project_events.insert().values(**values))


def project_events(conn: Connection, pid: int) -> list[dict]:
    e = schema.project_events
    return [dict(r._mapping) for r in conn.execute(select(e).where(e.c.project_id == pid).order_by(e.c.id))]


def current_area_heads(conn: Connection) -> dict:
    """project id → its current area (fid, project_id, version, geom, area_kind)."""
    a = schema.responsibility_areas
    return {r.project_id: r for r in conn.execute(select(a.c.fid, a.c.project_id, a.c.version, a.c.geom,
                                                          a.c.area_kind).where(a.c.superseded_at.is_(None)))}


def supersede_area(conn: Connection, fid: int, at) -> None:
    a = schema.responsibility_areas
    conn.execute(a.update().where(a.c.fid == fid).values(superseded_at=at))


def insert_areas(conn: Connection, rows: list[dict]) -> None:
    conn.execute(schema.responsibility_areas.insert(), rows)


def refresh_area_extent(conn: Connection) -> None:
    """On a GeoPackage, the recorded extent of the current areas (PostGIS needs none)."""
    if conn.dialect.name != "sqlite":
        return
    t = schema.responsibility_areas
    geoms = [r.geom for r in conn.execute(select(t.c.geom).where(t.c.superseded_at.is_(None)))]
    if geoms:
        gpkg.update_extent(conn, t, tuple(map(float, shapely.total_bounds(geoms))))


def projects_with_current_area(conn: Connection, status: str | None = None) -> list[dict]:
    """Projects (every column) with their current area's version (``area_version``), m² and kind, by code."""
    t, a = schema.projects, schema.responsibility_areas
    q = (select(t, a.c.version.label("area_version"), a.c.area_m2, a.c.area_kind)
         .join(a, (a.c.project_id == t.c.id) & a.c.superseded_at.is_(None), isouter=True).order_by(t.c.code))
    if status:
        q = q.where(t.c.status == status)
    return [dict(r._mapping) for r in conn.execute(q)]


def current_areas(conn: Connection) -> list[dict]:
    """Every project with its current area (geometry None where it has none), in id order."""
    t, a = schema.projects, schema.responsibility_areas
    q = (select(t.c.id, t.c.code, t.c.name, t.c.builder, t.c.industry, t.c.status, t.c.district_codes,
                t.c.approval_date, t.c.construction_start, a.c.geom, a.c.area_kind, a.c.version)
         .join(a, (a.c.project_id == t.c.id) & a.c.superseded_at.is_(None), isouter=True).order_by(t.c.id))
    return [dict(r._mapping) for r in conn.execute(q)]


def projects_in_status(conn: Connection, status: str) -> Sequence[Row]:
    p = schema.projects
    return conn.execute(select(p).where(p.c.status == status)).all()


def project_count(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(schema.projects)).scalar() or 0)


def approvals_between(conn: Connection, start, end) -> tuple[int, float | None]:
    """(projects, total area hm²) approved in [start, end]."""
    p = schema.projects
    return tuple(conn.execute(select(func.count(), func.sum(p.c.total_area_hm2)).where(
        p.c.approval_date >= start, p.c.approval_date <= end)).one())


def status_counts(conn: Connection) -> Counter:
    return Counter(s for (s,) in conn.execute(select(schema.projects.c.status)))
