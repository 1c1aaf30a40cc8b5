"""The Chinese (or English) UI: server-rendered page shells whose scripts call the API; no data in the routes."""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from ... import vocabulary
from ...errors import N_, AuthenticationError, Message
from shuibao.services.monitoring import run_rasters
from shuibao.services.reporting.overviews import record_exists
from ..deps import caller
from ..i18n import words

router = APIRouter(include_in_schema=False)
_ENV = Environment(loader=FileSystemLoader(str(Path(str(resources.files("shuibao.web") / "templates")))),
                   autoescape=select_autoescape(["html"]))
LANG_COOKIE = "shuibao_lang"


def _lang(request: Request) -> str:
    asked = request.query_params.get("lang")
    if asked in ("zh", "en"):
        return asked
    return request.cookies.get(LANG_COOKIE) or request.app.state.settings.language


def csp_nonce(request: Request) -> str:
    """This response's nonce for inline scripts (set by :class:`shuibao.web.security.BrowserGuard`)."""
    return getattr(request.state, "csp_nonce", "")


def _page(request: Request, template: str, *, login_required: bool = True, title: str | None = None,
          status_code: int = 200, headers: dict | None = None, **context) -> Response:
    """A page in the request's language; ``title`` is the tab's "<page> · 水保" (the app's name alone without)."""
    user = None
    try:
        user = caller(request)
    except AuthenticationError:
        if login_required:
            return RedirectResponse("/login", status_code=303)
    lang = _lang(request)
    basemap = request.app.state.settings.basemap()  # the maps' base layer, if one is configured (settings.py)
    html = _ENV.get_template(template).render(basemap=basemap.as_json() if basemap else None,
        w=words(lang), lang=lang, user=user, csp_nonce=csp_nonce(request), label=_labeller(lang),
        codes_unit=vocabulary.unit, role_label=vocabulary.label("role", user.role, lang) if user else "",
        title=title, **context)
    response = HTMLResponse(html, status_code=status_code, headers=headers)
    if request.query_params.get("lang") in ("zh", "en") or request.cookies.get(LANG_COOKIE) != lang:
        # the page's language travels with the page's own API calls (errors in the page's language, not the
        # browser's Accept-Language, which scripts and other clients still use)
        response.set_cookie(LANG_COOKIE, lang, samesite="lax", max_age=365 * 86400)
    return response


# a record page's 404 (未找到): what was not found, and the list it belongs to (a word of web/i18n.py, its URL)
MISSING: dict[str, tuple[Callable[[str], Message], str, str]] = {
    "district": (lambda ref: N_("No district is named “{ref}”.", ref=ref), "dashboard", "/dashboard"),
    "project": (lambda ref: N_("No project has the code “{ref}”.", ref=ref), "project_list", "/projects"),
    "case": (lambda ref: N_("No case has the number “{ref}”.", ref=ref), "cases", "/cases"),
    "run": (lambda ref: N_("No monitoring run has the id “{ref}”.", ref=ref), "runs", "/runs"),
}


def not_found_page(request: Request, message: Message, back: tuple[str, str] | None = None,
                   status_code: int = 404, headers: dict | None = None) -> Response:
    """The HTML 404 (or 405) page in the request's language: what was not found, links to the list and the
    dashboard; for a person who is not logged in, no menu (nothing about records)."""
    lang = _lang(request)
    w = words(lang)
    links = [(w[back[0]], back[1])] if back and back[1] != "/dashboard" else []
    links.append((w["dashboard"], "/dashboard"))
    return _page(request, "not_found.html", login_required=False, title=w["not_found"], status_code=status_code,
                 headers=headers, message=message.render(lang), links=links)


def _record_page(request: Request, kind: str, ref: str, template: str, title: str, **context) -> Response:
    """A record's page after the server checked the record exists (a 404 page otherwise); a person who is not
    logged in goes to the login page first, before anything is said about the record."""
    try:
        caller(request)
    except AuthenticationError:
        return RedirectResponse("/login", status_code=303)
    if not record_exists(request.app.state.settings.db, kind, ref):
        message, back, url = MISSING[kind]
        return not_found_page(request, message(ref), (back, url))
    return _page(request, template, title=title, **context)


