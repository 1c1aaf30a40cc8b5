"""Reporting units of a monitoring run and the tables in the plan's layouts (附表1, 表2, 附表2).

A *zone* is one polygon label on the grid; it stands for one or more of the
plan's districts (the 500110 polygon stands for 綦江区 and 万盛经开区 together).
The reporting units are the zones, the three regions (一区两群), the Three
Gorges Reservoir Area and the city; the aggregates are exact sums of their
zones' integer cell counts, so districts sum to regions and the city by
construction.  Areas are cell counts × the ground area of one cell (km²).

水土保持率 (soil-conservation rate) = area of 微度 (below the tolerance) / land
area × 100 — the plan's definition (附表1: 微度 share; 附表2 targets).  A zone's
2025 target is its districts' targets weighted by their 附表1 land areas, as
:mod:`shuibao.plan.rates` does for the regions, so a region's target here is
the plan's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..plan.rates import aggregate
from ..plan.reference import District, PlanReference

GRADES = ("slight", "light", "moderate", "intense", "very_intense", "severe")
GRADES_ZH = ("微度", "轻度", "中度", "强烈", "极强烈", "剧烈")
LOSS = GRADES[1:]


@dataclass(frozen=True)
class Zone:
    label: int  # 1…n on the grid
    code: str  # the plan code of the first district it covers
    name: str
    covers: tuple[District, ...]

    @property
    def region(self) -> str:
        return self.covers[0].region

    @property
    def three_gorges(self) -> bool:
        return self.covers[0].three_gorges


def make_zone(label: int, covers: tuple[District, ...]) -> Zone:
    """A zone for these districts; they must share region and Three Gorges membership."""
    if len({(d.region, d.three_gorges) for d in covers}) != 1:
        raise ValueError(f"zone {label} covers districts of different regions: {[d.name for d in covers]}")
    name = covers[0].name if len(covers) == 1 else f"{covers[0].name}（含{'、'.join(d.name for d in covers[1:])}）"
    return Zone(label, covers[0].code, name, covers)


@dataclass
class UnitRow:
    seq: int
    level: str  # district | region | three_gorges | city | outside
    code: str
    name: str
    covers: str
    cells: np.ndarray  # cells per grade 1…6
    soil_loss_sum: float  # Σ modulus over the unit's cells, t/(km²·a)
    cell_area_km2: float
    target_2025_pct: float | None = None
    rate_2020_plan_pct: float | None = None

    @property
    def area_km2(self) -> dict[str, float]:
        return {g: float(self.cells[i]) * self.cell_area_km2 for i, g in enumerate(GRADES)}

    @property
    def total_km2(self) -> float:
        return float(self.cells.sum()) * self.cell_area_km2

    @property
    def loss_km2(self) -> float:
        return float(self.cells[1:].sum()) * self.cell_area_km2

    @property
    def rate_pct(self) -> float | None:
        n = int(self.cells.sum())
        return float(self.cells[0]) / n * 100 if n else None

    @property
    def mean_modulus(self) -> float | None:
        n = int(self.cells.sum())
        return self.soil_loss_sum / n if n else None

    def record(self) -> dict:
        """The row as a flat dict: 附表1 columns, rate, target and gap."""
        area, total, loss = self.area_km2, self.total_km2, self.loss_km2
        rate = self.rate_pct
        target = self.target_2025_pct
        row = {"seq": self.seq, "level": self.level, "code": self.code, "name": self.name, "covers": self.covers,
               "total_km2": total, "slight_km2": area["slight"],
               "slight_pct": area["slight"] / total * 100 if total else None}
        for g in LOSS:
            row[f"{g}_km2"] = area[g]
            row[f"{g}_pct"] = area[g] / loss * 100 if loss else None  # 附表1: share of the loss area
        row.update(loss_km2=loss, loss_pct=loss / total * 100 if total else None, rate_pct=rate,
                   rate_2020_plan_pct=self.rate_2020_plan_pct, target_2025_pct=target,
                   gap_pp=(target - rate) if target is not None and rate is not None else None,
                   gap_km2=(target / 100 * total - area["slight"]) if target is not None and total else None,
                   mean_modulus_t_km2=self.mean_modulus, soil_loss_t=self.soil_loss_sum * self.cell_area_km2)
        return row


def unit_rows(ref: PlanReference, zones: list[Zone], zone_grade: np.ndarray, zone_loss: np.ndarray,
              cell_area_km2: float) -> list[UnitRow]:
    """Districts (zones), the three regions, 三峡库区, the city, and the cells outside every zone."""
    rows: list[UnitRow] = []

    def add(level, code, name, members: list[Zone]) -> None:
        labels = [z.label for z in members]
        # an aggregate's target and members are those of the zones with data: a run over part of the
        # city (one district's own run) compares with that part's targets, a whole-city run with the plan's
        if level != "district":
            members = [z for z in members if zone_grade[z.label, 1:].any()]
        districts = [d for z in members for d in z.covers]
        plan = aggregate(ref, name, code, level, districts) if districts else None
        rows.append(UnitRow(len(rows) + 1, level, code, name, "|".join(d.name for d in districts),
                            zone_grade[labels, 1:].sum(axis=0), float(zone_loss[labels].sum()), cell_area_km2,
                            float(plan.target_2025_pct) if plan else None,
                            float(plan.rate_2020_pct) if plan else None))

    by_seq = sorted(zones, key=lambda z: z.covers[0].seq)
    for z in by_seq:
        add("district", z.code, z.name, [z])
    for region in ref.regions:
        members = [z for z in by_seq if z.region == region.code]
        if members:
            add("region", region.code, region.name, members)
    tgr = [z for z in by_seq if z.three_gorges]
    if tgr:
        add("three_gorges", "three_gorges", "三峡库区", tgr)
    add("city", "city", "全市", by_seq)
    rows.append(UnitRow(len(rows) + 1, "outside", "outside", "区县边界外", "", zone_grade[0, 1:].copy(),
                        float(zone_loss[0]), cell_area_km2))
    return rows


def landuse_rows(class_grade: np.ndarray, classes: dict[int, tuple[int, str]],
                 plan_names: dict[int, str], cell_area_km2: float) -> list[dict]:
    """表2 layout: per plan land-use class, land area, loss area by grade and shares.

    ``classes`` maps each raw land-use code to (plan class 1–8, name); codes not in
    it with data are reported as class 0 ("未分类") so the totals still add up.
    """
    n = {c: np.zeros(6, np.int64) for c in sorted(plan_names)}
    for code in range(class_grade.shape[0]):
        cells = class_grade[code, 1:]
        if cells.any():
            plan = classes.get(code, (0, "未分类"))[0]
            n.setdefault(plan, np.zeros(6, np.int64))
            n[plan] += cells
    total_loss = sum(float(v[1:].sum()) for v in n.values()) * cell_area_km2
    rows = []
    for plan, cells in sorted(n.items()):
        area = cells * cell_area_km2
        loss = float(area[1:].sum())
        total = float(area.sum())
        row = {"class_code": plan, "name": plan_names.get(plan, "未分类"), "total_km2": total,
               "slight_km2": float(area[0])}
        row.update({f"{g}_km2": float(area[i + 1]) for i, g in enumerate(LOSS)})
        row.update(loss_km2=loss, loss_pct_of_class=loss / total * 100 if total else None,
                   share_of_loss_pct=loss / total_loss * 100 if total_loss else None)
        rows.append(row)
    return rows


def watershed_rows(shed_grade: np.ndarray, shed_zone: np.ndarray, shed_loss: np.ndarray, zones: list[Zone],
                   cell_area_km2: float, ids: dict[int, tuple[str, str | None]] | None = None) -> list[dict]:
    """Per small watershed: grade areas, rate, and the zone holding most of it (by cells with data)."""
    by_label = {z.label: z for z in zones}
    rows = []
    for label in range(1, shed_grade.shape[0]):
        cells = shed_grade[label, 1:]
        n = int(cells.sum())
        if n == 0:
            continue
        in_zones = shed_zone[label, 1:]
        best = int(np.argmax(in_zones)) + 1 if in_zones.any() else 0
        zone = by_label.get(best)
        code, name = (ids or {}).get(label, (f"WS{label:05d}", None))
        area = cells * cell_area_km2
        row = {"label": label, "code": code, "name": name, "district_code": zone.code if zone else None,
               "district_name": zone.name if zone else None,
               "district_share_pct": float(in_zones.max()) / n * 100 if zone else None,
               "total_km2": float(area.sum())}
        row.update({f"{g}_km2": float(area[i]) for i, g in enumerate(GRADES)})
        row.update(loss_km2=float(area[1:].sum()), rate_pct=float(cells[0]) / n * 100,
                   mean_modulus_t_km2=float(shed_loss[label]) / n)
        rows.append(row)
    return rows
