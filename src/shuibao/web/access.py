"""Every request gets an id (``X-Request-ID``: the client's when it is a short safe token, else a new one; sent back
in the response), its client address (the socket peer, or ``X-Forwarded-For`` when the peer is a trusted proxy)
and a line in the access log (logger ``shuibao.access``).  The id, address and user agent go into a context
variable that :func:`shuibao.services.platform.auth.audit` reads, so every audit row of the request carries them; FastAPI
runs sync routes in a thread pool that copies the context, so they see it too."""

from __future__ import annotations

import ipaddress
import logging
import re
import secrets
import time
from urllib.parse import parse_qsl, quote

from shuibao.services.platform import auth
from .settings import Settings

log = logging.getLogger("shuibao.access")
SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")  # a client's id is kept only if it cannot forge a log line
SECRET_PARAMS = {"api_key", "token", "password", "access_token"}  # their values never reach the log


def client_address(scope, trusted: tuple) -> str | None:
    """The socket peer; behind a trusted proxy the right-most X-Forwarded-For address that is not a proxy."""
    peer = (scope.get("client") or (None,))[0]
    if not trusted or not _is_trusted(peer, trusted):
        return peer
    forwarded = b",".join(v for k, v in scope.get("headers", ()) if k == b"x-forwarded-for").decode("latin-1")
    for hop in reversed([h.strip() for h in forwarded.split(",") if h.strip()]):
        if not _is_trusted(hop, trusted):
            return hop if _is_address(hop) else peer
    return peer


def _is_address(text) -> bool:
    try:
        ipaddress.ip_address(text)
    except (TypeError, ValueError):
        return False
    return True


def _is_trusted(address, trusted: tuple) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except (TypeError, ValueError):
        return False
    return any(ip in net for net in trusted)


def logged_path(scope) -> str:
    """The path with its query, secret parameters' values replaced by ``***``."""
    path = scope.get("path", "")
    query = scope.get("query_string", b"").decode("latin-1")
    if not query:
        return path
    pairs = [(k, "***" if k.lower() in SECRET_PARAMS else v) for k, v in parse_qsl(query, keep_blank_values=True)]
    return path + "?" + "&".join(f"{quote(k, safe='')}={quote(v, safe='*')}" for k, v in pairs)


class RequestLog:
    """ASGI middleware: request id, client address and user agent for the audit, and the access log line."""

    def __init__(self, app, settings: Settings) -> None:
        self.app = app
        self.trusted = settings.proxies()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers", ()))
        asked = headers.get(b"x-request-id", b"").decode("latin-1")
        rid = asked if SAFE_ID.match(asked) else secrets.token_hex(8)
        ctx = auth.RequestContext(rid, client_address(scope, self.trusted),
                                  headers.get(b"user-agent", b"").decode("latin-1")[:auth.USER_AGENT_CHARS] or None)
        token = auth.REQUEST.set(ctx)
        started, status = time.perf_counter(), [500]

        async def sending(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                message["headers"] = [*message.get("headers", ()), (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            auth.REQUEST.reset(token)
            log.info('%s "%s %s" %d %.1fms rid=%s user=%s', ctx.client_address or "-", scope.get("method"),
                     logged_path(scope), status[0], (time.perf_counter() - started) * 1000, rid, ctx.user or "-")


def access_log_config() -> dict:
    """uvicorn's logging configuration plus the access log on standard error (uvicorn's own access log off)."""
    import copy

    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["shuibao_access"] = {"format": "%(asctime)s %(message)s"}
    config["handlers"]["shuibao_access"] = {"class": "logging.StreamHandler", "formatter": "shuibao_access",
                                            "stream": "ext://sys.stderr"}
    config["loggers"]["shuibao.access"] = {"handlers": ["shuibao_access"], "level": "INFO", "propagate": False}
    return config
