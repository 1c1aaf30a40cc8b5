"""Use case: sloping farmland in the plan's returning-farmland scope (退耕还林), as candidate treatment patches.

The plan (第五章 二、大力开展坡耕地水土流失综合整治) returns to forest "25°以上坡耕地，重要水源地15-25°非基本
农田坡耕地" (专栏3 item 02: 新一轮退耕还林 130 km²).  ``shuibao governance sloping-farmland DEM LANDUSE -o
out.gpkg`` finds, on the DEM's grid:

* ``steep``    — cropland cells with slope θ ≥ ``steep_deg`` (25°), anywhere;
* ``moderate`` — cropland cells with ``moderate_deg`` (15°) ≤ θ < ``steep_deg`` whose centre lies inside a
  water-source polygon (none without ``water_sources``), and outside the optional ``basic_farmland``
  polygons (永久基本农田: the plan's "non-basic" condition, which the platform has no data for).

θ is the Horn (1981) slope of :func:`shuibao.core.terrain.slope_degrees`.  Cells of each class are grouped
into 8-connected patches (4 optional); patches smaller than ``min_area_m2`` are dropped (not merged into a
neighbour).  Each patch becomes one MultiPolygon (:func:`shuibao.io.vector.polygonize`: exact cell outlines,
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
import math
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from numbers import Integral
from pathlib import Path

import numpy as np
import rasterio
import shapely
from rasterio.crs import CRS
from rasterio.errors import CRSError, RasterioIOError
from rasterio.warp import transform_bounds
from scipy import ndimage

from shuibao import __version__
from shuibao.core.terrain import slope_degrees
from shuibao.erosion.inputs import require
from shuibao.errors import InputError, ShuibaoError
from shuibao.grid import GridSpec
from shuibao.io.formats import RASTER_DRIVER, check_raster
from shuibao.io.raster import METRE_UNITS, align, read_raster
from shuibao.io.steps import sha256, write_json_atomic
from shuibao.io.vector import VectorLayer, polygonize, read_polygons, write_gpkg, zone_labels
from shuibao.services.supervision.common import write_csv_rows

log = logging.getLogger(__name__)

LAYER = "candidates"
CLASSES = ("steep", "moderate")
KIND = "farmland_to_forest"  # 专栏3 key: 坡耕地水土流失综合整治：新一轮退耕还林
MEASURE = "afforestation"  # a key of governance/data/measures.toml
STATUS = "planned"
STORE_CRS = "EPSG:4490"  # district boundaries in the store
NO_DISTRICT = "NA"
NO_DISTRICT_NAME = "区县未定"
FIELDS = ("patch_code", "project_code", "project_name", "kind", "measure", "year", "status", "district",
          "district_code", "slope_class", "slope_mean_deg", "area_m2", "area_hm2", "cells")
SUMMARY_COLUMNS = ("district_code", "district", "steep_patches", "steep_km2", "moderate_patches", "moderate_km2",
                   "patches", "total_km2")
DEFAULT_MIN_AREA_M2 = 400.0  # 0.04 hm², the low end of methods.md §5.3's 0.04–0.1 hm² minimum patch areas
BLOCK_CELLS = 1 << 22  # cells per row block when gathering per-patch statistics (~4 M: 32 MB of int64 keys)


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
class _Header:
    path: Path
    role: str
    shape: tuple[int, int]
    transform: tuple
    crs: CRS | None
    synthetic: bool = False


@dataclass
class _Districts:
    source: str
    codes: list[str]
    names: list[str]
    geoms: list
    crs: str
    digest: dict = field(default_factory=dict)


# --------------------------------------------------------------------------- validation
def _inspect(path: Path | str, role: str, problems: list[str], *, dem: bool) -> _Header | None:
    """Open the raster's header; add whatever makes it unusable to ``problems``; None if it cannot be read."""
    p = Path(path)
    if not p.exists():
        problems.append(f"{role}: {p} does not exist")
        return None
    try:
        src = rasterio.open(check_raster(p, role), driver=RASTER_DRIVER)  # GeoTIFF only (formats.py)
    except InputError as exc:
        problems.append(str(exc))
        return None
    except RasterioIOError as exc:
        problems.append(f"{role}: {p} is not a readable raster ({exc})")
        return None
    with src:
        h = _Header(p, role, (src.height, src.width), tuple(src.transform)[:6], src.crs)
        if src.crs is None:
            problems.append(f"{role}: {p} has no CRS; assign one (e.g. gdal_edit.py -a_srs EPSG:4545)")
        elif dem and src.crs.is_geographic:
            problems.append(f"{role}: {p} is in a geographic CRS ({src.crs.to_string()}); slopes and areas need a "
                            "projected CRS in metres: reproject it (e.g. gdalwarp -t_srs EPSG:4545 -tr 30 30 for "
                            "108° E)")
        elif dem and (src.crs.linear_units or "").lower() not in METRE_UNITS:
            problems.append(f"{role}: {p} has linear units {src.crs.linear_units!r}; metres are required")
        a, b, _, d, e, _ = h.transform
        if b != 0 or d != 0 or a <= 0 or e >= 0:
            problems.append(f"{role}: {p} is not a north-up grid (transform {h.transform}); warp it first")
        if src.nodata is None and not np.issubdtype(np.dtype(src.dtypes[0]), np.floating):
            problems.append(f"{role}: {p} is an integer raster without a nodata value; declare one "
                            "(e.g. gdal_edit.py -a_nodata 0) so holes can be told from data")
        units = (src.units[0] or "").strip().lower() if src.units else ""
        if dem and units and units not in METRE_UNITS:
            problems.append(f"{role}: {p} declares elevation units {src.units[0]!r}; metres are required")
        tags = src.tags()
        h.synthetic = tags.get("SYNTHETIC") == "1" or "SHUIBAO_SYNTHETIC" in tags
    return h


