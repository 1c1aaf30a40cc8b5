"""The CSLE pipeline on arrays: terrain → LS, factors → soil loss → SL 190 grades.

No file I/O here: inputs are arrays on one projected grid (see
:mod:`shuibao.io.raster` for reading and aligning them), outputs are arrays and
a summary.  Each step reports its wall time to an optional ``on_step``
callback, which the CLI turns into progress lines.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..core import csle, hydrology, lsfactor, terrain
from ..core.tiled_fill import fill_depressions_tiled
from ..grid import GridSpec

StepCallback = Callable[[str, float], None]


@dataclass(frozen=True)
class TerrainParams:
    """How the terrain factors are derived from the DEM.

    Sources below: ``shared/reference/methods-verification.md`` (§1a–§1c) of the project; effects
    measured on a real DEM (Jacksboro, 90 m): docs/validation.md, "Terrain on real DEMs".

    routing, mfd_method
        Accumulation written for the user and used for the channel cut (λ itself always follows D8, as
        LS_TOOL does).
    channel_threshold_m2
        Flow into a cell whose contributing area (by ``routing``) is at least this many m² is cut,
        so λ stops at the channel network (LS_TOOL step "gully net", Fu Suhua, Liu Baoyu et al. 2015, 中国水土保持科学
        13(5), abstract; the C# LS tool's ``ReBuildSlopeCutGrid`` takes the threshold in m², cut where
        the *receiving* cell's accumulation ≥ threshold / cell area; §1b).  Default **None** (no
        channel cut) here; the monitoring programme's default is 1 km² (``monitoring/spec.py``).
        Neither value is verified: the C# tool hard-codes none (it comes from its UI) and the Fu
        Suhua abstract stops before any value — NOT verified.  On the real DEM 1 km² lowers mean LS
        by 0.7 %, 0.1 km² by 6 %.
    slope_for_factors
        The angle S and m are computed from: ``"horn"`` (3×3 Horn 1981 slope, default) or
        ``"downslope"`` (the D8 downslope angle θd, flats 0.1°).  The LS_TOOL lineage uses θd for
        both (C# tool ``TableLookUp_csle``/``Calculate_S`` take the downslope angle, §1a; the AML's
        ``down_slp_ang``, §1b), so ``"downslope"`` is the lineage-faithful choice; ``"horn"`` is a
        deliberate smoother choice (no 0.1° floor on flats, no single-neighbour noise), NOT from the
        monitoring practice.  The cut-off rule always uses θd.  On the real DEM mean LS differs by
        0.3 % (15.16 Horn, 15.12 θd), median LS by 13 % (10.69, 12.13).
    ls
        λ accumulation, cap and L/S forms: :class:`shuibao.core.lsfactor.SlopeLengthParams`.
    """

    routing: str = "d8"  # accumulation written for the user: "d8" or "mfd"
    mfd_method: str = "quinn"
    channel_threshold_m2: float | None = None  # λ stops at this contributing area; NOT verified (docstring)
    slope_for_factors: str = "horn"  # slope used for S and m: "horn" (3×3) or "downslope" (D8 angle, LS_TOOL)
    ls: lsfactor.SlopeLengthParams = field(default_factory=lsfactor.SlopeLengthParams)

    def __post_init__(self) -> None:
        if self.routing not in ("d8", "mfd"):
            raise ValueError("routing must be 'd8' or 'mfd'")
        if self.slope_for_factors not in ("horn", "downslope"):
            raise ValueError("slope_for_factors must be 'horn' or 'downslope'")
        if self.channel_threshold_m2 is not None and self.channel_threshold_m2 <= 0:
            raise ValueError("channel threshold must be positive")


@dataclass
class TerrainResult:
    filled: np.ndarray | None  # None unless keep_grids
    flow_direction: np.ndarray | None  # None unless keep_grids or keep_flow_direction
    slope_deg: np.ndarray
    slope_length_m: np.ndarray
    l_factor: np.ndarray
    s_factor: np.ndarray
    accumulation_cells: np.ndarray | None = None

    @property
    def ls(self) -> np.ndarray:
        return self.l_factor * self.s_factor


class _Timer:
    def __init__(self, on_step: StepCallback | None):
        self.on_step = on_step
        self.timings: dict[str, float] = {}

    def __call__(self, name: str, start: float) -> None:
        elapsed = time.perf_counter() - start
        self.timings[name] = round(elapsed, 4)
        if self.on_step:
            self.on_step(name, elapsed)


def condition_dem(dem: np.ndarray, valid: np.ndarray, routing: str = "d8", workers: int | None = None
                  ) -> np.ndarray:
    """The DEM that flow is routed on: every depression filled to its spill level.

    * ``"d8"``: the plain fill, computed by tiles (Barnes 2016; equal to the global
      Priority-Flood cell for cell, several times faster on large grids and parallel
      over ``workers`` threads, default all CPUs).  Flats and filled depressions stay
      level; :func:`hydrology.flow_direction_d8` with ``resolve_flats=True`` routes across them.
    * ``"mfd"``: Priority-Flood+ε (Barnes et al. 2014), because MFD shares flow by
      gradient and so needs a strictly lower neighbour at every cell.
    """
    if routing == "mfd":
        return hydrology.fill_depressions(dem, valid)
    if workers is None:  # the cores this process may use (a container may allow fewer than the machine has)
        workers = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return fill_depressions_tiled(dem, valid, workers=workers)


def compute_terrain(dem: np.ndarray, valid: np.ndarray, grid: GridSpec, params: TerrainParams = TerrainParams(),
                    on_step: StepCallback | None = None, keep_accumulation: bool = False,
                    keep_grids: bool = True, keep_flow_direction: bool = False,
                    filled: np.ndarray | None = None) -> tuple[TerrainResult, dict]:
    """Fill, route, slope, slope length, L and S on a projected grid (metres).

    With ``keep_grids=False`` the conditioned DEM and the directions (unless
    ``keep_flow_direction``) are dropped as
    soon as they are used (``filled`` and ``flow_direction`` are then ``None``),
    which keeps the peak memory of a whole CSLE run lower.  ``filled``: the DEM
    already conditioned by :func:`condition_dem` (the fill is skipped).
    """
    timer = _Timer(on_step)
    dx, dy = grid.cell_width, grid.cell_height
    if filled is None:  # a caller may have filled the DEM already (on another thread)
        t = time.perf_counter()
        filled = condition_dem(dem, valid, params.routing)
        timer("fill", t)
    t = time.perf_counter()
    fdir: np.ndarray | None  # dropped (None) once used unless kept
    fdir = hydrology.flow_direction_d8(filled, valid, dx, dy, resolve_flats=True)
    timer("flow_direction", t)
    acc = None
    channel = None
    if params.channel_threshold_m2 is not None or keep_accumulation:
        t = time.perf_counter()
        if params.routing == "mfd":
            acc = hydrology.flow_accumulation_mfd(filled, valid, dx, dy, method=params.mfd_method)
        else:
            acc = hydrology.flow_accumulation_d8(fdir, valid)
        timer("accumulation", t)
        if params.channel_threshold_m2 is not None:
            channel = acc >= params.channel_threshold_m2 / grid.cell_area
        if not keep_accumulation:
            acc = None
    t = time.perf_counter()
    slope = terrain.slope_degrees(filled, valid, dx, dy)
    timer("slope", t)
    t = time.perf_counter()
    theta, ncsl = lsfactor.downslope_angle(filled, valid, fdir, slope, dx, dy)
    if not keep_grids:
        filled = None
    lam = lsfactor.slope_length(fdir, valid, theta, ncsl, channel, params.ls)
    del channel
    if not keep_grids and not keep_flow_direction:
        fdir = None
    timer("slope_length", t)
    t = time.perf_counter()
    angle = slope if params.slope_for_factors == "horn" else theta
    l_fac, s_fac = lsfactor.l_and_s(lam, ncsl, angle, valid, params.ls)
    del theta, ncsl, angle
    timer("ls_factor", t)
    result = TerrainResult(filled, fdir, slope, lam, l_fac, s_fac, acc if keep_accumulation else None)
    return result, timer.timings


@dataclass(frozen=True)
class GradeSummary:
    """Area by SL 190-2007 grade over the valid cells, and the conservation rate."""

    cell_area_km2: float
    cells: dict[str, int]
    area_km2: dict[str, float]
    share_pct: dict[str, float]
    total_km2: float
    conservation_rate_pct: float
    mean_modulus_t_km2: float

    def as_dict(self) -> dict:
        return {
            "cell_area_km2": self.cell_area_km2, "cells": self.cells, "area_km2": self.area_km2,
            "share_pct": self.share_pct, "total_km2": self.total_km2,
            "conservation_rate_pct": self.conservation_rate_pct, "mean_modulus_t_km2": self.mean_modulus_t_km2,
        }


def summarise(grades: np.ndarray, modulus: np.ndarray, valid: np.ndarray, cell_area_km2: float) -> GradeSummary:
    """Cells and ground area per grade (projected cell area), shares, 水土保持率 = 微度 / total."""
    counts = np.bincount(grades.ravel(), minlength=7)
    cells = {csle.GRADE_CODES[g]: int(counts[g]) for g in range(1, 7)}
    total_cells = sum(cells.values())
    area = {k: v * cell_area_km2 for k, v in cells.items()}
    total = total_cells * cell_area_km2
    share = {k: (v / total_cells * 100 if total_cells else 0.0) for k, v in cells.items()}
    mean = float(csle.masked_mean(modulus, valid)) if total_cells else float("nan")
    return GradeSummary(cell_area_km2, cells, area, share, total, share["slight"], mean)
