"""Treatment projects, patches and re-check samples (综合治理图斑): the SQL of the governance services.

Every function takes a SQLAlchemy ``Connection`` (:meth:`shuibao.store.Store.transaction` for writes,
:meth:`~shuibao.store.Store.reading` for reads).  Patch geometries are EPSG:4490.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, select

from shuibao.store import gpkg, schema

from ._keys import inserted_id


def project_ids(conn: Connection) -> dict[str, int]:
    """Project code → id, of every stored treatment project."""
    tp = schema.treatment_projects
    return {r.code: r.id for r in conn.execute(select(tp.c.code, tp.c.id))}


def patch_fids(conn: Connection) -> dict[str, int]:
    """Patch code → fid, of every stored treatment patch."""
    t = schema.treatment_patches
    return {r.patch_code: r.fid for r in conn.execute(select(t.c.patch_code, t.c.fid))}


def insert_project(conn: Connection, **values) -> int:
    """A new treatment project (code, name, kind, district_code, funding_source, created_at); its id."""
    return inserted_id(conn.execute(schema.treatment_projects.insert().values(**values)))


def insert_patch(conn: Connection, patch_code: str, values: dict) -> None:
    conn.execute(schema.treatment_patches.insert().values(patch_code=patch_code, **values))


def update_patch(conn: Connection, fid: int, values: dict) -> None:
    t = schema.treatment_patches
    conn.execute(t.update().where(t.c.fid == fid).values(**values))


def record_extent(conn: Connection, bounds: tuple[float, ...]) -> None:
    """Keep the patch layer's extent in a GeoPackage's contents (QGIS zooms to it); PostGIS has no such table."""
    if conn.dialect.name == "sqlite":
        gpkg.update_extent(conn, schema.treatment_patches, bounds)


def patch_progress_rows(conn: Connection) -> list[tuple]:
    """(fid, project_id, kind, district_code, year, status, area_m2, cost_wan) of every patch."""
    t, tp = schema.treatment_patches, schema.treatment_projects
    q = select(t.c.fid, t.c.project_id, tp.c.kind, t.c.district_code, t.c.year, t.c.status, t.c.area_m2,
               t.c.cost_wan).join(tp, tp.c.id == t.c.project_id)
    return [tuple(r) for r in conn.execute(q)]


def district_names(conn: Connection) -> dict[str, str]:
    """District code → name."""
    d = schema.districts
    return {r.code: r.name for r in conn.execute(select(d.c.code, d.c.name))}


def patch_fids_where(conn: Connection, *, status: str | None = None, year: int | None = None) -> list[int]:
    """Fids (ascending) of the patches in ``status`` and ``year`` (None: any)."""
    t = schema.treatment_patches
    q = select(t.c.fid).order_by(t.c.fid)
    if status:
        q = q.where(t.c.status == status)
    if year:
        q = q.where(t.c.year == year)
    return [int(i) for i in conn.execute(q).scalars()]


def insert_sample(conn: Connection, **values) -> int:
    """A stored re-check sample (seed, ratio, criteria_json, population_json, selected_json, recorded_*)."""
    return inserted_id(conn.execute(schema.treatment_samples.insert().values(**values)))


def patch_codes(conn: Connection, fids: Iterable[int]) -> dict[int, str]:
    """Fid → patch code, of the given patches."""
    t = schema.treatment_patches
    return dict(conn.execute(select(t.c.fid, t.c.patch_code).where(t.c.fid.in_(list(fids)))).all())


def patches_with_geometry(conn: Connection, statuses: Iterable[str]) -> list[dict]:
    """Patches in ``statuses`` by fid: fid, patch_code, measure, status, year, district_code, kind and geom."""
    t, tp = schema.treatment_patches, schema.treatment_projects
    q = (select(t.c.fid, t.c.patch_code, t.c.measure, t.c.status, t.c.year, t.c.district_code, tp.c.kind, t.c.geom)
         .join(tp, tp.c.id == t.c.project_id).where(t.c.status.in_(list(statuses))).order_by(t.c.fid))
    return [dict(r._mapping) for r in conn.execute(q)]


__all__ = ["district_names", "insert_patch", "insert_project", "insert_sample", "patch_codes", "patch_fids",
           "patch_fids_where", "patch_progress_rows", "patches_with_geometry", "project_ids", "record_extent",
           "update_patch"]
