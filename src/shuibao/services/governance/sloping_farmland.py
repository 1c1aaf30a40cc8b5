"""Use case: sloping farmland in the plan's returning-farmland scope (退耕还林), as candidate treatment patches.

The plan (第五章 二、大力开展坡耕地水土流失综合整治) returns to forest "25°以上坡耕地，重要水源地15-25°非基本
农田坡耕地" (专栏3 item 02: 新一轮退耕还林 130 km²).  ``shuibao governance sloping-farmland DEM LANDUSE -o
out.gpkg`` finds, on the DEM's grid:

* ``steep``    — cropland cells with slope θ ≥ ``steep_deg`` (25°), anywhere;
* ``moderate`` — cropland cells with ``moderate_deg`` (15°) ≤ θ < ``steep_deg`` whose centre lies inside a
  water-source polygon (none without ``water_sources``), and outside the optional ``basic_farmland``
  polygons (永久基本农田: the plan's "non-basic" condition, which the platform has no data for).

θ is the Horn (1981) slope of :func:`shuibao.core.terrain.slope_degrees`.  Cells of each class are grouped
into 8-connected patches (4 optional; :mod:`shuibao.core.labelling`); patches smaller than ``min_area_m2`` are
dropped (not merged into a neighbour).  The rule and the patches' figures are
:mod:`shuibao.governance.sloping_farmland`; this module reads the inputs and writes the results.  Each patch becomes one MultiPolygon (:func:`shuibao.io.vector.polygonize`: exact cell outlines,
area = cells × cell area) in a GeoPackage layer ``candidates`` whose fields are those of the treatment-patch
import (:func:`shuibao.services.governance.treatment.import_treatment`: patch_code, project_code, project_name, kind,
measure, year, status, district, area_hm2) plus the finder's own (slope_class, slope_mean_deg, area_m2, cells,
district_code).
A per-district summary CSV and a provenance JSON are written beside it; every file atomically.

Districts: from the store's boundaries (``db``) or a polygon file (``districts`` with a code field), a patch
takes the district holding most of its cells (cell-centre rule; ties → the district listed first); a patch
with no cell in any district has none (codes ``…-NA-…``).

Every problem with the inputs is reported in one InputError before anything is computed.

Memory: whole arrays, but no float64 or int64 copy of the grid: the DEM (its own type) and its validity, the
float32 slope, the land use (its own type) and boolean masks, then int32 labels (two while the classes are
merged) and, with districts, a uint8 district raster (int32 while it is burnt).  Per-patch statistics are
gathered in row blocks.  Resampling the land use onto the DEM grid (io.raster.align) uses two float64 grids.
Measured: docs/sloping-farmland.md.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import rasterio
import shapely
from rasterio.errors import CRSError
from rasterio.warp import transform_bounds

from shuibao import __version__
from shuibao.core.labelling import append_labels, label_patches
from shuibao.core.terrain import slope_degrees
from shuibao.errors import InputError, Issue, Issues, ShuibaoError, N_
from shuibao.governance import sloping_farmland as rule
from shuibao.governance.sloping_farmland import (
    DEFAULT_MIN_AREA_M2,
    FIELDS,
    SUMMARY_COLUMNS,
    DistrictSummary,
)
from shuibao.grid import GridSpec
from shuibao.io.raster import METRE_UNITS, align, read_raster
from shuibao.io.raster_header import RasterHeader, crs_text, grid_differences, header_bounds, inspect_raster
from shuibao.io.steps import sha256, write_json_atomic
from shuibao.io.vector import PolygonSet, VectorLayer, polygonize, read_polygons, write_gpkg, zone_labels
from shuibao.services.supervision.common import write_csv_rows

log = logging.getLogger(__name__)

LAYER = "candidates"
STORE_CRS = "EPSG:4490"  # district boundaries in the store


@dataclass(frozen=True)
class FarmlandResult:
    """What :func:`find_sloping_farmland` wrote and found; areas in m² (cells × cell area of the DEM grid)."""

    out: Path
    summary: Path
    provenance: Path
    year: int
    patches: int
    steep_patches: int
    moderate_patches: int
    steep_cells: int
    moderate_cells: int
    steep_area_m2: float
    moderate_area_m2: float
    dropped_patches: int  # patches below the minimum area (both classes)
    dropped_area_m2: float
    min_cells: int
    cell_area_m2: float
    district_source: str | None  # "store …", "file …" or None
    unassigned_patches: int  # patches in no district (all of them without a district source)
    by_district: tuple[DistrictSummary, ...]
    notes: tuple[str, ...]
    synthetic: bool
    seconds: float

    @property
    def total_area_m2(self) -> float:
        return self.steep_area_m2 + self.moderate_area_m2


@dataclass
class _Districts:
    source: str
    codes: list[str]
    names: list[str]
    geoms: list
    crs: str
    digest: dict = field(default_factory=dict)


@dataclass
class _Inputs:
    dem: RasterHeader
    landuse: RasterHeader
    water: PolygonSet | None
    basic: PolygonSet | None
    zones: _Districts | None


# --------------------------------------------------------------------------- validation
def _inspect_dem(path: Path | str, issues: Issues) -> RasterHeader | None:
    h = inspect_raster(path, "DEM", issues, metres_for="slopes and areas",
                       reproject_hint="gdalwarp -t_srs EPSG:4545 -tr 30 30 for 108° E")
    units = (h.units[0] or "").strip().lower() if h is not None and h.units else ""
    if units and units not in METRE_UNITS:
        assert h is not None  # units come from h
        issues.add("DEM", "", N_("{path} declares elevation units {value1!r}; metres are required", path=h.path, value1=h.units[0]))
    return h


def _check_overlap(dem: RasterHeader, lu: RasterHeader, issues: Issues) -> None:
    if dem.crs is None or lu.crs is None:
        return
    try:
        l, b, r, t = transform_bounds(lu.crs, dem.crs, *header_bounds(lu))
    except (CRSError, ValueError, rasterio.errors.RasterioError) as exc:
        issues.add(lu.role, "", N_("{path} cannot be placed in the DEM's CRS ({exc})", path=lu.path, exc=exc))
        return
    tl, tb, tr, tt = header_bounds(dem)
    if not (r > tl and l < tr and t > tb and b < tt):
        issues.add(lu.role, "", N_("{path} does not overlap the DEM {path2} (its extent in the DEM's CRS is "
                   "{l:.0f}, {b:.0f}, {r:.0f}, {t:.0f}; the DEM covers {tl:.0f}, {tb:.0f}, {tr:.0f}, {tt:.0f}); "
                   "wrong file or wrong CRS?", path=lu.path, path2=dem.path, l=l, b=b, r=r, t=t, tl=tl, tb=tb, tr=tr, tt=tt))


def _polygons(path: Path | None, role: str, issues: Issues, fields: dict | None = None):
    if path is None:
        return None
    try:
        return read_polygons(path, role, fields=fields)
    except InputError as exc:
        issues.append(Issue("", "", str(exc)))
        return None


def _store_districts(db: str, issues: Issues) -> _Districts | None:
    from shuibao.services.platform.database import stored_boundaries

    try:
        rows, location = stored_boundaries(db)
    except InputError as exc:  # readable, but without boundaries: the message says what to do
        issues.add("districts", "", N_("the store {exc}", exc=exc))
        return None
    except ShuibaoError as exc:
        issues.add("districts", "", N_("the store {db} cannot be read ({exc})", db=db, exc=exc))
        return None
    digest = hashlib.sha256(b"".join(r["district_code"].encode() + r["geom"].wkb for r in rows)).hexdigest()
    return _Districts(f"store {location}", [r["district_code"] for r in rows], [r["name"] for r in rows],
                      [r["geom"] for r in rows], STORE_CRS, {"store": location, "boundaries_sha256": digest})


def _file_districts(path: Path, code_field: str, issues: Issues) -> _Districts | None:
    from shuibao.plan.reference import load_reference

    polys = _polygons(path, "districts", issues, {code_field: "str"})
    if polys is None:
        return None
    ref = load_reference()
    groups: dict[str, list] = {}
    names: dict[str, str] = {}
    bad = []
    for i, (key, geom) in enumerate(zip(polys.attributes[code_field], polys.geoms)):
        try:
            d = ref.district(str(key or ""))
        except ShuibaoError:
            bad.append(f"feature {i + 1} ({code_field} = {key!r})")
            continue
        groups.setdefault(d.code, []).append(geom)
        names[d.code] = d.name
    if bad:
        shown = ", ".join(bad[:5]) + (f" … ({len(bad)} in all)" if len(bad) > 5 else "")
        issues.add("districts", "", N_("{path}: {shown} name(s) none of the plan's districts (use a code, adcode or "
                   "name as `shuibao plan districts` lists)", path=path, shown=shown))
        return None
    codes = list(groups)
    geoms = [shapely.union_all(groups[c]) if len(groups[c]) > 1 else groups[c][0] for c in codes]
    return _Districts(f"file {path}", codes, [names[c] for c in codes], geoms, polys.crs,
                      {"path": str(path), "sha256": sha256(Path(path)), "field": code_field})


def district_store(db: str | None) -> tuple[str, str | None]:
    """The store ``db`` names (``--db``, else SHUIBAO_DB, else ./shuibao.gpkg) and why its districts cannot be
    used (None if they can): for callers that fall back to no districts instead of failing."""
    from shuibao.store.store import resolve_target

    target = resolve_target(db)
    issues = Issues()
    _store_districts(target, issues)
    return target, (str(issues[0]) if issues else None)


def _validate(dem, landuse, out: Path, db, districts, district_field, water_sources, basic_farmland,
              params: tuple) -> _Inputs:
    """Every problem with the inputs and parameters, in one InputError; else the inputs' headers and polygons."""
    issues = Issues(Issue("", "", p) for p in rule.parameter_problems(*params))
    if out.suffix.lower() != ".gpkg":
        issues.add("output", "", N_("{out} should end in .gpkg (a GeoPackage is written)", out=out))
    d_h = _inspect_dem(dem, issues)
    l_h = inspect_raster(landuse, "land use", issues)
    if d_h is not None and l_h is not None:
        _check_overlap(d_h, l_h, issues)
    water = _polygons(Path(water_sources) if water_sources is not None else None, "water sources", issues)
    basic = _polygons(Path(basic_farmland) if basic_farmland is not None else None, "basic farmland", issues)
    zones = None
    if db is not None and districts is not None:
        issues.add("districts", "", N_("give either a store (db) or a districts polygon file, not both"))
    elif districts is not None:
        zones = _file_districts(Path(districts), district_field, issues)
    elif db is not None:
        zones = _store_districts(db, issues)
    issues.raise_if_any(N_("sloping farmland"), context=N_("with the inputs"))
    assert d_h is not None and l_h is not None and d_h.crs is not None
    return _Inputs(d_h, l_h, water, basic, zones)


