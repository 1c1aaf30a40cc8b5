"""Compliance analysis of a period's patches (合规性分析): classify, store the findings, export them.

Every analysis is a new ``compliance_runs`` row with the rule version and
parameters it used; its findings (one per patch, with evidence) and project
findings are never changed afterwards.  Exports are one row per patch:
``patch_id, category, category_zh, project_id, …evidence``.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy import Connection

from shuibao.errors import InputError, N_
from shuibao.io.features import FeatureSet, write_features
from shuibao.store import Store
from shuibao.store.repositories import compliance as compliance_records, patches as patch_records
from shuibao.supervision.compliance import ApprovedAreas, Patches, classify, idle_projects, load_rules
from shuibao.supervision.model import CATEGORY_ZH, Category
from shuibao.services.supervision.patches import latest_period
from shuibao.services.supervision.projects import current_areas
from shuibao.services.supervision.common import actor as who, dumps, now, to_metres, write_csv_rows

COLUMNS = ("patch_id", "category", "category_zh", "project_id", "project_code", "project_name", "period",
           "image_date", "district_code", "kind", "patch_area_m2", "overlap_m2", "outside_m2", "outside_share",
           "distance_m", "tolerance_share", "candidates", "reason", "rules_version", "analysis_id")
PROJECT_COLUMNS = ("project_id", "code", "name", "builder", "finding", "status", "reason", "evidence_json")


@dataclass(frozen=True)
class ComplianceResult:
    analysis_id: int
    period: str
    rules_version: str
    counts: dict[str, int]
    project_findings: int
    seconds_classify: float
    outputs: tuple[Path, ...] = ()


def _load(conn: Connection, period: str):
    rows = patch_records.period_patches(conn, period)
    if not rows:
        raise InputError(N_("no disturbance patches stored for period {period!r}", period=period))
    projects = current_areas(conn)
    with_area = [p for p in projects if p["geom"] is not None]
    patches = Patches(np.array([r.fid for r in rows], np.int64), to_metres(r.geom for r in rows),
                      [r.kind for r in rows], [r.industry for r in rows], [r.image_date for r in rows])
    areas = ApprovedAreas(np.array([p["id"] for p in with_area], np.int64), to_metres(p["geom"] for p in with_area),
                          np.array([p["area_kind"] == "schematic" for p in with_area], bool),
                          [p["industry"] for p in with_area], [p["status"] for p in with_area],
                          [p["approval_date"] for p in with_area])
    return rows, projects, patches, areas


def run_compliance(db: str | None, *, period: str | None = None, rules: Path | None = None,
                   out: Path | None = None, actor: str | None = None, principal=None) -> ComplianceResult:
    """Classify every patch of ``period`` (default: the latest), store the analysis, optionally export it.

    With a ``principal`` (the web platform): city administrators only; the analysis is audited in the
    transaction that stores it (the optional export is written afterwards and is not part of it).
    """
    import time

    from shuibao.services.platform.auth import batch_actor

    actor = batch_actor(principal, actor)

    if out is not None and out.suffix.lower() not in (".gpkg", ".csv"):
        raise InputError(N_("-o {out}: expected a .gpkg or .csv file", out=out))  # before anything is stored
    ruleset = load_rules(rules)
    with Store(db) as store, store.transaction() as conn:
        store.require_current(conn)
        period = period or latest_period(conn)
        rows, projects, patches, areas = _load(conn, period)
        t0 = time.perf_counter()
        findings = classify(patches, areas, ruleset)
        idle = idle_projects(projects, patches, areas, ruleset)
        seconds = time.perf_counter() - t0
        found = Counter(f.category.value for f in findings)
        counts = {c.value: found.get(c.value, 0) for c in Category}
        run_id = compliance_records.insert_run(
            conn, period=period, rules_version=ruleset.version, rules_json=dumps(ruleset.parameters()),
            patches=len(findings), counts_json=dumps(counts), recorded_at=now(), recorded_by=who(actor))
        compliance_records.insert_findings(conn, [dict(
            run_id=run_id, patch_fid=f.patch_id, category=f.category.value, project_id=f.project_id,
            patch_area_m2=f.patch_area_m2, overlap_m2=f.overlap_m2, outside_m2=f.outside_m2,
            outside_share=f.outside_share, distance_m=f.distance_m, tolerance_share=f.tolerance_share,
            candidates_json=dumps(list(f.candidates)), reason=f.reason) for f in findings])
        if idle:
            compliance_records.insert_project_findings(conn, [dict(
                run_id=run_id, project_id=p.project_id, finding=p.finding, status=p.status, reason=p.reason,
                evidence_json=dumps(p.evidence)) for p in idle])
        from shuibao.services.platform.auth import audit, writer  # the command line: audited as the operating-system user
        audit(conn, writer(principal, actor), "compliance.run", "compliance_run", run_id, None,
              {"period": period, "rules_version": ruleset.version, "patches": len(findings), "counts": counts,
               "project_findings": len(idle)})
    outputs = export_findings(db, out, analysis=run_id) if out is not None else ()
    return ComplianceResult(run_id, period, ruleset.version, counts, len(idle), seconds, tuple(outputs))


def resolve_analysis(conn: Connection, analysis: int | None, period: str | None) -> int:
    """The analysis named, else the newest (of ``period`` when given); InputError when there is none."""
    if analysis is not None:
        if not compliance_records.analysis_exists(conn, analysis):
            raise InputError(N_("compliance analysis {analysis} does not exist", analysis=analysis))
        return analysis
    rid = compliance_records.latest_analysis(conn, period)
    if rid is None:
        raise InputError(N_("no compliance analysis is stored for period {period!r}: run `shuibao supervise "
                            "compliance` first", period=period) if period else
                         N_("no compliance analysis is stored: run `shuibao supervise compliance` first"))
    return rid


def findings(db: str | None, *, analysis: int | None = None, period: str | None = None,
             category: str | None = None) -> tuple[list[dict], list]:
    """The rows of one analysis (latest by default) in export order, and the patches' geometries (EPSG:4490)."""
    with Store(db) as store, store.reading() as conn:
        store.require_current(conn)
        rid = resolve_analysis(conn, analysis, period)
        if category and category not in {c.value for c in Category}:
            raise InputError(N_("category {category!r}: expected one of {value1}", category=category, value1=', '.join(c.value for c in Category)))
        rows, geoms = [], []
        for m in compliance_records.finding_rows(conn, rid, category):
            rows.append({
                "patch_id": m["patch_code"], "category": m["category"],
                "category_zh": CATEGORY_ZH[Category(m["category"])], "project_id": m["project_id"],
                "project_code": m["project_code"], "project_name": m["project_name"], "period": m["period"],
                "image_date": m["image_date"].isoformat(), "district_code": m["district_code"], "kind": m["kind"],
                "patch_area_m2": round(m["patch_area_m2"], 2), "overlap_m2": round(m["overlap_m2"], 2),
                "outside_m2": round(m["outside_m2"], 2), "outside_share": round(m["outside_share"], 4),
                "distance_m": None if m["distance_m"] is None else round(m["distance_m"], 1),
                "tolerance_share": m["tolerance_share"],
                "candidates": json.dumps(json.loads(m["candidates_json"]), ensure_ascii=False),
                "reason": m["reason"], "rules_version": m["rules_version"], "analysis_id": rid,
                "_fid": m["patch_fid"],
            })
            geoms.append(m["geom"])
    return rows, geoms


