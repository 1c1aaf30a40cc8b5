"""The CSLE factors R, K, B, T and E on the run's grid, from arrays and tables already read and checked.

A = R·K·L·S·B·E·T (刘宝元 CSLE; the product's order: :func:`shuibao.core.csle.soil_loss`).  L and S come from
the terrain (:func:`shuibao.erosion.engine.compute_terrain`), FVC from NDVI (:mod:`shuibao.erosion.fvc`).
No file I/O: the service reads the inputs, calls these and writes each factor.
"""

from __future__ import annotations

import numpy as np

from ..core import csle
from ..errors import FactorError, N_
from ..grid import GridSpec
from .inputs import SoilTable, StationSeries, erosivity_range_warnings, station_erosivity
from .params import CsleParams


def r_from_stations(rain: list[StationSeries], r_model: dict, params: CsleParams, grid: GridSpec,
                    valid: np.ndarray) -> tuple[np.ndarray, list, list[str]]:
    """R of each station by the daily model, interpolated to the cell centres by inverse distance weighting.

    Returns R, the stations with their results, and warnings for stations outside the expected range."""
    stations = station_erosivity(rain, r_model, params.r_model)
    warnings = erosivity_range_warnings(stations, r_model)
    rows, cols = grid.shape
    x0, y0 = grid.transform[2], grid.transform[5]
    xs = x0 + (np.arange(cols) + 0.5) * grid.cell_width
    ys = y0 - (np.arange(rows) + 0.5) * grid.cell_height
    pts = np.array([[s.x, s.y] for s, _ in stations])
    r = csle.idw(pts, np.array([res.annual_mean for _, res in stations]), xs, ys,
                 power=params.idw_power, neighbours=params.idw_neighbours, mask=valid)
    return r, stations, warnings


def r_from_annual(annual_rain: np.ndarray, r_model: dict) -> np.ndarray:
    """R from annual rainfall, R = a·P^b with the constants of ``r_model.csv`` (float32)."""
    return csle.erosivity_annual(annual_rain, r_model["annual_a"], r_model["annual_b"]).astype(np.float32)


def k_from_soil(soil: np.ndarray, st: SoilTable, k_correction: bool, valid: np.ndarray
                ) -> tuple[np.ndarray, int, list[str]]:
    """K of each soil code by EPIC (optionally with the Chinese correction, clipped at 0), looked up on the grid.

    Returns K, the number of valid cells whose K was clipped, and a warning if any were."""
    warnings: list[str] = []
    k_clipped = 0
    if k_correction:
        kv, clipped = csle.k_epic_corrected(st.sand, st.silt, st.clay, st.organic_carbon)
        if clipped.any():  # K ≥ 0 enforced; the cells it touched are counted
            k_clipped = int(np.count_nonzero(np.isin(soil, st.codes[clipped]) & valid))
            if k_clipped:
                warnings.append(f"K: the Chinese correction gave negative K on {k_clipped} cell(s) (soil code(s) "
                                f"{sorted(int(c) for c in st.codes[clipped])}); set to 0")
    else:
        kv = csle.k_epic(st.sand, st.silt, st.clay, st.organic_carbon)
    return csle.lookup(soil, st.codes, kv), k_clipped, warnings


def fvc_given(fvc: np.ndarray) -> np.ndarray:
    """A vegetation cover raster given as such: clipped to [0, 1], float32."""
    return np.clip(fvc, 0, 1).astype(np.float32)


def b_factor(landuse: np.ndarray, fvc: np.ndarray, bt, valid: np.ndarray) -> np.ndarray:
    """B of each cell from its land use and FVC by the B table; a table formula giving B above 1 stops the run."""
    b = csle.b_factor(landuse, fvc, bt.codes, bt.methods, bt.values, bt.cover_classes, bt.formulas)
    if bt.formulas:
        bad = valid & (b > 1)
        if bad.any():
            codes = sorted(set(np.unique(landuse[bad]).tolist()) & set(bt.formulas))
            raise FactorError(N_("B: the formula of land-use code(s) {codes} in {path} gives B above 1 on "
                              "{bad} cells (e.g. {value1!r} at FVC "
                              "{value2:.3f}); bound it with min(…, 1). Nothing was graded", codes=codes, path=bt.path, bad=int(bad.sum()), value1=bt.formulas[codes[0]], value2=float(fvc[bad][0])))
    return b


def t_factor(landuse: np.ndarray, tt, override: np.ndarray | None) -> np.ndarray:
    """T of cropland by the T table, 1 on other land; measure polygons' own T where they give one."""
    tfac = csle.lookup(landuse, tt.codes, tt.values, default=1.0)
    if override is not None:
        np.copyto(tfac, override, where=np.isfinite(override))
    return tfac


def e_factor(measures: np.ndarray | None, e_table, shape: tuple[int, int]) -> np.ndarray:
    """E of each cell by its measure code, 1 without a measure raster."""
    if measures is not None:
        return csle.lookup(measures, e_table.codes, e_table.values)
    return np.ones(shape, np.float32)
