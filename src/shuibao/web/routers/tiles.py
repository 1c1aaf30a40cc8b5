"""Map tiles of a monitoring run's rasters, cut by titiler.core from the run's Cloud-Optimized GeoTIFFs.

``/tiles/tiles/WebMercatorQuad/{z}/{x}/{y}.png?run=latest&layer=grade&colormap_name=sl190_grade`` draws
the SL 190-2007 grades (微度…剧烈) in the bulletin's colours; ``/tiles/info``, ``/tiles/tilejson.json``,
``/tiles/point/{lon},{lat}`` and ``/tiles/statistics`` come with titiler.  A request names a run and a layer,
never a file: :func:`shuibao.services.run_rasters.raster_path` picks the file and checks it is the run's own.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Depends, Query, Request
from rio_tiler.colormap import cmap as rio_colormaps
from titiler.core.dependencies import create_colormap_dependency
from titiler.core.factory import TilerFactory

from ...errors import InputError
from ...services import run_rasters
from ..deps import principal

GRADE_COLORMAP = "sl190_grade"
COLORMAPS = rio_colormaps.register({GRADE_COLORMAP: run_rasters.grade_colormap()})


def run_raster(request: Request,
               run: Annotated[str, Query(description="Monitoring run id, or 'latest'")] = "latest",
               layer: Annotated[Literal[tuple(run_rasters.PRODUCTS)], Query(  # type: ignore[valid-type]
                   description="grade: SL 190-2007 grade 1–6 (0 nodata); soil_loss: t/(km²·a)")] = "grade") -> str:
    return run_rasters.raster_path(request.app.state.settings.db, run, layer)


SIZE_CAPS = {"tilesize": 1024, "max_size": 2048, "width": 2048, "height": 2048}  # pixels


def bounded_sizes(request: Request) -> None:
    """Refuse (422) image sizes that would make one request allocate gigabytes (titiler bounds them below only)."""
    for name, cap in SIZE_CAPS.items():
        value = request.query_params.get(name)
        if value is not None and value.lstrip("-").isdigit() and int(value) > cap:
            raise InputError(f"{name}={value}: at most {cap} pixels")


def make_router():
    """The tile routes; every one needs a caller (a map's tile requests carry the session cookie)."""
    factory = TilerFactory(path_dependency=run_raster, colormap_dependency=create_colormap_dependency(COLORMAPS),
                           router_prefix="/tiles", add_viewer=False, add_preview=False, add_part=False)
    return factory.router, [Depends(principal), Depends(bounded_sizes)]
