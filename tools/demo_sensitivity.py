"""Which table entry keeps the demo away from the plan's 2020 picture: the first year's run re-multiplied with
one entry changed at a time, against the bounds of issue 16 (docs/validation.md, "The demo against the plan's
2020 picture").

    python tools/demo_sensitivity.py demo-output            # after `shuibao demo --out demo-output`

Reads the run's factor rasters (R, K, L, S, B, T, E), its land use and NDVI inputs and its provenance (the FVC
end-members), changes one factor where a variant says so, grades again (SL 190-2007, tolerance 500) and prints the
city's 水土保持率, the regions' rates, the loss shares by grade and the two largest loss classes.  A sensitivity
study of SYNTHETIC inputs: it says how far an entry would have to move, not what the entry is.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pyogrio
import rasterio

from shuibao.core import csle
from shuibao.core.lsfactor import SlopeLengthParams
from shuibao.erosion import tables
from shuibao.erosion.engine import TerrainParams, compute_terrain
from shuibao.grid import GridSpec
from shuibao.plan.reference import load_reference

GRADES = ("light", "moderate", "intense", "very_intense", "severe")


def _read(path: Path) -> np.ndarray:
    with rasterio.open(path) as src:
        return src.read(1)


def _slr_forest(fvc: np.ndarray, gd: np.ndarray) -> np.ndarray:
    """Forest/shrub soil-loss ratio of the national census practice (methods.md §1.5 [R], NOT verified):
    0.44468·e^(−3.20096·GD) − 0.04099·e^(FVC − FVC·GD) + 0.025, GD = canopy closure."""
    return np.clip(0.44468 * np.exp(-3.20096 * gd) - 0.04099 * np.exp(fvc - fvc * gd) + 0.025, 0, 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("demo", type=Path, help="the demo's output folder")
    ap.add_argument("--year", type=int, default=2024)
    ap.add_argument("--json", type=Path, help="also write the table as JSON here")
    args = ap.parse_args()
    run = args.demo / "output" / str(args.year)
    ras = {n: _read(run / "rasters" / f"{n}.tif").astype(np.float32) for n in
           ("r_factor", "k_factor", "l_factor", "s_factor", "b_factor", "t_factor", "e_factor")}
    code = _read(args.demo / "inputs" / f"landuse-{args.year}.tif").astype(np.int64)
    ndvi = _read(args.demo / "inputs" / f"ndvi-{args.year}.tif")
    zones = _read(run / ".work" / "zones.tif")
    prov = json.loads((run / "provenance.json").read_text(encoding="utf-8"))
    ends = prov["steps"]["erosion"]["result"]["parameters"]["fvc_end_members"]
    fvc = np.clip((ndvi - ends["ndvi_soil"]) / (ends["ndvi_veg"] - ends["ndvi_soil"]), 0, 1)
    codes = tables.landuse_codes()
    group = np.full(code.max() + 1, "", dtype=object)
    plan = np.zeros(code.max() + 1, np.uint8)
    for c, v in codes.items():
        if c <= code.max():
            group[c], plan[c] = v.cover_group, v.plan_class
    grp, pcls = group[code], plan[code]
    ref = load_reference()
    _, _, _, fields = pyogrio.raw.read(run / "monitoring.gpkg", layer="districts", read_geometry=False,
                                       columns=["code"])
    region_of = {d.code: d.region for d in ref.districts}
    zone_region = np.array([""] + [region_of.get(c, "") for c in fields[0]], dtype=object)[zones]
    valid = zones > 0
    base = {k: v.copy() for k, v in ras.items()}
    cover = tables.cover_classes()

    def figures(f: dict) -> dict:
        a = f["r_factor"] * f["k_factor"] * f["b_factor"] * f["t_factor"] * f["e_factor"] * f["l_factor"] \
            * f["s_factor"] * 100.0
        g = csle.grade(np.where(valid, a, np.nan), 500.0)
        out = {"city": 100.0 * np.count_nonzero(valid & (g == 1)) / np.count_nonzero(valid)}
        for r in ref.regions:
            m = valid & (zone_region == r.code)
            out[r.code] = 100.0 * np.count_nonzero(m & (g == 1)) / max(np.count_nonzero(m), 1)
        loss = valid & (g > 1)
        for i, name in enumerate(GRADES, start=2):
            out[name] = 100.0 * np.count_nonzero(g == i) / max(np.count_nonzero(loss), 1)
        by_class = {k: np.count_nonzero(loss & (pcls == k)) for k in range(1, 9)}
        out["top2"] = sorted(by_class, key=lambda k: -by_class[k])[:2]
        return out

    def variant(**changes) -> dict:
        f = {k: v.copy() for k, v in base.items()}
        for name, fn in changes.items():
            f[name] = fn(f[name]).astype(np.float32)
        return figures(f)

    forest_like = np.isin(grp, ("forest", "shrub"))
    tree_garden = np.isin(code, (201, 203))
    rows = {
        "defaults (shipped tables)": figures(base),
        "B forest+shrub: national SLR formula, GD = FVC [R]": variant(
            b_factor=lambda b: np.where(forest_like, _slr_forest(fvc, fvc), b)),
        "B forest+shrub+garden: Cai 2000 (the old default)": variant(
            b_factor=lambda b: np.where(forest_like | (pcls == 2), csle.b_cai2000(fvc), b)),
        "B shrubland by the forest column": variant(
            b_factor=lambda b: np.where(grp == "shrub", cover["forest"].of(fvc), b)),
        "B forest+shrub × 0.5": variant(b_factor=lambda b: np.where(forest_like, b * 0.5, b)),
        "B forest+shrub × 0.25": variant(b_factor=lambda b: np.where(forest_like, b * 0.25, b)),
        "B grass+garden × 0.5": variant(b_factor=lambda b: np.where(np.isin(pcls, (2, 4)), b * 0.5, b)),
        "T dry land 0.28 (triple-cropping mean) instead of 0.36": variant(
            t_factor=lambda t: np.where(np.isin(code, (102, 103)), 0.28, t)),
        "T dry land × 0.5 (0.18)": variant(t_factor=lambda t: np.where(np.isin(code, (102, 103)), 0.18, t)),
        "E: every dry-land cell on a level earth terrace (0.084)": variant(
            e_factor=lambda e: np.where(np.isin(code, (102, 103)), np.minimum(e, 0.084), e)),
        "K without the Chinese correction (× 1/0.47)": variant(k_factor=lambda k: k / 0.4715),
        "every cell's soil loss × 0.25 (level, not shape)": variant(r_factor=lambda r: r * 0.25),
        "every cell's soil loss × 0.1 (level, not shape)": variant(r_factor=lambda r: r * 0.1),
        "all of: SLR forest, T 0.28, grass+garden × 0.5": variant(
            b_factor=lambda b: np.where(forest_like, _slr_forest(fvc, fvc),
                                        np.where(np.isin(pcls, (2, 4)), b * 0.5, b)),
            t_factor=lambda t: np.where(np.isin(code, (102, 103)), 0.28, t)),
    }
    del tree_garden
    for cap in (100.0, 60.0):  # the slope-length cap: a terrain parameter, recomputed on the run's DEM
        dem = _read(args.demo / "inputs" / "dem.tif")
        with rasterio.open(args.demo / "inputs" / "dem.tif") as src:
            grid = GridSpec(dem.shape, tuple(src.transform)[:6], src.crs.to_wkt(), None)
        ok = np.isfinite(dem)
        tp = TerrainParams(channel_threshold_m2=1e6, ls=SlopeLengthParams(max_length_m=cap))
        ter, _ = compute_terrain(np.where(ok, dem, 0).astype(np.float32), ok, grid, tp, keep_grids=False)
        rows[f"slope length capped at {cap:g} m (a terrain parameter, not a table)"] = variant(
            l_factor=lambda _l, lf=ter.l_factor: lf)
        del ter
    plan_city = ref.erosion_row("全市")
    want = {"city": 100 - float(plan_city.loss_pct), **{r.code: 100 - float(ref.erosion_row(r.name).loss_pct)
                                                         for r in ref.regions},
            **{g: float(plan_city.pct[g]) for g in GRADES}}
    names = {1: "耕地", 2: "园地", 3: "林地", 4: "草地", 5: "建设用地", 6: "交通运输用地", 7: "水域", 8: "其他土地"}
    head = ["variant", "city", "metro", "northeast", "southeast", *GRADES, "top2"]
    print(" | ".join(head))
    print(" | ".join(["plan 2020"] + [f"{want[k]:.2f}" for k in head[1:-1]] + ["林地、耕地"]))
    for label, r in rows.items():
        print(" | ".join([label] + [f"{r[k]:.2f}" for k in head[1:-1]] + ["、".join(names[k] for k in r["top2"])]))
    if args.json:
        args.json.write_text(json.dumps({"plan_2020": want, "variants": rows}, ensure_ascii=False, indent=1,
                                        default=int), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
