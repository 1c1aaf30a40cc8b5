"""Uploads to a temporary folder, refused (413) above the configured size: ``settings.max_upload_mb``."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi import Request, UploadFile

from ..errors import AuthenticationError, ShuibaoError, N_, Text
from .deps import caller
from .errors import UploadTooLarge
from .i18n import request_language


def upload_limit(request: Request) -> int:
    """The largest upload in bytes (``SHUIBAO_MAX_UPLOAD_MB``)."""
    return int(request.app.state.settings.max_upload_mb * 2**20)


async def save_upload(upload: UploadFile, folder: Path, limit: int, *, what: str = "upload",
                      default_name: str = "upload") -> Path:
    """Copy ``upload`` into ``folder`` under its own base name (no directories; a name that is no file name —
    empty, ``..``, over 200 bytes — becomes ``default_name`` with its suffix); 413 when above ``limit`` bytes."""
    name = Path(upload.filename or "").name
    if name in ("", ".", "..") or len(name.encode()) > 200 or "\x00" in name:
        suffix = Path(name).suffix if name not in (".", "..") else ""
        name = default_name + (suffix if 0 < len(suffix) <= 16 else "")
    target = folder / name
    size = 0
    with open(target, "wb") as fh:
        while chunk := await upload.read(1 << 20):
            size += len(chunk)
            if size > limit:
                raise UploadTooLarge(N_("{what} {filename}: larger than {value1:.3g} MiB", what=what, filename=upload.filename, value1=limit / 2**20))
            fh.write(chunk)
    return target


@contextmanager
def upload_folder() -> Iterator[Path]:
    """A temporary folder for one request's uploads.  An error raised inside names each file by its upload
    name: the server's temporary path is cut from the message (and from a refused import's rows)."""
    with tempfile.TemporaryDirectory(prefix="shuibao-upload-") as tmp:
        try:
            yield Path(tmp)
        except ShuibaoError as exc:
            hide_folder(exc, Path(tmp))
            raise


def hide_folder(exc: ShuibaoError, folder: Path) -> None:
    """Cut ``folder`` (and its resolved form) from the error's message, rows and issues, in place."""
    prefixes = sorted({str(folder), str(folder.resolve())}, key=len, reverse=True)

    def cut(text):
        if not isinstance(text, str):
            return text
        for prefix in prefixes:
            text = text.replace(prefix + "/a/", "").replace(prefix + "/", "").replace(prefix, "the upload")
        return text

    from shuibao.errors import as_text  # a Message: the cut applies to each of its plain values

    exc.args = tuple(as_text(a, cut) for a in exc.args)
    if getattr(exc, "issues", None):  # a validator's problems, answered as items: the same cut
        from shuibao.errors import Issue

        exc.issues = tuple(Issue(cut(i.where), cut(i.field), as_text(i.message, cut))  # type: ignore[arg-type]
                           for i in exc.issues)
    for row in getattr(exc, "rows", None) or []:
        if isinstance(row, dict):
            for key, value in row.items():
                row[key] = as_text(value, cut)


FORM_OVERHEAD = 64 * 1024  # multipart boundaries and the other form fields beside the file
ANONYMOUS_POSTS = frozenset({"/api/login", "/api/logout"})  # the only writes without a caller


class UploadGuard:
    """ASGI middleware for request bodies: the declared size of every POST is checked *before* the body is read,
    and a body is counted as it arrives (413 beyond ``SHUIBAO_MAX_UPLOAD_MB``); every POST but the login and
    logout also needs a caller first (401).  FastAPI parses a body (a multipart form, a 60 MiB JSON) before the
    route's dependencies run, so without this an anonymous client could make the server spool or parse it."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "POST":
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        request = Request(scope)
        limit = upload_limit(request) + FORM_OVERHEAD
        try:
            declared = int(headers.get(b"content-length", b"-1"))
        except ValueError:
            declared = -1
        if declared > limit:
            return await _refuse(send, 413, N_("upload of {size:.3g} MiB: larger than {limit:.3g} MiB",
                                               size=declared / 2**20, limit=(limit - FORM_OVERHEAD) / 2**20),
                                 lang=request_language(request))
        if scope["path"] not in ANONYMOUS_POSTS:
            try:
                caller(request)  # cached; a store read on a miss
            except AuthenticationError as exc:
                return await _refuse(send, 401, exc.message, {b"www-authenticate": b'Bearer realm="shuibao"'},
                                     lang=request_language(request))
        received = 0
        too_large = N_("request body: larger than {limit:.3g} MiB", limit=(limit - FORM_OVERHEAD) / 2**20)
        lang = request_language(request)

        async def counted():
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise UploadTooLarge(too_large)  # stops the reading; the answer is rewritten below
            return message

        async def answered(message):
            if received <= limit:
                return await send(message)
            if message["type"] == "http.response.start":  # whatever the route made of the cut body: 413
                await _refuse(send, 413, too_large, lang=lang)

        await self.app(scope, counted, answered)


async def _refuse(send, status: int, detail: Text | str, headers: dict | None = None, *, lang: str = "en") -> None:
    import json

    answer = {"detail": detail.render(lang) if isinstance(detail, Text) else detail}
    if lang != "en" and isinstance(detail, Text):
        answer["detail_en"] = str(detail)
    body = json.dumps(answer, ensure_ascii=False).encode()
    extra = list((headers or {}).items())
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            *extra]})
    await send({"type": "http.response.body", "body": body})
