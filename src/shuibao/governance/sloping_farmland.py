"""The returning-farmland rule (退耕还林) on a grid: which cropland cells are candidates, and their patches'
figures and rows; pure (arrays and records in, arrays and records out).

The plan (第五章 二、大力开展坡耕地水土流失综合整治) returns to forest "25°以上坡耕地，重要水源地15-25°非基本
农田坡耕地" (专栏3 item 02: 新一轮退耕还林 130 km²):

* ``steep``    — cropland cells with slope θ ≥ ``steep_deg`` (25°), anywhere;
* ``moderate`` — cropland cells with ``moderate_deg`` (15°) ≤ θ < ``steep_deg`` whose centre lies inside a
  water-source polygon, and outside the permanent basic farmland (永久基本农田) where it is known.

Cells of each class are grouped into patches (:mod:`shuibao.core.labelling`); patches of fewer than
⌈min_area_m2 / cell area⌉ cells are dropped.  A patch takes the district holding most of its cells (ties →
the district listed first); its rows carry the fields of the treatment-patch import.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Integral
from typing import cast

import numpy as np

from shuibao.core.labelling import row_blocks

CLASSES = ("steep", "moderate")
KIND = "farmland_to_forest"  # 专栏3 key: 坡耕地水土流失综合整治：新一轮退耕还林
MEASURE = "afforestation"  # a key of governance/data/measures.toml
STATUS = "planned"
NO_DISTRICT = "NA"
NO_DISTRICT_NAME = "区县未定"
FIELDS = ("patch_code", "project_code", "project_name", "kind", "measure", "year", "status", "district",
          "district_code", "slope_class", "slope_mean_deg", "area_m2", "area_hm2", "cells")
SUMMARY_COLUMNS = ("district_code", "district", "steep_patches", "steep_km2", "moderate_patches", "moderate_km2",
                   "patches", "total_km2")
DEFAULT_MIN_AREA_M2 = 400.0  # 0.04 hm², the low end of methods.md §5.3's 0.04–0.1 hm² minimum patch areas


@dataclass(frozen=True)
class DistrictSummary:
    """One row of the summary CSV (district_code None: patches in no district)."""

    district_code: str | None
    district: str | None
    steep_patches: int
    steep_area_m2: float
    moderate_patches: int
    moderate_area_m2: float

    @property
    def patches(self) -> int:
        return self.steep_patches + self.moderate_patches


def _finite(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def parameter_problems(cropland_codes, steep_deg, moderate_deg, min_area_m2, year, connectivity) -> list[str]:
    """What is wrong with the finder's parameters (empty: nothing)."""
    out = []
    codes = list(cropland_codes) if isinstance(cropland_codes, (list, tuple, set, frozenset)) else None
    if not codes or any(isinstance(c, bool) or not isinstance(c, Integral) for c in codes):
        out.append(f"cropland_codes = {cropland_codes!r}: expected one or more whole land-use codes (耕地 is 1 in "
                   "表2's classes)")
    if not (_finite(steep_deg) and 0 < steep_deg < 90):
        out.append(f"steep_deg = {steep_deg!r}: expected a slope in degrees between 0 and 90 (exclusive)")
    elif not (_finite(moderate_deg) and 0 < moderate_deg < steep_deg):
        out.append(f"moderate_deg = {moderate_deg!r}: expected a slope in degrees above 0 and below steep_deg "
                   f"({steep_deg:g})")
    if not (_finite(min_area_m2) and min_area_m2 >= 0):
        out.append(f"min_area_m2 = {min_area_m2!r}: expected an area ≥ 0 m²")
    if year is not None and (isinstance(year, bool) or not isinstance(year, Integral)
                             or not 2000 <= cast(int, year) <= 2100):
        out.append(f"year = {year!r}: expected the planned year of treatment, 2000–2100")
    if connectivity not in (4, 8):
        out.append(f"connectivity = {connectivity!r}: expected 4 or 8")
    return out


def min_cells(min_area_m2: float, cell_area: float) -> int:
    """The fewest cells a kept patch has: ⌈min_area_m2 / cell area⌉, at least 1."""
    return max(1, math.ceil(min_area_m2 / cell_area - 1e-9))


def steep_cells(crop: np.ndarray, slope: np.ndarray, steep_deg: float) -> np.ndarray:
    """Cropland with θ ≥ steep_deg (slope float32 degrees; NaN is never steep)."""
    return crop & (slope >= np.float32(steep_deg))


def moderate_cells(crop: np.ndarray, water: np.ndarray, slope: np.ndarray, moderate_deg: float,
                   steep_deg: float) -> np.ndarray:
    """Cropland inside the water sources (``water``: bool) with moderate_deg ≤ θ < steep_deg."""
    moderate = crop & water
    moderate &= slope >= np.float32(moderate_deg)
    moderate &= slope < np.float32(steep_deg)
    return moderate


