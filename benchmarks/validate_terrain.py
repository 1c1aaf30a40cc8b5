"""Shuibao's terrain factors on a real DEM against SAGA GIS (an independent implementation).

Runs ``saga_cmd`` (SAGA 8.5, Debian package ``saga``) and Shuibao on the vendored DEM in
``tests/data/real_dem/`` and prints the agreement table that ``docs/validation.md``
("Terrain on real DEMs") records: median ratio Shuibao / SAGA and the share of cells
within ±10 %, per quantity, on interior cells (the one-cell edge ring is left out).

    python benchmarks/validate_terrain.py [--out results/validate_terrain.json] [--write-fixtures]

``--write-fixtures`` rewrites the SAGA rasters that ``tests/validation/`` compares against
(do it only after a deliberate SAGA upgrade, and say so in the commit).  Without
``saga_cmd`` on PATH the script prints why and exits 0 (nothing is compared).

SAGA tools used (``saga_cmd -h LIB ID`` lists their options):

* ``ta_morphometry 0 -METHOD 2`` "least squares fitted plane (Horn 1981, Costa-Cabral &
  Burgess 1996)": Horn's 3×3 slope, in degrees;
* ``ta_preprocessor 4 -MINSLOPE 0.01``: Wang & Liu (2006) fill with a 0.01° gradient across
  flats, so every interior cell has a strictly lower neighbour and D8 is defined;
* ``ta_hydrology 0 -METHOD 0 -FLOW_UNIT 1``: D8 contributing area (m²) on that DEM;
* ``ta_hydrology 7``: "Slope Length" (V. Olaya 2004): cumulative D8 flow length, started
  at 0, continued into the receiver while its slope is more than half the donor's
  (slopes from SAGA's 4-neighbour gradient, i.e. Zevenbergen & Thorne, ``-METHOD 6``);
* ``ta_hydrology 19 -METHOD 0`` + ``ta_hydrology 22 -METHOD 1 -CONV 0``: LS by Desmet &
  Govers (1996) from the D8 specific catchment area (RUSLE m, McCool S at 9 %), and the same
  tool given the inlet area (D8 area − one cell, m²), the A of the paper.

The CSLE LS has no offline peer; its S and L are compared with SAGA's separately and the
differences are differences of model (docs/validation.md explains each).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent / "src"))

from shuibao.core import hydrology, lsfactor, terrain  # noqa: E402
from shuibao.erosion.engine import TerrainParams, compute_terrain  # noqa: E402
from shuibao.grid import GridSpec  # noqa: E402

DATA = ROOT.parent / "tests" / "data" / "real_dem"
DEM = DATA / "jacksboro_utm16n_90m.tif"
FIXTURES = {  # SAGA output -> committed fixture name
    "filled": "saga_filled_minslope001.tif",
    "slope_horn": "saga_slope_horn_deg.tif",
    "d8_area": "saga_d8_area_m2.tif",
    "slope_length": "saga_slope_length_m.tif",
}
FLAT_DEG = 0.5  # slopes below this are left out of slope ratios (ratio of two near-zero numbers)


def read(path: Path) -> tuple[np.ndarray, GridSpec]:
    import rasterio

    with rasterio.open(path) as src:
        a = src.read(1).astype(np.float64)
        if src.nodata is not None:
            a[a == src.nodata] = np.nan
        grid = GridSpec(a.shape, tuple(src.transform)[:6], src.crs.to_string() if src.crs else None, None)
    return a, grid


def run_saga(dem: Path, work: Path) -> dict[str, Path]:
    """Every SAGA output this validation uses, as GeoTIFFs in ``work``."""
    out = {k: work / f"{k}.tif" for k in ("slope_horn", "aspect", "filled", "d8_area", "slope_length",
                                           "slope_rad", "aspect2", "sca", "width", "ls_dg")}
    calls = [
        ["ta_morphometry", "0", "-ELEVATION", dem, "-SLOPE", out["slope_horn"], "-ASPECT", out["aspect"],
         "-METHOD", "2", "-UNIT_SLOPE", "1"],
        ["ta_preprocessor", "4", "-ELEV", dem, "-FILLED", out["filled"], "-MINSLOPE", "0.01"],
        ["ta_hydrology", "0", "-ELEVATION", out["filled"], "-FLOW", out["d8_area"], "-METHOD", "0",
         "-FLOW_UNIT", "1"],
        ["ta_hydrology", "7", "-DEM", out["filled"], "-LENGTH", out["slope_length"]],
        ["ta_morphometry", "0", "-ELEVATION", out["filled"], "-SLOPE", out["slope_rad"], "-ASPECT",
         out["aspect2"], "-METHOD", "2", "-UNIT_SLOPE", "0"],
        ["ta_hydrology", "19", "-DEM", out["filled"], "-TCA", out["d8_area"], "-SCA", out["sca"],
         "-WIDTH", out["width"], "-METHOD", "0"],
        ["ta_hydrology", "22", "-SLOPE", out["slope_rad"], "-AREA", out["sca"], "-LS", out["ls_dg"],
         "-CONV", "0", "-METHOD", "1"],
    ]
    for call in calls:
        saga_cmd(call)
    # Desmet & Govers as the paper means it: A = upslope area at the cell's inlet, m² (TCA − one cell)
    out["inlet_area"], out["ls_dg_inlet"] = work / "inlet_area.tif", work / "ls_dg_inlet.tif"
    write_fixture(out["d8_area"], out["inlet_area"], offset=-float(read(dem)[1].cell_area))
    saga_cmd(["ta_hydrology", "22", "-SLOPE", out["slope_rad"], "-AREA", out["inlet_area"], "-LS",
              out["ls_dg_inlet"], "-CONV", "0", "-METHOD", "1"])
    return out


def saga_cmd(call: list) -> None:
    cmd = ["saga_cmd", "-f=s", *map(str, call)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"saga_cmd failed ({' '.join(cmd)}):\n{done.stdout[-2000:]}{done.stderr[-2000:]}")


def interior(shape: tuple[int, int]) -> np.ndarray:
    m = np.zeros(shape, bool)
    m[1:-1, 1:-1] = True
    return m


def agreement(ours: np.ndarray, ref: np.ndarray, mask: np.ndarray) -> dict:
    """Median of ours/ref, share with |ours/ref − 1| ≤ 10 %, share equal (1e-6 relative), cells."""
    m = mask & np.isfinite(ours) & np.isfinite(ref) & (ref != 0)
    r = ours[m] / ref[m]
    return {"cells": int(m.sum()), "median_ratio": float(np.median(r)),
            "within_10pct": float(np.mean(np.abs(r - 1) <= 0.1)),
            "equal": float(np.mean(np.isclose(ours[m], ref[m], rtol=1e-6, atol=1e-6)))}


def zt_slope_deg(z: np.ndarray, cell: float) -> np.ndarray:
    """SAGA's ``CSG_Grid::Get_Gradient`` slope: 4-neighbour central differences (Zevenbergen & Thorne 1987)."""
    p = np.pad(z, 1, mode="edge")
    g = (p[1:-1, 2:] - p[1:-1, :-2]) / (2 * cell)
    h = (p[:-2, 1:-1] - p[2:, 1:-1]) / (2 * cell)
    return np.degrees(np.arctan(np.hypot(g, h)))


