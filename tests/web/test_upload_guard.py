"""Request bodies are refused before they are read: a declared size over the limit is 413, an anonymous
multipart upload 401, and a body without a declared size is cut off at the limit — the server never reads
(let alone spools) what it will refuse.  Upload names that are no file names are saved under a safe one."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from starlette.datastructures import Headers, UploadFile

from shuibao.services.platform import auth
from shuibao.services.platform.database import init
from shuibao.web import Settings, create_app
from shuibao.web.uploads import save_upload


@pytest.fixture
def app(tmp_path):
    db = str(tmp_path / "guard.gpkg")
    init(db, boundaries=False)
    auth.create_user(db, "admin", "river-lantern-4127", "city_admin")
    return create_app(Settings(db=db, max_upload_mb=1, preload=False)), db


def _post(app, path: str, headers: dict, chunks: list[bytes]) -> tuple[int, int, bytes]:
    """Drive the ASGI app directly: (status, how many body chunks it asked for, response body)."""
    asked, sent, out = [0], list(chunks), {}

    async def receive():
        asked[0] += 1
        body = sent.pop(0) if sent else b""
        return {"type": "http.request", "body": body, "more_body": bool(sent)}

    async def send(message):
        if message["type"] == "http.response.start":
            out["status"] = message["status"]
        elif message["type"] == "http.response.body":
            out["body"] = out.get("body", b"") + message.get("body", b"")

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
             "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80)}
    asyncio.run(app(scope, receive, send))
    return out["status"], asked[0], out.get("body", b"")


def test_a_declared_size_over_the_limit_is_refused_unread(app):
    application, _ = app
    status, asked, body = _post(application, "/api/projects/import",
                                {"content-type": "multipart/form-data; boundary=x", "content-length": str(50 * 2**20)},
                                [b"x" * 1024] * 4)
    assert status == 413 and asked == 0 and b"MiB" in body


def test_an_anonymous_upload_is_refused_unread(app):
    application, _ = app
    status, asked, body = _post(application, "/api/stations/import",
                                {"content-type": "multipart/form-data; boundary=x", "content-length": "2048"},
                                [b"x" * 2048])
    assert status == 401 and asked == 0 and b"log in" in body


def test_a_body_without_a_length_is_cut_off_at_the_limit(app):
    application, _ = app
    chunk = b"x" * 2**18  # 256 KiB per chunk, 40 of them = 10 MiB against a 1 MiB limit
    status, asked, _ = _post(application, "/api/login", {"content-type": "application/json"}, [chunk] * 40)
    assert status == 413 and asked <= 6


def test_upload_names_that_are_no_file_names_are_saved_under_a_safe_one(tmp_path):
    async def save(name: str) -> Path:
        import io

        up = UploadFile(io.BytesIO(b"a,b\n1,2\n"), filename=name, headers=Headers({}))
        folder = tmp_path / str(abs(hash(name)))
        folder.mkdir()
        return await save_upload(up, folder, 1000, default_name="upload")

    assert asyncio.run(save("..")).name == "upload"
    assert asyncio.run(save("../../etc/passwd")).name == "passwd"
    assert asyncio.run(save("a" * 300 + ".csv")).name == "upload.csv"
    assert asyncio.run(save("站点.csv")).name == "站点.csv"
    assert asyncio.run(save("../../x/y.gpkg")).parent.parent == tmp_path