def patch_stats(labels: np.ndarray, n: int, slope: np.ndarray,
                districts: np.ndarray | None, nd: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per patch 1…n: cells, mean slope (degrees), district index (0 = none; else 1…nd, most cells wins).

    Gathered in row blocks (:func:`shuibao.core.labelling.row_blocks`): no int64 or float64 copy of the grid.
    """
    cells = np.zeros(n + 1, np.int64)
    sums = np.zeros(n + 1, np.float64)
    keys, counts = [], []
    for rows in row_blocks(labels.shape):
        lab = labels[rows].ravel()
        idx = np.flatnonzero(lab)
        if not idx.size:
            continue
        lab = lab[idx]
        cells += np.bincount(lab, minlength=n + 1)
        sums += np.bincount(lab, weights=slope[rows].ravel()[idx].astype(np.float64), minlength=n + 1)
        if districts is not None:
            d = districts[rows].ravel()[idx]
            inside = d > 0
            k, c = np.unique(lab[inside].astype(np.int64) * (nd + 1) + d[inside], return_counts=True)
            keys.append(k)
            counts.append(c)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(cells > 0, sums / np.maximum(cells, 1), np.nan)
    return cells[1:], mean[1:], _majority(keys, counts, n, nd)


def _majority(keys: list, counts: list, n: int, nd: int) -> np.ndarray:
    """Per patch 1…n the district (1…nd) holding most of its cells, ties to the one listed first; 0 none."""
    where = np.zeros(n + 1, np.int64)
    if keys:
        uk, inv = np.unique(np.concatenate(keys), return_inverse=True)
        tot = np.bincount(inv, weights=np.concatenate(counts))
        patch, dist = uk // (nd + 1), uk % (nd + 1)
        order = np.lexsort((dist, -tot, patch))  # per patch: most cells first, then the district listed first
        first = np.ones(order.size, bool)
        first[1:] = patch[order][1:] != patch[order][:-1]
        where[patch[order][first]] = dist[order][first]
    return where[1:]


def candidate_rows(codes: list[str], names: list[str], where: np.ndarray, klass: np.ndarray, cells: np.ndarray,
                   mean_slope: np.ndarray, cell_area: float, year: int) -> tuple[dict[str, list], list[int]]:
    """The layer's columns (:data:`FIELDS`) and the patch (1…n) of each row: rows grouped by district (in the
    order of ``codes``, the unassigned last), numbered within each.  ``where``: district index per patch."""
    n = len(cells)
    order = np.lexsort((np.arange(n), where, where == 0))
    w = where[order]
    start = np.flatnonzero(np.r_[True, w[1:] != w[:-1]]) if n else np.zeros(0, np.int64)
    number = np.arange(n) - np.repeat(start, np.diff(np.r_[start, n])) + 1  # 1, 2, … within each district
    code = [([None] + list(codes))[k] for k in w.tolist()]
    name = [([None] + list(names))[k] for k in w.tolist()]
    tag = [c or NO_DISTRICT for c in code]
    area = (cells[order] * cell_area).astype(np.float64).tolist()
    columns = {
        "patch_code": [f"SF{year}-{t}-{k:05d}" for t, k in zip(tag, number.tolist())],
        "project_code": [f"SF{year}-{t}" for t in tag],
        "project_name": [f"坡耕地退耕还林候选（{m or NO_DISTRICT_NAME}）" for m in name],
        "kind": [KIND] * n,
        "measure": [MEASURE] * n,
        "year": [year] * n,
        "status": [STATUS] * n,
        "district": name,
        "district_code": code,
        "slope_class": [str(k) for k in klass[order]],
        "slope_mean_deg": np.round(mean_slope[order], 3).tolist(),
        "area_m2": area,
        "area_hm2": np.round(np.asarray(area) / 1e4, 6).tolist(),
        "cells": cells[order].tolist(),
    }
    assert tuple(columns) == FIELDS
    return columns, [i + 1 for i in order.tolist()]


def district_summaries(codes: list[str], names: list[str], where: np.ndarray, klass: np.ndarray,
                       cells: np.ndarray, cell_area: float) -> tuple[DistrictSummary, ...]:
    """Patches and areas per district (in the order of ``codes``), then those in no district."""
    out = []
    for k in list(range(1, len(codes) + 1)) + [0]:
        sel = where == k
        if not sel.any():
            continue
        s, m = sel & (klass == "steep"), sel & (klass == "moderate")
        out.append(DistrictSummary(codes[k - 1] if k else None, names[k - 1] if k else None,
                                   int(s.sum()), float(cells[s].sum() * cell_area),
                                   int(m.sum()), float(cells[m].sum() * cell_area)))
    return tuple(out)


def summary_row(s: DistrictSummary) -> dict:
    """One row of the summary CSV (:data:`SUMMARY_COLUMNS`), areas in km²."""
    return {"district_code": s.district_code or "", "district": s.district or NO_DISTRICT_NAME,
            "steep_patches": s.steep_patches, "steep_km2": round(s.steep_area_m2 / 1e6, 6),
            "moderate_patches": s.moderate_patches, "moderate_km2": round(s.moderate_area_m2 / 1e6, 6),
            "patches": s.patches, "total_km2": round((s.steep_area_m2 + s.moderate_area_m2) / 1e6, 6)}


__all__ = ["CLASSES", "DEFAULT_MIN_AREA_M2", "DistrictSummary", "FIELDS", "KIND", "MEASURE", "NO_DISTRICT",
           "NO_DISTRICT_NAME", "STATUS", "SUMMARY_COLUMNS", "candidate_rows", "district_summaries", "min_cells",
           "moderate_cells", "parameter_problems", "patch_stats", "steep_cells", "summary_row"]