# --------------------------------------------------------------------------- array steps
def _slope_and_cropland(inputs: _Inputs, codes: tuple[int, ...], notes: list[str]):
    """The DEM's grid, the Horn slope (float32), the valid DEM cells and the cropland mask on that grid."""
    d_h, l_h = inputs.dem, inputs.landuse
    with rasterio.Env(GDAL_CACHEMAX=64):  # whole bands are read once: no second copy in GDAL's block cache
        d = read_raster(d_h.path, "DEM")
        grid = d.grid
        slope = slope_degrees(d.data, d.valid, grid.cell_width, grid.cell_height)
        dem_cells = int(np.count_nonzero(d.valid))
        del d
        lu = read_raster(l_h.path, "land use")
        if grid_differences(d_h, l_h):
            lu = align(lu, grid, "land use", categorical=True)
            notes.append(f"land use {l_h.path.name} resampled (nearest) from its grid onto the DEM's")
    no_landuse = int(np.count_nonzero(~lu.valid & np.isfinite(slope)))
    if no_landuse:
        notes.append(f"land use has no data on {no_landuse} valid DEM cells ({no_landuse / max(dem_cells, 1):.2%}); "
                     "they are never candidates")
    crop = np.isin(lu.data, codes)
    crop &= lu.valid
    del lu
    if not crop.any():
        notes.append(f"no cell of land use {l_h.path.name} holds a cropland code ({', '.join(map(str, codes))}); "
                     "give --cropland-codes if its classes are not 表2's")
    return grid, slope, dem_cells, crop


