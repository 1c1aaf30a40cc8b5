"""One table from the platform's exceptions to HTTP statuses; every error body is ``{"detail": "…"}`` (a refused
import adds ``"rows"``: each refused row with all its reasons)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from ..errors import (
    AuthenticationError, ConflictError, DataError, InputError, NotFoundError, PermissionDeniedError, RateLimitedError,
    SchemaVersionError, ShuibaoError, StoreError,
)


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
    (DataError, 500),
    (ShuibaoError, 500),
)


def status_of(exc: Exception) -> int:
    return next(code for kind, code in STATUS if isinstance(exc, kind))


def install(app: FastAPI) -> None:
    async def handler(request: Request, exc: ShuibaoError) -> JSONResponse:
        code = status_of(exc)
        headers = {"WWW-Authenticate": 'Bearer realm="shuibao"'} if code == 401 else None
        if code == 429:
            headers = {"Retry-After": str(exc.retry_after)}
        body = {"detail": str(exc)}
        if getattr(exc, "rows", None):  # a refused import: every refused row with all its reasons
            body["rows"] = exc.rows
        return JSONResponse(body, status_code=code, headers=headers)

    app.add_exception_handler(ShuibaoError, handler)

    from rio_tiler import errors as tile  # the tile routes' own errors: a tile off the raster is 404, not 500

    async def tile_handler(request: Request, exc: Exception) -> JSONResponse:
        code = 404 if isinstance(exc, (tile.TileOutsideBounds, tile.InvalidBandName)) else 422
        return JSONResponse({"detail": str(exc)}, status_code=code)

    for kind in (tile.TileOutsideBounds, tile.InvalidBandName, tile.MissingBands, tile.InvalidColorFormat,
                 tile.InvalidExpression, tile.InvalidFormat):
        app.add_exception_handler(kind, tile_handler)
