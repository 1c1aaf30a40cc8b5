"""The rain warning's rules (暴雨预警), pure: levels, footprints per level, which site is at risk, its task.

A level's footprint is the set of cells whose day's rain P (mm) satisfies P ≥ threshold.  The
levels are nested (a 大暴雨 cell is also a 暴雨 cell); a target is given the highest level whose
footprint it overlaps.  Levels and deadlines are data (data/warning_levels.toml).

At risk are the construction projects under way (在建), the cases not closed (未销号) and the small
watersheds with cells of high erosion grade (≥ ``high_grade_min``) inside a footprint; each gets the
inspection task of its kind, due ``task_days`` after the rain.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from ..errors import Issues, ReferenceDataError, N_
from ..datafiles import header, read_toml

TASKS = {
    "project": "暴雨后现场检查：拦挡、排水、临时覆盖等水土保持措施是否完好，有无水土流失危害",
    "case": "暴雨后核查案件现场：违法扰动区域有无新增水土流失及危害",
    "erosion_area": "暴雨后巡查高强度侵蚀区：沟蚀、崩塌、滑坡及泥沙淤积情况",
}
"""The inspection task of each kind of site at risk."""


@dataclass(frozen=True)
class Level:
    key: str
    name_zh: str
    threshold_mm: float
    task_days: int


@dataclass(frozen=True)
class WarningRules:
    version: str
    levels: tuple[Level, ...]  # ascending thresholds
    high_grade_min: int
    station_grid_m: float
    idw_power: float
    station_radius_m: float
    path: Path

    def parameters(self) -> dict:
        return {"version": self.version, "high_grade_min": self.high_grade_min,
                "station_grid_m": self.station_grid_m, "idw_power": self.idw_power,
                "station_radius_m": self.station_radius_m,
                "levels": [{"key": lv.key, "threshold_mm": lv.threshold_mm, "task_days": lv.task_days}
                           for lv in self.levels]}


def load_warning_rules(path: Path | str | None = None) -> WarningRules:
    """The shipped levels or the user's file of the same shape; every problem reported at once."""
    p, doc = read_toml(path, "warning_levels.toml", "shuibao.stations")
    problems = Issues()
    version, *_ = header(doc, problems)
    levels = []
    for n, item in enumerate(doc.get("levels") or [], start=1):
        try:
            lv = Level(str(item["key"]), str(item["name_zh"]), float(item["threshold_mm"]), int(item["task_days"]))
        except (KeyError, TypeError, ValueError):
            problems.add("", f"levels #{n}", N_("needs key, name_zh, threshold_mm (number) and task_days (integer)"))
            continue
        if lv.threshold_mm <= 0 or lv.task_days < 0:
            problems.add("", f"levels #{n} ({lv.key})", N_("threshold_mm must be > 0 and task_days ≥ 0"))
        levels.append(lv)
    if not levels:
        problems.add("", "levels", N_("at least one [[levels]] table is needed"))
    thresholds = [lv.threshold_mm for lv in levels]
    if thresholds != sorted(thresholds) or len(set(thresholds)) != len(thresholds):
        problems.add("", "levels", N_("thresholds must increase, found {thresholds}", thresholds=thresholds))
    numbers = {}
    for key, lo in (("high_grade_min", 1), ("station_grid_m", 1), ("idw_power", 0), ("station_radius_m", 1)):
        v = doc.get(key)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v < lo:
            problems.add("", f"{key} = {v!r}", N_("expected a number ≥ {lo}", lo=lo))
            v = lo
        numbers[key] = v
    problems.raise_if_any(str(p), error=ReferenceDataError)
    return WarningRules(version, tuple(levels), int(numbers["high_grade_min"]), float(numbers["station_grid_m"]),
                        float(numbers["idw_power"]), float(numbers["station_radius_m"]), p)


def level_raster(rain_mm: np.ndarray, levels: tuple[Level, ...]) -> np.ndarray:
    """uint8: 0 below every threshold (or no data), else 1 + the index of the highest level reached."""
    rain = np.asarray(rain_mm, dtype=np.float64)
    out = np.zeros(rain.shape, np.uint8)
    ok = np.isfinite(rain)
    for i, lv in enumerate(levels):
        out[ok & (rain >= lv.threshold_mm)] = i + 1
    return out


def footprint_masks(levels: np.ndarray, rules: WarningRules):
    """Yields (index, int32 mask 0/1) of every level, lowest first: the cells at or above it."""
    for i in range(len(rules.levels)):
        yield i, (levels >= i + 1).astype(np.int32)


def footprint_areas(levels: np.ndarray, rules: WarningRules, reached, cell_km2: float) -> dict[str, float]:
    """km² of each reached level's footprint (cells at or above it × the cell's area), rounded to 0.001."""
    return {rules.levels[i].key: round(float((levels >= i + 1).sum() * cell_km2), 3) for i in reached}


def project_at_risk(status: str) -> bool:
    """A construction project is at risk while under construction (在建)."""
    return status == "under_construction"


def case_at_risk(state: str) -> bool:
    """A case is at risk until it is closed (销号)."""
    return state != "closed"


def touched_level(maximum: float | None) -> int | None:
    """The level index of a site from the highest level value of the cells it touches (None: no warned cell)."""
    if not maximum or maximum < 1:
        return None
    return int(maximum) - 1


def high_grade_cells(grade: np.ndarray, valid: np.ndarray, levels: np.ndarray, sheds: np.ndarray,
                     rules: WarningRules) -> np.ndarray:
    """Cells of high erosion grade inside a footprint and inside a small watershed."""
    return (grade >= rules.high_grade_min) & valid & (levels > 0) & (sheds > 0)


def erosion_areas(labels: np.ndarray, levels: np.ndarray, grades: np.ndarray, cell_km2: float) -> list[tuple]:
    """Per small watershed (label) of the high-grade cells: (label, level index, km² by grade, km² in all)."""
    out = []
    for label in np.unique(labels):
        sel = labels == label
        by_grade = {int(g): round(float((grades[sel] == g).sum() * cell_km2), 4) for g in np.unique(grades[sel])}
        out.append((label, int(levels[sel].max()) - 1, by_grade, round(sum(by_grade.values()), 4)))
    return out


def inspection_task(target_kind: str, level: Level, rain_date: date) -> tuple[str, date]:
    """The task of a site at risk and the day it is due (``task_days`` after the rain)."""
    return TASKS[target_kind], rain_date + timedelta(days=level.task_days)