def _moderate(crop: np.ndarray, slope: np.ndarray, inputs: _Inputs, vgrid: GridSpec, steep_deg: float,
              moderate_deg: float, notes: list[str]) -> np.ndarray | None:
    """The moderate class (None without water sources), the basic farmland removed where given."""
    water, basic = inputs.water, inputs.basic
    if water is None:
        notes.append("no water-source polygons given: only steep patches (the plan's 15–25° class needs them)")
        if basic is not None:
            notes.append("basic farmland polygons ignored: they only restrict moderate patches")
        return None
    inside = zone_labels(water.geoms, water.crs, vgrid) > 0
    if not inside.any():
        notes.append(f"no water-source polygon of {water.path} covers a cell centre of the DEM grid; no "
                     "moderate patch")
    moderate = rule.moderate_cells(crop, inside, slope, moderate_deg, steep_deg)
    del inside
    if basic is not None:
        moderate &= zone_labels(basic.geoms, basic.crs, vgrid) == 0
    else:
        notes.append("moderate patches may include permanent basic farmland (永久基本农田), which the plan "
                     "excludes: give --basic-farmland to remove it")
    return moderate


def _district_raster(zones: _Districts | None, n: int, vgrid: GridSpec, notes: list[str]):
    """The districts burnt on the grid (uint8 under 256 districts) and how many; (None, 0) without any."""
    if zones is None or not n:
        return None, 0
    nd = len(zones.codes)
    burnt = zone_labels(zones.geoms, zones.crs, vgrid)
    zone_raster = burnt.astype(np.uint8) if nd < 256 else burnt
    del burnt
    if not zone_raster.any():
        notes.append(f"no district polygon of the {zones.source} covers the DEM grid; wrong CRS or wrong file?")
    return zone_raster, nd


