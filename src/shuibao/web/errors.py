"""One table from the platform's exceptions to HTTP statuses; every error body is ``{"detail": "…"}`` (a refused
import adds ``"rows"``: each refused row with all its reasons; any other validator's error adds ``"issues"``: each
problem as ``{"where", "field", "message"}``).  Messages are in the request's language (:func:`..i18n.request_language`:
?lang, cookie, Accept-Language, SHUIBAO_LANGUAGE); a Chinese answer adds ``"detail_en"``, the English line."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import (
    N_, AuthenticationError, ConflictError, DataError, DiskFullError, InputError, Message, NotFoundError,
    PermissionDeniedError, RateLimitedError, SchemaVersionError, ShuibaoError, StoreError, Text, as_text,
)
from .i18n import request_language

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


def _without_database(request: Request, exc: ShuibaoError) -> object:
    """The message with the database's path or URL replaced by "the database" (review L2: a 503 named the
    server's .gpkg path)."""
    message = exc.args[0] if exc.args and isinstance(exc.args[0], Text) else str(exc)
    if isinstance(exc, StoreError):
        from shuibao.services.platform.database import locations

        try:
            wheres = locations(request.app.state.settings.db)
        except ShuibaoError:  # an unusable target: its message is already the error
            wheres = []

        def cut(text: str) -> str:
            for where in wheres:
                text = text.replace(where, "the database")
            return text

        message = as_text(message, cut)
        if isinstance(message, Text) and any(w in str(message) for w in wheres):  # the path inside a template
            message = cut(str(message))
    return message


def _say(message: object, lang: str) -> str:
    return message.render(lang) if isinstance(message, Text) else str(message)


def _body(message: object, lang: str) -> dict:
    body = {"detail": _say(message, lang)}
    if lang != "en" and isinstance(message, Text):
        body["detail_en"] = str(message)
    return body


# pydantic's request validation errors (422) by their ``type``: the Chinese rendering's English template
# (its fields are the error's ``ctx``); a type not listed keeps pydantic's English ``msg``
VALIDATION: dict[str, Message] = {
    "missing": N_("Field required"),
    "int_parsing": N_("Input should be a valid integer, unable to parse string as an integer"),
    "int_type": N_("Input should be a valid integer"),
    "int_from_float": N_("Input should be a valid integer, got a number with a fractional part"),
    "float_parsing": N_("Input should be a valid number, unable to parse string as a number"),
    "float_type": N_("Input should be a valid number"),
    "bool_parsing": N_("Input should be a valid boolean, unable to interpret input"),
    "string_type": N_("Input should be a valid string"),
    "string_too_short": N_("String should have at least {min_length} characters"),
    "string_too_long": N_("String should have at most {max_length} characters"),
    "string_pattern_mismatch": N_("String should match pattern '{pattern}'"),
    "greater_than": N_("Input should be greater than {gt}"),
    "greater_than_equal": N_("Input should be greater than or equal to {ge}"),
    "less_than": N_("Input should be less than {lt}"),
    "less_than_equal": N_("Input should be less than or equal to {le}"),
    "enum": N_("Input should be {expected}"),
    "literal_error": N_("Input should be {expected}"),
    "date_parsing": N_("Input should be a valid date in the format YYYY-MM-DD, {error}"),
    "date_from_datetime_parsing": N_("Input should be a valid date or datetime, {error}"),
    "json_invalid": N_("JSON decode error"),
    "dict_type": N_("Input should be a valid dictionary"),
    "model_attributes_type": N_("Input should be a valid dictionary or object to extract fields from"),
    "list_type": N_("Input should be a valid list"),
    "value_error": N_("Value error, {error}"),
    "extra_forbidden": N_("Extra inputs are not permitted"),
}
HTTP_DETAILS: dict[str, Message] = {  # starlette's own answers (an unknown path, a wrong method)
    "Not Found": N_("Not Found"),
    "Method Not Allowed": N_("Method Not Allowed"),
}


def validation_message(error: dict, lang: str) -> str:
    """One pydantic error's ``msg`` in ``lang`` (pydantic's own English when the type is not listed)."""
    template = VALIDATION.get(error.get("type", ""))
    if template is None or lang == "en":
        return error.get("msg", "")
    fields = {k: v for k, v in (error.get("ctx") or {}).items()}
    try:
        return Message(template.template, tuple(fields.items())).render(lang)
    except (KeyError, IndexError, ValueError):
        return error.get("msg", "")


