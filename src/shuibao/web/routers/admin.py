"""The batch writes of the platform under /api, for city administrators only (everyone else 403, anonymous 401):
project, treatment-patch, station and observation imports (multipart uploads) and the compliance, warning and
assessment runs (JSON).  Each calls its service with the caller as ``principal``, so the write is authorised and
audited in its own transaction; a refused import answers 422 with every refused row (``rows``)."""

from __future__ import annotations

from datetime import date as Date
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from shuibao.services.assessment import responsibility as assessment_service
from shuibao.services.platform import auth
from shuibao.services.supervision import compliance, projects
from shuibao.services.governance import treatment as governance
from shuibao.services.stations import records as stations
from shuibao.services.stations import rain_warning as warning_service
from ..deps import db, principal
from ..uploads import save_upload, upload_folder, upload_limit

router = APIRouter(prefix="/api", tags=["Admin"])
Db = Annotated[str, Depends(db)]


async def admin(who: Annotated[auth.Principal, Depends(principal)]) -> auth.Principal:
    """The caller if a city administrator (401 anonymous, 403 otherwise) — checked before any upload is read."""
    return auth.require(who, "admin")


Admin = Annotated[auth.Principal, Depends(admin)]
Upload = Annotated[UploadFile, File(description="the file to import")]


class ReportRow(BaseModel):
    row: int = Field(description="the row as a spreadsheet numbers it (header = 1); 0 for the whole file")
    key: str
    status: str = Field(description="ok, repaired, rejected, conflict or a QC flag")
    messages: str


class ProjectImport(BaseModel):
    import_id: int
    features: int
    created: int
    updated: int
    unchanged: int
    new_areas: int
    repaired: int
    rows: list[ReportRow]


class TreatmentImport(BaseModel):
    import_id: int
    features: int
    created: int
    updated: int
    projects_created: int
    repaired: int
    area_km2: float
    rows: list[ReportRow]


class StationImport(BaseModel):
    import_id: int
    rows: int
    created: int
    updated: int
    unchanged: int


class ObservationImport(BaseModel):
    import_id: int
    variable: str
    rows: int
    stations: int
    filled_gaps: int
    counts: dict[str, int] = Field(description="days by QC flag (ok, missing, negative, …, gap)")
    rules_version: str


class ComplianceRequest(BaseModel):
    period: str | None = Field(None, description="the patches' period, e.g. 2025H1 (default: the latest)")


class ComplianceRun(BaseModel):
    analysis_id: int
    period: str
    rules_version: str
    counts: dict[str, int] = Field(description="patches by category")
    project_findings: int


class WarningRequest(BaseModel):
    date: Date = Field(description="the day of the rain (the stations' quality-checked observations)")
    run: str | None = Field("latest", description="monitoring run whose erosion grades are used; null: none")


class WarningRun(BaseModel):
    warning_id: int
    rain_date: Date
    source: str
    footprints_km2: dict[str, float]
    hits: list[dict]
    notes: list[str]


class AssessmentRequest(BaseModel):
    year: int = Field(ge=2000, le=2100)
    run: str | None = Field(None, description="monitoring run (default: the year's latest)")


class AssessmentRun(BaseModel):
    assessment_id: int
    year: int
    monitoring_run: int | None
    scheme_version: str
    districts: list[dict]


@router.post("/projects/import", status_code=201, response_model=ProjectImport,
             summary="Import or update projects from a GeoPackage, GeoJSON, zipped shapefile or CSV, optionally "
                     "with an attributes CSV joined by code (city administrators; nothing stored on any rejection)")
async def import_projects(request: Request, who: Admin, database: Db, file: Upload,
                          attributes: Annotated[UploadFile | None, File()] = None,
                          layer: Annotated[str | None, Form()] = None) -> ProjectImport:
    limit = upload_limit(request)
    with upload_folder() as tmp:
        (Path(tmp) / "a").mkdir()
        path = await save_upload(file, Path(tmp), limit, what="projects")
        extra = (await save_upload(attributes, Path(tmp) / "a", limit, what="attributes")
                 if attributes is not None and attributes.filename else None)
        r = await run_in_threadpool(projects.import_projects, database, path, attributes=extra, layer=layer or None,
                                    principal=who)
    return ProjectImport(**r.__dict__)


@router.post("/treatment/import", status_code=201, response_model=TreatmentImport,
             summary="Add or update treatment patches (治理图斑) and their projects from a vector file (city "
                     "administrators; nothing stored on any rejection)")
async def import_treatment(request: Request, who: Admin, database: Db, file: Upload,
                           layer: Annotated[str | None, Form()] = None) -> TreatmentImport:
    with upload_folder() as tmp:
        path = await save_upload(file, Path(tmp), upload_limit(request), what="treatment patches")
        r = await run_in_threadpool(governance.import_treatment, database, path, layer=layer or None, principal=who)
    return TreatmentImport(**r.__dict__)


@router.post("/stations/import", status_code=201, response_model=StationImport,
             summary="Add or update monitoring stations from a CSV (city administrators; nothing stored on any "
                     "rejected row)")
async def import_stations(request: Request, who: Admin, database: Db, file: Upload) -> StationImport:
    with upload_folder() as tmp:
        path = await save_upload(file, Path(tmp), upload_limit(request), what="stations")
        r = await run_in_threadpool(stations.import_stations, database, path, principal=who)
    return StationImport(**r)


@router.post("/stations/observations", status_code=201, response_model=ObservationImport,
             summary="Import one variable's daily observations (station,date,value CSV) with their QC flags (city "
                     "administrators; nothing stored on any rejected or conflicting row)")
async def import_observations(request: Request, who: Admin, database: Db, file: Upload,
                              variable: Annotated[str, Form()] = "rain_mm") -> ObservationImport:
    with upload_folder() as tmp:
        path = await save_upload(file, Path(tmp), upload_limit(request), what="observations")
        r = await run_in_threadpool(stations.import_observations, database, path, variable=variable, principal=who)
    return ObservationImport(**r)


@router.post("/compliance/run", status_code=201, response_model=ComplianceRun,
             summary="Run the compliance analysis of a period's disturbance patches (city administrators)")
def run_compliance(body: ComplianceRequest, who: Admin, database: Db) -> ComplianceRun:
    r = compliance.run_compliance(database, period=body.period or None, principal=who)
    return ComplianceRun(analysis_id=r.analysis_id, period=r.period, rules_version=r.rules_version, counts=r.counts,
                         project_findings=r.project_findings)


@router.post("/warnings/run", status_code=201, response_model=WarningRun,
             summary="Compute and store the rain warning of a day from the stations (city administrators)")
def run_warning(body: WarningRequest, who: Admin, database: Db) -> WarningRun:
    r = warning_service.warn(database, rain_date=body.date, run=body.run or None, principal=who)
    return WarningRun(warning_id=r.run_id, rain_date=r.rain_date, source=r.source, footprints_km2=r.footprints,
                      hits=r.hits, notes=r.notes)


@router.post("/assessment/run", status_code=201, response_model=AssessmentRun,
             summary="Score every district for a year and store the assessment (city administrators)")
def run_assessment(body: AssessmentRequest, who: Admin, database: Db) -> AssessmentRun:
    r = assessment_service.run_assessment(database, body.year, run=body.run or None, principal=who)
    return AssessmentRun(**r)
