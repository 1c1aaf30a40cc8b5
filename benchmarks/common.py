"""Helpers shared by the benchmark scripts: synthetic inputs on disk, peak memory, tables."""

from __future__ import annotations

import json
import resource
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "results"
sys.path.insert(0, str(ROOT.parent / "src"))

from shuibao.grid import GridSpec  # noqa: E402
from shuibao.io.raster import write_cog  # noqa: E402
from shuibao.demo.scene import ORIGIN, SYNTHETIC_CRS, make_scene  # noqa: E402


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far, MiB.

    VmHWM from /proc (Linux): unlike ``ru_maxrss`` it is not inherited from the
    parent across fork + exec, so a small child of a big parent reads right.
    """
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def grid_for(n: int, cell: float = 30.0) -> GridSpec:
    return GridSpec((n, n), (cell, 0.0, ORIGIN[0], 0.0, -cell, ORIGIN[1]), SYNTHETIC_CRS, None)


def prepare_inputs(n: int, folder: Path, seed: int = 0) -> dict[str, Path]:
    """DEM (also as .npy), land use, NDVI, and smooth R and K rasters of an n×n synthetic scene."""
    folder.mkdir(parents=True, exist_ok=True)
    done = folder / "inputs.json"
    if done.exists():
        return {k: Path(v) for k, v in json.loads(done.read_text()).items()}
    scene = make_scene(n, seed=seed)
    grid = grid_for(n)
    yy, xx = np.mgrid[0:n, 0:n] / float(n)
    r = (3000 + 2000 * xx).astype(np.float32)  # MJ·mm/(hm²·h·a), as in the peers' SDR benchmark
    k = (0.02 + 0.03 * (0.5 + 0.5 * np.sin(6 * xx) * np.cos(5 * yy))).astype(np.float32)
    del xx, yy
    paths = {
        "dem": write_cog(folder / "dem.tif", scene.dem, grid, nodata=-9999.0),
        "landuse": write_cog(folder / "landuse.tif", scene.landuse, grid, nodata=0, categorical=True),
        "ndvi": write_cog(folder / "ndvi.tif", scene.ndvi, grid, nodata=-9999.0),
        "r": write_cog(folder / "r.tif", r, grid, nodata=-1.0),
        "k": write_cog(folder / "k.tif", k, grid, nodata=-1.0),
    }
    np.save(folder / "dem.npy", scene.dem)
    paths["dem_npy"] = folder / "dem.npy"
    done.write_text(json.dumps({k: str(v) for k, v in paths.items()}))
    return paths


def markdown(rows: list[dict], columns: list[str]) -> str:
    out = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for r in rows:
        out.append("| " + " | ".join(str(r.get(c, "")) for c in columns) + " |")
    return "\n".join(out)
