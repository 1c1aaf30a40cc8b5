"""Use cases of the erosion engine: terrain rasters and a whole CSLE run from GeoTIFF inputs.

A CSLE run validates every input before computing anything and reports every
problem at once; then it writes the factor rasters, soil loss and grades as
Cloud-Optimized GeoTIFFs and a JSON summary (area by grade, 水土保持率,
parameters, input checksums, timings).

This module reads the inputs (:mod:`shuibao.io.raster`) and records what was read; the checks on what was
read are :mod:`shuibao.erosion.validation`, the factors :mod:`shuibao.erosion.factors` and
:mod:`shuibao.erosion.fvc`, and their computation and writing :mod:`.csle_compute`.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path
from typing import cast

import numpy as np

from shuibao import __version__
from shuibao.core import csle, hydrology, terrain
from shuibao.core.zonal import present_codes
from shuibao.core.lsfactor import SlopeLengthParams
from shuibao.erosion import tables
from shuibao.erosion import validation as checks
from shuibao.erosion.engine import TerrainParams, compute_terrain, condition_dem
from shuibao.erosion.inputs import read_daily_rain, read_soil_table, require
from shuibao.erosion.params import CsleInputs, CsleParams
from shuibao.erosion.validation import require_sound
from shuibao.errors import Text, InputError, N_
from shuibao.io import raster as rio
from shuibao.plan.boundaries import EQUAL_AREA_CRS
from shuibao.io.steps import sha256, write_json_atomic
from shuibao.services.monitoring.csle_compute import (
    GRADE_BAND,
    RUN_RASTERS,
    SOIL_LOSS_BAND,
    StepCallback,
    compute_csle,
)

__all__ = ["CsleInputs", "CsleParams", "GRADE_BAND", "RUN_RASTERS", "SOIL_LOSS_BAND", "SlopeLengthParams",
           "TerrainParams", "compute_csle", "require_sound", "run_csle", "terrain_step", "validate_csle"]


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
        # a DEM without a CRS was refused above (CRS.from_user_input) unless a target is given
        dem = rio.reproject_raster(dem, cast(str, target_crs or dem.grid.crs), resolution=resolution_m)
    rio.require_projected_metres(dem.grid, "DEM", path)
    if not dem.valid.any():
        raise InputError(N_("DEM: {path} has no valid cells", path=path))
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
    raise InputError(N_("unknown terrain step {step!r}", step=step))


# --------------------------------------------------------------------------- CSLE
def _read(path: Path, role: str, problems: list[Text | str]) -> rio.Raster | None:
    try:
        return rio.read_raster(path, role)
    except InputError as exc:
        problems.append(str(exc))
        return None


def _aligned(path: Path, role: str, dem: rio.Raster, problems: list[Text | str], categorical: bool = False):
    r = _read(path, role, problems)
    if r is None:
        return None
    try:
        return rio.align(r, dem.grid, role, categorical=categorical, target_valid=dem.valid)
    except InputError as exc:
        problems.append(str(exc))
        return None


def _nonnegative(raster: rio.Raster | None, role: str, problems: list[Text | str]) -> rio.Raster | None:
    if raster is not None:
        checks.check_nonnegative(raster.data[raster.valid], role, raster.path, problems)
    return raster


def _tables(inputs: CsleInputs, params: CsleParams, problems: list[Text | str]) -> dict:
    """The run's tables (the shipped ones unless the inputs name others), the T table of its rotation zone."""
    loaded: dict = {}
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
        checks.check_rotation_zone(loaded, params.rotation_zone, problems)
    return loaded


def _landuse_and_measures(inputs: CsleInputs, dem: rio.Raster, loaded: dict, problems: list[Text | str]) -> None:
    lu = _aligned(inputs.landuse, "land use", dem, problems, categorical=True)
    if lu is not None:
        checks.check_landuse_codes(present_codes(lu.data, dem.valid), loaded, inputs.landuse, problems)
        loaded["landuse"] = lu
    if inputs.measures is not None:
        me = _aligned(inputs.measures, "measures", dem, problems, categorical=True)
        if me is not None and "e_table" in loaded:
            checks.check_measure_codes(present_codes(me.data, dem.valid), loaded["e_table"], inputs.measures,
                                       problems)
            loaded["measures"] = me


def _cover(inputs: CsleInputs, dem: rio.Raster, loaded: dict, problems: list[Text | str]) -> None:
    """NDVI, or vegetation cover given as such."""
    if inputs.ndvi is not None:
        nd = _aligned(inputs.ndvi, "NDVI", dem, problems)
        if nd is not None:
            checks.check_ndvi(nd.data[dem.valid], inputs.ndvi, problems)
            loaded["ndvi"] = nd
    elif inputs.fvc is not None:
        fv = _aligned(inputs.fvc, "FVC", dem, problems)
        if fv is not None:
            checks.check_fvc(fv.data[dem.valid], inputs.fvc, problems)
            loaded["fvc"] = fv


def _erosivity_and_soil(inputs: CsleInputs, dem: rio.Raster, loaded: dict, problems: list[Text | str]) -> None:
    """R from a raster, station rainfall or annual rainfall; K from a raster or soil codes and their table."""
    if inputs.r is not None:
        loaded["r"] = _nonnegative(_aligned(inputs.r, "R", dem, problems), "R", problems)
    elif inputs.rain is not None:
        loaded["rain"] = read_daily_rain(inputs.rain, cast(str, dem.grid.crs), problems,  # projected: checked above
                                         inputs.labels.get("rain", "--rain"))
    elif inputs.annual_rain is not None:
        loaded["annual_rain"] = _nonnegative(_aligned(inputs.annual_rain, "annual rainfall", dem, problems),
                                             "annual rainfall", problems)
    if inputs.k is not None:
        k = _aligned(inputs.k, "K", dem, problems)
        if k is not None:
            checks.check_k(k.data[dem.valid], inputs.k, problems)
            loaded["k"] = k
    elif inputs.soil is not None and inputs.soil_table is not None:
        soil = _aligned(inputs.soil, "soil", dem, problems, categorical=True)
        table = read_soil_table(inputs.soil_table, problems, inputs.labels.get("soil_table", "--soil-table"))
        if soil is not None and table is not None:
            checks.check_soil_codes(present_codes(soil.data, dem.valid), table, inputs.soil, inputs.soil_table,
                                    problems)
        loaded["soil"], loaded["soil_table"] = soil, table


def validate_csle(inputs: CsleInputs, params: CsleParams) -> dict:
    """Read and check every input on the DEM grid; raise one InputError listing all problems."""
    problems: list[Text | str] = []
    dem = None
    try:
        dem = _dem(inputs.dem, params.target_crs, params.resolution_m)
    except InputError as exc:
        problems.append(str(exc))
    checks.check_request(inputs, params, problems)
    loaded = _tables(inputs, params, problems)
    if dem is None:
        require(problems)
    assert dem is not None
    loaded["dem"] = dem
    _landuse_and_measures(inputs, dem, loaded, problems)
    _cover(inputs, dem, loaded, problems)
    _erosivity_and_soil(inputs, dem, loaded, problems)
    require(problems)
    return loaded


def run_csle(inputs: CsleInputs, out_dir: Path | str, params: CsleParams | None = None,
             on_step: StepCallback | None = None) -> dict:
    """Validate, compute and write a whole CSLE run; returns the summary written to ``summary.json``."""
    params = params or CsleParams()  # a fresh default each call: CsleParams is mutable
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
