"""Who is calling: a session cookie, a bearer token, or an API key (header ``X-API-Key`` or ``?api_key=``)."""

from __future__ import annotations

import threading
import time

from fastapi import Request

from ..errors import AuthenticationError
from ..services import auth

COOKIE = "shuibao_session"
CACHE_SECONDS = 10.0  # a logout or a revoked key takes effect within this time on other workers
_CACHE: dict[tuple[str, str, str], tuple[float, auth.Principal]] = {}
_LOCK = threading.Lock()


def _cached(db: str, kind: str, secret: str, resolve) -> auth.Principal:
    """Resolve a token or key at most every CACHE_SECONDS per worker (a map pans with dozens of requests)."""
    key = (db, kind, secret)
    now = time.monotonic()
    with _LOCK:
        hit = _CACHE.get(key)
    if hit and now - hit[0] < CACHE_SECONDS:
        return hit[1]
    who = resolve(db, secret)
    with _LOCK:
        if len(_CACHE) > 10_000:
            _CACHE.clear()
        _CACHE[key] = (now, who)
    return who


def forget(db: str, token: str) -> None:
    """Drop a session from this worker's cache (logout)."""
    with _LOCK:
        _CACHE.pop((db, "session", token), None)


async def principal(request: Request) -> auth.Principal:
    """The caller, or 401 (async: a cached token costs no thread hop; a miss reads the store briefly)."""
    return caller(request)


def caller(request: Request) -> auth.Principal:
    """The caller, or 401."""
    db = request.app.state.settings.db
    key = request.headers.get("x-api-key") or request.query_params.get("api_key")
    if key:
        return _cached(db, "key", key, auth.resolve_api_key)
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else request.cookies.get(COOKIE)
    if not token:
        raise AuthenticationError("log in first (POST /api/login), or send an API key")
    return _cached(db, "session", token, auth.resolve_session)


def db(request: Request) -> str:
    return request.app.state.settings.db
