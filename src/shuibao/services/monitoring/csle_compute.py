"""A CSLE run from validated inputs: each factor from :mod:`shuibao.erosion.factors`, checked, multiplied into the
soil loss and written as a Cloud-Optimized GeoTIFF while the next one is computed; then the grades and the summary.

A folder is a whole run or none: a factor that cannot be used removes every product written so far.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from shuibao import __version__
from shuibao.core import csle
from shuibao.io.synthetic import SYNTHETIC_TAG
from shuibao.erosion import factors, tables
from shuibao.erosion.engine import compute_terrain, condition_dem, summarise
from shuibao.erosion.fvc import fvc_from_ndvi
from shuibao.erosion.params import CsleParams
from shuibao.erosion.validation import require_sound
from shuibao.errors import FactorError
from shuibao.grid import GridSpec
from shuibao.io import raster as rio
from shuibao.io import styles

StepCallback = Callable[[str, float], None]
RUN_RASTERS = ("r_factor", "k_factor", "b_factor", "t_factor", "e_factor", "l_factor", "s_factor", "fvc", "slope",
               "ls_factor", "soil_loss", "grade")  # everything compute_csle may write
SOIL_LOSS_BAND = "soil loss modulus A, t/(km²·a) (= 100 × t/(hm²·a))"
GRADE_BAND = "SL 190-2007 grade: 1 微度 2 轻度 3 中度 4 强烈 5 极强烈 6 剧烈; 0 nodata"


class _RunOutputs:
    """The run's folder, background writer, step timings and the soil loss accumulating factor by factor."""

    def __init__(self, out: Path, grid: GridSpec, valid: np.ndarray, params: CsleParams,
                 on_step: StepCallback | None) -> None:
        self.out, self.grid, self.valid, self.on_step = out, grid, valid, on_step
        self.timings: dict[str, float] = {}
        self.tags = {"SHUIBAO_VERSION": __version__, "SHUIBAO_RUN": "csle"}
        if params.synthetic:
            self.tags["SHUIBAO_SYNTHETIC"] = SYNTHETIC_TAG
        self.written: dict[str, str] = {}
        self.writer = rio.BackgroundWriter()
        self.invalid = ~valid
        self.a: np.ndarray | None = None  # the soil loss product, with params.combine

    def step(self, name: str, t0: float) -> None:
        self.timings[name] = round(time.perf_counter() - t0, 4)
        if self.on_step:
            self.on_step(name, self.timings[name])

    def abandon(self) -> None:
        """Let the queued rasters finish, then remove every product a run writes here (this run's and an earlier
        run's): a folder is a whole run or none."""
        self.writer.close()
        for name in {*self.written.values(), *(f"{n}.tif" for n in RUN_RASTERS), *styles.STYLE_FILES}:
            (self.out / name).unlink(missing_ok=True)

    def check(self, name: str, values: np.ndarray, hint: str) -> None:
        try:
            require_sound(name, values, self.valid, self.grid, hint)
        except FactorError:
            self.abandon()
            raise

    def mul(self, factor: np.ndarray) -> None:
        if self.a is not None:
            np.multiply(self.a, factor, out=self.a)

    def write(self, name: str, values: np.ndarray, band: str, resampling: str = "NEAREST",
              product: bool = False) -> None:
        """Queue a COG of ``values``, which must not change afterwards (floats get NaN outside valid).

        The products (soil loss, grades) are DEFLATE for any reader; the factor rasters ZSTD,
        which writes 1.7× faster and keeps the writer from holding up the computation.
        """
        codec = "DEFLATE" if product else "ZSTD"
        t0 = time.perf_counter()
        out, grid, tags = self.out, self.grid, self.tags
        if values.dtype == np.uint8:
            self.writer.submit(out / f"{name}.tif", values, grid, nodata=0, tags=tags, band_name=band,
                               categorical=True, compress=codec,
                               colormap=styles.grade_colormap() if name == "grade" else None)
        else:
            values[self.invalid] = np.nan
            self.writer.submit(out / f"{name}.tif", values, grid, nodata=float("nan"), tags=tags, band_name=band,
                               overview_resampling=resampling, compress=codec)
        self.written[name] = f"{name}.tif"
        # masking, and waiting for a free slot when the writer is behind
        self.timings["write_queue"] = round(self.timings.get("write_queue", 0.0) + time.perf_counter() - t0, 4)