def saga_rule_slope_length(filled: np.ndarray, cell: float) -> tuple[np.ndarray, np.ndarray]:
    """Shuibao's λ with SAGA "Slope Length"'s rule: cut factor 0.5 on the ZT slope, no cap, edge ring drains out.

    Returns λ and the distance each path's start adds in Shuibao (NCSL/2: the
    slope-length start of the LS_TOOL lineage) — SAGA starts at 0.
    """
    valid = np.isfinite(filled)
    fdir = hydrology.flow_direction_d8(filled.astype(np.float32), valid, cell, cell, resolve_flats=True)
    fdir[~interior(fdir.shape)] = 0  # SAGA: an edge cell passes nothing on (Get_Gradient_NeighborDir, bNoEdges)
    theta = zt_slope_deg(filled, cell).astype(np.float32)
    _, ncsl = lsfactor.downslope_angle(filled.astype(np.float32), valid, fdir, theta, cell)
    rule = lsfactor.SlopeLengthParams(cutoff_low=0.5, cutoff_high=0.5, max_length_m=1e9)
    return lsfactor.slope_length(fdir, valid, theta, ncsl, None, rule), ncsl


def saga_desmet_govers(slope_rad: np.ndarray, sca: np.ndarray, cell: float) -> tuple[np.ndarray, np.ndarray]:
    """S and L of SAGA 8.5 ``ta_hydrology 22 -METHOD 1 -CONV 0`` (stable soil, erosivity 1).

    m = β/(1+β), β = (sin θ/0.0896)/(3 sin^0.8 θ + 0.56) (RUSLE rill/interrill m);
    L = ((A + D²)^(m+1) − A^(m+1)) / (D^(m+2) · 22.13^m) with A the specific catchment area as
    given and x = 1; S = 10.8 sin θ + 0.03 below 9 % (atan 0.09), else 16.8 sin θ − 0.5.
    """
    s = np.sin(slope_rad)
    beta = (s / 0.0896) / (3.0 * s ** 0.8 + 0.56)
    m = beta / (1.0 + beta)
    area = np.where(sca >= 0, sca, np.nan)  # −99999: SAGA's no-data on the edge ring
    big_l = ((area + cell * cell) ** (m + 1) - area ** (m + 1)) / (cell ** (m + 2) * 22.13 ** m)
    big_s = np.where(slope_rad < 0.08975817419, 10.8 * s + 0.03, 16.8 * s - 0.5)
    return big_s, big_l


