"""The queries behind the shared feature collections (OGC API Features, downloads): one per collection, each
selecting its id column, its geometry (``geom``; or lon/lat columns) and its properties; and the stamp that
changes when a collection does."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Row, Select, Table, func, select

from shuibao.store import schema


def _patches(conn):
    t, f, r = schema.disturbance_patches, schema.compliance_findings, schema.compliance_runs
    latest = select(func.max(r.c.id).label("rid"), r.c.period).group_by(r.c.period).subquery()
    return (select(t.c.fid, t.c.patch_code, t.c.period, t.c.image_date, t.c.kind, t.c.area_m2, t.c.district_code,
                   f.c.category, f.c.project_id, t.c.geom)
            .join(latest, latest.c.period == t.c.period, isouter=True)
            .join(f, (f.c.patch_fid == t.c.fid) & (f.c.run_id == latest.c.rid), isouter=True))


def _projects(conn):
    p, a = schema.projects, schema.responsibility_areas
    return (select(a.c.fid, p.c.id.label("project_id"), p.c.code, p.c.name, p.c.builder, p.c.industry, p.c.status,
                   p.c.district_codes, a.c.version, a.c.area_kind, a.c.area_m2, a.c.geom)
            .join(p, p.c.id == a.c.project_id).where(a.c.superseded_at.is_(None)))


def _treatment(conn):
    t, tp = schema.treatment_patches, schema.treatment_projects
    return (select(t.c.fid, t.c.patch_code, tp.c.code.label("project_code"), tp.c.kind, t.c.measure, t.c.year,
                   t.c.status, t.c.area_m2, t.c.district_code, t.c.geom).join(tp, tp.c.id == t.c.project_id))


def _districts(conn):
    b, d = schema.district_boundaries, schema.districts
    return (select(b.c.fid, b.c.district_code, b.c.name, d.c.region_code, d.c.three_gorges, b.c.area_km2, b.c.geom)
            .join(d, d.c.code == b.c.district_code))


def _stations(conn):
    s = schema.stations
    return select(s.c.id, s.c.code, s.c.name, s.c.kind, s.c.status, s.c.district_code, s.c.lon, s.c.lat,
                  s.c.elevation_m, s.c.plan_item, s.c.established_on)


def _watersheds(conn):
    w, m = schema.monitoring_watersheds, schema.monitoring_runs
    latest = conn.execute(select(func.max(m.c.id))).scalar()
    return select(w.c.fid, w.c.run_id, w.c.code, w.c.name, w.c.district_code, w.c.total_km2, w.c.loss_km2,
                  w.c.rate_pct, w.c.mean_modulus_t_km2, w.c.geom).where(w.c.run_id == (latest or -1))


@dataclass(frozen=True)
class Source:
    """Where a collection's features come from: its table, id column, query, and the columns of other tables
    whose changes alter its properties without adding rows to it."""

    table: Table
    key: str
    query: Callable[[Connection], Select]
    depends: Callable[[], tuple] = lambda: ()


SOURCES = {
    "districts": Source(schema.district_boundaries, "fid", _districts),
    "watersheds": Source(schema.monitoring_watersheds, "fid", _watersheds),
    "patches": Source(schema.disturbance_patches, "fid", _patches, lambda: (schema.compliance_runs.c.id,)),
    "projects": Source(schema.responsibility_areas, "fid", _projects, lambda: (schema.projects.c.updated_at,)),
    "treatment": Source(schema.treatment_patches, "fid", _treatment, lambda: (schema.treatment_patches.c.import_id,)),
    # a station import updates rows in place (a moved or renamed station): every import leaves a lineage row
    "stations": Source(schema.stations, "id", _stations, lambda: (schema.supervision_imports.c.id,)),
}


def collection_key(cid: str) -> str:
    """The id column of a collection."""
    return SOURCES[cid].key


def collection_stamp(conn: Connection, cid: str) -> tuple:
    """Changes when the collection does: its row count and largest id, and the newest row of what it depends on."""
    src = SOURCES[cid]
    stamp = tuple(conn.execute(select(func.count(), func.max(getattr(src.table.c, src.key)))).one())
    for col in src.depends():
        stamp += (conn.execute(select(func.max(col))).scalar(),)
    return stamp


def collection_rows(conn: Connection, cid: str) -> Sequence[Row]:
    """Every feature row of a collection, by id."""
    sub = SOURCES[cid].query(conn).subquery()
    return conn.execute(select(sub).order_by(sub.c[SOURCES[cid].key])).all()


def collection_row(conn: Connection, cid: str, fid: int):
    """One feature row of a collection (None when there is none with that id)."""
    sub = SOURCES[cid].query(conn).subquery()
    return conn.execute(select(sub).where(sub.c[SOURCES[cid].key] == fid)).first()
