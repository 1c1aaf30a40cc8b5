"""Map tiles of a monitoring run's rasters, cut by titiler.core from the run's Cloud-Optimized GeoTIFFs.

``/tiles/tiles/WebMercatorQuad/{z}/{x}/{y}.png?run=latest&layer=grade&colormap_name=sl190_grade`` draws
the SL 190-2007 grades (微度…剧烈) in the bulletin's colours; ``/tiles/info``, ``/tiles/tilejson.json``,
``/tiles/point/{lon},{lat}`` and ``/tiles/statistics`` come with titiler.  A request names a run and a layer,
never a file: :func:`shuibao.services.monitoring.run_rasters.raster_path` picks the file and checks it is the run's own.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

from fastapi import Depends, Query, Request
from rio_tiler.colormap import cmap as rio_colormaps
from titiler.core.dependencies import create_colormap_dependency
from titiler.core.factory import TilerFactory

from ...errors import InputError, N_
from shuibao.services.monitoring import run_rasters
from ..deps import principal

GRADE_COLORMAP = "sl190_grade"
COLORMAPS = rio_colormaps.register({GRADE_COLORMAP: run_rasters.grade_colormap()})


def run_raster(request: Request,
               run: Annotated[str, Query(description="Monitoring run id, or 'latest'")] = "latest",
               layer: Annotated[Literal[tuple(run_rasters.PRODUCTS)], Query(  # type: ignore[valid-type]
                   description="grade: SL 190-2007 grade 1–6 (0 nodata); soil_loss: t/(km²·a)")] = "grade") -> str:
    return run_rasters.raster_path(request.app.state.settings.db, run, layer)


SIZE_CAPS = {"tilesize": 1024, "max_size": 2048, "width": 2048, "height": 2048}  # pixels
# titiler bounds these below only: histogram_bins=20,000,000 answered 284 MB in 22 s, buffer=3000 took 5 s a tile.
# A histogram of the six SL 190 grades or of soil loss needs tens of bins; 1024 is the largest colour ramp a
# client draws.  A buffer/padding of 64 pixels is a quarter of a 256-pixel tile — more than any resampling
# kernel needs at a tile edge (cubic uses 2, lanczos 3).
NUMBER_CAPS = {"histogram_bins": 1024, "buffer": 64, "padding": 64}


def bounded_sizes(request: Request) -> None:
    """Refuse (422) sizes that would make one request allocate gigabytes or take seconds."""
    q = request.query_params
    for name, cap in SIZE_CAPS.items():
        value = q.get(name)
        if value is not None and value.lstrip("-").isdigit() and int(value) > cap:
            raise InputError(N_("{name}={value}: at most {cap} pixels", name=name, value=value, cap=cap))
    for name, cap in NUMBER_CAPS.items():
        value = q.get(name)
        if value is None:
            continue
        parts = value.split(",")
        try:
            numbers = [float(p) for p in parts]
        except ValueError:
            raise InputError(N_("{name}={value1}: expected a number", name=name, value1=value[:40])) from None
        # histogram_bins may also list the bin edges: count them
        size = len(numbers) if len(numbers) > 1 else numbers[0]
        if not all(math.isfinite(n) for n in numbers) or not 0 <= size <= cap:
            raise InputError(N_("{name}={value1}: expected 0–{cap}", name=name, value1=value[:40], cap=cap))


def finite_point(request: Request) -> None:
    """A clicked point is a longitude and latitude (422 for ``nan``, ``inf``, ``1e309`` or a point off the globe)."""
    p = request.path_params
    if "lon" not in p or "lat" not in p:
        return
    try:
        lon, lat = float(p["lon"]), float(p["lat"])
    except ValueError:
        raise InputError(N_("point {lon},{lat}: expected longitude,latitude in degrees", lon=p['lon'], lat=p['lat'])) from None
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        raise InputError(N_("point {lon},{lat}: expected a longitude in −180…180 and a latitude in −90…90", lon=p['lon'], lat=p['lat']))


MAX_ZOOM = 24  # WebMercatorQuad's deepest level in morecantile: ~1 cm pixels, far below any run's cell


def tile_on_the_grid(request: Request) -> None:
    """z/x/y name a tile of the grid: 0 ≤ z ≤ 24 and 0 ≤ x, y < 2^z (422 otherwise, not an overflow)."""
    p = request.path_params
    if "z" not in p:
        return
    try:
        z, x, y = int(p["z"]), int(p.get("x", 0)), int(p.get("y", 0))
    except ValueError:
        raise InputError(N_("tile {z}/{x}/{y}: expected whole numbers", z=p.get('z'), x=p.get('x'),
                                            y=p.get('y'))) from None
    if not 0 <= z <= MAX_ZOOM:
        raise InputError(N_("zoom {z}: expected 0–{MAX_ZOOM}", z=z, MAX_ZOOM=MAX_ZOOM))
    if not (0 <= x < 2**z and 0 <= y < 2**z):
        raise InputError(N_("tile {z}/{x}/{y}: x and y lie in 0–{value1} at zoom {z}", z=z, x=x, y=y, value1=2**z - 1))


def make_router():
    """The tile routes; every one needs a caller (a map's tile requests carry the session cookie)."""
    factory = TilerFactory(path_dependency=run_raster, colormap_dependency=create_colormap_dependency(COLORMAPS),
                           router_prefix="/tiles", add_viewer=False, add_preview=False, add_part=False)
    return factory.router, [Depends(principal), Depends(bounded_sizes), Depends(finite_point),
                            Depends(tile_on_the_grid)]