def compare(saga: dict[str, Path]) -> dict:
    dem, grid = read(DEM)
    valid = np.isfinite(dem)
    cell = grid.cell_width
    inner = interior(dem.shape)
    res: dict[str, dict] = {}

    # 1. slope: Horn against SAGA's Horn, same raw DEM
    s_saga, _ = read(saga["slope_horn"])
    s_ours = terrain.slope_degrees(dem.astype(np.float32), valid, cell)
    res["slope_horn"] = agreement(s_ours, s_saga, inner & (s_saga >= FLAT_DEG))
    res["slope_horn"]["max_abs_diff_deg"] = float(np.nanmax(np.abs(s_ours - s_saga)[inner]))

    # 2. D8 contributing area on SAGA's ε-filled DEM (both route the same surface)
    filled, _ = read(saga["filled"])
    a_saga, _ = read(saga["d8_area"])
    fdir = hydrology.flow_direction_d8(filled.astype(np.float32), valid, cell, cell, resolve_flats=True)
    a_ours = hydrology.flow_accumulation_d8(fdir, valid) * grid.cell_area
    res["d8_area_as_shipped"] = agreement(a_ours, a_saga, inner)
    fdir[~inner] = 0  # SAGA's edge rule: an edge cell drains off the grid, never back inwards
    a_edge = hydrology.flow_accumulation_d8(fdir, valid) * grid.cell_area
    res["d8_area_edge_rule_matched"] = agreement(a_edge, a_saga, inner)

    # 3. slope length with SAGA's cut rule: equal up to the start value NCSL/2 of each path
    l_saga, _ = read(saga["slope_length"])
    l_ours, _ = saga_rule_slope_length(filled, cell)
    diff = (l_ours - l_saga)[inner]
    starts = np.array([cell / 2, np.hypot(cell, cell) / 2])
    exact = np.min(np.abs(diff[:, None] - starts[None, :]), axis=1) <= 0.01
    res["slope_length_saga_rule"] = agreement(l_ours, l_saga, inner & (l_saga > 0))
    res["slope_length_saga_rule"]["equal_up_to_start_value"] = float(np.mean(exact))

    # 4. Shuibao as shipped (CSLE λ, L, S) against SAGA's λ and LS: different models, see the docs
    result, _ = compute_terrain(dem.astype(np.float32), valid, grid, TerrainParams(), keep_accumulation=True)
    res["slope_length_csle_default_vs_saga"] = agreement(result.slope_length_m, l_saga, inner & (l_saga > 0))
    res["slope_length_csle_default_vs_saga"].update(
        median_ours_m=float(np.nanmedian(result.slope_length_m[inner])),
        median_saga_m=float(np.nanmedian(l_saga[inner])),
        share_at_cap=float(np.mean(result.slope_length_m[inner] >= TerrainParams().ls.max_length_m - 1e-3)))
    ls_saga, _ = read(saga["ls_dg"])
    res["ls_csle_default_vs_saga_desmet_govers"] = agreement(result.ls, ls_saga, inner)
    ls_inlet, _ = read(saga["ls_dg_inlet"])
    res["ls_csle_default_vs_saga_dg_inlet_area"] = agreement(result.ls, ls_inlet, inner)
    res["ls_csle_default_vs_saga_desmet_govers"].update(
        median_ours=float(np.nanmedian(result.ls[inner])), median_saga=float(np.nanmedian(ls_saga[inner])))
    # 4b. the same split into S and L: SAGA's Desmet & Govers LS written out (TopographicIndices.cpp,
    # CLS_Factor::Get_LS case 1), checked to reproduce SAGA's raster, then S and L compared separately
    rad, _ = read(saga["slope_rad"])
    sca, _ = read(saga["sca"])
    s_saga, l_saga_dg = saga_desmet_govers(rad, sca, cell)
    res["ls_saga_formula_reproduced"] = agreement(s_saga * l_saga_dg, ls_saga, inner)
    res["s_csle_vs_saga_mccool"] = agreement(result.s_factor, s_saga, inner)
    deg = np.degrees(rad)  # below 10° both use McCool (1987); the 5° (CSLE) and 9 % (SAGA) breaks differ
    same_s = inner & ((deg < 5.0) | ((deg >= np.degrees(0.08975817419)) & (deg < 10.0)))
    res["s_below_10deg_same_mccool_branch"] = agreement(result.s_factor, s_saga, same_s)
    res["s_below_10deg_on_saga_slope"] = agreement(lsfactor.s_factor(deg), s_saga, same_s)
    res["l_csle_vs_saga_desmet_govers"] = agreement(result.l_factor, l_saga_dg, inner)
    res["l_csle_vs_saga_dg_inlet_area"] = agreement(result.l_factor, ls_inlet / s_saga, inner)
    res["l_medians"] = {"csle": float(np.nanmedian(result.l_factor[inner])),
                        "saga_dg_sca": float(np.nanmedian(l_saga_dg[inner])),
                        "saga_dg_inlet_area": float(np.nanmedian((ls_inlet / s_saga)[inner])),
                        "ls_saga_dg_inlet_area": float(np.nanmedian(ls_inlet[inner]))}
    res["sensitivity"] = sensitivity(dem, valid, grid)
    return res