# --------------------------------------------------------------------------- the use case
def find_sloping_farmland(dem: Path, landuse: Path, out: Path, *, db: str | None = None,
                          cropland_codes=(1,), water_sources: Path | None = None,
                          basic_farmland: Path | None = None, districts: Path | None = None,
                          district_field: str = "code", steep_deg: float = 25.0, moderate_deg: float = 15.0,
                          min_area_m2: float = DEFAULT_MIN_AREA_M2, year: int | None = None,
                          connectivity: int = 8) -> FarmlandResult:
    """Candidate 退耕还林 patches (steep cropland; moderate cropland in water-source areas) written to ``out``.

    dem            DEM GeoTIFF, projected CRS in metres (elevations in metres); its grid is the working grid
    landuse        land-use GeoTIFF of class codes; resampled (nearest) onto the DEM grid if on another grid
    out            output GeoPackage (``.gpkg``), layer ``candidates``; beside it ``<stem>.districts.csv`` and
                   ``<name>.provenance.json``
    db             store whose district boundaries name the patches' districts (None: no store)
    cropland_codes land-use codes that are cropland (耕地: 1 in 表2's classes and the shipped B/T tables)
    water_sources  polygons of important water-source areas (重要水源地); without them no ``moderate`` patch
    basic_farmland polygons of permanent basic farmland (永久基本农田), excluded from ``moderate`` only
    districts      district polygons (``district_field``: a code, adcode or name of the plan's districts),
                   instead of the store (give one or the other)
    steep_deg      θ ≥ this is ``steep`` (25°); moderate_deg ≤ θ < steep_deg in water sources is ``moderate``
    min_area_m2    patches with fewer than ⌈min_area_m2 / cell area⌉ cells are dropped (400 m² = 0.04 hm²:
                   at 30 m every patch of one cell or more is kept)
    year           the planned year of treatment in the patches' ``year`` and codes (default: this year)
    connectivity   8 (cells touching at a corner form one patch) or 4
    """
    started = time.perf_counter()
    out = Path(out)
    inputs = _validate(dem, landuse, out, db, districts, district_field, water_sources, basic_farmland,
                       (cropland_codes, steep_deg, moderate_deg, min_area_m2, year, connectivity))
    codes = tuple(int(c) for c in cropland_codes)
    year = int(year) if year is not None else date.today().year
    notes: list[str] = []
    grid, slope, dem_cells, crop = _slope_and_cropland(inputs, codes, notes)
    vgrid = GridSpec(grid.shape, grid.transform, crs_text(inputs.dem.crs), None)
    steep = rule.steep_cells(crop, slope, steep_deg)
    moderate = _moderate(crop, slope, inputs, vgrid, steep_deg, moderate_deg, notes)
    del crop

    cell_area = grid.cell_area
    min_cells = rule.min_cells(min_area_m2, cell_area)
    found = label_patches(steep, connectivity, min_cells)
    del steep
    labels, n_steep, n_mod = found.labels, found.n, 0
    dropped, dropped_cells = found.dropped, found.dropped_cells
    if moderate is not None:
        mod = label_patches(moderate, connectivity, min_cells)
        del moderate
        n_mod, dropped, dropped_cells = mod.n, dropped + mod.dropped, dropped_cells + mod.dropped_cells
        if n_mod:  # the classes are disjoint: moderate patches follow the steep ones
            append_labels(labels, mod.labels, n_steep)
        del mod
    n = n_steep + n_mod

    zones = inputs.zones
    zone_raster, nd = _district_raster(zones, n, vgrid, notes)
    cells, mean_slope, where = rule.patch_stats(labels, n, slope, zone_raster, nd)
    del zone_raster, slope
    geoms = polygonize(labels, vgrid) if n else {}
    del labels

    klass = np.array(["steep"] * n_steep + ["moderate"] * n_mod, dtype=object)
    z_codes, z_names = (list(zones.codes), list(zones.names)) if zones is not None else ([], [])
    columns, order = rule.candidate_rows(z_codes, z_names, where, klass, cells, mean_slope, cell_area, year)
    counts = {"dem_valid_cells": dem_cells, "patches": n, "steep_patches": n_steep, "moderate_patches": n_mod,
              "steep_cells": int(cells[:n_steep].sum()), "moderate_cells": int(cells[n_steep:].sum()),
              "dropped_patches": dropped, "dropped_cells": dropped_cells,
              "unassigned_patches": int(np.count_nonzero(where == 0))}
    by_district = rule.district_summaries(z_codes, z_names, where, klass, cells, cell_area)
    return _write(out, inputs, vgrid, grid, columns, [geoms[i] for i in order], by_district, counts, notes,
                  dict(cropland_codes=list(codes), steep_deg=steep_deg, moderate_deg=moderate_deg,
                       min_area_m2=min_area_m2, min_cells=min_cells, connectivity=connectivity, year=year),
                  started)