def _r_and_k(data: dict, params: CsleParams, run: _RunOutputs, warnings: list[str]) -> tuple[list | None, int]:
    """R, then K; returns the stations (with station rainfall) and the cells whose K was clipped."""
    t = time.perf_counter()
    stations = None
    if data.get("r") is not None:
        r = data.pop("r").data
    elif data.get("rain") is not None:
        r, stations, station_warnings = factors.r_from_stations(data["rain"], data["r_model"], params, run.grid,
                                                                run.valid)
        warnings.extend(station_warnings)
    else:
        r = factors.r_from_annual(data.pop("annual_rain").data, data["r_model"])
    run.step("r_factor", t)
    run.check("R", r, "check the R raster, the station series or the annual rainfall")
    # soil loss accumulates in its own array, A = R·K·B·T·E·L·S in this order (as monitoring.blocks); the
    # factor arrays go to the writer unchanged
    run.a = r.copy() if params.combine else None
    run.write("r_factor", r, "R factor, MJ·mm/(hm²·h·a)")
    del r

    t = time.perf_counter()
    k_clipped = 0
    if data.get("k") is not None:
        k = data.pop("k").data.astype(np.float32, copy=False)
    else:
        k, k_clipped, k_warnings = factors.k_from_soil(data.pop("soil").data, data["soil_table"], params.k_correction,
                                                       run.valid)
        warnings.extend(k_warnings)
    run.step("k_factor", t)
    run.check("K", k, "check the K raster or the soil table (sand 100 % has no silt+clay for EPIC's silt ratio)")
    run.mul(k)
    run.write("k_factor", k, "K factor, t·hm²·h/(hm²·MJ·mm)")
    return stations, k_clipped


def _b_t_e(data: dict, params: CsleParams, run: _RunOutputs, warnings: list[str]) -> dict | None:
    """B (from NDVI or FVC), T and E; returns the NDVI end-members and how they were chosen (with NDVI)."""
    t = time.perf_counter()
    valid = run.valid
    lu = data.pop("landuse").data
    ndvi_ends = None
    if data.get("ndvi") is not None:
        fvc, ndvi_ends = fvc_from_ndvi(data.pop("ndvi").data, lu, valid, data.get("landuse_codes", {}), params)
        warnings.extend(ndvi_ends.pop("warnings", []))
    else:
        fvc = factors.fvc_given(data.pop("fvc").data)
    try:
        b = factors.b_factor(lu, fvc, data["b_table"], valid)
    except FactorError:
        run.abandon()
        raise
    run.check("B", b, "check NDVI/FVC for holes and the B table")
    if params.intermediates:
        run.write("fvc", fvc, "fractional vegetation cover (0-1)")
    del fvc
    run.mul(b)
    run.write("b_factor", b, "B factor")
    del b
    override = data.pop("t_override") if data.get("t_override") is not None else None
    tfac = factors.t_factor(lu, data["t_table"], override)  # T applies to cropland; other land T = 1
    del override
    run.check("T", tfac, "check the T table and the measure polygons' T")
    run.mul(tfac)
    run.write("t_factor", tfac, "T factor")
    del tfac, lu
    measures = data.pop("measures").data if data.get("measures") is not None else None
    e = factors.e_factor(measures, data.get("e_table"), run.grid.shape)
    del measures
    run.check("E", e, "check the E table against the measure codes")
    run.mul(e)
    run.write("e_factor", e, "E factor")
    del e
    run.step("b_e_t_factors", t)
    return ndvi_ends


def _l_s(data: dict, params: CsleParams, terrain_params, filled: np.ndarray, run: _RunOutputs,
         on_step: StepCallback | None) -> tuple:
    """L and S from the conditioned DEM; returns the D8 directions and accumulation when they are kept."""
    dem: rio.Raster = data["dem"]
    keep_acc = params.keep_flow_direction and terrain_params.routing == "d8"  # D8 cells: the small watersheds'
    ter, terrain_timings = compute_terrain(dem.data, run.valid, run.grid, terrain_params, on_step, keep_grids=False,
                                           keep_flow_direction=params.keep_flow_direction,
                                           keep_accumulation=keep_acc, filled=filled)
    del filled
    run.timings.update(terrain_timings)
    flow_direction, accumulation = ter.flow_direction, ter.accumulation_cells
    del data["dem"], dem  # the DEM is no longer needed
    if params.intermediates:
        run.write("slope", ter.slope_deg, "slope (degrees, Horn)")
    run.check("L", ter.l_factor, "check the DEM and the slope-length parameters")
    run.check("S", ter.s_factor, "check the DEM and the S table")
    run.mul(ter.l_factor)
    run.mul(ter.s_factor)
    run.write("l_factor", ter.l_factor, "L factor")
    run.write("s_factor", ter.s_factor, "S factor")
    if params.intermediates:
        run.write("ls_factor", ter.l_factor * ter.s_factor, "LS factor")
    return flow_direction, accumulation


def _grade(params: CsleParams, run: _RunOutputs):
    """Soil loss modulus (t/(km²·a)) and SL 190 grades from the product; returns them and their summary."""
    t = time.perf_counter()
    modulus = run.a
    assert modulus is not None  # the R factor started the product
    np.multiply(modulus, 100.0, out=modulus)  # t/(hm²·a) → t/(km²·a)
    modulus[run.invalid] = np.nan
    run.check("soil loss", modulus, "a product of finite factors overflowed float32")
    grades = csle.grade(modulus, params.tolerance_t_km2, tables.grade_bounds())
    run.step("soil_loss_and_grade", t)
    run.write("soil_loss", modulus, SOIL_LOSS_BAND, resampling="AVERAGE", product=True)
    run.write("grade", grades, GRADE_BAND, product=True)
    for style in styles.write_styles(run.out, params.tolerance_t_km2, tables.grade_bounds()):
        run.written[style.name.replace(".", "_")] = style.name  # grade_qml: grade.qml …
    return modulus, grades, summarise(grades, modulus, run.valid, run.grid.cell_area / 1e6)