def sensitivity(dem: np.ndarray, valid: np.ndarray, grid: GridSpec) -> dict:
    """Mean LS and λ on the real DEM for the documented slope-length choices."""
    inner = interior(dem.shape)
    out = {}
    cases = {
        "defaults (cap 333 m, no channel, Horn S/m)": TerrainParams(),
        "cap 122 m": TerrainParams(ls=lsfactor.SlopeLengthParams(max_length_m=122.0)),
        "no cap": TerrainParams(ls=lsfactor.SlopeLengthParams(max_length_m=1e9)),
        "channel 1 km² (monitoring default)": TerrainParams(channel_threshold_m2=1e6),
        "channel 0.1 km²": TerrainParams(channel_threshold_m2=1e5),
        "S and m from the D8 downslope angle": TerrainParams(slope_for_factors="downslope"),
    }
    filled = None
    for name, params in cases.items():
        r, _ = compute_terrain(dem.astype(np.float32), valid, grid, params, filled=filled)
        filled = r.filled
        lam = r.slope_length_m[inner]
        out[name] = {"mean_ls": float(np.nanmean(r.ls[inner])), "median_ls": float(np.nanmedian(r.ls[inner])),
                     "mean_lambda_m": float(np.nanmean(lam)),
                     "share_at_cap": float(np.mean(lam >= params.ls.max_length_m - 1e-3))}
    return out


