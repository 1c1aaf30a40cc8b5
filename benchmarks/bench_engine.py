"""Each engine step's time and peak memory on synthetic terrain, and a whole CSLE run.

usage: python benchmarks/bench_engine.py [--sizes 1000 3000 10000] [--work DIR]

For every size a fresh process (so peak memory is that size's alone, and the
numba cache is warm) times fill, D8, D8 and MFD accumulation, slope, slope
length and L·S on the DEM, and another fresh process runs the whole CSLE from
GeoTIFF inputs (R, K, land use, NDVI) to graded COGs and summary.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from common import RESULTS, markdown, peak_rss_mib


def flow_worker(folder: Path) -> dict:
    from shuibao.core import hydrology, lsfactor, terrain
    from shuibao.core.tiled_fill import fill_depressions_tiled

    dem = np.load(folder / "dem.npy")
    n = dem.shape[0]
    valid = np.ones(dem.shape, bool)
    steps = {}

    def timed(name, fn, *a, **k):
        t = time.perf_counter()
        out = fn(*a, **k)
        steps[name] = {"s": round(time.perf_counter() - t, 3), "peak_rss_mib": round(peak_rss_mib())}
        return out

    # warm the JIT cache on a tiny grid so compile time is not counted here (see bench_jit.py)
    small = dem[:64, :64].copy()
    sv = valid[:64, :64].copy()
    f = hydrology.fill_depressions(small, sv)
    fill_depressions_tiled(small, sv, tile=16, workers=2)
    d = hydrology.flow_direction_d8(f, sv, 30.0, resolve_flats=True)
    hydrology.flow_accumulation_d8(d, sv)
    hydrology.flow_accumulation_mfd(f, sv, 30.0)
    s = terrain.slope_degrees(f, sv, 30.0)
    th, nc = lsfactor.downslope_angle(f, sv, d, s, 30.0)
    lam = lsfactor.slope_length(d, sv, th, nc, None)
    lsfactor.l_and_s(lam, nc, s, sv)
    base = peak_rss_mib()

    # the D8 pipeline's conditioning (ADR 0007): the tiled plain fill on all cores, flats resolved in D8
    filled = timed("fill", fill_depressions_tiled, dem, valid, workers=os.cpu_count() or 1)
    fdir = timed("d8", hydrology.flow_direction_d8, filled, valid, 30.0, resolve_flats=True)
    acc = timed("accumulation_d8", hydrology.flow_accumulation_d8, fdir, valid)
    channel = acc >= 1e6 / 900.0
    del acc
    slope = timed("slope", terrain.slope_degrees, filled, valid, 30.0)
    theta, ncsl = timed("downslope_angle", lsfactor.downslope_angle, filled, valid, fdir, slope, 30.0)
    lam = timed("slope_length", lsfactor.slope_length, fdir, valid, theta, ncsl, channel)
    timed("l_and_s", lsfactor.l_and_s, lam, ncsl, slope, valid)
    del filled, fdir, slope, theta, ncsl, lam, channel
    # MFD routes on Priority-Flood+ε (global, one thread)
    eps = timed("fill_epsilon", hydrology.fill_depressions, dem, valid)
    acc = timed("accumulation_mfd", hydrology.flow_accumulation_mfd, eps, valid, 30.0)
    del acc, eps
    total = sum(v["s"] for v in steps.values())
    flow = steps["fill"]["s"] + steps["d8"]["s"] + steps["accumulation_d8"]["s"]
    peak = peak_rss_mib()
    return {"n": n, "cells": n * n, "steps": steps, "fill_d8_acc_s": round(flow, 3), "terrain_total_s": round(total, 3),
            "baseline_rss_mib": round(base), "peak_rss_mib": round(peak),
            "bytes_per_cell": round((peak - base) * 2**20 / (n * n), 1)}


def csle_worker(folder: Path, out: Path) -> dict:
    from shuibao.erosion.engine import TerrainParams
    from shuibao.services.monitoring.erosion import CsleInputs, CsleParams, run_csle

    paths = json.loads((folder / "inputs.json").read_text())
    base = peak_rss_mib()
    t = time.perf_counter()
    summary = run_csle(CsleInputs(dem=Path(paths["dem"]), landuse=Path(paths["landuse"]), ndvi=Path(paths["ndvi"]),
                                  r=Path(paths["r"]), k=Path(paths["k"])), out,
                       CsleParams(terrain=TerrainParams(channel_threshold_m2=1e6), synthetic=True))
    wall = time.perf_counter() - t
    n = summary["grid"]["shape"][0]
    peak = peak_rss_mib()
    return {"n": n, "cells": n * n, "wall_s": round(wall, 2), "timings_s": summary["timings_s"],
            "baseline_rss_mib": round(base), "peak_rss_mib": round(peak),
            "bytes_per_cell": round((peak - base) * 2**20 / (n * n), 1),
            "conservation_rate_pct": round(summary["conservation_rate_pct"], 2)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 3000, 10000])
    ap.add_argument("--work", type=Path, default=Path("/tmp/shuibao-bench"))
    ap.add_argument("--worker", choices=["flow", "csle"])
    ap.add_argument("--folder", type=Path)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--results", type=Path, default=RESULTS, help="where the JSON results go")
    args = ap.parse_args()
    if args.worker == "flow":
        print(json.dumps(flow_worker(args.folder)))
        return
    if args.worker == "csle":
        print(json.dumps(csle_worker(args.folder, args.out)))
        return
    args.results.mkdir(parents=True, exist_ok=True)
    rows = []
    for n in args.sizes:
        folder = args.work / f"n{n}"
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", f"from common import prepare_inputs; from pathlib import Path; "
                        f"prepare_inputs({n}, Path({str(folder)!r}))"], check=True, cwd=Path(__file__).parent)
        prep = time.perf_counter() - t
        me = Path(__file__).resolve()
        flow = json.loads(subprocess.run([sys.executable, str(me), "--worker", "flow", "--folder", str(folder)],
                                         check=True, capture_output=True, text=True).stdout)
        csle = json.loads(subprocess.run([sys.executable, str(me), "--worker", "csle", "--folder", str(folder),
                                          "--out", str(folder / "out")],
                                         check=True, capture_output=True, text=True).stdout)
        result = {"n": n, "prepare_inputs_s": round(prep, 1), "terrain": flow, "csle": csle}
        (args.results / f"engine_{n}.json").write_text(json.dumps(result, indent=2))
        row = {"grid": f"{n}²", **{k: v["s"] for k, v in flow["steps"].items()},
               "fill+d8+acc s": flow["fill_d8_acc_s"], "terrain peak MiB": flow["peak_rss_mib"],
               "terrain B/cell": flow["bytes_per_cell"], "CSLE run s": csle["wall_s"],
               "CSLE peak MiB": csle["peak_rss_mib"], "CSLE B/cell": csle["bytes_per_cell"]}
        rows.append(row)
        print(json.dumps(row), flush=True)
    print(markdown(rows, list(rows[0])))


if __name__ == "__main__":
    main()
