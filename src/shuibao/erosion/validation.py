"""Checks of a CSLE run's inputs once they are read: which inputs were given, table codes against the rasters'
codes, value ranges, and the soundness of a computed factor (:func:`require_sound`).

Every check appends its problems to a list (all are reported at once, :func:`shuibao.erosion.inputs.require`);
only :func:`require_sound` raises, since a factor that cannot be used stops the run.
"""

from __future__ import annotations

import numpy as np

from ..core import csle
from ..errors import FactorError, N_, Text
from . import tables
from .params import CsleInputs, CsleParams


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
    raise FactorError(N_("{name}: {value1} cell(s) with data are negative, NaN or infinite ({kinds}); "
                      "first at row {row}, column {col} (x {x:.1f}, y {y:.1f} in {crs_name}); {hint}. "
                      "Nothing was graded.", name=name, value1=n_neg + n_nan + n_inf, kinds=kinds, row=row, col=col, x=x, y=y, crs_name=_crs_name(grid.crs), hint=hint))


def check_request(inputs: CsleInputs, params: CsleParams, problems: list[Text | str]) -> None:
    """Each factor has a source, and the parameters name known choices."""
    if inputs.r is None and inputs.rain is None and inputs.annual_rain is None:
        problems.append(N_("R: give an R raster (--r), daily rainfall of stations (--rain) or annual rainfall (--annual-rain)"))
    if inputs.k is None and inputs.soil is None:
        problems.append(N_("K: give a K raster (--k) or a soil raster with its table (--soil, --soil-table)"))
    if inputs.soil is not None and inputs.soil_table is None:
        problems.append(N_("K: --soil needs --soil-table (code, sand_pct, silt_pct, clay_pct, organic_carbon_pct)"))
    if inputs.ndvi is None and inputs.fvc is None:
        problems.append(N_("B: give NDVI (--ndvi) or vegetation cover (--fvc)"))
    if params.fvc_endmember_scope not in ("pooled", "per_class"):
        problems.append(N_("B: fvc_endmember_scope {fvc_endmember_scope!r}; expected pooled or per_class", fvc_endmember_scope=params.fvc_endmember_scope))
    if params.r_model not in csle.R_MODELS:
        problems.append(N_("R: unknown model {r_model!r}; expected one of {R_MODELS}", r_model=params.r_model, R_MODELS=', '.join(csle.R_MODELS)))


def check_rotation_zone(loaded: dict, zone: str | None, problems: list[Text | str]) -> None:
    """The T table's rotation zone (轮作区): the one asked for must exist; ``loaded`` gets ``t_zone`` and the
    zone's table."""
    tt = loaded["t_table"]
    if zone is not None and zone not in tt.zones:
        problems.append(
            N_("T: rotation zone {zone!r} is not in {path} (it has {zones})", zone=zone, path=tt.path,
               zones=", ".join(tt.zones)) if any(tt.zones) else
            N_("T: rotation zone {zone!r} is not in {path} (a table without zones: leave rotation_zone unset)",
               zone=zone, path=tt.path))
    else:
        loaded["t_zone"] = zone if zone is not None else (tt.zones[0] if tt.zones else "")
        loaded["t_table"] = tt.for_zone(loaded["t_zone"])


def check_landuse_codes(codes: np.ndarray, loaded: dict, landuse: object, problems: list[Text | str]) -> None:
    """Every land-use code present has a B, and every cropland code a T (in the run's rotation zone)."""
    if "b_table" in loaded and loaded["b_table"].unknown(codes):
        problems.append(N_("land use: {landuse} has class code(s) {unknown} that "
                        "{path} does not list", landuse=landuse, unknown=loaded['b_table'].unknown(codes), path=loaded['b_table'].path))
    known = loaded.get("landuse_codes", {})
    if "t_table" in loaded and isinstance(loaded["t_table"], tables.ClassTable):
        cropland = [c for c in codes.tolist() if c in known and known[c].plan_class == 1]
        missing = loaded["t_table"].unknown(cropland)
        if missing:
            problems.append(
                N_("T: {path} has no T for the cropland code(s) {missing} of {landuse} in rotation zone {zone}",
                   path=loaded['t_table'].path, missing=missing, landuse=landuse, zone=loaded['t_zone'])
                if loaded['t_zone'] else
                N_("T: {path} has no T for the cropland code(s) {missing} of {landuse}",
                   path=loaded['t_table'].path, missing=missing, landuse=landuse))


def check_measure_codes(codes: np.ndarray, e_table, measures: object, problems: list[Text | str]) -> None:
    unknown = e_table.unknown(codes)
    if unknown:
        problems.append(N_("measures: {measures} has code(s) {unknown} that {path} does not list", measures=measures, unknown=unknown, path=e_table.path))


def check_ndvi(vals: np.ndarray, ndvi: object, problems: list[Text | str]) -> None:
    if vals.size and (np.nanmin(vals) < -1.0001 or np.nanmax(vals) > 1.0001):
        problems.append(N_("NDVI: {ndvi} has values from {nanmin:g} to {nanmax:g}; "
                        "NDVI lies in [-1, 1] (scaled products need dividing, e.g. by 10000)", ndvi=ndvi, nanmin=np.nanmin(vals), nanmax=np.nanmax(vals)))


def check_fvc(vals: np.ndarray, fvc: object, problems: list[Text | str]) -> None:
    if vals.size and (np.nanmin(vals) < 0 or np.nanmax(vals) > 1.0001):
        problems.append(N_("FVC: {fvc} must lie in [0, 1], found {nanmin:g}…{nanmax:g}", fvc=fvc, nanmin=np.nanmin(vals), nanmax=np.nanmax(vals)))


def check_k(vals: np.ndarray, k: object, problems: list[Text | str]) -> None:
    if np.nanmin(vals) < 0 or np.nanmax(vals) > 1:
        problems.append(N_("K: {k} has values {nanmin:g}…{nanmax:g}; expected SI "
                        "units t·hm²·h/(hm²·MJ·mm), typically 0.001–0.1", k=k, nanmin=np.nanmin(vals), nanmax=np.nanmax(vals)))


def check_nonnegative(vals: np.ndarray, role: str, path: object, problems: list[Text | str]) -> None:
    if np.nanmin(vals) < 0:
        problems.append(N_("{role}: {path} has negative values", role=role, path=path))


def check_soil_codes(codes: np.ndarray, table, soil: object, soil_table: object, problems: list[Text | str]) -> None:
    unknown = sorted(set(codes.tolist()) - set(table.codes.tolist()))
    if unknown:
        problems.append(N_("soil: {soil} has code(s) {unknown} that {soil_table} does not list", soil=soil, unknown=unknown, soil_table=soil_table))