def table(res: dict) -> str:
    rows = ["| quantity | cells | median ratio | within ±10 % | equal |", "|---|---|---|---|---|"]
    for k, v in res.items():
        if k == "sensitivity" or not isinstance(v, dict) or "cells" not in v:
            continue
        rows.append(f"| {k} | {v['cells']} | {v['median_ratio']:.4f} | {100 * v['within_10pct']:.2f} % "
                    f"| {100 * v['equal']:.2f} % |")
    extra = [f"- slope max |diff| (interior): {res['slope_horn']['max_abs_diff_deg']:.2e}°",
             f"- slope length, SAGA rule: λ_ours − λ_SAGA equals the path's start value (Δx/2 or diagonal/2) on "
             f"{100 * res['slope_length_saga_rule']['equal_up_to_start_value']:.2f} % of interior cells"]
    d = res["slope_length_csle_default_vs_saga"]
    extra.append(f"- CSLE λ as shipped: median {d['median_ours_m']:.1f} m (SAGA {d['median_saga_m']:.1f} m), "
                 f"{100 * d['share_at_cap']:.2f} % of cells at the 333 m cap")
    d = res["ls_csle_default_vs_saga_desmet_govers"]
    extra.append(f"- LS median: CSLE {d['median_ours']:.3f}, SAGA Desmet & Govers {d['median_saga']:.3f} (SCA), "
                 f"{res['l_medians']['ls_saga_dg_inlet_area']:.3f} (inlet area)")
    lm = res["l_medians"]
    extra.append(f"- L median: CSLE {lm['csle']:.3f}, SAGA Desmet & Govers {lm['saga_dg_sca']:.3f} (SCA), "
                 f"{lm['saga_dg_inlet_area']:.3f} (inlet area)")
    sens = ["| slope-length choice | mean LS | median LS | mean λ m | share at cap |", "|---|---|---|---|---|"]
    for k, v in res["sensitivity"].items():
        sens.append(f"| {k} | {v['mean_ls']:.3f} | {v['median_ls']:.3f} | {v['mean_lambda_m']:.1f} "
                    f"| {100 * v['share_at_cap']:.2f} % |")
    return "\n".join(rows + [""] + extra + [""] + sens)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, help="write the figures as JSON here")
    ap.add_argument("--write-fixtures", action="store_true", help="copy SAGA's rasters into tests/data/real_dem/")
    args = ap.parse_args(argv)
    if shutil.which("saga_cmd") is None:
        print("validate_terrain: saga_cmd not found (Debian: apt-get install saga); nothing compared")
        return 0
    version = subprocess.run(["saga_cmd", "--version"], capture_output=True, text=True).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="shuibao-saga-") as tmp:
        saga = run_saga(DEM, Path(tmp))
        if args.write_fixtures:
            for key, name in FIXTURES.items():
                write_fixture(saga[key], DATA / name)
        res = compare(saga)
    print(f"{version.splitlines()[0] if version else 'SAGA'} against Shuibao on {DEM.name}\n")
    print(table(res))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"saga": version, "dem": DEM.name, **res}, indent=2))
    return 0


def write_fixture(src: Path, dst: Path, offset: float = 0.0) -> None:
    """SAGA's raster (plus ``offset``) as a small float32 GeoTIFF (DEFLATE, predictor 3), written then renamed."""
    import rasterio

    with rasterio.open(src) as s:
        data = s.read(1).astype(np.float32)
        if offset:
            data = np.where(data == s.nodata, data, data + np.float32(offset)) if s.nodata is not None \
                else data + np.float32(offset)
        prof = dict(driver="GTiff", width=s.width, height=s.height, count=1, dtype="float32", crs=s.crs,
                    transform=s.transform, nodata=s.nodata, compress="deflate", predictor=3, zlevel=9)
    tmp = dst.with_suffix(".tmp.tif")
    with rasterio.open(tmp, "w", **prof) as d:
        d.write(data, 1)
    tmp.replace(dst)


if __name__ == "__main__":
    raise SystemExit(main())