def _title(request: Request, key: str, ref: str = "") -> str:
    """A page's name in its language (a word of web/i18n.py), with the record's id for a record page."""
    name = words(_lang(request))[key]
    return f"{name} {ref}" if ref else name


def _labeller(lang: str):
    """``label(group, code)`` in the page's language, for the templates."""
    return lambda group, code: vocabulary.label(group, code, lang)


@router.get("/vocabulary.js")
def vocabulary_js(request: Request) -> Response:
    """The vocabulary in the page's language for the page scripts: ``window.VOCAB`` (see static/app.js ``L``)."""
    table = vocabulary.table(_lang(request))
    body = "window.VOCAB = " + json.dumps(table, ensure_ascii=False, separators=(",", ":")) + ";\n"
    return Response(body, media_type="text/javascript; charset=utf-8",
                    headers={"Cache-Control": "private, max-age=300", "Vary": "Cookie"})


@router.get("/")
def home(request: Request) -> Response:
    query = request.url.query  # keeps ?lang=
    return RedirectResponse("/dashboard" + (f"?{query}" if query else ""), status_code=303)


@router.get("/login")
def login(request: Request) -> Response:
    return _page(request, "login.html", login_required=False, title=_title(request, "login"))


@router.get("/dashboard")
def dashboard(request: Request) -> Response:
    return _page(request, "dashboard.html", title=_title(request, "dashboard"))


@router.get("/map")
def map_page(request: Request) -> Response:
    colours, names = run_rasters.grade_legend(_lang(request))
    return _page(request, "map.html", title=_title(request, "map"), grade_colours=colours, grade_names=names, grade_codes=dict(run_rasters.GRADE_CODES),
                 district_classes=run_rasters.district_classes(_lang(request)))


@router.get("/cases")
def cases(request: Request) -> Response:
    return _page(request, "cases.html", title=_title(request, "cases"))


@router.get("/cases/{case_no}")
def case(case_no: str, request: Request) -> Response:
    return _record_page(request, "case", case_no, "case.html", _title(request, "case", case_no), case_no=case_no)


@router.get("/audit")
def audit(request: Request) -> Response:
    return _page(request, "audit.html", title=_title(request, "audit"))


@router.get("/districts/{name}")
def district(name: str, request: Request) -> Response:
    return _record_page(request, "district", name, "district.html", _title(request, "district_page", name),
                        district=name)


@router.get("/projects")
def projects(request: Request) -> Response:
    return _page(request, "projects.html", title=_title(request, "project_list"))


@router.get("/projects/{code}")
def project(code: str, request: Request) -> Response:
    return _record_page(request, "project", code, "project.html", _title(request, "project", code), code=code)


@router.get("/runs")
def runs(request: Request) -> Response:
    return _page(request, "runs.html", title=_title(request, "runs"))


@router.get("/runs/{run}")
def run(run: str, request: Request) -> Response:
    return _record_page(request, "run", run, "run.html", _title(request, "run_page", f"#{run}"), run=run)


@router.get("/assessment")
def assessment(request: Request) -> Response:
    return _page(request, "assessment.html", title=_title(request, "assessment"))


@router.get("/admin")
def admin(request: Request) -> Response:
    """数据管理: one form per batch write; other roles see that they may not (the API refuses them anyway)."""
    return _page(request, "admin.html", title=_title(request, "admin"))


@router.get("/docs")
def swagger_docs(request: Request) -> Response:
    """The interactive API documentation (Swagger UI, vendored: no CDN)."""
    return HTMLResponse(_ENV.get_template("api_docs.html").render(kind="swagger", title="水保 Shuibao API",
                                                                  openapi_url="/openapi.json"))


@router.get("/redoc")
def redoc_docs(request: Request) -> Response:
    """The API reference (ReDoc, vendored)."""
    return HTMLResponse(_ENV.get_template("api_docs.html").render(kind="redoc", title="水保 Shuibao API",
                                                                  openapi_url="/openapi.json"))
