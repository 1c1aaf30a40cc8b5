"""A monitoring run's rasters for map tiles: which file, checked to be the run's own.

The tiles themselves are cut by titiler.core (rio-tiler) from the run's Cloud-Optimized GeoTIFFs; this
module only answers *which* file a tile request may read, so a request can never name a path, and a folder
moved or overwritten by a later run is refused with the reason instead of drawing another run's map.
"""

from __future__ import annotations

import threading
from pathlib import Path

from ..core.csle import GRADE_CODES, GRADE_COLOURS, GRADE_NAMES_ZH
from ..errors import NotFoundError
from ..io.steps import sha256
from .monitoring_runs import get_run

PRODUCTS = {  # layer → the run's file and how to draw it
    "grade": "rasters/grade.tif",  # SL 190-2007 grade 1…6, 0 nodata
    "soil_loss": "rasters/soil_loss.tif",  # t/(km²·a), NaN nodata
}
_CHECKED: dict[tuple[str, int, int, str], bool] = {}  # (path, size, mtime_ns, digest) checked once
_LOCK = threading.Lock()


def grade_colormap() -> dict[int, tuple[int, int, int, int]]:
    """SL 190-2007 grades 1…6 (微度…剧烈) in the bulletin's colours; 0 (nodata) transparent."""
    out = {0: (0, 0, 0, 0)}
    for grade, hex_ in enumerate(GRADE_COLOURS, start=1):
        out[grade] = (int(hex_[1:3], 16), int(hex_[3:5], 16), int(hex_[5:7], 16), 255)
    return out


def grade_legend(lang: str = "zh") -> tuple[list[str], dict[int, str]]:
    """The grade layer's legend: colours of grades 1…6 and their names (Chinese, or English codes)."""
    names = GRADE_NAMES_ZH if lang == "zh" else {g: c.replace("_", " ") for g, c in GRADE_CODES.items()}
    return list(GRADE_COLOURS), dict(names)


def raster_path(db: str | None, run_ref: str, layer: str) -> str:
    """The file of ``layer`` of monitoring run ``run_ref`` (an id or ``latest``); NotFoundError when the run,
    the layer or the file is not there, or the file is no longer the one the run wrote."""
    if layer not in PRODUCTS:
        raise NotFoundError(f"layer {layer!r}: expected one of {', '.join(PRODUCTS)}")
    run = get_run(db, run_ref)
    rel = PRODUCTS[layer]
    path = Path(run["info"].output_dir) / rel
    if not path.is_file():
        raise NotFoundError(f"run {run['info'].id}: {path} no longer exists (the output folder was moved or "
                            "deleted)")
    digest = next((st["outputs"][rel] for st in run["provenance"].get("steps", {}).values()
                   if rel in st.get("outputs", {})), None)
    if digest is not None:
        st = path.stat()
        key = (str(path), st.st_size, st.st_mtime_ns, digest)
        with _LOCK:
            known = _CHECKED.get(key)
        if known is None:  # hash a file once per change, not once per tile
            known = sha256(path) == digest
            with _LOCK:
                _CHECKED[key] = known
        if not known:
            raise NotFoundError(f"run {run['info'].id}: {path} has been overwritten since (a later run wrote to "
                                "the same folder)")
    return str(path)
