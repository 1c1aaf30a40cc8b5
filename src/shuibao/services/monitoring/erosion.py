"""Use cases of the erosion engine: terrain rasters and a whole CSLE run from GeoTIFF inputs.

A CSLE run validates every input before computing anything and reports every
problem at once; then it writes the factor rasters, soil loss and grades as
Cloud-Optimized GeoTIFFs and a JSON summary (area by grade, 水土保持率,
parameters, input checksums, timings).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from shuibao import __version__
from shuibao.core import csle, hydrology, terrain
from shuibao.core.zonal import present_codes
from shuibao.core.lsfactor import SlopeLengthParams
from shuibao.erosion import tables
from shuibao.erosion.engine import TerrainParams, compute_terrain, condition_dem, summarise
from shuibao.erosion.inputs import (
    erosivity_range_warnings,
    read_daily_rain,
    read_soil_table,
    require,
    station_erosivity,
)
from shuibao.errors import FactorError, InputError
from shuibao.io import raster as rio
from shuibao.io import styles
from shuibao.plan.boundaries import EQUAL_AREA_CRS
from shuibao.demo.scene import SYNTHETIC_TAG
from shuibao.io.steps import sha256, write_json_atomic

StepCallback = Callable[[str, float], None]
RUN_RASTERS = ("r_factor", "k_factor", "b_factor", "t_factor", "e_factor", "l_factor", "s_factor", "fvc", "slope",
               "ls_factor", "soil_loss", "grade")  # everything compute_csle may write
SOIL_LOSS_BAND = "soil loss modulus A, t/(km²·a) (= 100 × t/(hm²·a))"
GRADE_BAND = "SL 190-2007 grade: 1 微度 2 轻度 3 中度 4 强烈 5 极强烈 6 剧烈; 0 nodata"

__all__ = ["CsleInputs", "CsleParams", "SlopeLengthParams", "TerrainParams", "run_csle", "terrain_step",
           "validate_csle"]


# --------------------------------------------------------------------------- terrain commands
def _dem(path: Path | str, target_crs: str | None = None, resolution_m: float | None = None) -> rio.Raster:
    """The DEM on the run's grid: reprojected to ``target_crs`` if given; a geographic DEM without one goes to
    the CGCS2000 Albers equal-area CRS (:data:`~shuibao.plan.boundaries.EQUAL_AREA_CRS`) at the ground size of its
    cells (:func:`~shuibao.io.raster.ground_resolution`) unless ``resolution_m`` says otherwise.  The grid must keep
    ground areas within 0.1 % (Mercator refused; docs/adr/0009-projections-and-cell-area.md)."""
    dem = rio.read_raster(path, "DEM")
    given = target_crs
    if target_crs is None and rio.CRS.from_user_input(dem.grid.crs).is_geographic:
        target_crs = EQUAL_AREA_CRS.to_wkt()
        resolution_m = resolution_m or rio.ground_resolution(dem.grid)
    if target_crs or resolution_m:
        dem = rio.reproject_raster(dem, target_crs or dem.grid.crs, resolution=resolution_m)
    rio.require_projected_metres(dem.grid, "DEM", path)
    if not dem.valid.any():
        raise InputError(f"DEM: {path} has no valid cells")
    named = f"{path} (reprojected to the target CRS)" if given else path
    rio.require_area_preserving(dem.grid, dem.valid, "DEM", named)
    rio.require_vertical_metres(dem, "DEM")
    return dem


def terrain_step(step: str, dem_path: Path | str, out: Path | str, *, routing: str = "d8",
                 mfd_method: str = "quinn", units: str = "cells", params: TerrainParams | None = None,
                 target_crs: str | None = None) -> dict:
    """One terrain raster: fill, flowdir, accumulation, slope, aspect or ls."""
    dem = _dem(dem_path, target_crs)
    grid, valid = dem.grid, dem.valid
    tags = {"SHUIBAO_VERSION": __version__, "SHUIBAO_STEP": step, "SHUIBAO_SOURCE": str(dem_path)}
    dx, dy = grid.cell_width, grid.cell_height
    filled = condition_dem(dem.data, valid, routing)
    if step == "fill":
        rio.write_float(out, filled, valid, grid, tags=tags, band_name="conditioned elevation (m)")
        return {"raised_cells": int(np.count_nonzero(filled[valid] > dem.data[valid]))}
    if step == "slope" or step == "aspect":
        slope, aspect = terrain.slope_aspect(filled, valid, dx, dy)
        if step == "slope":
            rio.write_float(out, slope, valid, grid, tags=tags, band_name="slope (degrees, Horn)")
        else:
            rio.write_float(out, aspect, valid, grid, tags=tags, band_name="aspect (degrees from north, -1 flat)")
        return {}
    fdir = hydrology.flow_direction_d8(filled, valid, dx, dy, resolve_flats=True)
    if step == "flowdir":
        rio.write_cog(out, fdir, grid, nodata=None, tags={**tags, "SHUIBAO_CODES": "ESRI D8: 1 E 2 SE 4 S 8 SW "
                                                                    "16 W 32 NW 64 N 128 NE; 0 outlet or nodata"},
                      band_name="D8 flow direction (ESRI codes)", categorical=True)
        return {"outlets": int(np.count_nonzero(hydrology.outlets(fdir, valid)))}
    if step == "accumulation":
        weight = grid.cell_area if units == "m2" else (grid.cell_area / 1e6 if units == "km2" else 1.0)
        if routing == "mfd":
            acc = hydrology.flow_accumulation_mfd(filled, valid, dx, dy, weight, method=mfd_method)
        else:
            acc = hydrology.flow_accumulation_d8(fdir, valid, weight)
        rio.write_float(out, acc, valid, grid, tags={**tags, "SHUIBAO_ROUTING": routing},
                        band_name=f"flow accumulation ({units}, including the cell itself)")
        return {"max": float(np.nanmax(acc))}
    if step == "ls":
        result, timings = compute_terrain(dem.data, valid, grid, params or TerrainParams())
        rio.write_float(out, result.ls, valid, grid, tags=tags, band_name="LS factor (CSLE)")
        return {"timings_s": timings}
    raise InputError(f"unknown terrain step {step!r}")


# --------------------------------------------------------------------------- CSLE
@dataclass
class CsleInputs:
    dem: Path
    landuse: Path
    ndvi: Path | None = None
    fvc: Path | None = None
    r: Path | None = None
    rain: Path | None = None
    annual_rain: Path | None = None
    k: Path | None = None
    soil: Path | None = None
    soil_table: Path | None = None
    measures: Path | None = None
    b_table: Path | None = None
    b_cover_classes: Path | None = None
    t_table: Path | None = None
    e_table: Path | None = None
    landuse_codes: Path | None = None
    m_table: Path | None = None
    s_table: Path | None = None
    r_model: Path | None = None
    labels: dict[str, str] = field(default_factory=dict)  # how messages name an input (CLI flag by default)


@dataclass
class CsleParams:
    tolerance_t_km2: float = 500.0
    terrain: TerrainParams = field(default_factory=TerrainParams)
    ndvi_soil: float | None = None
    ndvi_veg: float | None = None
    soil_percentile: float = 5.0  # NDVI end-members: cumulative-frequency percentiles (methods.md §1.5)
    veg_percentile: float = 95.0
    fvc_endmember_scope: str = "pooled"  # "pooled" (bare and vegetated land) | "per_class" (each vegetated code's own)
    rotation_zone: str | None = None  # 轮作区 of the T table (None: its only or first zone)
    idw_power: float = 2.0
    idw_neighbours: int | None = None  # None: all stations (Shepard)
    k_correction: bool = False  # Zhang Keli 2007 on EPIC K (in US units, then SI), clipped at 0 and counted
    # daily model for station rain: "zhang2002" (constants verified in print) | "xie2016_seasonal" (the census's
    # warm/cold-season form; its α and threshold NOT verified, so it is the option, not the default)
    r_model: str = "zhang2002"
    target_crs: str | None = None
    resolution_m: float | None = None  # resample the DEM to this cell size first (bilinear)
    synthetic: bool = False
    intermediates: bool = False  # also write slope, LS and FVC (not factors of the equation)
    combine: bool = True  # multiply the factors into soil loss and grade here (False: a blockwise step does)
    keep_flow_direction: bool = False  # return the D8 directions (small watersheds use them)


def _read(path: Path, role: str, problems: list[str]) -> rio.Raster | None:
    try:
        return rio.read_raster(path, role)
    except InputError as exc:
        problems.append(str(exc))
        return None


def _aligned(path: Path, role: str, dem: rio.Raster, problems: list[str], categorical: bool = False):
    r = _read(path, role, problems)
    if r is None:
        return None
    try:
        return rio.align(r, dem.grid, role, categorical=categorical, target_valid=dem.valid)
    except InputError as exc:
        problems.append(str(exc))
        return None


def _nonnegative(raster: rio.Raster | None, role: str, problems: list[str]) -> rio.Raster | None:
    if raster is not None and np.nanmin(raster.data[raster.valid]) < 0:
        problems.append(f"{role}: {raster.path} has negative values")
    return raster


def _crs_name(crs: str) -> str:
    """A CRS as people read it: its EPSG code or its name, not its WKT."""
    from pyproj import CRS

    try:
        c = CRS.from_user_input(crs)
    except Exception:  # noqa: BLE001 - a message must not fail over its CRS
        return "the grid's CRS"
    code = c.to_epsg()
    return f"EPSG:{code}" if code else c.name


def require_sound(name: str, values: np.ndarray, valid: np.ndarray, grid, hint: str) -> None:
    """Raise :class:`FactorError` if ``values`` is negative, NaN or infinite on any ``valid`` cell.

    One pass (numba); the message names the factor, how many cells and the first one by row/column and by
    map x/y (cell centre, in the grid's CRS) — a soil loss that cannot be computed is never graded.
    """
    n_neg, n_nan, n_inf, first = csle.invalid_cells(values, valid)
    if first < 0:
        return
    row, col = divmod(int(first), grid.shape[1])
    x = grid.transform[2] + (col + 0.5) * grid.cell_width
    y = grid.transform[5] - (row + 0.5) * grid.cell_height
    kinds = ", ".join(f"{n} {what}" for n, what in ((n_neg, "negative"), (n_nan, "NaN"), (n_inf, "infinite")) if n)
    raise FactorError(f"{name}: {n_neg + n_nan + n_inf} cell(s) with data are negative, NaN or infinite ({kinds}); "
                      f"first at row {row}, column {col} (x {x:.1f}, y {y:.1f} in {_crs_name(grid.crs)}); {hint}. "
                      "Nothing was graded.")


def validate_csle(inputs: CsleInputs, params: CsleParams) -> dict:
    """Read and check every input on the DEM grid; raise one InputError listing all problems."""
    problems: list[str] = []
    dem = None
    try:
        dem = _dem(inputs.dem, params.target_crs, params.resolution_m)
    except InputError as exc:
        problems.append(str(exc))
    if inputs.r is None and inputs.rain is None and inputs.annual_rain is None:
        problems.append("R: give an R raster (--r), daily rainfall of stations (--rain) or annual rainfall (--annual-rain)")
    if inputs.k is None and inputs.soil is None:
        problems.append("K: give a K raster (--k) or a soil raster with its table (--soil, --soil-table)")
    if inputs.soil is not None and inputs.soil_table is None:
        problems.append("K: --soil needs --soil-table (code, sand_pct, silt_pct, clay_pct, organic_carbon_pct)")
    if inputs.ndvi is None and inputs.fvc is None:
        problems.append("B: give NDVI (--ndvi) or vegetation cover (--fvc)")
    loaded: dict = {}
    if params.fvc_endmember_scope not in ("pooled", "per_class"):
        problems.append(f"B: fvc_endmember_scope {params.fvc_endmember_scope!r}; expected pooled or per_class")
    if params.r_model not in csle.R_MODELS:
        problems.append(f"R: unknown model {params.r_model!r}; expected one of {', '.join(csle.R_MODELS)}")
    r_loader = (lambda path: tables.r_model(path, params.r_model if params.r_model in csle.R_MODELS else None))
    for name, loader in (("t_table", tables.t_table), ("e_table", tables.e_table), ("m_table", tables.m_table),
                         ("s_table", tables.s_table), ("r_model", r_loader), ("landuse_codes", tables.landuse_codes)):
        try:
            loaded[name] = loader(getattr(inputs, name))
        except Exception as exc:  # noqa: BLE001 - every table problem is reported, then we stop
            problems.append(str(exc))
    try:
        loaded["b_table"] = tables.b_table(inputs.b_table, inputs.b_cover_classes)
    except Exception as exc:  # noqa: BLE001
        problems.append(str(exc))
    if "t_table" in loaded:
        tt = loaded["t_table"]
        zone = params.rotation_zone
        if zone is not None and zone not in tt.zones:
            problems.append(f"T: rotation zone {zone!r} is not in {tt.path} "
                            + (f"(it has {', '.join(tt.zones)})" if any(tt.zones) else "(a table without zones: "
                               "leave rotation_zone unset)"))
        else:
            loaded["t_zone"] = zone if zone is not None else (tt.zones[0] if tt.zones else "")
            loaded["t_table"] = tt.for_zone(loaded["t_zone"])
    if dem is None:
        require(problems)
    assert dem is not None
    loaded["dem"] = dem
    lu = _aligned(inputs.landuse, "land use", dem, problems, categorical=True)
    if lu is not None:
        codes = present_codes(lu.data, dem.valid)
        if "b_table" in loaded and loaded["b_table"].unknown(codes):
            problems.append(f"land use: {inputs.landuse} has class code(s) {loaded['b_table'].unknown(codes)} that "
                            f"{loaded['b_table'].path} does not list")
        known = loaded.get("landuse_codes", {})
        if "t_table" in loaded and isinstance(loaded["t_table"], tables.ClassTable):
            cropland = [c for c in codes.tolist() if c in known and known[c].plan_class == 1]
            missing = loaded["t_table"].unknown(cropland)
            if missing:
                problems.append(f"T: {loaded['t_table'].path} has no T for the cropland code(s) {missing} of "
                                f"{inputs.landuse}" + (f" in rotation zone {loaded['t_zone']}" if loaded['t_zone'] else ""))
        loaded["landuse"] = lu
    if inputs.measures is not None:
        me = _aligned(inputs.measures, "measures", dem, problems, categorical=True)
        if me is not None and "e_table" in loaded:
            unknown = loaded["e_table"].unknown(present_codes(me.data, dem.valid))
            if unknown:
                problems.append(f"measures: {inputs.measures} has code(s) {unknown} that "
                                f"{loaded['e_table'].path} does not list")
            loaded["measures"] = me
    if inputs.ndvi is not None:
        nd = _aligned(inputs.ndvi, "NDVI", dem, problems)
        if nd is not None:
            vals = nd.data[dem.valid]
            if vals.size and (np.nanmin(vals) < -1.0001 or np.nanmax(vals) > 1.0001):
                problems.append(f"NDVI: {inputs.ndvi} has values from {np.nanmin(vals):g} to {np.nanmax(vals):g}; "
                                "NDVI lies in [-1, 1] (scaled products need dividing, e.g. by 10000)")
            loaded["ndvi"] = nd
    elif inputs.fvc is not None:
        fv = _aligned(inputs.fvc, "FVC", dem, problems)
        if fv is not None:
            vals = fv.data[dem.valid]
            if vals.size and (np.nanmin(vals) < 0 or np.nanmax(vals) > 1.0001):
                problems.append(f"FVC: {inputs.fvc} must lie in [0, 1], found {np.nanmin(vals):g}…{np.nanmax(vals):g}")
            loaded["fvc"] = fv
    if inputs.r is not None:
        loaded["r"] = _nonnegative(_aligned(inputs.r, "R", dem, problems), "R", problems)
    elif inputs.rain is not None:
        loaded["rain"] = read_daily_rain(inputs.rain, dem.grid.crs, problems, inputs.labels.get("rain", "--rain"))
    elif inputs.annual_rain is not None:
        loaded["annual_rain"] = _nonnegative(_aligned(inputs.annual_rain, "annual rainfall", dem, problems),
                                             "annual rainfall", problems)
    if inputs.k is not None:
        k = _aligned(inputs.k, "K", dem, problems)
        if k is not None:
            vals = k.data[dem.valid]
            if np.nanmin(vals) < 0 or np.nanmax(vals) > 1:
                problems.append(f"K: {inputs.k} has values {np.nanmin(vals):g}…{np.nanmax(vals):g}; expected SI "
                                "units t·hm²·h/(hm²·MJ·mm), typically 0.001–0.1")
            loaded["k"] = k
    elif inputs.soil is not None and inputs.soil_table is not None:
        soil = _aligned(inputs.soil, "soil", dem, problems, categorical=True)
        table = read_soil_table(inputs.soil_table, problems, inputs.labels.get("soil_table", "--soil-table"))
        if soil is not None and table is not None:
            unknown = sorted(set(present_codes(soil.data, dem.valid).tolist()) - set(table.codes.tolist()))
            if unknown:
                problems.append(f"soil: {inputs.soil} has code(s) {unknown} that {inputs.soil_table} does not list")
        loaded["soil"], loaded["soil_table"] = soil, table
    require(problems)
    return loaded


def run_csle(inputs: CsleInputs, out_dir: Path | str, params: CsleParams = CsleParams(),
             on_step: StepCallback | None = None) -> dict:
    """Validate, compute and write a whole CSLE run; returns the summary written to ``summary.json``."""
    started = time.perf_counter()
    data = validate_csle(inputs, params)
    validated = round(time.perf_counter() - started, 4)
    if on_step:
        on_step("validate", validated)
    summary = compute_csle(data, out_dir, params, on_step)
    summary["inputs"] = {name: {"path": str(value), "sha256": sha256(Path(value))}
                         for name, value in asdict(inputs).items() if value is not None and name != "labels"}
    summary["timings_s"] = {"validate": validated, **summary["timings_s"],
                            "total": round(time.perf_counter() - started, 4)}
    _write_json(Path(out_dir) / "summary.json", summary)
    return summary


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
    timings: dict[str, float] = {}

    def step(name: str, t0: float) -> None:
        timings[name] = round(time.perf_counter() - t0, 4)
        if on_step:
            on_step(name, timings[name])

    dem: rio.Raster = data["dem"]
    grid, valid = dem.grid, dem.valid.copy()
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").unlink(missing_ok=True)  # an earlier run's summary must not stand for a failed one
    tags = {"SHUIBAO_VERSION": __version__, "SHUIBAO_RUN": "csle"}
    if params.synthetic:
        tags["SHUIBAO_SYNTHETIC"] = SYNTHETIC_TAG
    written: dict[str, str] = {}
    writer = rio.BackgroundWriter()
    invalid = ~valid
    warnings: list[str] = []
    k_clipped = 0

    def abandon() -> None:
        """Let the queued rasters finish, then remove every product a run writes here (this run's and an earlier
        run's): a folder is a whole run or none."""
        writer.close()
        for name in {*written.values(), *(f"{n}.tif" for n in RUN_RASTERS), *styles.STYLE_FILES}:
            (out / name).unlink(missing_ok=True)

    def check(name: str, values: np.ndarray, hint: str) -> None:
        try:
            require_sound(name, values, valid, grid, hint)
        except FactorError:
            abandon()
            raise

    def write(name: str, values: np.ndarray, band: str, resampling: str = "NEAREST", product: bool = False) -> None:
        """Queue a COG of ``values``, which must not change afterwards (floats get NaN outside valid).

        The products (soil loss, grades) are DEFLATE for any reader; the factor rasters ZSTD,
        which writes 1.7× faster and keeps the writer from holding up the computation.
        """
        codec = "DEFLATE" if product else "ZSTD"
        t0 = time.perf_counter()
        if values.dtype == np.uint8:
            writer.submit(out / f"{name}.tif", values, grid, nodata=0, tags=tags, band_name=band, categorical=True,
                          compress=codec, colormap=styles.grade_colormap() if name == "grade" else None)
        else:
            values[invalid] = np.nan
            writer.submit(out / f"{name}.tif", values, grid, nodata=float("nan"), tags=tags, band_name=band,
                          overview_resampling=resampling, compress=codec)
        written[name] = f"{name}.tif"
        # masking, and waiting for a free slot when the writer is behind
        timings["write_queue"] = round(timings.get("write_queue", 0.0) + time.perf_counter() - t0, 4)

    terrain_params = replace(params.terrain, ls=replace(params.terrain.ls, m_table=data["m_table"],
                                                        s_table=data["s_table"]))
    # The fill first, on every core (tiles in parallel); R, K, B, T and E next, then the terrain factors.
    t = time.perf_counter()
    filled = condition_dem(dem.data, valid, terrain_params.routing)
    step("fill", t)

    t = time.perf_counter()
    stations = None
    if data.get("r") is not None:
        r = data.pop("r").data
    elif data.get("rain") is not None:
        stations = station_erosivity(data["rain"], data["r_model"], params.r_model)
        warnings.extend(erosivity_range_warnings(stations, data["r_model"]))
        rows, cols = grid.shape
        x0, y0 = grid.transform[2], grid.transform[5]
        xs = x0 + (np.arange(cols) + 0.5) * grid.cell_width
        ys = y0 - (np.arange(rows) + 0.5) * grid.cell_height
        pts = np.array([[s.x, s.y] for s, _ in stations])
        r = csle.idw(pts, np.array([res.annual_mean for _, res in stations]), xs, ys,
                     power=params.idw_power, neighbours=params.idw_neighbours, mask=valid)
    else:
        rm = data["r_model"]
        r = csle.erosivity_annual(data.pop("annual_rain").data, rm["annual_a"], rm["annual_b"]).astype(np.float32)
    step("r_factor", t)
    check("R", r, "check the R raster, the station series or the annual rainfall")
    # soil loss accumulates in its own array, A = R·K·B·T·E·L·S in this order (as monitoring.blocks); the
    # factor arrays go to the writer unchanged
    a = r.copy() if params.combine else None

    def mul(factor: np.ndarray) -> None:
        if a is not None:
            np.multiply(a, factor, out=a)

    write("r_factor", r, "R factor, MJ·mm/(hm²·h·a)")
    del r

    t = time.perf_counter()
    if data.get("k") is not None:
        k = data.pop("k").data.astype(np.float32, copy=False)
    else:
        st = data["soil_table"]
        soil = data.pop("soil").data
        if params.k_correction:
            kv, clipped = csle.k_epic_corrected(st.sand, st.silt, st.clay, st.organic_carbon)
            if clipped.any():  # K ≥ 0 enforced; the cells it touched are counted
                k_clipped = int(np.count_nonzero(np.isin(soil, st.codes[clipped]) & valid))
                if k_clipped:
                    warnings.append(f"K: the Chinese correction gave negative K on {k_clipped} cell(s) (soil code(s) "
                                    f"{sorted(int(c) for c in st.codes[clipped])}); set to 0")
        else:
            kv = csle.k_epic(st.sand, st.silt, st.clay, st.organic_carbon)
        k = csle.lookup(soil, st.codes, kv)
        del soil
    step("k_factor", t)
    check("K", k, "check the K raster or the soil table (sand 100 % has no silt+clay for EPIC's silt ratio)")
    mul(k)
    write("k_factor", k, "K factor, t·hm²·h/(hm²·MJ·mm)")
    del k

    t = time.perf_counter()
    lu = data.pop("landuse").data
    ndvi_ends = None
    if data.get("ndvi") is not None:
        fvc, ndvi_ends = _fvc_from_ndvi(data.pop("ndvi").data, lu, valid, data.get("landuse_codes", {}), params)
        warnings.extend(ndvi_ends.pop("warnings", []))
    else:
        fvc = np.clip(data.pop("fvc").data, 0, 1).astype(np.float32)
    bt, tt = data["b_table"], data["t_table"]
    b = csle.b_factor(lu, fvc, bt.codes, bt.methods, bt.values, bt.cover_classes, bt.formulas)
    if bt.formulas:
        bad = valid & (b > 1)
        if bad.any():
            abandon()
            codes = sorted(set(np.unique(lu[bad]).tolist()) & set(bt.formulas))
            raise FactorError(f"B: the formula of land-use code(s) {codes} in {bt.path} gives B above 1 on "
                              f"{int(bad.sum())} cells (e.g. {bt.formulas[codes[0]]!r} at FVC "
                              f"{float(fvc[bad][0]):.3f}); bound it with min(…, 1). Nothing was graded")
    check("B", b, "check NDVI/FVC for holes and the B table")
    if params.intermediates:
        write("fvc", fvc, "fractional vegetation cover (0-1)")
    del fvc
    mul(b)
    write("b_factor", b, "B factor")
    del b
    tfac = csle.lookup(lu, tt.codes, tt.values, default=1.0)  # T applies to cropland; other land T = 1
    if data.get("t_override") is not None:  # T of measure polygons where they give one
        override = data.pop("t_override")
        np.copyto(tfac, override, where=np.isfinite(override))
        del override
    check("T", tfac, "check the T table and the measure polygons' T")
    mul(tfac)
    write("t_factor", tfac, "T factor")
    del tfac, lu
    if data.get("measures") is not None:
        e = csle.lookup(data.pop("measures").data, data["e_table"].codes, data["e_table"].values)
    else:
        e = np.ones(grid.shape, np.float32)
    check("E", e, "check the E table against the measure codes")
    mul(e)
    write("e_factor", e, "E factor")
    del e
    step("b_e_t_factors", t)

    keep_acc = params.keep_flow_direction and terrain_params.routing == "d8"  # D8 cells: the small watersheds'
    ter, terrain_timings = compute_terrain(dem.data, valid, grid, terrain_params, on_step, keep_grids=False,
                                           keep_flow_direction=params.keep_flow_direction,
                                           keep_accumulation=keep_acc, filled=filled)
    del filled
    timings.update(terrain_timings)
    flow_direction, accumulation = ter.flow_direction, ter.accumulation_cells
    del data["dem"], dem  # the DEM is no longer needed
    if params.intermediates:
        write("slope", ter.slope_deg, "slope (degrees, Horn)")
    check("L", ter.l_factor, "check the DEM and the slope-length parameters")
    check("S", ter.s_factor, "check the DEM and the S table")
    mul(ter.l_factor)
    mul(ter.s_factor)
    write("l_factor", ter.l_factor, "L factor")
    write("s_factor", ter.s_factor, "S factor")
    if params.intermediates:
        write("ls_factor", ter.l_factor * ter.s_factor, "LS factor")
    del ter

    summary_grades = None
    if a is not None:
        t = time.perf_counter()
        modulus = a
        np.multiply(modulus, 100.0, out=modulus)  # t/(hm²·a) → t/(km²·a)
        modulus[invalid] = np.nan
        check("soil loss", modulus, "a product of finite factors overflowed float32")
        grades = csle.grade(modulus, params.tolerance_t_km2, tables.grade_bounds())
        step("soil_loss_and_grade", t)
        write("soil_loss", modulus, SOIL_LOSS_BAND, resampling="AVERAGE", product=True)
        write("grade", grades, GRADE_BAND, product=True)
        for style in styles.write_styles(out, params.tolerance_t_km2, tables.grade_bounds()):
            written[style.name.replace(".", "_")] = style.name  # grade_qml: grade.qml …
        summary_grades = summarise(grades, modulus, valid, grid.cell_area / 1e6)
    t = time.perf_counter()
    writer.close()
    step("write_wait", t)

    summary = {
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
        "outputs": written,
        "timings_s": {**timings, "compute": round(time.perf_counter() - started, 4)},
    }
    if params.keep_flow_direction:
        summary["_flow_direction"] = flow_direction
        summary["_accumulation"] = accumulation  # None with MFD routing
        if summary_grades is not None:  # the monitoring run counts them next: no need to read them back
            summary["_soil_loss"], summary["_grade"] = modulus, grades
    return summary


MIN_BARE_CELLS = 1000  # fewer bare cells than this cannot place a 5th percentile: fall back (and say so)


def _fvc_from_ndvi(ndvi: np.ndarray, landuse: np.ndarray, valid: np.ndarray, codes: dict,
                   params: CsleParams) -> tuple[np.ndarray, dict]:
    """FVC by the dimidiate pixel model with end-members taken from eligible land only.

        FVC = (NDVI − NDVI_soil) / (NDVI_veg − NDVI_soil), clipped to [0, 1]

    NDVI_veg is the ``veg_percentile`` (95 %) of the NDVI of vegetated land (forest, shrub, grass, garden:
    ``fvc_pool = veg`` in ``landuse_codes.csv``) and NDVI_soil the ``soil_percentile`` (5 %) of bare land
    (bare soil, sand, mining, vacant land: ``fvc_pool = soil``); with fewer than :data:`MIN_BARE_CELLS` bare
    cells, of bare and vegetated land together (recorded as a fallback).  Water, sealed land and cropland
    never set an end-member: with 8 % water the all-cell 5th percentile falls to NDVI ≈ −0.2 and B of
    sparse cover by 2.4× (issue 16).  Codes the table does not know count as vegetated.  The 5 %/95 %
    cumulative-frequency rule is the common Chinese practice (VERIFIED-SECONDARY, docs/validation.md §FVC).
    Either end-member given in the parameters is used as given.  Returns FVC and the end-members with how
    they were chosen (written to the run's provenance).
    """
    pool_of = {c: v.fvc_pool for c, v in codes.items()}
    present = present_codes(landuse, valid).tolist()
    veg_codes = [c for c in present if pool_of.get(c) == "veg"]
    bare_codes = [c for c in present if pool_of.get(c) == "soil"]
    warnings: list[str] = []
    unknown = [c for c in present if c not in pool_of]
    if unknown and (params.ndvi_soil is None or params.ndvi_veg is None):
        warnings.append(f"FVC: land-use code(s) {unknown[:10]} are not in the land-use code table, so they set no "
                        "NDVI end-member (they could be water or sealed land); give the codes in a landuse_codes "
                        "table, or ndvi_soil and ndvi_veg")

    usable = valid & np.isfinite(ndvi)

    def pool(members):
        """Cells of the given codes with an NDVI: one gather through a code table (np.isin would pass once per
        code over a 92 M-cell grid)."""
        if not members:
            return np.zeros_like(valid)
        lut = np.zeros(max(members) + 1, bool)
        lut[members] = True
        inside = np.asarray(landuse)
        if inside.dtype.kind not in "iu" or inside.max(initial=0) >= lut.size or inside.min(initial=0) < 0:
            return usable & np.isin(inside, members)
        return usable & lut[inside]

    info: dict = {}
    lo, hi = params.ndvi_soil, params.ndvi_veg
    if lo is None:
        m = pool(bare_codes)
        used, fallback = bare_codes, False
        if m.sum() < MIN_BARE_CELLS:
            m, used, fallback = pool(bare_codes + veg_codes), bare_codes + veg_codes, True
            warnings.append(f"FVC: fewer than {MIN_BARE_CELLS} bare-land cells, so the bare-soil NDVI is the "
                            f"{params.soil_percentile:g}th percentile of bare and vegetated land together, which "
                            "reads sparse cover as bare and raises B; give ndvi_soil (a bare-soil NDVI of your "
                            "imagery) for a small area")
        if not m.any():
            raise InputError("B: no bare or vegetated cells (by the land-use code table) to take the bare-soil NDVI "
                             "from; give ndvi_soil and ndvi_veg, or the codes in a landuse_codes table")
        lo = csle.ndvi_percentile(ndvi, m, params.soil_percentile)
        info["ndvi_soil_from"] = {"percentile": params.soil_percentile, "landuse_codes": used, "cells": int(m.sum()),
                                  "fallback_without_bare_land": fallback}
    else:
        info["ndvi_soil_from"] = "parameter"
    if hi is None:
        m = pool(veg_codes)
        if not m.any():
            raise InputError("B: no vegetated cells (by the land-use code table) to take the full-cover NDVI from; "
                             "give ndvi_veg, or the codes in a landuse_codes table")
        hi = csle.ndvi_percentile(ndvi, m, params.veg_percentile)
        info["ndvi_veg_from"] = {"percentile": params.veg_percentile, "landuse_codes": veg_codes,
                                 "cells": int(m.sum())}
    else:
        info["ndvi_veg_from"] = "parameter"
    if not hi > lo:
        raise InputError(f"B: the NDVI end-members give no range (soil {lo:.4f} ≥ vegetation {hi:.4f}); "
                         "set ndvi_soil and ndvi_veg")
    fvc, lo, hi = csle.fvc_dimidiate(ndvi, valid, lo, hi)
    out = {"ndvi_soil": lo, "ndvi_veg": hi, "scope": params.fvc_endmember_scope, **info}
    if params.fvc_endmember_scope == "per_class" and params.ndvi_veg is None:
        out["per_class"] = _per_class_veg_end(ndvi, landuse, valid, veg_codes, params, lo, fvc)
    if warnings:
        out["warnings"] = warnings
    return fvc, out


def _per_class_veg_end(ndvi, landuse, valid, veg_codes, params: CsleParams, ndvi_soil: float,
                       fvc: np.ndarray) -> dict:
    """Each vegetated code's own full-cover end-member (its ``veg_percentile``), the practice of taking the
    percentiles within each land-use unit (VERIFIED-SECONDARY, docs/validation.md), with the pooled bare-soil
    end-member kept: a class's own 5th percentile would make 5 % of every forest bare.  ``fvc`` is overwritten on
    those codes' cells; a code with fewer than :data:`MIN_BARE_CELLS` cells keeps the pooled value."""
    used: dict = {}
    for code in veg_codes:
        m = valid & (landuse == code) & np.isfinite(ndvi)
        n = int(m.sum())
        hi = csle.ndvi_percentile(ndvi, m, params.veg_percentile) if n >= MIN_BARE_CELLS else None
        if hi is None or not hi > ndvi_soil:
            used[str(code)] = {"cells": n, "pooled": True}
            continue
        fvc[m] = np.clip((ndvi[m] - ndvi_soil) / (hi - ndvi_soil), 0.0, 1.0)
        used[str(code)] = {"cells": n, "ndvi_veg": hi}
    return used


def _strict(value):
    """JSON has no NaN or infinity: write them as null (a station without erosive rain has no α, β)."""
    if isinstance(value, dict):
        return {k: _strict(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_strict(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


def _write_json(path: Path, payload: dict) -> None:
    write_json_atomic(path, _strict(payload), indent=2, allow_nan=False)
