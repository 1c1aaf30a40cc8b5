"""Read models of the web platform's pages: a project, a district, a run's products, the assessment table,
the stations and a day's warning — each one call, from the records and the other services' reads.

Nothing here writes.  Unknown names raise :class:`NotFoundError`; unacceptable filters raise
:class:`InputError`.  Values are plain Python (dates, datetimes, floats, Decimals); the web layer
encodes them.
"""

from __future__ import annotations

import json
import mimetypes
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from shuibao.errors import InputError, NotFoundError, N_
from shuibao.io.steps import sha256
from shuibao.store import Store
from shuibao.store.repositories import (
    assessment as assessment_rows,
    overviews as page_rows,
    reference,
    stations as station_rows,
    warnings as warning_rows,
)
from shuibao.supervision.cases import State
from shuibao.supervision.model import (
    CATEGORY_ZH,
    PROJECT_STATUS_ZH,
    Category,
    ProjectStatus,
    case_category_label,
)
from shuibao.services.supervision.case_views import case_views
from shuibao.services.supervision.common import district_lookup

MAX_PAGE = 500
_KINDS = {".tif": "raster", ".tiff": "raster", ".csv": "table", ".gpkg": "vector", ".json": "metadata",
          ".xlsx": "workbook", ".geojson": "vector"}