# --------------------------------------------------------------------------- outputs
def _input_digests(inputs: _Inputs) -> dict:
    d_h, l_h = inputs.dem, inputs.landuse
    out: dict[str, dict] = {"dem": {"path": str(d_h.path), "sha256": sha256(d_h.path)},
           "landuse": {"path": str(l_h.path), "sha256": sha256(l_h.path)}}
    for key, polys in (("water_sources", inputs.water), ("basic_farmland", inputs.basic)):
        if polys is not None:
            out[key] = {"path": str(polys.path), "sha256": sha256(polys.path), "features": len(polys.geoms),
                        "repaired": polys.repaired}
    if inputs.zones is not None:
        out["districts"] = inputs.zones.digest
    return out


def _description(inputs: _Inputs, digests: dict, params: dict, synthetic: bool) -> str:
    water, basic = inputs.water, inputs.basic
    steep_deg, moderate_deg = params["steep_deg"], params["moderate_deg"]
    moderate_rule = (f"{moderate_deg:g}° ≤ θ < {steep_deg:g}° inside the water-source polygons of {water.path.name}"
                     + (f" and outside the basic farmland of {basic.path.name}" if basic is not None else
                        " (basic farmland not excluded)")) if water is not None else "none (no water sources given)"
    return (f"{'SYNTHETIC INPUTS — not observations. ' if synthetic else ''}"
            f"Candidate sloping farmland for returning farmland to forest (坡耕地退耕还林候选), shuibao "
            f"{__version__}: land-use codes {', '.join(map(str, params['cropland_codes']))} as cropland; steep = θ ≥ "
            f"{steep_deg:g}° (Horn slope of {inputs.dem.path.name}); moderate = {moderate_rule}; "
            f"{params['connectivity']}-connected patches of at least {params['min_cells']} cell(s) "
            f"({params['min_area_m2']:g} m²). "
            f"DEM sha256 {digests['dem']['sha256']}, land use sha256 {digests['landuse']['sha256']}.")


