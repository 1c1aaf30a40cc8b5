"""Write the plan's reference data (and district boundaries) into a store.

Loading replaces the reference tables' rows inside the caller's transaction,
so ``db init`` is idempotent: running it twice leaves the same rows, and a
failure half-way leaves the previous load in place.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal

import shapely
from sqlalchemy import Connection, delete, select

from .. import __version__
from ..plan.boundaries import SOURCE as BOUNDARY_SOURCE
from ..plan.boundaries import Boundary
from ..plan.reference import GRADES, LOSS_GRADES, PlanReference, data_dir
from . import gpkg, schema


def _f(v: Decimal | None) -> float | None:
    return None if v is None else float(v)


def data_checksum() -> str:
    """SHA-256 over the reference CSV files, for provenance."""
    h = hashlib.sha256()
    for path in sorted(data_dir().glob("*.csv")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def load_reference(conn: Connection, ref: PlanReference, boundaries: Sequence[Boundary] | None,
                   backend: str) -> dict[str, int]:
    """Replace the reference tables' content; returns the number of rows written per table."""
    for table in schema.REFERENCE_TABLES:
        conn.execute(delete(table))
    counts: dict[str, int] = {}

    def put(table, rows: list[dict]) -> None:
        if rows:
            conn.execute(table.insert(), rows)
        counts[table.name] = len(rows)

    put(schema.regions, [dict(code=r.code, seq=r.seq, name=r.name, name_en=r.name_en) for r in ref.regions])
    put(schema.districts, [dict(
        code=d.code, seq=d.seq, name=d.name, full_name=d.full_name, name_en=d.name_en, adcode=d.adcode,
        kind=d.kind, region_code=d.region, three_gorges=d.three_gorges, parent_code=d.parent_code,
        former_names="|".join(d.former_names),
    ) for d in ref.districts])
    by_seq = {d.seq: d.code for d in ref.districts}
    put(schema.plan_erosion_2020, [dict(
        source=r.source, seq=r.seq, label=r.label, row_kind=r.row_kind,
        district_code=by_seq.get(r.seq) if r.row_kind == "district" else None, total_km2=float(r.total_km2),
        **{f"{g}_km2": _f(r.area_km2[g]) for g in GRADES}, **{f"{g}_pct": _f(r.pct[g]) for g in GRADES},
        loss_km2=_f(r.loss_km2), loss_pct=_f(r.loss_pct),
    ) for r in ref.schedule1])
    put(schema.plan_targets, [dict(
        source=r.source, seq=r.seq, label=r.label, region_label=r.region_label, row_kind=r.row_kind,
        district_code=by_seq.get(r.seq) if r.row_kind == "district" else None,
        rate_2020_pct=float(r.rate_2020_pct), target_2025_pct=float(r.target_2025_pct),
    ) for r in ref.schedule2])
    put(schema.plan_landuse_2020, [dict(
        source=r.source, seq=r.seq, label=r.label, row_kind=r.row_kind, loss_km2=float(r.loss_km2),
        **{f"{g}_km2": float(r.area_km2[g]) for g in LOSS_GRADES},
    ) for r in ref.table2])
    put(schema.plan_indicators, [dict(
        source=i.source, key=i.key, label=i.label, status_2020=_f(i.status_2020), target_2025=float(i.target_2025),
        unit=i.unit, comparison=i.comparison, attribute=i.attribute,
    ) for i in ref.indicators])
    put(schema.plan_governance_targets, [dict(
        source=g.source, item=g.item or None, key=g.key, label=g.label, quantity=float(g.quantity), unit=g.unit,
        counts_toward_new_treatment=g.counts_toward_new_treatment,
    ) for g in ref.governance])
    put(schema.plan_stations, [dict(
        source=s.source, item=s.item, district_code=s.district_code, label=s.label, kind=s.kind, count=s.count,
    ) for s in ref.stations])
    rows = []
    for b in boundaries or ():
        plan_area = sum(float(ref.erosion_of(d).total_km2) for d in b.covers)
        rows.append(dict(
            district_code=b.district.code, adcode=b.adcode, name=b.district.name,
            covers="|".join(d.name for d in b.covers), area_km2=b.area_km2, plan_area_km2=plan_area,
            deviation_pct=(b.area_km2 - plan_area) / plan_area * 100, source=BOUNDARY_SOURCE, geom=b.geometry,
        ))
    put(schema.district_boundaries, rows)
    if backend == "sqlite":
        extent = shapely.total_bounds([b.geometry for b in boundaries]) if boundaries else None
        gpkg.update_extent(conn, schema.district_boundaries, tuple(map(float, extent)) if extent is not None else None)
    conn.execute(schema.reference_loads.insert().values(
        loaded_at=datetime.now(UTC), software_version=__version__, data_checksum=data_checksum(),
        boundaries=bool(boundaries), boundary_source=BOUNDARY_SOURCE if boundaries else None,
    ))
    return counts


def read_boundaries(conn: Connection) -> list[dict]:
    """District boundaries as stored (shapely geometries in EPSG:4490)."""
    t = schema.district_boundaries
    return [dict(row._mapping) for row in conn.execute(select(t).order_by(t.c.fid))]
