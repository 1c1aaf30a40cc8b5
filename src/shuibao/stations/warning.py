"""Rain warning levels and their footprints (暴雨预警), pure.

A level's footprint is the set of cells whose day's rain P (mm) satisfies P ≥ threshold.  The
levels are nested (a 大暴雨 cell is also a 暴雨 cell); a target is given the highest level whose
footprint it overlaps.  Levels and deadlines are data (data/warning_levels.toml).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ReferenceDataError
from ..supervision.datafile import header, read_toml


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
    p, doc = read_toml(path, "warning_levels.toml", "shuibao.stations")
    problems: list[str] = []
    version, *_ = header(doc, problems)
    levels = []
    for n, item in enumerate(doc.get("levels") or [], start=1):
        try:
            lv = Level(str(item["key"]), str(item["name_zh"]), float(item["threshold_mm"]), int(item["task_days"]))
        except (KeyError, TypeError, ValueError):
            problems.append(f"levels #{n}: needs key, name_zh, threshold_mm (number) and task_days (integer)")
            continue
        if lv.threshold_mm <= 0 or lv.task_days < 0:
            problems.append(f"levels #{n} ({lv.key}): threshold_mm must be > 0 and task_days ≥ 0")
        levels.append(lv)
    if not levels:
        problems.append("levels: at least one [[levels]] table is needed")
    thresholds = [lv.threshold_mm for lv in levels]
    if thresholds != sorted(thresholds) or len(set(thresholds)) != len(thresholds):
        problems.append(f"levels: thresholds must increase, found {thresholds}")
    numbers = {}
    for key, lo in (("high_grade_min", 1), ("station_grid_m", 1), ("idw_power", 0), ("station_radius_m", 1)):
        v = doc.get(key)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v < lo:
            problems.append(f"{key} = {v!r}: expected a number ≥ {lo}")
            v = lo
        numbers[key] = v
    if problems:
        raise ReferenceDataError(f"{p}: {len(problems)} problem(s): " + "; ".join(problems))
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
