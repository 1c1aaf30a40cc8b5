"""A monitoring run's rasters for map tiles: which file, checked to be the run's own.

The tiles themselves are cut by titiler.core (rio-tiler) from the run's Cloud-Optimized GeoTIFFs; this
module only answers *which* file a tile request may read, so a request can never name a path, and a folder
moved or overwritten by a later run is refused with the reason instead of drawing another run's map.
"""

from __future__ import annotations

from shuibao.core.csle import GRADE_CODES, GRADE_COLOURS, GRADE_NAMES_ZH
from shuibao.errors import NotFoundError, N_
from shuibao.io import styles
from shuibao.plan.map_classes import GAP_CLASSES, RATE_CLASSES
from shuibao.services.monitoring.runs import check_run_file, get_run, run_file_path

PRODUCTS = {  # layer → the run's file and how to draw it
    "grade": "rasters/grade.tif",  # SL 190-2007 grade 1…6, 0 nodata
    "soil_loss": "rasters/soil_loss.tif",  # t/(km²·a), NaN nodata
}


grade_colormap = styles.grade_colormap  # the web tiles' colour map: one definition, in io.styles


def grade_legend(lang: str = "zh") -> tuple[list[str], dict[int, str]]:
    """The grade layer's legend: colours of grades 1…6 and their names (Chinese, or English codes)."""
    names = GRADE_NAMES_ZH if lang == "zh" else {g: c.replace("_", " ") for g, c in GRADE_CODES.items()}
    return list(GRADE_COLOURS), dict(names)


def district_classes(lang: str = "zh") -> dict[str, dict]:
    """The district map's colour classes (rate, gap to target) as the web map reads them: the same
    :mod:`shuibao.plan.map_classes` objects the bulletin's maps are drawn with."""
    return {"rate": RATE_CLASSES.as_json(lang), "gap": GAP_CLASSES.as_json(lang)}


def raster_path(db: str | None, run_ref: str, layer: str) -> str:
    """The file of ``layer`` of monitoring run ``run_ref`` (an id or ``latest``); NotFoundError when the run,
    the layer or the file is not there, or the file is no longer the one the run wrote."""
    if layer not in PRODUCTS:
        raise NotFoundError(N_("layer {layer!r}: expected one of {PRODUCTS}", layer=layer, PRODUCTS=', '.join(PRODUCTS)))
    run = get_run(db, run_ref, tables=False)  # a tile needs the run's folder and digests, not its tables
    why = check_run_file(run, PRODUCTS[layer])
    if why is not None:
        raise NotFoundError(why)
    return str(run_file_path(run, PRODUCTS[layer]))
