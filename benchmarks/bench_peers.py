"""Ours against peer tools on the same input, in one script.

usage: python benchmarks/bench_peers.py --size 3000 --peers-python /tmp/peers-venv/bin/python

* fill + D8 + accumulation: ours (this process) vs pyflwdir and whitebox-workflows;
* the whole soil-loss run from GeoTIFF inputs: our CSLE (``run_csle``: R and K rasters,
  land use, NDVI → factor COGs, soil loss, grades, summary) vs InVEST SDR 3.20.2 (D8 and
  MFD), which computes the same USLE-type product plus sediment delivery.

Peers run in their own virtual environment (numpy 1.26, GDAL 3.6) as subprocesses
(``peer_worker.py``), each on the files written here; ratios are peer time / our time.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import time
from pathlib import Path

import numpy as np
import rasterio

from common import RESULTS, markdown, peak_rss_mib, prepare_inputs


def plain_copies(folder: Path, paths: dict) -> None:
    """A plain tiled DEM copy, an int32 land use, a watershed polygon and InVEST's C/P table."""
    import pyogrio
    import shapely
    from shuibao.erosion.tables import b_table

    # r.tif and k.tif from prepare_inputs are read by InVEST as they are; the DEM gets a plain tiled copy
    with rasterio.open(paths["dem"]) as src:
        profile = src.profile | {"driver": "GTiff", "tiled": True, "blockxsize": 256, "blockysize": 256,
                                 "compress": "lzw"}
        data = src.read(1)
    with rasterio.open(folder / "dem_plain.tif", "w", **profile) as out:
        out.write(data, 1)
    with rasterio.open(folder / "tiny.tif", "w", **(profile | {"height": 64, "width": 64})) as out:
        out.write(data[:64, :64], 1)
    with rasterio.open(paths["landuse"]) as src:
        lu = src.read(1).astype(np.int32)
        profile = src.profile | {"driver": "GTiff", "dtype": "int32", "nodata": 0, "tiled": True,
                                 "blockxsize": 256, "blockysize": 256, "compress": "lzw"}
        bounds = src.bounds
        crs = src.crs
    with rasterio.open(folder / "lulc_int.tif", "w", **profile) as out:
        out.write(lu, 1)
    # USLE C per class for InVEST: our B at a typical cover (FVC 0.6) where B depends on cover
    from shuibao.core.csle import b_cai2000, b_formula, b_grass_slr
    b = b_table()
    typical = np.array([0.6])
    by_cover = {"cai2000": b_cai2000, "grass_slr": b_grass_slr,
                "fvc_class": lambda code: b.cover_classes[code].of(typical),
                "formula": lambda code: b_formula(b.formulas[code], typical)}
    with open(folder / "biophysical.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["lucode", "usle_c", "usle_p"])
        for code, method, value in zip(b.codes.tolist(), b.methods.tolist(), b.values.tolist()):
            if method == "constant":
                c = value
            elif method in ("fvc_class", "formula"):
                c = float(by_cover[method](code)[0])
            else:
                c = float(by_cover[method](typical)[0])
            w.writerow([int(code), round(float(c), 4), 1])
    cell = 30.0
    ring = shapely.box(bounds.left + cell, bounds.bottom + cell, bounds.right - cell, bounds.top - cell)
    pyogrio.raw.write(str(folder / "watershed.gpkg"), geometry=np.array([shapely.to_wkb(ring)], dtype=object),
                      field_data=[np.array([1], np.int32)], fields=["ws_id"], geometry_type="Polygon",
                      crs=crs.to_wkt(), driver="GPKG", layer="ws")


def ours_flow(dem: np.ndarray) -> dict:
    from shuibao.core import hydrology as h

    valid = np.ones(dem.shape, bool)
    sv = valid[:64, :64].copy()
    h.flow_accumulation_d8(h.flow_direction_d8(h.fill_depressions(dem[:64, :64].copy(), sv), sv, 30.0), sv)
    h.flow_accumulation_mfd(dem[:64, :64].copy(), sv, 30.0)
    t = time.perf_counter()
    f = h.fill_depressions(dem, valid)
    t1 = time.perf_counter()
    d = h.flow_direction_d8(f, valid, 30.0)
    t2 = time.perf_counter()
    h.flow_accumulation_d8(d, valid)
    t3 = time.perf_counter()
    h.flow_accumulation_mfd(f, valid, 30.0)
    t4 = time.perf_counter()
    return {"fill_s": round(t1 - t, 3), "d8_s": round(t2 - t1, 3), "acc_s": round(t3 - t2, 3),
            "mfd_acc_s": round(t4 - t3, 3), "total_s": round(t3 - t, 3)}


def ours_csle(paths: dict, out: Path) -> dict:
    from shuibao.erosion.engine import TerrainParams
    from shuibao.services.monitoring.erosion import CsleInputs, CsleParams, run_csle

    t = time.perf_counter()
    run_csle(CsleInputs(dem=Path(paths["dem"]), landuse=Path(paths["landuse"]), ndvi=Path(paths["ndvi"]),
                        r=Path(paths["r"]), k=Path(paths["k"])), out,
             CsleParams(terrain=TerrainParams(channel_threshold_m2=1000 * 900.0), synthetic=True))
    return {"total_s": round(time.perf_counter() - t, 2)}


def peer(python: str, tool: str, folder: Path) -> dict:
    proc = subprocess.run([python, str(Path(__file__).with_name("peer_worker.py")), tool, str(folder)],
                          capture_output=True, text=True)
    if proc.returncode:
        return {"tool": tool, "error": proc.stderr.strip().splitlines()[-1] if proc.stderr else "failed"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=3000)
    ap.add_argument("--peers-python", required=True)
    ap.add_argument("--work", type=Path, default=Path("/tmp/shuibao-bench"))
    ap.add_argument("--skip-sdr", action="store_true")
    args = ap.parse_args()
    folder = args.work / f"n{args.size}"
    paths = prepare_inputs(args.size, folder)
    plain_copies(folder, paths)
    dem = np.load(paths["dem_npy"])
    result = {"size": args.size, "ours_flow": ours_flow(dem)}
    result["ours_csle"] = ours_csle(paths, folder / "ours_csle")
    result["ours_peak_rss_mib"] = round(peak_rss_mib())
    result["pyflwdir"] = peer(args.peers_python, "pyflwdir", folder)
    result["wbw"] = peer(args.peers_python, "wbw", folder)
    if not args.skip_sdr:
        result["sdr_d8"] = peer(args.peers_python, "sdr-d8", folder)
        result["sdr_mfd"] = peer(args.peers_python, "sdr-mfd", folder)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"peers_{args.size}.json").write_text(json.dumps(result, indent=2))
    of, oc = result["ours_flow"], result["ours_csle"]
    rows = [
        {"comparison": "fill + D8 + accumulation", "ours s": of["total_s"], "peer": "whitebox-workflows 2.0.6",
         "peer s": result["wbw"].get("total_s"), "peer/ours": _ratio(result["wbw"].get("total_s"), of["total_s"])},
        {"comparison": "fill + D8 + accumulation", "ours s": of["total_s"], "peer": "pyflwdir 0.5.12",
         "peer s": result["pyflwdir"].get("total_s"),
         "peer/ours": _ratio(result["pyflwdir"].get("total_s"), of["total_s"])},
        {"comparison": "MFD accumulation", "ours s": of["mfd_acc_s"], "peer": "whitebox-workflows fd8_flow_accum",
         "peer s": result["wbw"].get("mfd_acc_s"), "peer/ours": _ratio(result["wbw"].get("mfd_acc_s"),
                                                                       of["mfd_acc_s"])},
    ]
    for key, label in (("sdr_d8", "InVEST SDR (D8)"), ("sdr_mfd", "InVEST SDR (MFD)")):
        if key in result:
            rows.append({"comparison": "whole soil-loss run, GeoTIFF in → rasters out", "ours s": oc["total_s"],
                         "peer": label, "peer s": result[key].get("total_s"),
                         "peer/ours": _ratio(result[key].get("total_s"), oc["total_s"])})
    print(markdown(rows, ["comparison", "ours s", "peer", "peer s", "peer/ours"]))


def _ratio(peer_s, ours_s):
    return round(peer_s / ours_s, 2) if peer_s and ours_s else "n/a"


if __name__ == "__main__":
    main()
