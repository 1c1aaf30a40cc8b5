"""Progress of treatment against the plan's quantities (专栏3), from treatment patches; pure.

Area counts toward the plan when its patch is ``completed`` or ``accepted`` and its year lies in the
plan period (2021–2025) and not after the reporting year.  Quantities in 条 or 处 (eco-clean small
watersheds, demonstration parks) count projects whose patches are all completed.  The plan gives
city-wide quantities only, so a district's figures are its share of the city's progress.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

DONE = frozenset({"completed", "accepted"})
STATUSES = ("planned", "under_construction", "completed", "accepted")
STATUS_ZH = {"planned": "规划", "under_construction": "在建", "completed": "完工", "accepted": "已验收"}
PLAN_YEARS = (2021, 2025)


@dataclass(frozen=True)
class PatchRecord:
    fid: int
    project_id: int
    kind: str
    district_code: str | None
    year: int
    status: str
    area_m2: float
    cost_wan: float | None


@dataclass(frozen=True)
class Target:
    key: str
    label: str
    quantity: float
    unit: str  # km2 | 条 | 处
    counts_toward_new_treatment: bool


def _counted(p: PatchRecord, year: int) -> bool:
    return p.status in DONE and PLAN_YEARS[0] <= p.year <= min(year, PLAN_YEARS[1])


def by_kind(targets: Sequence[Target], patches: Iterable[PatchRecord], year: int) -> list[dict]:
    """One row per plan quantity: done (km² or count), under way, planned, and the share of the target."""
    patches = list(patches)
    rows = []
    for t in targets:
        mine = [p for p in patches if p.kind == t.key]
        if t.unit == "km2":
            done = sum(p.area_m2 for p in mine if _counted(p, year)) / 1e6
            doing = sum(p.area_m2 for p in mine if p.status == "under_construction") / 1e6
            planned = sum(p.area_m2 for p in mine if p.status == "planned") / 1e6
        else:  # a count of projects all of whose patches are done
            projects: dict[int, list[PatchRecord]] = defaultdict(list)
            for p in mine:
                projects[p.project_id].append(p)
            done = sum(all(_counted(p, year) for p in ps) for ps in projects.values())
            doing = sum(any(p.status == "under_construction" for p in ps) for ps in projects.values())
            planned = sum(all(p.status == "planned" for p in ps) for ps in projects.values())
        rows.append({"key": t.key, "label": t.label, "unit": t.unit, "target_2025": t.quantity,
                     "done": round(done, 4), "under_construction": round(doing, 4), "planned": round(planned, 4),
                     "share_pct": round(done / t.quantity * 100, 2) if t.quantity else None,
                     "patches": len(mine), "cost_wan": round(sum(p.cost_wan or 0 for p in mine), 2),
                     "counts_toward_new_treatment": t.counts_toward_new_treatment})
    return rows


def by_district(targets: Sequence[Target], patches: Iterable[PatchRecord], year: int) -> list[dict]:
    """Done area (km²) per district and plan type, and the district's share of the city's done area."""
    areal = {t.key for t in targets if t.unit == "km2"}
    done: dict[tuple[str, str], float] = defaultdict(float)
    for p in patches:
        if p.kind in areal and _counted(p, year):
            done[(p.district_code or "", p.kind)] += p.area_m2 / 1e6
    city: dict[str, float] = defaultdict(float)
    for (_, kind), v in done.items():
        city[kind] += v
    return [{"district_code": d or None, "kind": k, "done_km2": round(v, 4),
             "share_of_city_pct": round(v / city[k] * 100, 2) if city[k] else None}
            for (d, k), v in sorted(done.items())]


def by_year(patches: Iterable[PatchRecord]) -> list[dict]:
    """Area (km²) per year, plan type and status."""
    acc: dict[tuple[int, str, str], float] = defaultdict(float)
    for p in patches:
        acc[(p.year, p.kind, p.status)] += p.area_m2 / 1e6
    return [{"year": y, "kind": k, "status": s, "area_km2": round(v, 4)} for (y, k, s), v in sorted(acc.items())]


def new_treatment_km2(rows: Sequence[dict]) -> float:
    """专栏1 新增水土流失治理面积: the done area of the types that count toward it."""
    return round(sum(r["done"] for r in rows if r["counts_toward_new_treatment"] and r["unit"] == "km2"), 4)