_MEDIA = {".tif": "image/tiff; application=geotiff; profile=cloud-optimized", ".gpkg": "application/geopackage+sqlite3",
          ".csv": "text/csv; charset=utf-8", ".json": "application/json",
          ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _district_code(conn: Connection, name_or_code: str) -> str:
    code = district_lookup(conn).get(name_or_code)
    if code is None:
        raise NotFoundError(N_("district {name_or_code!r} is not known (use a name or code of `shuibao plan districts`)", name_or_code=name_or_code))
    return code


RECORD_KINDS = ("district", "project", "case", "run")


def record_exists(db: str | None, kind: str, ref: str) -> bool:
    """Whether the record a page shows is stored (记录是否存在): a district by name or code, a project by code, a
    case by number, a monitoring run by id or ``latest`` — one read, so a page for an unknown record is a 404."""
    from shuibao.store.repositories import case_ledger, runs as run_rows

    if kind not in RECORD_KINDS:
        raise InputError(N_("record kind {kind!r}: expected one of {kinds}", kind=kind, kinds=", ".join(RECORD_KINDS)))
    with Store(db) as store, store.reading() as conn:
        store.require_current(conn)
        if kind == "district":
            return ref in district_lookup(conn)
        if kind == "project":
            return page_rows.project_by_code(conn, ref) is not None
        if kind == "case":
            return case_ledger.case_head(conn, ref) is not None
        if ref == "latest":
            return run_rows.latest_run_id(conn) is not None
        return ref.isascii() and ref.isdigit() and run_rows.run_exists(conn, int(ref))


def _status_zh(status: str) -> str:
    try:
        return PROJECT_STATUS_ZH[ProjectStatus(status)]
    except ValueError:
        return status


def _loads(text: str | None):
    return None if text is None else json.loads(text)


# ------------------------------------------------------------------------------------------------ projects
def project_list(db: str | None, *, district: str | None = None, status: str | None = None, q: str | None = None,
                 limit: int = 50, offset: int = 0) -> dict:
    """One page of projects (by code) matching the filters, and how many match in all."""
    from shuibao.services.supervision.projects import list_projects

    if not 1 <= limit <= MAX_PAGE:
        raise InputError(N_("limit {limit}: expected 1–{MAX_PAGE}", limit=limit, MAX_PAGE=MAX_PAGE))
    if offset < 0:
        raise InputError(N_("offset {offset}: expected 0 or more", offset=offset))
    if status and status not in {s.value for s in ProjectStatus}:
        raise InputError(N_("status {status!r}: expected one of {value1}", status=status, value1=', '.join(s.value for s in ProjectStatus)))
    rows = list_projects(db, status=status or None, district=district or None)
    if q:
        needle = q.strip().casefold()
        rows = [r for r in rows if needle in r["code"].casefold() or needle in r["name"].casefold()]
    with Store(db) as store, store.reading() as conn:
        names = page_rows.district_names(conn)
    items = []
    for r in rows[offset:offset + limit]:
        codes = r["district_codes"].split(",")
        items.append({"code": r["code"], "name": r["name"], "builder": r["builder"], "industry": r["industry"],
                      "status": r["status"], "status_zh": _status_zh(r["status"]), "district_codes": codes,
                      "districts": [names.get(c, c) for c in codes], "approval_number": r["approval_number"],
                      "approval_date": r["approval_date"], "total_area_hm2": r["total_area_hm2"],
                      "area_m2": r["area_m2"], "area_version": r["area_version"], "area_kind": r["area_kind"]})
    return {"total": len(rows), "limit": limit, "offset": offset, "items": items}


def project_overview(db: str | None, code: str, *, as_of: date | None = None) -> dict:
    """A project: its fields, responsibility areas (every version), lifecycle events with before/after, the
    compliance findings naming it (the newest analysis of each period), its cases, fees and acceptance filing."""
    from shuibao.services.supervision.programs import fee_ledger

    as_of = as_of or date.today()
    with Store(db) as store, store.reading() as conn:
        store.require_current(conn)
        row = page_rows.project_by_code(conn, code)
        if row is None:
            raise NotFoundError(N_("project {code!r} is not known", code=code))
        project = dict(row._mapping)
        pid = project["id"]
        names = page_rows.district_names(conn)
        areas = page_rows.project_areas(conn, pid)
        events = [{**{k: v for k, v in r._mapping.items() if k not in ("before_json", "after_json")},
                   "before": _loads(r.before_json), "after": _loads(r.after_json)}
                  for r in page_rows.project_events(conn, pid)]
        analyses = page_rows.latest_analyses(conn)
        findings = []
        for m in page_rows.project_findings_of_patches(conn, pid, analyses):
            findings.append({"analysis_id": m["run_id"], "period": m["period"], "patch_fid": m["patch_fid"],
                             "patch_code": m["patch_code"], "image_date": m["image_date"],
                             "district_code": m["district_code"], "category": m["category"],
                             "category_zh": CATEGORY_ZH.get(Category(m["category"]), m["category"]),
                             "patch_area_m2": m["patch_area_m2"], "overlap_m2": m["overlap_m2"],
                             "outside_m2": m["outside_m2"], "outside_share": m["outside_share"],
                             "distance_m": m["distance_m"], "reason": m["reason"],
                             "rules_version": m["rules_version"]})
        project_findings = [{**dict(r._mapping), "evidence": json.loads(r.evidence_json)}
                            for r in page_rows.project_level_findings(conn, pid, analyses)]
        for r in project_findings:
            r.pop("evidence_json")
        cases = [_case_row(v) for v in case_views(conn, page_rows.cases_of_project(conn, pid), as_of)]
        fees = [r for r in fee_ledger(conn, as_of) if r["project_id"] == pid]
        acceptance = page_rows.acceptance_of_project(conn, pid)
    codes = project["district_codes"].split(",")
    project.update(status_zh=_status_zh(project["status"]), district_codes=codes,
                   districts=[{"code": c, "name": names.get(c, c)} for c in codes])
    current = [x for x in areas if x["superseded_at"] is None]
    return {"project": project, "areas": areas, "current_area_m2": sum(x["area_m2"] for x in current) if current
            else None, "events": events, "findings": findings, "project_findings": project_findings,
            "cases": cases, "open_cases": [c for c in cases if c["open"]], "fees": fees, "acceptance": acceptance}


def _case_row(v) -> dict:
    return {"case_no": v.case_no, "title": v.header["title"], "district_code": v.header["district_code"],
            "category": v.category, "confirmed": v.confirmed,
            "category_zh": case_category_label(v.category, v.confirmed), "state": v.state,
            "state_zh": v.state_zh, "deadline": v.deadline, "overdue_days": v.overdue_days,
            "opened_on": v.events[0]["on_date"], "open": v.state != State.closed.value}


# ------------------------------------------------------------------------------------------------ districts
def district_overview(db: str | None, name_or_code: str, *, as_of: date | None = None) -> dict:
    """A district: its rate against the target in every stored run (the newest last), its projects by status,
    its open cases, its treatment progress (专栏3) and its newest assessment score."""
    from shuibao.services.governance.treatment import progress

    as_of = as_of or date.today()
    with Store(db) as store, store.reading() as conn:
        store.require_current(conn)
        code = _district_code(conn, name_or_code)
        head = page_rows.district_head(conn, code)
        plan = page_rows.district_plan_target(conn, code)
        trend = page_rows.district_trend(conn, code)
        latest_run = page_rows.newest_run_id(conn)
        statuses = Counter(x.status for x in page_rows.project_statuses(conn) if code in x.district_codes.split(","))
        heads = page_rows.cases_of_district(conn, code)
        open_cases = [c for c in (_case_row(v) for v in case_views(conn, heads, as_of)) if c["open"]]
        score = assessment_rows.newest_total(conn, code)
    treatment = progress(db)
    return {
        "district": dict(head._mapping),
        "plan": None if plan is None else {"rate_2020_pct": plan.rate_2020_pct,
                                           "target_2025_pct": plan.target_2025_pct},
        "latest": trend[-1] if trend else None, "latest_run_id": latest_run, "trend": trend,
        "projects_by_status": [{"status": s.value, "status_zh": PROJECT_STATUS_ZH[s], "count": statuses.get(s.value, 0)}
                               for s in ProjectStatus],
        "projects_total": sum(statuses.values()), "open_cases": open_cases,
        "treatment": {"year": treatment["year"],
                      "by_kind": [x for x in treatment["by_district"] if x["district_code"] == code]},
        "assessment": None if score is None else {"assessment_id": score.id, "year": score.year,
                                                  "total": score.score,
                                                  "grade": json.loads(score.evidence_json).get("grade")},
    }


# ------------------------------------------------------------------------------------------------ runs
def run_detail(db: str | None, ref: str) -> dict:
    """A run: its info, spec, grid, provenance, unit and land-use tables."""
    from shuibao.services.monitoring.runs import get_run, resolve_run

    data = get_run(db, ref)
    with Store(db) as store, store.reading() as conn:
        rid = resolve_run(conn, str(data["info"].id))
        row = page_rows.run_fields(conn, rid)
    return {"info": data["info"].__dict__, "spec": json.loads(row.spec_json), "spec_path": row.spec_path,
            "grid": {"crs": row.grid_crs, "rows": row.rows, "cols": row.cols, "valid_cells": row.valid_cells,
                     "cell_size_m": data["info"].cell_size_m},
            "provenance": data["provenance"], "units": data["units"], "landuse": data["landuse"]}


def run_units(db: str | None, ref: str, level: str | None = None) -> dict:
    """A run's unit rows (city, regions, districts…), optionally of one level."""
    from shuibao.services.monitoring.runs import get_run

    data = get_run(db, ref)
    units = data["units"]
    if level:
        levels = sorted({x["level"] for x in units})
        if level not in levels:
            raise InputError(N_("level {level!r}: expected one of {levels}", level=level, levels=', '.join(levels)))
        units = [x for x in units if x["level"] == level]
    return {"run_id": data["info"].id, "year": data["info"].year, "units": units}


def _as_utc(t: datetime) -> datetime:
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t


def _products(info, provenance: dict) -> list[dict]:
    root = Path(info.output_dir)
    if not root.is_dir():
        return []
    real = root.resolve()
    from shuibao.services.monitoring.runs import recorded_outputs

    recorded = recorded_outputs(provenance)
    made = _as_utc(info.created_at).timestamp()
    out = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part.startswith(".") for part in rel.parts) or path.is_symlink() or not path.is_file():
            continue  # the run's work and step records are not products
        if not path.resolve().is_relative_to(real):
            continue
        st = path.stat()
        name = rel.as_posix()
        # written after the run was stored: a later run into the same folder, unless its bytes are the recorded
        # ones (a resumed run rewrites identical files)
        changed = st.st_mtime > made + 1.0 and (name not in recorded or sha256(path) != recorded[name])
        out.append({"name": name, "kind": _KINDS.get(path.suffix.lower(), "other"), "size_bytes": st.st_size,
                    "media_type": _MEDIA.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0]
                    or "application/octet-stream",
                    "sha256_recorded": recorded.get(name), "modified_after_run": changed,
                    "_path": path})
    return out


