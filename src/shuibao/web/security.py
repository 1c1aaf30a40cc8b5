"""Browser-side protection of the web platform: cross-site request forgery and the security headers.

**CSRF** (跨站请求伪造).  A write (POST, PUT, PATCH, DELETE) is refused (403) when

* the browser says it comes from another site or another origin of this site: ``Sec-Fetch-Site`` is
  ``cross-site`` or ``same-site`` (a page on another port or a sibling sub-domain is *same-site* but not
  *same-origin* — ``SameSite=Lax`` cookies are sent to it, so the cookie alone proves nothing), or an
  ``Origin`` header names another origin than the platform's own (:func:`own_origins`);
* it is authenticated by the session cookie and does not carry the header ``X-Shuibao-Request: 1``.  A
  custom header cannot be added to a cross-origin request without a CORS pre-flight, which this server never
  grants, so a forged form or ``fetch(no-cors)`` cannot send it (OWASP CSRF Prevention Cheat Sheet, "Custom
  Request Headers" and "Verifying Origin with Standard Headers").  The UI's scripts add it to every write
  (``static/app.js``).

Requests with ``Authorization: Bearer`` or an API key and no cookie (scripts, QGIS, other departments) are not
browser sessions and pass, as long as their ``Origin``/``Sec-Fetch-Site`` (if any) are not foreign.

**Headers** on every response: a Content-Security-Policy (scripts only from this origin or with the page's
nonce, images from this origin and a configured base map's tile servers only, no framing by any site, no
plugins), ``X-Frame-Options: DENY`` for older browsers,
``X-Content-Type-Options: nosniff`` (evidence files are served with their own media type),
``Referrer-Policy: no-referrer`` (URLs may hold an ``api_key``), ``Cross-Origin-Opener-Policy``, a
Permissions-Policy turning off sensors, and ``Strict-Transport-Security`` when the cookies are marked secure
(the platform runs behind HTTPS then).
"""

from __future__ import annotations

import json
import secrets
from urllib.parse import urlsplit

CSRF_HEADER = "x-shuibao-request"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SESSION_COOKIE = "shuibao_session"
NO_COOKIE_AUTHORITY = frozenset({"/api/login"})  # a login proves itself by the password, not by the cookie


def _origin(url: str) -> str:
    parts = urlsplit(url)
    port = parts.port
    default = {"http": 80, "https": 443}.get(parts.scheme)
    host = (parts.hostname or "").lower()
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


def own_origins(settings) -> frozenset[str]:
    """Origins configured as the platform's own: the public URL (SHUIBAO_PUBLIC_URL) and the listening address.
    The request's own origin (its Host header) is accepted too, see :func:`csrf_refusal`."""
    out = {_origin(f"http://{settings.host}:{settings.port}")}
    if settings.public_url:
        out.add(_origin(settings.public_url))
    return frozenset(out)


def _same_host(origin: str, host: str) -> bool:
    """Whether ``origin`` names the host the request was sent to.  A browser sets both the Origin and the Host
    of a request, and a page cannot forge either, so a page of another origin never matches here."""
    o = urlsplit(origin)
    default = {"http": 80, "https": 443}.get(o.scheme)
    want = (o.hostname or "").lower(), o.port or default
    h = urlsplit("//" + host)
    try:
        port = h.port
    except ValueError:
        return False
    return want == ((h.hostname or "").lower(), port or default)


def csrf_refusal(method: str, path: str, headers: dict[bytes, bytes], origins: frozenset[str]) -> str | None:
    """Why a request must be refused as a possible forgery, or None.  ``headers``: lower-case names."""
    if method not in UNSAFE:
        return None
    site = headers.get(b"sec-fetch-site", b"").decode("latin-1").lower()
    if site in ("cross-site", "same-site"):
        return f"a write from another site or origin (Sec-Fetch-Site: {site}) is refused"
    origin = headers.get(b"origin", b"").decode("latin-1")
    host = headers.get(b"host", b"").decode("latin-1")
    if origin and origin != "null" and _origin(origin) not in origins and not _same_host(origin, host):
        return f"a write from origin {origin} is refused; this platform answers writes from its own pages only"
    if origin == "null":
        return "a write from an opaque origin (Origin: null) is refused"
    cookie = headers.get(b"cookie", b"").decode("latin-1")
    by_cookie = any(part.strip().startswith(SESSION_COOKIE + "=") for part in cookie.split(";"))
    by_token = headers.get(b"authorization", b"").lower().startswith(b"bearer ") or b"x-api-key" in headers
    if by_cookie and not by_token and path not in NO_COOKIE_AUTHORITY and headers.get(CSRF_HEADER.encode()) != b"1":
        return ("a write with the session cookie needs the header X-Shuibao-Request: 1 (the platform's pages send "
                "it); scripts use Authorization: Bearer instead")
    return None


def content_security_policy(nonce: str, tile_origins: tuple[str, ...] = ()) -> str:
    """``tile_origins``: the configured base map's tile servers (settings ``SHUIBAO_BASEMAP_URL`` or 天地图), the
    only other origins images may come from; none by default."""
    # styles: Leaflet and the legends set style attributes in markup built by script; inline styles cannot run code
    return ("default-src 'self'; "
            f"script-src 'self' 'nonce-{nonce}'; "
            "style-src 'self' 'unsafe-inline'; "
            f"img-src 'self' data: blob:{''.join(' ' + o for o in tile_origins)}; "
            "font-src 'self' data:; "
            "connect-src 'self'; "
            "worker-src 'self' blob:; "  # ReDoc's search index runs in a worker its own script creates
            "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")


def security_headers(nonce: str, *, https: bool, tile_origins: tuple[str, ...] = ()) -> list[tuple[bytes, bytes]]:
    out = [(b"content-security-policy", content_security_policy(nonce, tile_origins).encode()),
           (b"x-frame-options", b"DENY"),
           (b"x-content-type-options", b"nosniff"),
           (b"referrer-policy", b"no-referrer"),
           (b"cross-origin-opener-policy", b"same-origin"),
           (b"permissions-policy", b"camera=(), microphone=(), geolocation=(self), payment=(), usb=()")]
    if https:
        out.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
    return out


class BrowserGuard:
    """ASGI middleware: refuses forged writes (403) and adds the security headers to every response.

    Each request gets a fresh CSP nonce in ``scope["state"]["csp_nonce"]``; the page templates put it on
    their inline scripts.
    """

    def __init__(self, app, settings):
        self.app = app
        self.origins = own_origins(settings)
        self.https = bool(settings.secure_cookies) or (settings.public_url or "").startswith("https://")
        basemap = settings.basemap()
        self.tile_origins = basemap.origins if basemap else ()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        nonce = secrets.token_urlsafe(16)
        scope.setdefault("state", {})["csp_nonce"] = nonce
        extra = security_headers(nonce, https=self.https, tile_origins=self.tile_origins)

        async def with_headers(message):
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                message = {**message, "headers": [*message.get("headers", []),
                                                  *((k, v) for k, v in extra if k not in names)]}
            await send(message)

        why = csrf_refusal(scope["method"], scope["path"], dict(scope["headers"]), self.origins)
        if why:
            body = json.dumps({"detail": why}, ensure_ascii=False).encode()
            await with_headers({"type": "http.response.start", "status": 403,
                                "headers": [(b"content-type", b"application/json"),
                                            (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, with_headers)