def _bounds(h: _Header) -> tuple[float, float, float, float]:
    a, _, c, _, e, f = h.transform
    rows, cols = h.shape
    return (c, f + e * rows, c + a * cols, f)


def _same_grid(a: _Header, b: _Header) -> bool:
    tol = 1e-6 * max(abs(a.transform[0]), 1.0)
    return (a.shape == b.shape and a.crs == b.crs
            and all(abs(x - y) <= tol for x, y in zip(a.transform, b.transform)))


def _check_overlap(dem: _Header, lu: _Header, problems: list[str]) -> None:
    if dem.crs is None or lu.crs is None:
        return
    try:
        l, b, r, t = transform_bounds(lu.crs, dem.crs, *_bounds(lu))
    except (CRSError, ValueError, rasterio.errors.RasterioError) as exc:
        problems.append(f"{lu.role}: {lu.path} cannot be placed in the DEM's CRS ({exc})")
        return
    tl, tb, tr, tt = _bounds(dem)
    if not (r > tl and l < tr and t > tb and b < tt):
        problems.append(f"{lu.role}: {lu.path} does not overlap the DEM {dem.path} (its extent in the DEM's CRS is "
                        f"{l:.0f}, {b:.0f}, {r:.0f}, {t:.0f}; the DEM covers {tl:.0f}, {tb:.0f}, {tr:.0f}, {tt:.0f}); "
                        "wrong file or wrong CRS?")


def _polygons(path: Path | None, role: str, problems: list[str], fields: dict | None = None):
    if path is None:
        return None
    try:
        return read_polygons(path, role, fields=fields)
    except InputError as exc:
        problems.append(str(exc))
        return None


def _store_districts(db: str, problems: list[str]) -> _Districts | None:
    from shuibao.store import Store
    from shuibao.store.reference_loader import read_boundaries

    try:
        with Store(db) as store, store.reading() as conn:
            store.require_current(conn)
            rows = read_boundaries(conn)
            location = store.location
    except ShuibaoError as exc:
        problems.append(f"districts: the store {db} cannot be read ({exc})")
        return None
    if not rows:
        problems.append(f"districts: the store {location} has no district boundaries; run `shuibao db init` "
                        "(with boundaries) or give a districts polygon file")
        return None
    digest = hashlib.sha256(b"".join(r["district_code"].encode() + r["geom"].wkb for r in rows)).hexdigest()
    return _Districts(f"store {location}", [r["district_code"] for r in rows], [r["name"] for r in rows],
                      [r["geom"] for r in rows], STORE_CRS, {"store": location, "boundaries_sha256": digest})