def run_files(db: str | None, ref: str) -> dict:
    """The downloadable products in a run's output folder (rasters, tables, vectors, provenance)."""
    from shuibao.services.monitoring.runs import get_run

    data = get_run(db, ref)
    info = data["info"]
    files = [{k: v for k, v in f.items() if k != "_path"} for f in _products(info, data["provenance"])]
    return {"run_id": info.id, "output_dir": info.output_dir, "folder_exists": Path(info.output_dir).is_dir(),
            "files": files}


def run_file(db: str | None, ref: str, name: str) -> tuple[Path, str]:
    """The path and media type of one product of the run; only names of :func:`run_files` are served."""
    from shuibao.services.monitoring.runs import get_run

    data = get_run(db, ref)
    hit = next((f for f in _products(data["info"], data["provenance"]) if f["name"] == name), None)
    if hit is None:
        raise NotFoundError(N_("run {id}: no product named {name!r} (see its file list)", id=data['info'].id, name=name))
    return hit["_path"], hit["media_type"]


# ------------------------------------------------------------------------------------------------ assessment
def assessment_table(db: str | None, year: int | None = None) -> dict:
    """The newest stored assessment of ``year`` (default: the newest of any year): per district the total, grade
    and each indicator's score — blank (None) where the district has no records for it."""
    from shuibao.services.assessment.responsibility import get_assessment

    with Store(db) as store, store.reading() as conn:
        store.require_current(conn)
        aid = assessment_rows.newest_assessment_id(conn, year)
        years = assessment_rows.assessed_years(conn)
        districts = reference.districts_in_order(conn)
    if aid is None:
        raise NotFoundError(N_("no assessment is stored for {year}: run `shuibao assess run YEAR` first", year=year)
                            if year is not None else
                            N_("no assessment is stored: run `shuibao assess run YEAR` first"))
    data = get_assessment(db, aid)
    head, scores = data["head"], data["scores"]
    scheme = json.loads(head["scheme_json"])
    indicators = [{"key": i["key"], "points": i.get("points"), "block": i.get("block"), "name_zh": i.get("name_zh")}
                  for i in scheme.get("indicators", [])]
    by = {(s["district_code"], s["indicator"]): s for s in scores}
    rows = []
    for code, name in districts:
        total = by.get((code, "total"))
        if total is None:
            continue
        row: dict[str, Any] = {"district_code": code, "district": name, "evidence": {}}
        for ind in indicators:
            s = by.get((code, ind["key"]))
            row[ind["key"]] = None if s is None or s["value"] is None else s["score"]
            if s is not None and s["evidence"]:
                row["evidence"][ind["key"]] = s["evidence"]  # the records behind the score (ids, case numbers)
        row.update(total=total["score"], grade=total["evidence"].get("grade"),
                   points_with_data=total["evidence"].get("points_with_data"))
        rows.append(row)
    return {"assessment_id": aid, "year": head["year"], "years": years, "scheme_version": head["scheme_version"],
            "monitoring_run": head["monitoring_run_id"], "recorded_at": head["recorded_at"],
            "recorded_by": head["recorded_by"], "indicators": indicators, "districts": rows}


