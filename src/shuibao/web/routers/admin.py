"""The batch writes of the platform under /api, for city administrators only (everyone else 403, anonymous 401):
project, patch, treatment-patch, station and observation imports (multipart uploads) and the compliance, warning and
assessment runs (JSON).  An import takes the officer's field mapping (``fields``, a JSON object field → column)
and a ``source`` name: the mapping that imported a file is remembered for that source (or, without a name, for the
file's columns) and ``/api/imports/columns`` offers it again for the next file (the admin page's mapping step).  Each calls its service with the caller as ``principal``, so the write is authorised and
audited in its own transaction; a refused import answers 422 with every refused row (``rows``)."""

from __future__ import annotations

from datetime import date as Date, datetime
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from shuibao.services.assessment import responsibility as assessment_service
from shuibao.services.imports import mappings
from shuibao.services.platform import auth
from shuibao.services.supervision import compliance, patches, projects
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
Fields = Annotated[str | None, Form(description="field mapping: a JSON object of field → the file's column "
                                                "(\"\" = not in the file), before the built-in names and aliases")]
Source = Annotated[str | None, Form(description="a name for the file's source (e.g. 万州区水利局项目台账): the mapping "
                                                "is remembered for it; default: the file's column signature")]


def _mapping(fields: str | None) -> dict[str, str] | None:
    """The form's ``fields`` (a JSON object), refused with 422 when it is not one; None when not sent."""
    return mappings.mapping_from_json(fields) if fields else None


async def _remember(database: str, kind: str, path: Path, fields: dict[str, str] | None, source: str | None,
                    who: auth.Principal, layer: str | None = None) -> None:
    """After an accepted import: keep the mapping that imported the file for its source."""
    if fields is None:
        return
    columns = await run_in_threadpool(mappings.file_columns, kind, path, layer=layer)
    await run_in_threadpool(mappings.remember, database, kind, columns, fields, source=source, principal=who)


class MappedField(BaseModel):
    name: str
    required: bool
    aliases: list[str]
    column: str | None = Field(description="the column prefilled for the field (None: not in the file)")
    from_: str | None = Field(None, alias="from", description="remembered (the source's stored mapping), alias "
                                                               "(the field's name or an alias) or null")


class FileColumns(BaseModel):
    kind: str
    columns: list[str] = Field(description="the file's columns, in its order")
    source: str = Field(description="the key the mapping is remembered under (the name given, or columns:…)")
    signature: str
    remembered: bool
    recorded_at: datetime | None = None
    recorded_by: str | None = None
    fields: list[MappedField]


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
    computed_areas: int = Field(description="projects whose total area was computed from the polygon (the file "
                                            "gave none); each row's report says so")
    rows: list[ReportRow]


class PatchImport(BaseModel):
    import_id: int
    period: str
    features: int
    repaired: int
    total_area_m2: float
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
                          layer: Annotated[str | None, Form()] = None, fields: Fields = None,
                          source: Source = None) -> ProjectImport:
    limit = upload_limit(request)
    mapping = _mapping(fields)
    with upload_folder() as tmp:
        (Path(tmp) / "a").mkdir()
        path = await save_upload(file, Path(tmp), limit, what="projects")
        extra = (await save_upload(attributes, Path(tmp) / "a", limit, what="attributes")
                 if attributes is not None and attributes.filename else None)
        r = await run_in_threadpool(projects.import_projects, database, path, attributes=extra, layer=layer or None,
                                    principal=who, fields=mapping)
        await _remember(database, "projects", path, mapping, source, who, layer or None)
    return ProjectImport(**r.__dict__)


@router.post("/patches/import", status_code=201, response_model=PatchImport,
             summary="Import a period's disturbance patches (扰动图斑) from a GeoPackage, GeoJSON or zipped shapefile "
                     "(city administrators; judged per feature, nothing stored on any rejection)")
async def import_patch_file(request: Request, who: Admin, database: Db, file: Upload,
                            period: Annotated[str | None, Form()] = None, layer: Annotated[str | None, Form()] = None,
                            fields: Fields = None, source: Source = None) -> PatchImport:
    mapping = _mapping(fields)
    with upload_folder() as tmp:
        path = await save_upload(file, Path(tmp), upload_limit(request), what="patches")
        r = await run_in_threadpool(patches.import_patches, database, path, period=period or None,
                                    layer=layer or None, principal=who, fields=mapping)
        await _remember(database, "patches", path, mapping, source, who, layer or None)
    return PatchImport(**r.__dict__)


@router.post("/treatment/import", status_code=201, response_model=TreatmentImport,
             summary="Add or update treatment patches (治理图斑) and their projects from a vector file (city "
                     "administrators; nothing stored on any rejection)")
async def import_treatment(request: Request, who: Admin, database: Db, file: Upload,
                           layer: Annotated[str | None, Form()] = None, fields: Fields = None,
                           source: Source = None) -> TreatmentImport:
    mapping = _mapping(fields)
    with upload_folder() as tmp:
        path = await save_upload(file, Path(tmp), upload_limit(request), what="treatment patches")
        r = await run_in_threadpool(governance.import_treatment, database, path, layer=layer or None, principal=who,
                                    fields=mapping)
        await _remember(database, "treatment", path, mapping, source, who, layer or None)
    return TreatmentImport(**r.__dict__)


@router.post("/stations/import", status_code=201, response_model=StationImport,
             summary="Add or update monitoring stations from a CSV (city administrators; nothing stored on any "
                     "rejected row)")
async def import_stations(request: Request, who: Admin, database: Db, file: Upload, fields: Fields = None,
                          source: Source = None) -> StationImport:
    mapping = _mapping(fields)
    with upload_folder() as tmp:
        path = await save_upload(file, Path(tmp), upload_limit(request), what="stations")
        r = await run_in_threadpool(stations.import_stations, database, path, principal=who, fields=mapping)
        await _remember(database, "stations", path, mapping, source, who)
    return StationImport(**r)


@router.post("/stations/observations", status_code=201, response_model=ObservationImport,
             summary="Import one variable's daily observations (station,date,value CSV) with their QC flags (city "
                     "administrators; nothing stored on any rejected or conflicting row)")
async def import_observations(request: Request, who: Admin, database: Db, file: Upload,
                              variable: Annotated[str, Form()] = "rain_mm", fields: Fields = None,
                              source: Source = None) -> ObservationImport:
    mapping = _mapping(fields)
    with upload_folder() as tmp:
        path = await save_upload(file, Path(tmp), upload_limit(request), what="observations")
        r = await run_in_threadpool(stations.import_observations, database, path, variable=variable, principal=who,
                                    fields=mapping)
        await _remember(database, "observations", path, mapping, source, who)
    return ObservationImport(**r)


@router.post("/imports/columns", response_model=FileColumns, response_model_by_alias=True,
             summary="A file's columns and the column prefilled for each field of an import (the remembered mapping "
                     "of its source, else the field's name or an alias); stores nothing (city administrators)")
async def file_columns(request: Request, who: Admin, database: Db, file: Upload,
                       kind: Annotated[str, Form(description="projects, patches, treatment, stations or "
                                                             "observations")],
                       layer: Annotated[str | None, Form()] = None, source: Source = None,
                       variable: Annotated[str, Form()] = "rain_mm") -> FileColumns:
    with upload_folder() as tmp:
        path = await save_upload(file, Path(tmp), upload_limit(request), what=kind)
        r = await run_in_threadpool(mappings.inspect_columns, database, kind, path, layer=layer or None,
                                    source=source, variable=variable)
    return FileColumns(**r)


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
