"""Who is calling: a session cookie, a bearer token, or an API key (header ``X-API-Key`` or ``?api_key=``)."""

from __future__ import annotations

from fastapi import Request

from ..errors import AuthenticationError
from ..services import auth

COOKIE = "shuibao_session"


def principal(request: Request) -> auth.Principal:
    """The caller, or 401."""
    db = request.app.state.settings.db
    key = request.headers.get("x-api-key") or request.query_params.get("api_key")
    if key:
        return auth.resolve_api_key(db, key)
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else request.cookies.get(COOKIE)
    if not token:
        raise AuthenticationError("log in first (POST /api/login), or send an API key")
    return auth.resolve_session(db, token)


def db(request: Request) -> str:
    return request.app.state.settings.db