def _summary(params: CsleParams, terrain_params, data: dict, run: _RunOutputs, summary_grades, stations,
             k_clipped: int, ndvi_ends: dict | None, warnings: list[str], started: float) -> dict:
    grid, valid = run.grid, run.valid
    return {
        "software": {"name": "shuibao", "version": __version__},
        "synthetic": params.synthetic,
        "grid": {"shape": list(grid.shape), "cell_size_m": [grid.cell_width, grid.cell_height],
                 "crs": grid.crs, "valid_cells": int(valid.sum())},
        "units": {"soil_loss": "t/(km²·a)", "area": "km²", "R": "MJ·mm/(hm²·h·a)", "K": "t·hm²·h/(hm²·MJ·mm)"},
        "parameters": {
            "tolerance_t_km2": params.tolerance_t_km2, "grade_bounds_t_km2": list(tables.grade_bounds()),
            "routing": terrain_params.routing, "channel_threshold_m2": terrain_params.channel_threshold_m2,
            "slope_for_factors": terrain_params.slope_for_factors,
            "slope_length": {k: v for k, v in asdict(terrain_params.ls).items()},
            "k_correction": params.k_correction, "r_model": params.r_model, "idw_power": params.idw_power,
            "idw_neighbours": params.idw_neighbours, "rotation_zone": data.get("t_zone") or None,
            **({"fvc_end_members": ndvi_ends} if ndvi_ends else {}),
        },
        "grades": summary_grades.as_dict() if summary_grades else None,
        "conservation_rate_pct": summary_grades.conservation_rate_pct if summary_grades else None,
        "stations": [{"station": s.station, "x": s.x, "y": s.y, "years": res.years, "r_annual": res.annual_mean,
                      "model": res.model, "alpha": res.alpha, "beta": res.beta} for s, res in stations]
        if stations else None,
        "k_clipped_cells": k_clipped,
        "warnings": warnings,
        "outputs": run.written,
        "timings_s": {**run.timings, "compute": round(time.perf_counter() - started, 4)},
    }


def compute_csle(data: dict, out_dir: Path | str, params: CsleParams, on_step: StepCallback | None = None) -> dict:
    """The factors, soil loss and grades from validated inputs (:func:`validate_csle`); consumes ``data``.

    Writes the factor COGs (and, with ``params.combine``, soil loss and grades) into
    ``out_dir`` and returns the summary.  With ``params.keep_flow_direction`` the
    summary's ``"_flow_direction"`` holds the D8 directions (uint8, not JSON) and, with D8 routing,
    ``"_accumulation"`` the D8 contributing cells, and ``"_soil_loss"``/``"_grade"`` the products.
    The product is A = L·S·R·K·B·T·E, in this order, in float32 (see
    :func:`shuibao.core.csle.soil_loss`'s note on the order).
    """
    out = Path(out_dir)
    started = time.perf_counter()
    dem: rio.Raster = data["dem"]
    grid, valid = dem.grid, dem.valid.copy()
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").unlink(missing_ok=True)  # an earlier run's summary must not stand for a failed one
    run = _RunOutputs(out, grid, valid, params, on_step)
    warnings: list[str] = []

    terrain_params = replace(params.terrain, ls=replace(params.terrain.ls, m_table=data["m_table"],
                                                        s_table=data["s_table"]))
    # The fill first, on every core (tiles in parallel); R, K, B, T and E next, then the terrain factors.
    t = time.perf_counter()
    filled = condition_dem(dem.data, valid, terrain_params.routing)
    run.step("fill", t)
    del dem
    stations, k_clipped = _r_and_k(data, params, run, warnings)
    ndvi_ends = _b_t_e(data, params, run, warnings)
    flow_direction, accumulation = _l_s(data, params, terrain_params, filled, run, on_step)
    del filled

    summary_grades = modulus = grades = None
    if run.a is not None:
        modulus, grades, summary_grades = _grade(params, run)
    t = time.perf_counter()
    run.writer.close()
    run.step("write_wait", t)

    summary = _summary(params, terrain_params, data, run, summary_grades, stations, k_clipped, ndvi_ends, warnings,
                       started)
    if params.keep_flow_direction:
        summary["_flow_direction"] = flow_direction
        summary["_accumulation"] = accumulation  # None with MFD routing
        if summary_grades is not None:  # the monitoring run counts them next: no need to read them back
            summary["_soil_loss"], summary["_grade"] = modulus, grades
    return summary