def assessment_csv(db: str | None, year: int | None = None, lang: str = "zh") -> tuple[bytes, str]:
    """The assessment table as CSV (UTF-8 with BOM for spreadsheet programs) and a file name: labelled headers
    (with each indicator's points), the district's name and 6-digit 行政区划代码, grades as labels; a blank
    score is "no records for that indicator" (see the page's note), not 0."""
    from shuibao import vocabulary as v
    from shuibao.plan.reference import load_reference
    from shuibao.spreadsheet import csv_chunks

    table = assessment_table(db, year)
    adcodes = {d.code: d.adcode for d in load_reference().districts}
    inds = table["indicators"]
    heads = {"adcode": v.label("field", "adcode", lang), "district": v.label("field", "district", lang),
             **{i["key"]: f"{v.label('assessment_indicator', i['key'], lang)}（{i['points']:g}）" for i in inds},
             "total": v.label("field", "total", lang), "grade": v.label("field", "grade", lang)}
    rows = [{heads["adcode"]: adcodes.get(r["district_code"]), heads["district"]: v.label("district", r["district_code"], lang),
             **{heads[i["key"]]: r[i["key"]] for i in inds},
             heads["total"]: r["total"], heads["grade"]: v.label("assessment_grade", r["grade"], lang)}
            for r in table["districts"]]
    return (b"".join(csv_chunks(list(heads.values()), rows, bom=True)),
            f"assessment-{table['year']}-{table['assessment_id']}.csv")


# ------------------------------------------------------------------------------------------------ stations
def stations_overview(db: str | None, year: int | None = None) -> dict:
    """The station registry, each with its annual summary of ``year`` (default: the newest year observed)."""
    from shuibao.services.stations.records import annual_summary, list_stations

    if year is None:
        with Store(db) as store, store.reading() as conn:
            store.require_current(conn)
            last = station_rows.newest_observation_date(conn)
        year = None if last is None else (last.year if isinstance(last, date) else int(str(last)[:4]))
    summary = {r["station"]: r for r in annual_summary(db, year)} if year else {}
    return {"year": year, "stations": [{**s, "summary": summary.get(s["code"])} for s in list_stations(db)]}


# ------------------------------------------------------------------------------------------------ warnings
def warning_of_day(db: str | None, day: date | None = None) -> dict:
    """The newest warning stored for ``day`` (default: the newest of all) with its footprints and hits."""
    from shuibao.services.stations.rain_warning import warning_hits

    with Store(db) as store, store.reading() as conn:
        store.require_current(conn)
        wid = warning_rows.newest_warning_id(conn, day)
        if wid is None:
            raise NotFoundError(N_("no warning is stored for {day}", day=day.isoformat()) if day else
                                N_("no warning is stored"))
        head = warning_rows.warning_head(conn, wid)
        footprints = warning_rows.footprint_levels(conn, wid)
    head["parameters"] = json.loads(head.pop("parameters_json"))
    hits = warning_hits(db, wid)
    for h in hits:
        h.pop("details_json", None)
    return {"warning": head, "footprints": footprints, "hits": hits}
