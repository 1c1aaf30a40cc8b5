"""Use cases over the database: init, upgrade, status; the plan's reference data as the store's rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import shapely

from shuibao.plan.boundaries import SOURCE as BOUNDARY_SOURCE
from shuibao.plan.boundaries import Boundary, build_boundaries
from shuibao.plan.reference import GRADES, LOSS_GRADES, PlanReference, load_reference
from shuibao.store import Store, StoreStatus
from shuibao.errors import InputError, N_
from shuibao.store.reference_loader import load_reference as write_reference, read_boundaries
from shuibao.store.repositories.limits import MAX_ROW_ID

__all__ = ["MAX_ROW_ID", "InitResult", "init", "upgrade", "status", "require_current", "locations", "reference_rows"]


@dataclass(frozen=True)
class InitResult:
    location: str
    backend: str
    migrations: tuple[str, ...]
    counts: dict[str, int]


def init(target: str | None, *, boundaries: bool = True) -> InitResult:
    """Create or upgrade the schema, then (re)load the plan's reference data in one transaction.

    Idempotent: a second run rewrites the same rows.  The reference data and the
    boundaries are prepared before the transaction opens, so a bad data file
    fails before anything is written.
    """
    ref = load_reference()
    polygons = build_boundaries(ref) if boundaries else None
    with Store(target, create=True) as store:
        applied = store.upgrade()
        with store.transaction() as conn:
            store.require_current(conn)
            rows, extent = reference_rows(ref, polygons)
            counts = write_reference(conn, rows, extent=extent,
                                     boundary_source=BOUNDARY_SOURCE if polygons else None)
        return InitResult(store.location, store.backend, tuple(applied), counts)


def _f(v: Decimal | None) -> float | None:
    return None if v is None else float(v)


def reference_rows(ref: PlanReference, boundaries: Sequence[Boundary] | None
                   ) -> tuple[dict[str, list[dict]], tuple[float, ...] | None]:
    """The rows of every reference table (table name → rows, in the order they are written) and the
    boundaries' extent (None without boundaries)."""
    by_seq: dict[int | None, str] = {d.seq: d.code for d in ref.districts}  # looked up by a row's seq, maybe None
    rows: dict[str, list[dict]] = {}
    rows["regions"] = [dict(code=r.code, seq=r.seq, name=r.name, name_en=r.name_en) for r in ref.regions]
    rows["districts"] = [dict(
        code=d.code, seq=d.seq, name=d.name, full_name=d.full_name, name_en=d.name_en, adcode=d.adcode,
        kind=d.kind, region_code=d.region, three_gorges=d.three_gorges, parent_code=d.parent_code,
        former_names="|".join(d.former_names),
    ) for d in ref.districts]
    rows["plan_erosion_2020"] = [dict(
        source=r.source, seq=r.seq, label=r.label, row_kind=r.row_kind,
        district_code=by_seq.get(r.seq) if r.row_kind == "district" else None, total_km2=float(r.total_km2),
        **{f"{g}_km2": _f(r.area_km2[g]) for g in GRADES}, **{f"{g}_pct": _f(r.pct[g]) for g in GRADES},
        loss_km2=_f(r.loss_km2), loss_pct=_f(r.loss_pct),
    ) for r in ref.schedule1]
    rows["plan_targets"] = [dict(
        source=r.source, seq=r.seq, label=r.label, region_label=r.region_label, row_kind=r.row_kind,
        district_code=by_seq.get(r.seq) if r.row_kind == "district" else None,
        rate_2020_pct=float(r.rate_2020_pct), target_2025_pct=float(r.target_2025_pct),
    ) for r in ref.schedule2]
    rows["plan_landuse_2020"] = [dict(
        source=r.source, seq=r.seq, label=r.label, row_kind=r.row_kind, loss_km2=float(r.loss_km2),
        **{f"{g}_km2": float(r.area_km2[g]) for g in LOSS_GRADES},
    ) for r in ref.table2]
    rows["plan_indicators"] = [dict(
        source=i.source, key=i.key, label=i.label, status_2020=_f(i.status_2020), target_2025=float(i.target_2025),
        unit=i.unit, comparison=i.comparison, attribute=i.attribute,
    ) for i in ref.indicators]
    rows["plan_governance_targets"] = [dict(
        source=g.source, item=g.item or None, key=g.key, label=g.label, quantity=float(g.quantity), unit=g.unit,
        counts_toward_new_treatment=g.counts_toward_new_treatment,
    ) for g in ref.governance]
    rows["plan_stations"] = [dict(
        source=s.source, item=s.item, district_code=s.district_code, label=s.label, kind=s.kind, count=s.count,
    ) for s in ref.stations]
    bounds = []
    for b in boundaries or ():
        plan_area = sum(float(ref.erosion_of(d).total_km2) for d in b.covers)
        bounds.append(dict(
            district_code=b.district.code, adcode=b.adcode, name=b.district.name,
            covers="|".join(d.name for d in b.covers), area_km2=b.area_km2, plan_area_km2=plan_area,
            deviation_pct=(b.area_km2 - plan_area) / plan_area * 100, source=BOUNDARY_SOURCE, geom=b.geometry,
        ))
    rows["district_boundaries"] = bounds
    extent = shapely.total_bounds([b.geometry for b in boundaries]) if boundaries else None
    return rows, tuple(map(float, extent)) if extent is not None else None


def upgrade(target: str | None) -> tuple[str, list[str]]:
    with Store(target) as store:
        return store.location, store.upgrade()


def status(target: str | None) -> StoreStatus:
    with Store(target) as store:
        return store.status()


def require_current(target: str | None) -> str:
    """The database's location if it exists at this Shuibao's schema version; else the reason, as an error."""
    with Store(target) as store, store.reading() as conn:
        store.require_current(conn)
        return store.location


def locations(target: str | None) -> list[str]:
    """How error messages name the database (``Store.location``, and a file's absolute path), longest first —
    for the web, which must not show the server's paths or URLs to its callers."""
    from pathlib import Path

    from shuibao.store.store import describe, resolve_target, to_url

    url = to_url(resolve_target(target))
    found = {describe(url)}
    if url.get_backend_name() == "sqlite" and url.database:
        found.add(str(Path(url.database).resolve()))
    return sorted(found, key=len, reverse=True)


def stored_boundaries(db: str | None) -> tuple[list[dict], str]:
    """The district polygons loaded in the store (``district_code``, ``name``, ``geom`` in EPSG:4490) and the
    store's location; an InputError saying what to do when the store has none.  Used by every run that takes
    its districts from the store (the monitoring run, the sloping-farmland finder)."""
    with Store(db) as store, store.reading() as conn:
        store.require_current(conn)
        rows = read_boundaries(conn)
        location = store.location
    if not rows:
        raise InputError(N_("{location} has no district boundaries; run `shuibao db init` (with boundaries) or give "
                         "a districts polygon file", location=location))
    return rows, location
