"""Disturbance patches (扰动图斑): stored ids, bulk insert with the GeoPackage extent, periods, a period's rows."""

from __future__ import annotations

from collections.abc import Sequence
import shapely
from sqlalchemy import Connection, Row, func, select

from shuibao.store import gpkg, schema


def stored_patch_codes(conn: Connection, period: str, codes: set[str]) -> set[str]:
    """Which of ``codes`` the period already holds (asked 500 at a time)."""
    t = schema.disturbance_patches
    stored: set[str] = set()
    items = sorted(codes)
    for k in range(0, len(items), 500):
        stored |= set(conn.execute(select(t.c.patch_code).where(
            t.c.period == period, t.c.patch_code.in_(items[k:k + 500]))).scalars())
    return stored


def insert_patches(conn: Connection, rows: list[dict]) -> None:
    """Store patches; on a GeoPackage its recorded extent is widened to cover them."""
    conn.execute(schema.disturbance_patches.insert(), rows)
    if conn.dialect.name == "sqlite":
        b = shapely.total_bounds([r["geom"] for r in rows if r["geom"] is not None])
        gpkg.update_extent(conn, schema.disturbance_patches, tuple(map(float, b)))


def period_summaries(conn: Connection) -> list[dict]:
    """One row per period: patches, area, first and last image date."""
    t = schema.disturbance_patches
    q = (select(t.c.period, func.count().label("patches"), func.sum(t.c.area_m2).label("area_m2"),
                func.min(t.c.image_date).label("first_image"), func.max(t.c.image_date).label("last_image"))
         .group_by(t.c.period).order_by(t.c.period))
    return [dict(r._mapping) for r in conn.execute(q)]


def latest_period(conn: Connection) -> str | None:
    """The period of the most recently imaged patch (None when no patch is stored)."""
    t = schema.disturbance_patches
    return conn.execute(select(t.c.period).order_by(t.c.image_date.desc(), t.c.fid.desc()).limit(1)).scalar()


def period_patches(conn: Connection, period: str) -> Sequence[Row]:
    """The patches of one period (fid, patch_code, image_date, kind, industry, geom) in fid order."""
    t = schema.disturbance_patches
    return conn.execute(select(t.c.fid, t.c.patch_code, t.c.image_date, t.c.kind, t.c.industry, t.c.geom)
                        .where(t.c.period == period).order_by(t.c.fid)).all()


def patch_header(conn: Connection, fid: int):
    """One patch's fid, patch_code, period, image_date and district_code (None when it does not exist)."""
    d = schema.disturbance_patches
    return conn.execute(select(d.c.fid, d.c.patch_code, d.c.period, d.c.image_date, d.c.district_code)
                        .where(d.c.fid == fid)).first()


def patch_count(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(schema.disturbance_patches)).scalar() or 0)


def periods_imaged_between(conn: Connection, start, end) -> list[str]:
    """Periods with a patch imaged in [start, end], in order."""
    d = schema.disturbance_patches
    return [x for (x,) in conn.execute(select(d.c.period).where(d.c.image_date >= start, d.c.image_date <= end)
                                       .distinct().order_by(d.c.period))]


def period_total(conn: Connection, period: str) -> tuple[int, float | None]:
    """(patches, area m²) of one period."""
    d = schema.disturbance_patches
    return tuple(conn.execute(select(func.count(), func.sum(d.c.area_m2)).where(d.c.period == period)).one())
