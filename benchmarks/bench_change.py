"""Change detection (扰动图斑) on a synthetic before/after pair: accuracy, time and peak memory.

    python benchmarks/bench_change.py --size 4000 --work /tmp/shuibao-change

Generates the pair of 3-band 10 m images with planted disturbances once (cached in WORK, made in a
child process so its memory is not counted), then times :func:`detect_changes` in this process and
reads this process's peak resident memory (``resource.getrusage``: imports + detection; the scoring
comes after the reading).  Scores: object precision/recall/F1 (a patch matches a planted disturbance
of ≥ the minimum area at IoU ≥ 0.5) and pixel F1.  Results go to benchmarks/results/change_<size>.json
and one JSON line on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

from common import RESULTS  # noqa: F401 - also puts src/ on the path

import numpy as np  # noqa: E402
import rasterio  # noqa: E402

from shuibao.grid import GridSpec  # noqa: E402


def generate(size: int, seed: int, folder: Path) -> None:
    from shuibao.demo.change import make_change_scene

    t = time.perf_counter()
    scene = make_change_scene(folder, size=size, seed=seed)
    np.save(folder / "truth.npy", scene.truth_labels)
    meta = {"generate_s": round(time.perf_counter() - t, 2), "planted": len(scene.truth),
            "after_date": scene.after_date.isoformat(), **scene.notes,
            "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
    (folder / "scene.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=4000, help="cells per side (10 m cells)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--work", type=Path, default=Path("/tmp/shuibao-change"))
    ap.add_argument("--results", type=Path, default=RESULTS)
    ap.add_argument("--generate-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    folder = args.work / f"{args.size}_{args.seed}"
    folder.mkdir(parents=True, exist_ok=True)
    if args.generate_only:
        generate(args.size, args.seed, folder)
        return
    if not (folder / "scene.json").exists():
        cmd = [sys.executable, __file__, "--size", str(args.size), "--seed", str(args.seed), "--work", str(args.work),
               "--generate-only"]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"scene generation failed ({proc.returncode}):\n{proc.stderr}")
    meta = json.loads((folder / "scene.json").read_text(encoding="utf-8"))

    from shuibao.services.supervision.change_detection import DetectionParams, detect_changes

    params = DetectionParams()
    t = time.perf_counter()
    result = detect_changes(folder / "before.tif", folder / "after.tif", folder / "patches.gpkg", params=params)
    seconds = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    from shuibao.io.vector import read_polygons, zone_labels
    from shuibao.demo.change import score

    found = read_polygons(result.out, "patches", layer="patches")
    truth = np.load(folder / "truth.npy")
    with rasterio.open(folder / "after.tif") as src:
        grid = GridSpec((src.height, src.width), tuple(src.transform)[:6], src.crs.to_wkt(), None)
    detected = zone_labels(found.geoms, found.crs, grid) if found.geoms else np.zeros(grid.shape, np.int32)
    min_cells = int(np.ceil(params.min_area_m2 / grid.cell_area - 1e-9))
    s = score(truth, detected, min_cells=min_cells)
    row = {
        "grid": f"{args.size}²", "cells": args.size * args.size, "seed": args.seed, "planted": meta["planted"],
        "truths_scored": s.truths, "detections": s.detections,
        "precision": round(s.precision, 4), "recall": round(s.recall, 4), "f1": round(s.f1, 4),
        "pixel_precision": round(s.pixel_precision, 4), "pixel_recall": round(s.pixel_recall, 4),
        "pixel_f1": round(s.pixel_f1, 4), "detect_s": round(seconds, 2), "peak_rss_mib": round(peak, 1),
        "generate_s": meta["generate_s"], "generate_peak_rss_mib": meta["peak_rss_mib"],
        "params": {k: v for k, v in asdict(params).items() if k != "bands"},
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
    }
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / f"change_{args.size}.json").write_text(json.dumps(row, ensure_ascii=False, indent=2),
                                                           encoding="utf-8")
    print(json.dumps(row, ensure_ascii=False))


if __name__ == "__main__":
    main()
