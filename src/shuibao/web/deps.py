"""Who is calling: a session cookie, a bearer token, or an API key (header ``X-API-Key`` or ``?api_key=``); and,
for an API key, whether the route reads a collection the key was issued for (one check for every router)."""

from __future__ import annotations

import threading
import time

from fastapi import Request

from ..errors import AuthenticationError, PermissionDeniedError, N_
from shuibao.services.platform import auth

COOKIE = "shuibao_session"
# A resolved session or key is reused for this long per worker (a map pans with dozens of requests).  A logout,
# revocation, deactivation or password reset made in this process drops the whole cache at once
# (auth.credentials_epoch); one made elsewhere (the command line, another worker) takes effect here within it.
CACHE_SECONDS = 10.0
_CACHE: dict[tuple[str, str, str], tuple[float, int, auth.Principal]] = {}
_LOCK = threading.Lock()

# For an API key: the collection each route reads ("{param}": the collection named by that path parameter;
# None: any key).  A route not listed here is refused to keys: cases, evidence, the audit log, writes, the
# district and project dossiers (they include cases and fees), and any route added later until it is listed.
KEY_ROUTES: dict[str, str | None] = {
    "/api/me": None,
    "/api/logout": None,
    "/api/districts": "districts",
    "/api/search": None,  # the service finds only the kinds of the key's collections, never cases
    "/api/runs": "runs", "/api/runs/{run}": "runs", "/api/runs/{run}/units": "runs",
    "/api/runs/{run}/files": "runs", "/api/runs/{run}/files/{name:path}": "runs",
    "/api/projects": "projects",
    "/api/assessment": "assessment", "/api/assessment.csv": "assessment",
    "/api/governance/progress": "treatment",
    "/api/stations": "stations",
    "/api/warnings": "warnings",
    "/api/download/{collection}.{fmt}": "{collection}",
    "/ogc": None, "/ogc/conformance": None, "/ogc/collections": None,  # the list shows only the key's collections
    "/ogc/collections/{cid}": "{cid}", "/ogc/collections/{cid}/items": "{cid}",
    "/ogc/collections/{cid}/items/{fid}": "{cid}",
}
KEY_PREFIXES = {"/tiles/": "runs"}  # the map tiles of the monitoring runs
REFUSED = {"/api/audit": "the audit log", "/api/evidence/{sha256}": "evidence files", "/api/cases": "the case ledger",
           "/api/cases/{case_no}": "the case ledger", "/api/districts/{district}": "a district's dossier (it lists "
           "its open cases)", "/api/projects/{code}": "a project's dossier (it lists its cases and fees)",
           "/api/projects/{code}/map": "a project's dossier map", "/api/cases/{case_no}/map": "the case ledger"}


def _cached(db: str, kind: str, secret: str, resolve) -> auth.Principal:
    """Resolve a token or key at most every CACHE_SECONDS per worker, and again after any change of credentials
    in this process."""
    key = (db, kind, secret)
    now, epoch = time.monotonic(), auth.credentials_epoch()
    with _LOCK:
        hit = _CACHE.get(key)
    if hit and now - hit[0] < CACHE_SECONDS and hit[1] == epoch:
        return hit[2]
    who = resolve(db, secret)
    with _LOCK:
        if len(_CACHE) > 10_000:
            _CACHE.clear()
        _CACHE[key] = (now, epoch, who)
    return who


def forget(db: str, token: str) -> None:
    """Drop a session from this worker's cache (logout)."""
    with _LOCK:
        _CACHE.pop((db, "session", token), None)


def credentials(request: Request) -> tuple[str, str | None]:
    """("key", key) or ("session", token from the Bearer header or the cookie); ("", None) for none."""
    key = request.headers.get("x-api-key") or request.query_params.get("api_key")
    if key:
        return "key", key
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else request.cookies.get(COOKIE)
    return ("session", token) if token else ("", None)


async def principal(request: Request) -> auth.Principal:
    """The caller, or 401; an API key outside its collections, 403 (async: a cached token costs no thread hop; a
    miss reads the store briefly)."""
    who = caller(request)
    if who.role == "external":
        key_scope(request, who)
    return who


def caller(request: Request) -> auth.Principal:
    """The caller, or 401 (named in the access log)."""
    db = request.app.state.settings.db
    kind, secret = credentials(request)
    if not secret:
        raise AuthenticationError(N_("log in first (POST /api/login), or send an API key"))
    who = _cached(db, kind, secret, auth.resolve_api_key if kind == "key" else auth.resolve_session)
    ctx = auth.REQUEST.get()
    if ctx is not None:
        ctx.user = who.name
    return who


def key_scope(request: Request, who: auth.Principal) -> None:
    """403 unless the route is open to API keys and reads a collection this key holds."""
    path = getattr(request.scope.get("route"), "path", None)  # the template ("/api/runs/{run}"); a router
    # included with a prefix (the tiles) keeps its own path here, so prefixes are matched on the request's path
    actual = request.scope["path"].removeprefix(request.scope.get("root_path", ""))
    if path in KEY_ROUTES:
        needed = KEY_ROUTES[path]
    else:
        needed = next((c for prefix, c in KEY_PREFIXES.items() if actual.startswith(prefix)), "")
    if needed == "":
        what = REFUSED.get(path, f"{request.method} {actual}")
        verb = "read" if request.method in ("GET", "HEAD") else "write through"  # keys are read-only
        raise PermissionDeniedError(N_("API keys of other departments may not {verb} {what}", verb=verb, what=what))
    if needed and needed.startswith("{"):
        needed = request.path_params.get(needed[1:-1], "")
    if needed:
        auth.require_collection(who, needed)


def db(request: Request) -> str:
    return request.app.state.settings.db
