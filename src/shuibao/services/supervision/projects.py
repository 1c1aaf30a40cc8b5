"""Production and construction projects (生产建设项目): import, export, status, history.

An import adds new projects and updates known ones (matched by ``code``) in one
transaction.  Every change is an event in ``project_events`` (before/after of
the fields that changed); a changed polygon supersedes the current
responsibility area with a new version — nothing is overwritten or deleted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import shapely
from sqlalchemy import Connection

from shuibao.errors import InputError, NotFoundError, N_
from shuibao.io.features import read_features
from shuibao.store import Store
from shuibao.store.repositories import projects as project_records
from shuibao.supervision.imports import PROJECT_FIELDS, FeatureReport, validate_layer
from shuibao.supervision.model import ProjectStatus, check_project_transition
from shuibao.services.supervision.common import (
    actor as who,
    district_lookup,
    dumps,
    now,
    record_import,
    refuse,
    report_rows,
    split_districts,
    to_metres,
    write_csv_rows,
    write_report,
)

ATTRIBUTES = ("name", "builder", "industry", "district_codes", "approval_number", "approval_date",
              "approval_authority", "plan_level", "total_area_hm2", "disturbed_area_hm2", "excavation_m3", "fill_m3",
              "spoil_m3", "construction_start", "construction_end", "total_area_computed")
AREA_TOLERANCE = 0.2  # declared total area vs polygon area: a larger difference is noted in the report


@dataclass(frozen=True)
class ImportResult:
    import_id: int
    features: int
    created: int
    updated: int
    unchanged: int
    new_areas: int
    repaired: int
    rows: list[dict]
    computed_areas: int = 0  # projects whose total_area_hm2 was computed from the polygon (no area in the file)


def _merge_attributes(layer, attributes: Path | None, mapping: dict[str, str]) -> None:
    """Join a CSV of attributes onto the polygon layer by ``code`` (or 项目编号, or the column mapped to it)."""
    if attributes is None:
        return
    table = read_features(attributes, "project attributes")
    names = tuple(c for c in (mapping.get("code"), "code", "项目编号", "项目代码") if c)
    key = next((k for k in names if k in table.fields), None)
    lkey = next((k for k in names if k in layer.fields), None)
    if key is None or lkey is None:
        raise InputError(N_("project attributes: both {attributes} and {path} need a 'code' (项目编号) field", attributes=attributes, path=layer.path))
    by_code = {str(v).strip(): i for i, v in enumerate(table.fields[key])}
    rows = [by_code.get(str(v).strip()) for v in layer.fields[lkey]]
    extra = sorted(set(by_code.values()) - {r for r in rows if r is not None})  # projects without a polygon
    for name in list(layer.fields):
        layer.fields[name] = layer.fields[name] + [table.fields[key][i] if name == lkey else None for i in extra]
    for name, values in table.fields.items():
        if name != key:
            layer.fields[name] = [None if r is None else values[r] for r in rows + extra]
    layer.geoms = np.concatenate([layer.geoms, np.full(len(extra), None, dtype=object)])


def _check_rows(checked, lookup: dict[str, str], known: dict[str, str]) -> None:
    """Rules beyond field types: districts known, dates in order, status moves allowed, area plausible."""
    for rec, rep, geom in zip(checked.records, checked.reports, checked.geoms):
        old, new = known.get(rec.get("code")), rec.get("status")
        if old and new and new != old:
            try:
                check_project_transition(old, new, rec["code"])
            except ValueError as exc:
                rep.reject(N_("status: {exc}", exc=exc))
        codes, unknown = [], []
        for token in split_districts(rec.get("district")):
            (codes.append(lookup[token]) if token in lookup else unknown.append(token))
        if unknown:
            rep.reject(N_("district: {unknown} not known (use the names or codes of `shuibao plan districts`)", unknown=', '.join(unknown)))
        elif rec.get("district") and not codes:
            rep.reject(N_("district: empty"))
        rec["district_codes"] = ",".join(dict.fromkeys(codes))
        start, end = rec.get("construction_start"), rec.get("construction_end")
        if start and end and end < start:
            rep.reject(N_("construction_end {end} is before construction_start {start}", end=end, start=start))
        rec["total_area_computed"] = False
        if rec.get("total_area_hm2") is None and rep.status != "rejected":  # (a bad value has rejected the row)
            if geom is None:
                rep.reject(N_("total_area_hm2: empty, and no polygon to compute it from"))
            else:  # no area in the file: the polygon's, flagged as computed
                rec["total_area_hm2"] = round(float(shapely.area(to_metres([geom])[0])) / 1e4, 4)
                rec["total_area_computed"] = True
                rep.messages.append(N_("total_area_hm2 computed from the polygon: {area:.4f} hm² (the file gives "
                                       "no area)", area=rec["total_area_hm2"]))
        elif geom is not None and rec.get("total_area_hm2"):
            polygon_hm2 = float(shapely.area(to_metres([geom])[0])) / 1e4
            declared = rec["total_area_hm2"]
            if abs(polygon_hm2 - declared) > AREA_TOLERANCE * declared:
                rep.messages.append(N_("note: total_area_hm2 {declared:g} differs from the polygon's "
                                    "{polygon_hm2:.2f} hm² by more than {AREA_TOLERANCE:.0%}", declared=declared, polygon_hm2=polygon_hm2, AREA_TOLERANCE=AREA_TOLERANCE))


def import_projects(db: str | None, path: Path, *, attributes: Path | None = None, layer: str | None = None,
                    report: Path | None = None, actor: str | None = None, principal=None,
                    fields: dict[str, str] | None = None) -> ImportResult:
    """Import or update projects and their responsibility areas from a vector file (or a CSV without areas).

    ``fields``: the officer's field → column mapping, before the aliases (字段映射).  A row without a total area
    takes its polygon's, flagged as computed.  With a ``principal`` (the web platform): city administrators only,
    audited in the import's transaction.
    """
    from shuibao.services.platform.auth import batch_actor

    actor = batch_actor(principal, actor)
    src = read_features(path, "projects", layer=layer)
    _merge_attributes(src, attributes, dict(fields or {}))
    checked = validate_layer(src.geoms, src.fields, src.crs, PROJECT_FIELDS, "code", has_geometry=src.has_geometry,
                             geometry_required=False, missing_geometry_ok=True, mapping=fields)
    by = who(actor)
    with Store(db) as store, store.transaction() as conn:
        store.require_current(conn)
        _check_rows(checked, district_lookup(conn), project_records.project_statuses(conn))
        write_report(report, checked.reports, checked.problems)
        if not checked.ok:
            raise refuse("projects", path, checked, report)
        at = now()
        import_id = record_import(conn, "projects", path, src.layer, checked, None, at, by)
        counts = {"created": 0, "updated": 0, "unchanged": 0, "areas": 0}
        _write(conn, checked, import_id, at, by, counts)
        computed = sum(bool(rec.get("total_area_computed")) for rec in checked.records)
        project_records.refresh_area_extent(conn)
        from shuibao.services.platform.auth import audit, writer  # the command line: audited as the operating-system user
        audit(conn, writer(principal, actor), "projects.import", "import", import_id, None,
              {"features": len(checked.records), **counts, "repaired": len(checked.repaired),
               "computed_areas": computed, "source": path.name, "fields": dict(fields or {})})
    return ImportResult(import_id, len(checked.records), counts["created"], counts["updated"], counts["unchanged"],
                        counts["areas"], len(checked.repaired), report_rows(checked.reports), computed)


def _write(conn: Connection, checked, import_id: int, at, by: str, counts: dict) -> None:
    """Insert new projects in bulk, update known ones row by row (rare), then add changed areas."""
    known = project_records.projects_by_code(conn)
    new = [(rec, rep) for rec, rep in zip(checked.records, checked.reports) if rec["code"] not in known]
    ids: dict[str, int] = {}
    if new:
        values = [dict(code=rec["code"], status=rec.get("status") or ProjectStatus.approved.value,
                       import_id=import_id, source_row=rep.row, created_at=at, updated_at=at, **_attributes(rec))
                  for rec, rep in new]
        ids.update(project_records.insert_projects(conn, values))
        project_records.add_events(conn, [dict(
            project_id=ids[v["code"]], event="created", before_json=None,
            after_json=dumps({k: v[k] for k in ("code", "status", *ATTRIBUTES)}),
            note=f"import {import_id}, row {v['source_row']}", recorded_at=at, recorded_by=by) for v in values])
        counts["created"] = len(new)
    for rec, rep in zip(checked.records, checked.reports):
        row = known.get(rec["code"])
        if row is not None:
            ids[rec["code"]] = row.id
            _update(conn, row, rec, rep, import_id, at, by, counts)
    _write_areas(conn, checked, ids, import_id, at, by, counts)


def _write_areas(conn: Connection, checked, ids: dict[str, int], import_id: int, at, by: str, counts: dict) -> None:
    """A new area version for each project whose polygon (or area kind) changed; the old one is superseded."""
    current = project_records.current_area_heads(conn)
    todo = [(rec, rep, g) for rec, rep, g in zip(checked.records, checked.reports, checked.geoms) if g is not None]
    areas = shapely.area(to_metres([g for _, _, g in todo])) if todo else []
    rows, events = [], []
    for (rec, rep, geom), area in zip(todo, areas):
        pid, kind = ids[rec["code"]], rec.get("area_kind") or "responsibility"
        cur = current.get(pid)
        if cur is not None and cur.area_kind == kind and shapely.equals_exact(shapely.normalize(cur.geom),
                                                                              shapely.normalize(geom), 1e-9):
            continue
        version = 1
        if cur is not None:
            project_records.supersede_area(conn, cur.fid, at)
            version = cur.version + 1
        rows.append(dict(project_id=pid, version=version, area_kind=kind, area_m2=float(area), import_id=import_id,
                         source_row=rep.row, repaired=rep.status == "repaired", recorded_at=at, geom=geom))
        events.append(dict(project_id=pid, event="area",
                           before_json=None if cur is None else dumps({"version": cur.version}),
                           after_json=dumps({"version": version, "area_m2": round(float(area), 2), "area_kind": kind}),
                           note=f"import {import_id}", recorded_at=at, recorded_by=by))
    if rows:
        project_records.insert_areas(conn, rows)
        project_records.add_events(conn, events)
    counts["areas"] = len(rows)


def _attributes(rec: dict) -> dict:
    values = {k: rec.get(k) for k in ATTRIBUTES}
    values["plan_level"] = values["plan_level"] or ""
    values["total_area_computed"] = bool(values["total_area_computed"])
    return values


def _update(conn: Connection, row, rec: dict, rep: FeatureReport, import_id: int, at, by: str, counts: dict) -> None:
    before = row._mapping
    changed = {k: v for k, v in _attributes(rec).items() if _differs(before[k], v)}
    if changed:
        project_records.update_project(conn, row.id, updated_at=at, **changed)
        _event(conn, row.id, "updated", {k: before[k] for k in changed}, changed, at, by,
               f"import {import_id}, row {rep.row}")
    new_status = rec.get("status")
    if new_status and new_status != row.status:
        try:
            check_project_transition(row.status, new_status, rec["code"])
        except ValueError as exc:
            raise InputError(N_("projects: row {row}: {exc}", row=rep.row, exc=exc)) from None
        project_records.update_project(conn, row.id, status=new_status, updated_at=at)
        _event(conn, row.id, "status", {"status": row.status}, {"status": new_status}, at, by,
               f"import {import_id}, row {rep.row}")
        changed["status"] = new_status
    counts["updated" if changed else "unchanged"] += 1


def _differs(old, new) -> bool:
    if isinstance(new, bool):  # a row stored before the flag existed (NULL) was declared
        return bool(old) != new
    if isinstance(old, float) and isinstance(new, float):
        return abs(old - new) > 1e-9 * max(1.0, abs(old))
    if isinstance(old, str) or isinstance(new, str):  # an empty text and no text are the same
        return (old or None) != (new or None)
    return old != new


def _event(conn, pid, event, before, after, at, by, note="") -> None:
    project_records.add_event(
        conn, project_id=pid, event=event, before_json=None if before is None else dumps(before),
        after_json=None if after is None else dumps(after), note=note, recorded_at=at, recorded_by=by)


def set_status(db: str | None, code: str, status: str, *, note: str = "", actor: str | None = None) -> str:
    """Move a project to ``status`` if its lifecycle allows it; returns the previous status."""
    with Store(db) as store, store.transaction() as conn:
        store.require_current(conn)
        row = project_records.project_by_code(conn, code)
        if row is None:
            raise InputError(N_("project {code!r} is not known", code=code))
        try:
            new = check_project_transition(row.status, status, code)
        except ValueError as exc:
            raise InputError(str(exc)) from None
        at = now()
        project_records.update_project(conn, row.id, status=new.value, updated_at=at)
        _event(conn, row.id, "status", {"status": row.status}, {"status": new.value}, at, who(actor), note)
        return row.status


def list_projects(db: str | None, *, status: str | None = None, district: str | None = None) -> list[dict]:
    """Projects with their current area (m²) and version, ordered by code."""
    with Store(db) as store, store.reading() as conn:
        store.require_current(conn)
        rows = project_records.projects_with_current_area(conn, status)
        if district:
            code = district_lookup(conn).get(district)
            if code is None:
                raise InputError(N_("district {district!r} is not known", district=district))
            rows = [r for r in rows if code in r["district_codes"].split(",")]
    return rows


def project_history(db: str | None, code: str) -> list[dict]:
    """Every event of a project, oldest first."""
    with Store(db) as store, store.reading() as conn:
        store.require_current(conn)
        pid = project_records.project_id(conn, code)
        if pid is None:
            raise NotFoundError(N_("project {code!r} is not known", code=code))
        return project_records.project_events(conn, pid)


current_areas = project_records.current_areas  # re-exported: compliance and the web read it from here


def _as_text(v) -> str | float | int | None:
    return v.isoformat() if isinstance(v, date) else v


EXPORT_FIELDS = ("code", "name", "builder", "industry", "district", "approval_number", "approval_date",
                 "approval_authority", "plan_level", "total_area_hm2", "disturbed_area_hm2", "excavation_m3",
                 "fill_m3", "spoil_m3", "construction_start", "construction_end", "status", "area_kind",
                 "area_version", "area_m2")


def export_rows(db: str | None) -> tuple[list[dict], list]:
    """Rows in the import format (re-importable) and their current areas (EPSG:4490, None where absent)."""
    with Store(db) as store, store.reading() as conn:
        store.require_current(conn)
        areas = {r["id"]: r for r in current_areas(conn)}
    rows, geoms = [], []
    for p in list_projects(db):
        rec = {k: _as_text(p.get(k)) for k in EXPORT_FIELDS}
        rec["district"] = p["district_codes"]
        rows.append(rec)
        geoms.append(areas[p["id"]]["geom"])
    return rows, geoms


def export_projects(db: str | None, out: Path) -> list[Path]:
    """OUT.gpkg / .geojson / .shp (current areas with attributes) or OUT.csv (attributes only)."""
    from shuibao.io.features import FeatureSet, write_features
    from shuibao.supervision.imports import SHAPEFILE_NAMES

    rows, geoms = export_rows(db)
    if out.suffix.lower() == ".csv":
        return [write_csv_rows(out, EXPORT_FIELDS, rows)]
    rename = SHAPEFILE_NAMES if out.suffix.lower() == ".shp" else None
    return write_features(out, [FeatureSet("projects", rows, geoms)], "EPSG:4490", rename=rename)
