"""REST API under /api: login, districts, projects, monitoring runs and their products, cases (with evidence
upload), the assessment, treatment progress, stations, warnings, audit log.  Reads only call services."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Query, Request, Response, UploadFile
from fastapi.responses import FileResponse, StreamingResponse
from pydantic import BaseModel, Field, field_validator

from shuibao.services.platform import auth, logins
from shuibao.services.reporting import overviews
from shuibao.services.reporting import map_context, search as map_search
from shuibao.services.supervision import case_corrections as corrections
from shuibao.services.supervision import cases as case_service
from shuibao.services.governance.treatment import progress as treatment_progress
from shuibao.services.monitoring.runs import districts_with_rates, list_runs
from ..deps import COOKIE, credentials, db, forget, principal
from ..errors import UploadTooLarge
from ..params import AuditLimit, ListLimit, ListOffset, Year, counted, paged
from ..responses import attachment
from ..uploads import save_upload, upload_folder, upload_limit
from shuibao.errors import N_

router = APIRouter(prefix="/api")
Caller = Annotated[auth.Principal, Depends(principal)]
Db = Annotated[str, Depends(db)]


class Login(BaseModel):
    username: str
    password: str


@router.post("/login", summary="Log in; sets the session cookie and returns the token (throttled: 429 with "
             "Retry-After after repeated failures)")
def login(body: Login, request: Request, response: Response, database: Db) -> dict:
    settings = request.app.state.settings
    ctx = auth.REQUEST.get()
    address = ctx.client_address if ctx else (request.client.host if request.client else None)
    who, token = logins.log_in(database, body.username, body.password, address=address,
                               hours=settings.session_hours)
    response.set_cookie(COOKIE, token, httponly=True, samesite="lax", secure=settings.secure_cookies,
                        max_age=int(settings.session_hours * 3600))
    return {"token": token, "user": who.name, "role": who.role, "district_code": who.district_code}


@router.post("/logout", summary="End the session: the Bearer token and the cookie's (audited)")
def logout(request: Request, response: Response, database: Db) -> dict:
    kind, bearer = credentials(request)
    ended = False
    for token in {t for t in (bearer if kind == "session" else None, request.cookies.get(COOKIE)) if t}:
        ended = auth.close_session(database, token) or ended
        forget(database, token)
    response.delete_cookie(COOKIE)
    return {"ok": True, "ended": ended}


@router.get("/me", summary="The caller: name, role, district (an API key: the collections it may read)")
def me(who: Caller) -> dict:
    out = {"user": who.name, "role": who.role, "role_zh": auth.ROLE_ZH[who.role], "district_code": who.district_code}
    if who.collections is not None:
        out["collections"] = sorted(who.collections)
    return out


@router.get("/districts", summary="Districts with their region and the latest run's 水土保持率 against the target")
def districts(who: Caller, database: Db) -> list[dict]:
    return districts_with_rates(database)


class SearchHit(BaseModel):
    """A search hit: what it is, its label, and where it lies (lon/lat, CGCS2000 ≈ CRS84)."""

    kind: str = Field(description="district, project, case or patch")
    id: str = Field(description="the district's or project's code, the case number, the patch code")
    label: str
    detail: str = Field(description="a second line: the district(s), a patch's period")
    district_code: str | None
    bbox: tuple[float, float, float, float] | None = Field(description="minLon, minLat, maxLon, maxLat")
    url: str | None = Field(description="the record's page")
    collection: str | None = Field(description="the OGC collection of its outline (with fid)")
    fid: int | None


@router.get("/search", response_model=list[SearchHit], summary="Search districts (Chinese or pinyin name, code, "
            "adcode), projects (code, name), cases (number, title) and patches (code), each with its box; "
            "exact matches first; a district officer's own district first; a key finds its collections only")
def search(request: Request, who: Caller, database: Db,
           q: Annotated[str, Query(min_length=1, max_length=map_search.MAX_QUERY)],
           limit: Annotated[int, Query(ge=1, le=map_search.MAX_LIMIT)] = 20, district: str | None = None,
           lang: Annotated[str | None, Query(pattern="^(zh|en)$", description="the labels' language "
                                             "(default: the language cookie, else Chinese)")] = None) -> list[dict]:
    lang = lang or request.cookies.get("shuibao_lang") or "zh"
    return [h.as_dict() for h in map_search.search(database, q, principal=who, lang=lang, limit=limit,
                                                    district=district)]


@router.get("/runs", summary="Stored monitoring runs, oldest first (newest_first: the other way), paged by "
            "limit and offset; the number stored is in X-Total-Count")
def runs(who: Caller, database: Db, response: Response, limit: ListLimit = None, offset: ListOffset = 0,
         newest_first: bool = False) -> list[dict]:
    rows = [r.__dict__ for r in list_runs(database)]
    return paged(rows[::-1] if newest_first else rows, response, limit, offset)


@router.get("/districts/{district}", summary="One district (name or code): rate against target in the latest "
            "and every run, projects by status, open cases, treatment progress, assessment score")
def district(district: str, who: Caller, database: Db) -> dict:
    return overviews.district_overview(database, district)


@router.get("/projects", summary="Production and construction projects, filtered (district, status, q on code or "
            "name) and paged; total (and X-Total-Count) is the number matching")
def project_list(who: Caller, database: Db, response: Response, district: str | None = None,
                 status: str | None = None, q: str | None = None,
                 limit: Annotated[int, Query(ge=1, le=overviews.MAX_PAGE,
                                             description=f"Rows per page (1–{overviews.MAX_PAGE})")] = 50,
                 offset: ListOffset = 0) -> dict:
    out = overviews.project_list(database, district=district, status=status, q=q, limit=limit, offset=offset)
    counted(out["total"], response)
    return out


@router.get("/projects/{code}", summary="One project: fields, responsibility areas, lifecycle events with "
            "before/after, compliance findings, cases, fees, acceptance")
def project(code: str, who: Caller, database: Db) -> dict:
    return overviews.project_overview(database, code)


@router.get("/projects/{code}/map", summary="A project's small map as GeoJSON: every version of its responsibility "
            "area (layer area, current true/false) and the patches the compliance analyses found for it (layer patch)")
def project_map(code: str, who: Caller, database: Db) -> Response:
    import json

    return Response(json.dumps(map_context.project_map(database, code), ensure_ascii=False, default=str),
                    media_type="application/geo+json")


@router.get("/runs/{run}", summary="One monitoring run (an id or 'latest'): info, spec, grid, provenance, unit "
            "and land-use tables")
def run(run: str, who: Caller, database: Db) -> dict:
    return overviews.run_detail(database, run)


@router.get("/runs/{run}/units", summary="A run's per-unit table (city, regions, districts; grade areas, rate, "
            "target, gap), optionally one level")
def run_units(run: str, who: Caller, database: Db, level: str | None = None) -> dict:
    return overviews.run_units(database, run, level)


@router.get("/runs/{run}/files", summary="The downloadable products of a run (rasters, tables, vectors, "
            "provenance) in its output folder")
def run_files(run: str, who: Caller, database: Db) -> dict:
    return overviews.run_files(database, run)


@router.get("/runs/{run}/files/{name:path}", summary="One product of a run (a name from its file list)")
def run_file(run: str, name: str, who: Caller, database: Db) -> Response:
    path, media = overviews.run_file(database, run, name)
    return FileResponse(path, media_type=media, filename=path.name)


@router.get("/assessment", summary="The district assessment of a year (the newest stored): per district the "
            "total, grade and each indicator's score, blank where no records")
def assessment(who: Caller, database: Db, year: Year = None) -> dict:
    return overviews.assessment_table(database, year)


@router.get("/assessment.csv", summary="The district assessment of a year as CSV")
def assessment_csv(request: Request, who: Caller, database: Db, year: Year = None,
                   lang: Annotated[str | None, Query(description="zh (default) or en: the labels' language")] = None
                   ) -> Response:
    content, name = overviews.assessment_csv(database, year, lang or request.cookies.get("shuibao_lang") or "zh")
    return Response(content, media_type="text/csv; charset=utf-8",
                    headers=attachment(name))


@router.get("/governance/progress", summary="Treatment progress against the plan's 专栏3 per type, per district "
            "and type, per year (up to year, default this year)")
def governance_progress(who: Caller, database: Db, year: Year = None) -> dict:
    return treatment_progress(database, year=year)


@router.get("/stations", summary="The monitoring stations with their annual summary (default: the newest year "
            "observed)")
def stations(who: Caller, database: Db, year: Year = None) -> dict:
    return overviews.stations_overview(database, year)


@router.get("/warnings", summary="The rain warning stored for a day (default: the newest) with its footprints "
            "and the sites hit")
def warnings(who: Caller, database: Db, day: Annotated[date | None, Query(alias="date")] = None) -> dict:
    return overviews.warning_of_day(database, day)


@router.get("/cases", summary="The case ledger with state, deadline and days overdue, paged by limit and offset "
            "(no limit: every case); the number matching is in X-Total-Count")
def cases(who: Caller, database: Db, response: Response, state: str | None = None, district: str | None = None,
          overdue: bool = False, limit: ListLimit = None, offset: ListOffset = 0) -> list[dict]:
    rows = case_service.list_cases(database, state=state, district=district, overdue=overdue)
    return paged(rows, response, limit, offset)


def _view(v: case_service.CaseView) -> dict:
    return {"case_no": v.case_no, "header": v.header, "state": v.state, "state_zh": v.state_zh,
            "deadline": v.deadline, "overdue_days": v.overdue_days, "subject": v.subject, "category": v.category,
            "confirmed": v.confirmed, "events": v.events}


@router.get("/cases/{case_no}", summary="A case with its timeline and evidence")
def case(case_no: str, who: Caller, database: Db) -> dict:
    return _view(case_service.get_case(database, case_no))


@router.get("/cases/{case_no}/map", summary="A case's small map as GeoJSON: its patch, its project's current "
            "responsibility areas and its district (layers patch, area, district)")
def case_map(case_no: str, who: Caller, database: Db) -> Response:
    import json

    return Response(json.dumps(map_context.case_map(database, case_no), ensure_ascii=False, default=str),
                    media_type="application/geo+json")


class NewCase(BaseModel):
    """A case opened by hand.  Its district is derived on the server from the patch, else the project, else
    ``district`` (see services.cases.open_case); a ``district`` that disagrees is refused.  The source is set by
    the server (``manual``); finding cases are opened by `supervise cases open-from-findings`."""

    title: str = Field(min_length=1)
    category: str
    on: date
    district: str | None = None
    project: str | None = None
    patch_fid: int | None = None
    subject: str | None = None
    note: str = ""
    source: str | None = Field(None, description="Refused unless 'manual': provenance is set by the server")

    @field_validator("source")
    @classmethod
    def _manual_only(cls, value: str | None) -> str | None:
        if value not in (None, "manual"):
            raise ValueError(f"source {value!r}: the server sets a case's source; cases opened here are 'manual'")
        return value


@router.post("/cases", status_code=201, summary="Open a case (audited; the district is derived from the patch "
             "or project)")
def open_case(body: NewCase, who: Caller, database: Db) -> dict:
    no = case_service.open_case(database, title=body.title, category=body.category, on=body.on,
                                project_code=body.project, patch_fid=body.patch_fid, district=body.district,
                                subject=body.subject, note=body.note, principal=who)
    return _view(case_service.get_case(database, no))


async def _saved(request: Request, evidence: list[UploadFile] | None, tmp: str) -> list[Path]:
    limit = upload_limit(request)
    return [await save_upload(f, Path(tmp), limit, what="evidence", default_name="evidence")
            for f in (evidence or []) if f.filename]


@router.post("/cases/{case_no}/steps", summary="Append a step (multipart: fields and evidence files; audited)")
async def add_step(case_no: str, request: Request, who: Caller, database: Db,
                   step: Annotated[str, Form()], on: Annotated[date, Form()],
                   outcome: Annotated[str | None, Form()] = None, deadline: Annotated[date | None, Form()] = None,
                   note: Annotated[str, Form()] = "", subject: Annotated[str | None, Form()] = None,
                   category: Annotated[str | None, Form()] = None,
                   evidence: Annotated[list[UploadFile] | None, File()] = None) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        files = await _saved(request, evidence, tmp)
        v = case_service.add_step(database, case_no, step, on=on, outcome=outcome or None, deadline=deadline,
                                  note=note, evidence=files, subject=subject or None, category=category or None,
                                  principal=who)
    return _view(v)


@router.post("/cases/{case_no}/steps/{seq}/void", summary="Void (作废) a mistaken step, with a reason and "
             "optional evidence (multipart; audited); it stays in the timeline but no longer counts")
async def void_step(case_no: str, seq: int, request: Request, who: Caller, database: Db,
                    reason: Annotated[str, Form()], on: Annotated[date | None, Form()] = None,
                    evidence: Annotated[list[UploadFile] | None, File()] = None) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        files = await _saved(request, evidence, tmp)
        v = corrections.void_step(database, case_no, seq, reason=reason, on=on, evidence=files, principal=who)
    return _view(v)


@router.post("/cases/{case_no}/steps/{seq}/correct", summary="Correct (更正) a step's date and note: voids it "
             "and records it again (multipart; audited)")
async def correct_step(case_no: str, seq: int, request: Request, who: Caller, database: Db,
                       reason: Annotated[str, Form()], on: Annotated[date, Form()],
                       note: Annotated[str | None, Form()] = None, deadline: Annotated[date | None, Form()] = None,
                       evidence: Annotated[list[UploadFile] | None, File()] = None) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        files = await _saved(request, evidence, tmp)
        v = corrections.correct_step(database, case_no, seq, on=on, reason=reason, note=note, deadline=deadline,
                                     evidence=files, principal=who)
    return _view(v)


@router.get("/evidence/{sha256}", summary="An evidence file")
def evidence(sha256: str, who: Caller, database: Db) -> Response:
    name, media, content = case_service.evidence_content(database, sha256)
    return Response(content, media_type=media, headers=attachment(name))


@router.get("/audit", summary="The audit log (newest first), paged by limit (default 200) and offset; the number "
            "matching is in X-Total-Count")
def audit_log(who: Caller, database: Db, response: Response, kind: str | None = None, object_id: str | None = None,
              limit: AuditLimit = 200, offset: ListOffset = 0) -> list[dict]:
    rows, total = auth.audit_page(database, principal=who, kind=kind, object_id=object_id, limit=limit,
                                  offset=offset)
    counted(total, response)
    return rows


@router.post("/patches", status_code=201, summary="Import a period's disturbance patches from a GeoJSON "
             "FeatureCollection (city administrators; judged per feature, nothing stored on any rejection)")
async def import_patches(request: Request, who: Caller, database: Db, period: str | None = None,
                         fields: str | None = Query(None, description="field mapping FIELD=COLUMN, comma-separated "
                                                                       "(e.g. patch_id=TBBH,image_date=YXRQ)")) -> dict:
    import json

    from ...errors import InputError
    from shuibao.services.imports.mappings import parse_field_mapping
    from shuibao.services.supervision.patches import import_patches as service

    auth.require(who, "admin")
    mapping = parse_field_mapping(fields, "fields") or None
    limit = upload_limit(request)
    raw = await request.body()
    if len(raw) > limit:
        raise UploadTooLarge(N_("the GeoJSON is larger than {value1} MiB", value1=limit // 2**20))
    try:
        doc = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(N_("the body is not valid JSON: {exc}", exc=exc)) from None
    except RecursionError:  # Python's parser gives up near 1,000 levels; GeoJSON needs at most 5 (MultiPolygon)
        raise InputError(N_("the body is JSON nested too deeply to be GeoJSON")) from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or not isinstance(doc.get("features"),
                                                                                                list):
        raise InputError(N_("expected a GeoJSON FeatureCollection with a 'features' list"))
    with upload_folder() as tmp:
        path = Path(tmp) / "upload.geojson"
        path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
        result = service(database, path, period=period, principal=who, fields=mapping)
    return {"import_id": result.import_id, "period": result.period, "features": result.features,
            "repaired": result.repaired, "rows": result.rows}


@router.get("/download/{collection}.{fmt}", summary="A whole collection as GeoPackage, GeoJSON or CSV")
def download(collection: str, fmt: str, who: Caller, database: Db) -> Response:
    import shutil

    from starlette.background import BackgroundTask

    from shuibao.services.platform.features import export_collection

    if fmt != "gpkg":  # produced while it is sent: every feature of the collection, however many
        chunks, media, name = export_collection(database, collection, fmt)
        return StreamingResponse(chunks, media_type=media, headers=attachment(name))
    tmp = tempfile.mkdtemp(prefix="shuibao-download-")
    try:
        path, media, name = export_collection(database, collection, fmt, folder=tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return FileResponse(path, media_type=media, headers=attachment(name),
                        background=BackgroundTask(shutil.rmtree, tmp, ignore_errors=True))