def _write(out: Path, inputs: _Inputs, vgrid: GridSpec, grid, columns: dict, rows_geoms: list,
           by_district: tuple[DistrictSummary, ...], counts: dict, notes: list[str], params: dict,
           started: float) -> FarmlandResult:
    """The GeoPackage, the district summary CSV and the provenance JSON (each atomically); the result."""
    synthetic = inputs.dem.synthetic or inputs.landuse.synthetic
    digests = _input_digests(inputs)
    year, cell_area, zones = params["year"], grid.cell_area, inputs.zones
    layer = VectorLayer(LAYER, _description(inputs, digests, params, synthetic), vgrid.crs, rows_geoms, columns)
    summary_path = out.with_name(out.stem + ".districts.csv")
    prov_path = out.with_name(out.name + ".provenance.json")
    write_gpkg(out, [layer], timestamp=datetime(year, 1, 1, tzinfo=UTC))
    write_csv_rows(summary_path, SUMMARY_COLUMNS, [rule.summary_row(s) for s in by_district])
    seconds = round(time.perf_counter() - started, 3)
    c = counts
    result = FarmlandResult(
        out, summary_path, prov_path, year, c["patches"], c["steep_patches"], c["moderate_patches"],
        c["steep_cells"], c["moderate_cells"], c["steep_cells"] * cell_area, c["moderate_cells"] * cell_area,
        c["dropped_patches"], c["dropped_cells"] * cell_area, params["min_cells"], cell_area,
        zones.source if zones is not None else None, c["unassigned_patches"], by_district, tuple(notes), synthetic,
        seconds)
    write_json_atomic(prov_path, {
        "product": "candidate sloping farmland for returning farmland to forest (坡耕地退耕还林候选)",
        "software": f"shuibao {__version__}", "synthetic": synthetic, "output": str(out), "layer": LAYER,
        "summary": str(summary_path), "inputs": digests, "params": params,
        "grid": {"shape": list(grid.shape), "cell_size_m": [grid.cell_width, grid.cell_height], "crs": vgrid.crs},
        "counts": counts, "districts": zones.source if zones is not None else None, "notes": notes,
        "seconds": seconds,
    }, indent=2)
    log.info("%d sloping-farmland candidates (%d steep, %d moderate), %.0f m², in %.1f s → %s", c["patches"],
             c["steep_patches"], c["moderate_patches"], result.total_area_m2, seconds, out)
    return result


__all__ = ["find_sloping_farmland", "district_store", "FarmlandResult", "DistrictSummary", "FIELDS", "LAYER",
           "SUMMARY_COLUMNS"]