def project_findings(db: str | None, *, analysis: int | None = None, period: str | None = None) -> list[dict]:
    """The project findings (idle projects…) of one analysis (latest by default), by project code."""
    with Store(db) as store, store.reading() as conn:
        store.require_current(conn)
        rid = resolve_analysis(conn, analysis, period)
        return compliance_records.project_finding_rows(conn, rid)


def export_findings(db: str | None, out: Path, *, analysis: int | None = None,
                    period: str | None = None) -> list[Path]:
    """OUT.gpkg (layers patch_compliance and project_findings) or OUT.csv (+ OUT.projects.csv)."""
    rows, geoms = findings(db, analysis=analysis, period=period)
    idle = project_findings(db, analysis=rows[0]["analysis_id"] if rows else analysis, period=period)
    for r in rows:
        r.pop("_fid")
    suffix = out.suffix.lower()
    if suffix == ".csv":
        return [write_csv_rows(out, COLUMNS, rows),
                write_csv_rows(out.with_name(out.stem + ".projects.csv"), PROJECT_COLUMNS, idle)]
    if suffix != ".gpkg":
        raise InputError(N_("-o {out}: expected a .gpkg or .csv file", out=out))
    layers = [FeatureSet("patch_compliance", rows, geoms)]
    if idle:
        with Store(db) as store, store.reading() as conn:
            areas = {p["id"]: p["geom"] for p in current_areas(conn)}
        layers.append(FeatureSet("project_findings", idle, [areas.get(p["project_id"]) for p in idle]))
    return write_features(out, layers, "EPSG:4490")
