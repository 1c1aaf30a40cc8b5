"""One table from the platform's exceptions to HTTP statuses; every error body is ``{"detail": "…"}`` (a refused
import adds ``"rows"``: each refused row with all its reasons; any other validator's error adds ``"issues"``: each
problem as ``{"where", "field", "message"}``)."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from ..errors import (
    AuthenticationError, ConflictError, DataError, DiskFullError, InputError, NotFoundError, PermissionDeniedError,
    RateLimitedError, SchemaVersionError, ShuibaoError, StoreError,
)

log = logging.getLogger("shuibao.web")


class UploadTooLarge(InputError):
    """An upload above the configured size."""


STATUS: tuple[tuple[type[Exception], int], ...] = (  # first match wins: subclasses before their bases
    (RateLimitedError, 429),
    (AuthenticationError, 401),
    (PermissionDeniedError, 403),
    (NotFoundError, 404),
    (UploadTooLarge, 413),
    (InputError, 422),
    (ConflictError, 409),
    (SchemaVersionError, 503),
    (StoreError, 503),
    (DiskFullError, 503),
    (DataError, 500),
    (ShuibaoError, 500),
)


def status_of(exc: Exception) -> int:
    return next(code for kind, code in STATUS if isinstance(exc, kind))


def _without_database(request: Request, exc: ShuibaoError) -> str:
    """The message with the database's path or URL replaced by "the database" (review L2: a 503 named the
    server's .gpkg path)."""
    text = str(exc)
    if isinstance(exc, StoreError):
        from shuibao.services.platform.database import locations

        try:
            for where in locations(request.app.state.settings.db):
                text = text.replace(where, "the database")
        except ShuibaoError:  # an unusable target: its message is already the error
            pass
    return text


def install(app: FastAPI) -> None:
    async def handler(request: Request, exc: ShuibaoError) -> JSONResponse:
        code = status_of(exc)
        headers = {"WWW-Authenticate": 'Bearer realm="shuibao"'} if code == 401 else None
        if code == 429:
            headers = {"Retry-After": str(exc.retry_after)}
        body = {"detail": _without_database(request, exc)}
        if getattr(exc, "rows", None):  # a refused import: every refused row with all its reasons
            body["rows"] = exc.rows
        elif getattr(exc, "issues", None):  # a validator's problems (shuibao.errors.Issue), each as an item
            body["issues"] = [{"where": i.where, "field": i.field, "message": i.message} for i in exc.issues]
        return JSONResponse(body, status_code=code, headers=headers)

    app.add_exception_handler(ShuibaoError, handler)

    from morecantile import errors as grid
    from rio_tiler import errors as tile  # the tile routes' own errors: a tile off the raster is 404, not 500

    off_the_map = (tile.TileOutsideBounds, tile.PointOutsideBounds, grid.PointOutsideTMSBounds,
                   tile.InvalidBandName)

    async def tile_handler(request: Request, exc: Exception) -> JSONResponse:
        code = 404 if isinstance(exc, off_the_map) else 422
        detail = str(exc) or type(exc).__name__
        if isinstance(exc, (tile.PointOutsideBounds, grid.PointOutsideTMSBounds)):
            detail = "the point lies outside the run's raster (no value there)"
        return JSONResponse({"detail": detail}, status_code=code)

    for kind in (*off_the_map, tile.MissingBands, tile.InvalidColorFormat, tile.InvalidExpression,
                 tile.InvalidFormat, tile.InvalidBufferSize, tile.MaxArraySizeError, tile.InvalidBounds,
                 tile.InvalidPointDataError, grid.MorecantileError):
        app.add_exception_handler(kind, tile_handler)

    from rasterio._err import CPLE_BaseError

    async def gdal_error(request: Request, exc: Exception) -> JSONResponse:
        if request.url.path.startswith("/tiles/point/"):  # e.g. "Point outside of projection domain"
            return JSONResponse({"detail": "the point lies outside the run's raster (no value there)"},
                                status_code=404)
        return await unexpected(request, exc)

    app.add_exception_handler(CPLE_BaseError, gdal_error)

    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        # the last resort: the cause goes to the server's log (with the request id), never to the client
        log.error("unhandled %s on %s %s (request %s)", type(exc).__name__, request.method, request.url.path,
                  request.headers.get("x-request-id", "-"), exc_info=exc)
        return JSONResponse({"detail": "the server could not answer this request; the error is logged"},
                            status_code=500)

    app.add_exception_handler(Exception, unexpected)