def _file_districts(path: Path, code_field: str, problems: list[str]) -> _Districts | None:
    from shuibao.plan.reference import load_reference

    polys = _polygons(path, "districts", problems, {code_field: "str"})
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
        problems.append(f"districts: {path}: {shown} name(s) none of the plan's districts (use a code, adcode or "
                        "name as `shuibao plan districts` lists)")
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
    problems: list[str] = []
    _store_districts(target, problems)
    return target, (problems[0] if problems else None)


def _param_problems(cropland_codes, steep_deg, moderate_deg, min_area_m2, year, connectivity) -> list[str]:
    out = []
    codes = list(cropland_codes) if isinstance(cropland_codes, (list, tuple, set, frozenset)) else None
    if not codes or any(isinstance(c, bool) or not isinstance(c, Integral) for c in codes):
        out.append(f"cropland_codes = {cropland_codes!r}: expected one or more whole land-use codes (耕地 is 1 in "
                   "表2's classes)")

    def finite(v) -> bool:
        return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)

    if not (finite(steep_deg) and 0 < steep_deg < 90):
        out.append(f"steep_deg = {steep_deg!r}: expected a slope in degrees between 0 and 90 (exclusive)")
    elif not (finite(moderate_deg) and 0 < moderate_deg < steep_deg):
        out.append(f"moderate_deg = {moderate_deg!r}: expected a slope in degrees above 0 and below steep_deg "
                   f"({steep_deg:g})")
    if not (finite(min_area_m2) and min_area_m2 >= 0):
        out.append(f"min_area_m2 = {min_area_m2!r}: expected an area ≥ 0 m²")
    if year is not None and (isinstance(year, bool) or not isinstance(year, Integral) or not 2000 <= year <= 2100):
        out.append(f"year = {year!r}: expected the planned year of treatment, 2000–2100")
    if connectivity not in (4, 8):
        out.append(f"connectivity = {connectivity!r}: expected 4 or 8")
    return out