API_PREFIXES = ("/api", "/ogc", "/tiles")  # machine clients: their errors stay JSON whatever they accept


def wants_page(request: Request) -> bool:
    """A browser asking for a page (Accept names text/html) outside the API: answered with an HTML error page."""
    path = request.url.path
    if any(path == p or path.startswith(p + "/") for p in API_PREFIXES):
        return False
    return "text/html" in request.headers.get("accept", "")


OUTSIDE = N_("the point lies outside the run's raster (no value there)")


def install(app: FastAPI) -> None:
    async def handler(request: Request, exc: ShuibaoError) -> JSONResponse:
        code = status_of(exc)
        headers = {"WWW-Authenticate": 'Bearer realm="shuibao"'} if code == 401 else None
        if code == 429:
            headers = {"Retry-After": str(exc.retry_after)}
        lang = request_language(request)
        body = _body(_without_database(request, exc), lang)
        if getattr(exc, "rows", None):  # a refused import: every refused row with all its reasons
            body["rows"] = jsonable_encoder(exc.rows, custom_encoder={Text: lambda t: _say(t, lang)})
        elif getattr(exc, "issues", None):  # a validator's problems (shuibao.errors.Issue), each as an item
            body["issues"] = [{"where": i.where, "field": i.field, "message": _say(i.message, lang)}
                              for i in exc.issues]
        return JSONResponse(body, status_code=code, headers=headers)

    app.add_exception_handler(ShuibaoError, handler)

    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        lang = request_language(request)
        errors = jsonable_encoder(exc.errors())
        for error in errors:
            if isinstance(error, dict):
                error["msg"] = validation_message(error, lang)
        return JSONResponse({"detail": errors}, status_code=422)

    app.add_exception_handler(RequestValidationError, invalid_request)

    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code in (404, 405) and wants_page(request):  # a person's browser: the 404 page, not JSON
            from .routers.ui import not_found_page

            message = (N_("There is no page at {path}.", path=request.url.path) if exc.status_code == 404 else
                       N_("This page does not answer {method} requests.", method=request.method))
            return not_found_page(request, message, status_code=exc.status_code,
                                  headers=getattr(exc, "headers", None))
        detail = exc.detail
        message = HTTP_DETAILS.get(detail) if isinstance(detail, str) else None
        body = _body(message, request_language(request)) if message else {"detail": detail}
        return JSONResponse(body, status_code=exc.status_code, headers=getattr(exc, "headers", None))

    app.add_exception_handler(StarletteHTTPException, http_error)

    from morecantile import errors as grid
    from rio_tiler import errors as tile  # the tile routes' own errors: a tile off the raster is 404, not 500

    off_the_map = (tile.TileOutsideBounds, tile.PointOutsideBounds, grid.PointOutsideTMSBounds,
                   tile.InvalidBandName)

    async def tile_handler(request: Request, exc: Exception) -> JSONResponse:
        code = 404 if isinstance(exc, off_the_map) else 422
        if isinstance(exc, (tile.PointOutsideBounds, grid.PointOutsideTMSBounds)):
            return JSONResponse(_body(OUTSIDE, request_language(request)), status_code=code)
        return JSONResponse({"detail": str(exc) or type(exc).__name__}, status_code=code)

    for kind in (*off_the_map, tile.MissingBands, tile.InvalidColorFormat, tile.InvalidExpression,
                 tile.InvalidFormat, tile.InvalidBufferSize, tile.MaxArraySizeError, tile.InvalidBounds,
                 tile.InvalidPointDataError, grid.MorecantileError):
        app.add_exception_handler(kind, tile_handler)

    from rasterio._err import CPLE_BaseError

    async def gdal_error(request: Request, exc: Exception) -> JSONResponse:
        if request.url.path.startswith("/tiles/point/"):  # e.g. "Point outside of projection domain"
            return JSONResponse(_body(OUTSIDE, request_language(request)), status_code=404)
        return await unexpected(request, exc)

    app.add_exception_handler(CPLE_BaseError, gdal_error)

    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        # the last resort: the cause goes to the server's log (with the request id), never to the client
        log.error("unhandled %s on %s %s (request %s)", type(exc).__name__, request.method, request.url.path,
                  request.headers.get("x-request-id", "-"), exc_info=exc)
        return JSONResponse(_body(N_("the server could not answer this request; the error is logged"),
                                  request_language(request)), status_code=500)

    app.add_exception_handler(Exception, unexpected)