# --------------------------------------------------------------------------- array steps
def _blocks(shape: tuple[int, int]):
    step = max(1, BLOCK_CELLS // max(shape[1], 1))
    for r0 in range(0, shape[0], step):
        yield slice(r0, min(r0 + step, shape[0]))


def _label(mask: np.ndarray, min_cells: int, connectivity: int) -> tuple[np.ndarray, int, int, int]:
    """int32 patch labels 1…n (scan order of each patch's first cell) of ``mask``, patches < ``min_cells`` removed.

    Returns (labels, n kept, n dropped, cells dropped).  Sizes are counted and labels renumbered in row blocks,
    so no int64 copy of the grid is made.
    """
    structure = ndimage.generate_binary_structure(2, 2 if connectivity == 8 else 1)
    labels, n = ndimage.label(mask, structure=structure, output=np.int32)
    if n == 0:
        return labels, 0, 0, 0
    sizes = np.zeros(n + 1, np.int64)
    for rows in _blocks(labels.shape):
        sizes += np.bincount(labels[rows].ravel(), minlength=n + 1)
    keep = sizes >= max(int(min_cells), 1)
    keep[0] = False
    kept = int(keep.sum())
    if kept == n:
        return labels, n, 0, 0
    lut = np.where(keep, np.cumsum(keep), 0).astype(np.int32)
    for rows in _blocks(labels.shape):
        labels[rows] = lut[labels[rows]]
    return labels, kept, n - kept, int(sizes[1:][~keep[1:]].sum())


def _patch_stats(labels: np.ndarray, n: int, slope: np.ndarray,
                 districts: np.ndarray | None, nd: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per patch 1…n: cells, mean slope (degrees), district index (0 = none; else 1…nd, most cells wins)."""
    cells = np.zeros(n + 1, np.int64)
    sums = np.zeros(n + 1, np.float64)
    keys, counts = [], []
    for rows in _blocks(labels.shape):
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
    where = np.zeros(n + 1, np.int64)
    if keys:
        uk, inv = np.unique(np.concatenate(keys), return_inverse=True)
        tot = np.bincount(inv, weights=np.concatenate(counts))
        patch, dist = uk // (nd + 1), uk % (nd + 1)
        order = np.lexsort((dist, -tot, patch))  # per patch: most cells first, then the district listed first
        first = np.ones(order.size, bool)
        first[1:] = patch[order][1:] != patch[order][:-1]
        where[patch[order][first]] = dist[order][first]
    return cells[1:], mean[1:], where[1:]


def _crs_text(crs: CRS) -> str:
    epsg = crs.to_epsg()
    return f"EPSG:{epsg}" if epsg else crs.to_wkt()


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
    problems = _param_problems(cropland_codes, steep_deg, moderate_deg, min_area_m2, year, connectivity)
    if out.suffix.lower() != ".gpkg":
        problems.append(f"output: {out} should end in .gpkg (a GeoPackage is written)")
    d_h = _inspect(dem, "DEM", problems, dem=True)
    l_h = _inspect(landuse, "land use", problems, dem=False)
    if d_h is not None and l_h is not None:
        _check_overlap(d_h, l_h, problems)
    water = _polygons(Path(water_sources) if water_sources is not None else None, "water sources", problems)
    basic = _polygons(Path(basic_farmland) if basic_farmland is not None else None, "basic farmland", problems)
    zones = None
    if db is not None and districts is not None:
        problems.append("districts: give either a store (db) or a districts polygon file, not both")
    elif districts is not None:
        zones = _file_districts(Path(districts), district_field, problems)
    elif db is not None:
        zones = _store_districts(db, problems)
    require(problems)
    assert d_h is not None and l_h is not None and d_h.crs is not None
    codes = tuple(int(c) for c in cropland_codes)
    year = int(year) if year is not None else date.today().year
    notes: list[str] = []

    with rasterio.Env(GDAL_CACHEMAX=64):  # whole bands are read once: no second copy in GDAL's block cache
        d = read_raster(d_h.path, "DEM")
        grid = d.grid
        cell_area = grid.cell_area
        slope = slope_degrees(d.data, d.valid, grid.cell_width, grid.cell_height)
        dem_cells = int(np.count_nonzero(d.valid))
        del d
        lu = read_raster(l_h.path, "land use")
        if not _same_grid(d_h, l_h):
            lu = align(lu, grid, "land use", categorical=True)
            notes.append(f"land use {l_h.path.name} resampled (nearest) from its grid onto the DEM's")
    no_landuse = int(np.count_nonzero(~lu.valid & np.isfinite(slope)))
    if no_landuse:
        notes.append(f"land use has no data on {no_landuse} valid DEM cells ({no_landuse / max(dem_cells, 1):.2%}); "
                     "they are never candidates")
    crop = np.isin(lu.data, codes)
    crop &= lu.valid
    present = bool(crop.any())
    del lu
    if not present:
        notes.append(f"no cell of land use {l_h.path.name} holds a cropland code ({', '.join(map(str, codes))}); "
                     "give --cropland-codes if its classes are not 表2's")

    vgrid = GridSpec(grid.shape, grid.transform, _crs_text(d_h.crs), None)
    steep = crop & (slope >= np.float32(steep_deg))
    moderate = None
    if water is not None:
        inside = zone_labels(water.geoms, water.crs, vgrid) > 0
        if not inside.any():
            notes.append(f"no water-source polygon of {water.path} covers a cell centre of the DEM grid; no "
                         "moderate patch")
        moderate = crop & inside
        del inside
        moderate &= slope >= np.float32(moderate_deg)
        moderate &= slope < np.float32(steep_deg)
        if basic is not None:
            moderate &= zone_labels(basic.geoms, basic.crs, vgrid) == 0
        else:
            notes.append("moderate patches may include permanent basic farmland (永久基本农田), which the plan "
                         "excludes: give --basic-farmland to remove it")
    else:
        notes.append("no water-source polygons given: only steep patches (the plan's 15–25° class needs them)")
        if basic is not None:
            notes.append("basic farmland polygons ignored: they only restrict moderate patches")
    del crop

    min_cells = max(1, math.ceil(min_area_m2 / cell_area - 1e-9))
    labels, n_steep, drop_s, dropped_cells = _label(steep, min_cells, connectivity)
    del steep
    n_mod = drop_m = 0
    if moderate is not None:
        mod_labels, n_mod, drop_m, dc = _label(moderate, min_cells, connectivity)
        del moderate
        dropped_cells += dc
        if n_mod:
            for rows in _blocks(labels.shape):  # the classes are disjoint: moderate patches follow the steep ones
                block = mod_labels[rows]
                np.add(block, np.int32(n_steep), out=block, where=block > 0)
                labels[rows] += block
        del mod_labels
    n = n_steep + n_mod

    zone_raster, nd = None, 0
    if zones is not None and n:
        nd = len(zones.codes)
        burnt = zone_labels(zones.geoms, zones.crs, vgrid)
        zone_raster = burnt.astype(np.uint8) if nd < 256 else burnt
        del burnt
        if not zone_raster.any():
            notes.append(f"no district polygon of the {zones.source} covers the DEM grid; wrong CRS or wrong file?")
    cells, mean_slope, where = _patch_stats(labels, n, slope, zone_raster, nd)
    del zone_raster, slope
    geoms = polygonize(labels, vgrid) if n else {}
    del labels

    klass = np.array(["steep"] * n_steep + ["moderate"] * n_mod, dtype=object)
    columns, rows_geoms = _columns(zones, where, klass, cells, mean_slope, geoms, cell_area, year)

    by_district = _summaries(zones, where, klass, cells, cell_area)
    synthetic = d_h.synthetic or l_h.synthetic
    inputs = {"dem": {"path": str(d_h.path), "sha256": sha256(d_h.path)},
              "landuse": {"path": str(l_h.path), "sha256": sha256(l_h.path)}}
    for key, polys in (("water_sources", water), ("basic_farmland", basic)):
        if polys is not None:
            inputs[key] = {"path": str(polys.path), "sha256": sha256(polys.path), "features": len(polys.geoms),
                           "repaired": polys.repaired}
    if zones is not None:
        inputs["districts"] = zones.digest
    steep_cells, mod_cells = int(cells[:n_steep].sum()), int(cells[n_steep:].sum())
    moderate_rule = (f"{moderate_deg:g}° ≤ θ < {steep_deg:g}° inside the water-source polygons of {water.path.name}"
                     + (f" and outside the basic farmland of {basic.path.name}" if basic is not None else
                        " (basic farmland not excluded)")) if water is not None else "none (no water sources given)"
    description = (f"{'SYNTHETIC INPUTS — not observations. ' if synthetic else ''}"
                   f"Candidate sloping farmland for returning farmland to forest (坡耕地退耕还林候选), shuibao "
                   f"{__version__}: land-use codes {', '.join(map(str, codes))} as cropland; steep = θ ≥ "
                   f"{steep_deg:g}° (Horn slope of {d_h.path.name}); moderate = {moderate_rule}; "
                   f"{connectivity}-connected patches of at least {min_cells} cell(s) ({min_area_m2:g} m²). "
                   f"DEM sha256 {inputs['dem']['sha256']}, land use sha256 {inputs['landuse']['sha256']}.")
    layer = VectorLayer(LAYER, description, vgrid.crs, rows_geoms, columns)
    summary_path = out.with_name(out.stem + ".districts.csv")
    prov_path = out.with_name(out.name + ".provenance.json")
    write_gpkg(out, [layer], timestamp=datetime(year, 1, 1, tzinfo=UTC))
    write_csv_rows(summary_path, SUMMARY_COLUMNS, [_summary_row(s) for s in by_district])
    seconds = round(time.perf_counter() - started, 3)
    unassigned = int(np.count_nonzero(where == 0))
    result = FarmlandResult(
        out, summary_path, prov_path, year, n, n_steep, n_mod, steep_cells, mod_cells, steep_cells * cell_area,
        mod_cells * cell_area, drop_s + drop_m, dropped_cells * cell_area, min_cells, cell_area,
        zones.source if zones is not None else None, unassigned, by_district, tuple(notes), synthetic, seconds)
    write_json_atomic(prov_path, {
        "product": "candidate sloping farmland for returning farmland to forest (坡耕地退耕还林候选)",
        "software": f"shuibao {__version__}", "synthetic": synthetic, "output": str(out), "layer": LAYER,
        "summary": str(summary_path), "inputs": inputs,
        "params": {"cropland_codes": list(codes), "steep_deg": steep_deg, "moderate_deg": moderate_deg,
                   "min_area_m2": min_area_m2, "min_cells": min_cells, "connectivity": connectivity, "year": year},
        "grid": {"shape": list(grid.shape), "cell_size_m": [grid.cell_width, grid.cell_height], "crs": vgrid.crs},
        "counts": {"dem_valid_cells": dem_cells, "patches": n, "steep_patches": n_steep, "moderate_patches": n_mod,
                   "steep_cells": steep_cells, "moderate_cells": mod_cells, "dropped_patches": drop_s + drop_m,
                   "dropped_cells": dropped_cells, "unassigned_patches": unassigned},
        "districts": zones.source if zones is not None else None, "notes": notes, "seconds": seconds,
    }, indent=2)
    log.info("%d sloping-farmland candidates (%d steep, %d moderate), %.0f m², in %.1f s → %s", n, n_steep, n_mod,
             result.total_area_m2, seconds, out)
    return result


def _columns(zones: _Districts | None, where: np.ndarray, klass: np.ndarray, cells: np.ndarray,
             mean_slope: np.ndarray, geoms: dict, cell_area: float, year: int) -> tuple[dict[str, list], list]:
    """The layer's rows, grouped by district (in the source's order, the unassigned last), numbered within each."""
    n = len(cells)
    order = np.lexsort((np.arange(n), where, where == 0))
    w = where[order]
    start = np.flatnonzero(np.r_[True, w[1:] != w[:-1]]) if n else np.zeros(0, np.int64)
    number = np.arange(n) - np.repeat(start, np.diff(np.r_[start, n])) + 1  # 1, 2, … within each district
    codes = [None] + (list(zones.codes) if zones is not None else [])
    names = [None] + (list(zones.names) if zones is not None else [])
    code = [codes[k] for k in w.tolist()]
    name = [names[k] for k in w.tolist()]
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
    return columns, [geoms[i + 1] for i in order.tolist()]


def _summaries(zones: _Districts | None, where: np.ndarray, klass: np.ndarray, cells: np.ndarray,
               cell_area: float) -> tuple[DistrictSummary, ...]:
    out = []
    keys = list(range(1, len(zones.codes) + 1)) if zones is not None else []
    for k in keys + [0]:
        sel = where == k
        if not sel.any():
            continue
        s, m = sel & (klass == "steep"), sel & (klass == "moderate")
        out.append(DistrictSummary(zones.codes[k - 1] if k else None, zones.names[k - 1] if k else None,
                                   int(s.sum()), float(cells[s].sum() * cell_area),
                                   int(m.sum()), float(cells[m].sum() * cell_area)))
    return tuple(out)


def _summary_row(s: DistrictSummary) -> dict:
    return {"district_code": s.district_code or "", "district": s.district or NO_DISTRICT_NAME,
            "steep_patches": s.steep_patches, "steep_km2": round(s.steep_area_m2 / 1e6, 6),
            "moderate_patches": s.moderate_patches, "moderate_km2": round(s.moderate_area_m2 / 1e6, 6),
            "patches": s.patches, "total_km2": round((s.steep_area_m2 + s.moderate_area_m2) / 1e6, 6)}


__all__ = ["find_sloping_farmland", "district_store", "FarmlandResult", "DistrictSummary", "FIELDS", "LAYER",
           "SUMMARY_COLUMNS"]
