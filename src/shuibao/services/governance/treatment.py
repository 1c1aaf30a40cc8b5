"""Treatment projects managed patch by patch (综合治理图斑精细化管理): import, progress against 专栏3, re-check
samples.

An import is judged feature by feature like the supervision uploads (nothing stored unless every
feature is acceptable).  New patch codes are added; a known code updates its patch (status, year,
measure, cost, funding, polygon) — a patch moves from planned to completed over the years.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import shapely
from sqlalchemy import Connection

from shuibao.errors import InputError, N_
from shuibao.governance.measures import load_measures
from shuibao.governance.progress import (
    STATUS_ZH,
    STATUSES,
    PatchRecord,
    Target,
    by_district,
    by_kind,
    by_year,
)
from shuibao.io.features import read_features
from shuibao.plan.reference import load_reference
from shuibao.store import Store
from shuibao.store.repositories import treatment as repo
from shuibao.supervision import draws
from shuibao.supervision.imports import FieldSpec, validate_layer
from shuibao.store.repositories.district_codes import majority_districts as _districts
from shuibao.services.supervision.common import (
    actor as who,
    district_lookup,
    dumps,
    now,
    record_import,
    refuse,
    report_rows,
    to_metres,
    write_report,
)

_KIND_ZH = {"小流域水土流失综合治理": "small_watershed", "小流域综合治理": "small_watershed",
            "退耕还林": "farmland_to_forest", "新一轮退耕还林": "farmland_to_forest",
            "高标准农田": "high_standard_farmland", "高标准农田建设": "high_standard_farmland",
            "土地综合整治": "land_consolidation", "石漠化综合治理": "rocky_desertification",
            "矿山生态修复": "mine_restoration", "林地水土保持效应提升": "forest_improvement",
            "生态清洁小流域": "eco_clean_watersheds", "水土保持科技示范园": "demonstration_parks"}


def _kinds() -> dict[str, str]:
    keys = {g.key: g.key for g in load_reference().governance}
    return keys | {zh: k for zh, k in _KIND_ZH.items() if k in keys}


def treatment_fields() -> tuple[FieldSpec, ...]:
    measures = load_measures()
    return (
        FieldSpec("patch_code", "text", True, ("图斑编号",)),
        FieldSpec("project_code", "text", True, ("项目编号",)),
        FieldSpec("project_name", "text", True, ("项目名称",)),
        FieldSpec("kind", "choice", True, ("治理类型", "项目类型"), _kinds()),
        FieldSpec("measure", "choice", True, ("措施类型", "治理措施"),
                  {m.key: m.key for m in measures.measures} | {m.name_zh: m.key for m in measures.measures}),
        FieldSpec("year", "number", True, ("实施年度", "年度"), minimum=2000),
        FieldSpec("status", "choice", False, ("状态", "建设状态"),
                  {s: s for s in STATUSES} | {zh: s for s, zh in STATUS_ZH.items()}),
        FieldSpec("area_hm2", "number", False, ("面积", "治理面积"), minimum=0),
        FieldSpec("cost_wan", "number", False, ("投资", "投资（万元）"), minimum=0),
        FieldSpec("funding_source", "text", False, ("资金来源",)),
        FieldSpec("district", "text", False, ("区县",)),
    )


@dataclass(frozen=True)
class TreatmentImport:
    import_id: int
    features: int
    created: int
    updated: int
    projects_created: int
    repaired: int
    area_km2: float
    rows: list[dict]


def import_treatment(db: str | None, path: Path, *, layer: str | None = None, report: Path | None = None,
                     actor: str | None = None, principal=None, fields: dict[str, str] | None = None
                     ) -> TreatmentImport:
    """Add or update treatment patches (and their projects); nothing stored unless every feature is acceptable.

    ``fields``: the officer's field → column mapping, before the aliases (字段映射).

    With a ``principal`` (the web platform): city administrators only, audited in the import's transaction.
    """
    from shuibao.services.platform.auth import batch_actor

    actor = batch_actor(principal, actor)
    src = read_features(path, "treatment patches", layer=layer)
    checked = validate_layer(src.geoms, src.fields, src.crs, treatment_fields(), "patch_code",
                             has_geometry=src.has_geometry, mapping=fields)
    areas = shapely.area(to_metres([g if g is not None else shapely.Point() for g in checked.geoms]))
    project_kind: dict[str, tuple[str, int]] = {}
    for rec, rep, area in zip(checked.records, checked.reports, areas):
        rec["area_m2"] = float(area)
        if rec.get("year") is not None:
            if not float(rec["year"]).is_integer():
                rep.reject(N_("year: {year!r} is not a whole year", year=rec['year']))
            rec["year"] = int(rec["year"])
        code, kind = rec.get("project_code"), rec.get("kind")
        if code and kind:
            first = project_kind.setdefault(code, (kind, rep.row))
            if first[0] != kind:
                rep.reject(N_("kind: project {code} is {value1} in row {value2} and {kind} here", code=code, value1=first[0], value2=first[1], kind=kind))
        declared = rec.get("area_hm2")
        if declared and area and abs(declared * 1e4 - area) > 0.1 * area:
            rep.messages.append(N_("note: declared area_hm2 {declared:g} differs from the polygon's {value1:.2f}", declared=declared, value1=area / 1e4))
    by = who(actor)
    with Store(db) as store, store.transaction() as conn:
        store.require_current(conn)
        lookup = district_lookup(conn)
        for rec, rep in zip(checked.records, checked.reports):
            if rec.get("district") and rec["district"] not in lookup:
                rep.reject(N_("district: {district} not known", district=rec['district']))
        write_report(report, checked.reports, checked.problems)
        if not checked.ok or not checked.records:
            if not checked.records:
                checked.problems.append(N_("the file holds no features"))
            raise refuse("treatment patches", path, checked, report)
        at = now()
        import_id = record_import(conn, "treatment", path, src.layer, checked, None, at, by)
        computed = _districts(conn, checked.geoms)
        counts = _write(conn, checked, computed, lookup, import_id, at)
        repo.record_extent(conn, tuple(map(float, shapely.total_bounds(checked.geoms))))
        from shuibao.services.platform.auth import audit, writer  # the command line: audited as the operating-system user
        audit(conn, writer(principal, actor), "treatment.import", "import", import_id, None,
              {"features": len(checked.records), **counts, "repaired": len(checked.repaired),
               "source": path.name})
    return TreatmentImport(import_id, len(checked.records), counts["created"], counts["updated"], counts["projects"],
                           len(checked.repaired), float(areas.sum()) / 1e6, report_rows(checked.reports))


def _write(conn: Connection, checked, computed, lookup, import_id: int, at) -> dict:
    projects = repo.project_ids(conn)
    known = repo.patch_fids(conn)
    counts = {"created": 0, "updated": 0, "projects": 0}
    for rec, rep, geom, district in zip(checked.records, checked.reports, checked.geoms, computed):
        district = lookup.get(rec.get("district") or "") or district
        if rec["project_code"] not in projects:
            projects[rec["project_code"]] = repo.insert_project(
                conn, code=rec["project_code"], name=rec["project_name"], kind=rec["kind"], district_code=district,
                funding_source=rec.get("funding_source"), created_at=at)
            counts["projects"] += 1
        values = dict(project_id=projects[rec["project_code"]], measure=rec["measure"], year=rec["year"],
                      status=rec.get("status") or "planned", area_m2=rec["area_m2"],
                      declared_area_hm2=rec.get("area_hm2"), cost_wan=rec.get("cost_wan"),
                      funding_source=rec.get("funding_source"), district_code=district, import_id=import_id,
                      source_row=rep.row, repaired=rep.status == "repaired", geom=geom)
        if rec["patch_code"] in known:
            repo.update_patch(conn, known[rec["patch_code"]], values)
            counts["updated"] += 1
        else:
            repo.insert_patch(conn, rec["patch_code"], values)
            counts["created"] += 1
    return counts


def _targets() -> list[Target]:
    return [Target(g.key, g.label, float(g.quantity), g.unit, g.counts_toward_new_treatment)
            for g in load_reference().governance]


def patch_records(conn: Connection) -> list[PatchRecord]:
    return [PatchRecord(*r) for r in repo.patch_progress_rows(conn)]


def progress(db: str | None, *, year: int | None = None) -> dict:
    """Progress per plan type (专栏3), per district and type, and per year, up to ``year`` (default this year)."""
    year = year or date.today().year
    with Store(db) as store, store.reading() as conn:
        store.require_current(conn)
        records = patch_records(conn)
        names = repo.district_names(conn)
    targets = _targets()
    districts = by_district(targets, records, year)
    for row in districts:
        row["district"] = names.get(row["district_code"] or "", "（区县未定）")
    return {"year": year, "patches": len(records), "by_kind": by_kind(targets, records, year),
            "by_district": districts, "by_year": by_year(records)}


def sample_patches(db: str | None, *, ratio: float, seed: int, status: str | None = "completed",
                   year: int | None = None, actor: str | None = None) -> dict:
    """A reproducible sample (1–10 %) of treatment patches for re-check (复核), stored with its population."""
    if not 0.01 <= ratio <= 0.10:
        raise InputError(N_("ratio {ratio}: the re-check sample is 1–10 % of the patches (0.01–0.10)", ratio=ratio))
    if status and status not in STATUSES:
        raise InputError(N_("status {status!r}: expected one of {STATUSES}", status=status, STATUSES=', '.join(STATUSES)))
    by, at = who(actor), now()
    with Store(db) as store, store.transaction() as conn:
        store.require_current(conn)
        ids = repo.patch_fids_where(conn, status=status, year=year)
        if not ids:
            raise InputError(N_("no treatment patch matches the sample's criteria"))
        chosen = draws.sample(ids, ratio=ratio, seed=seed)
        sid = repo.insert_sample(
            conn, seed=seed, ratio=ratio, criteria_json=dumps({"status": status, "year": year}),
            population_json=dumps(ids), selected_json=dumps(list(chosen)), recorded_at=at, recorded_by=by)
        codes = repo.patch_codes(conn, chosen)
    return {"sample_id": sid, "population": len(ids), "selected": [codes[i] for i in chosen]}


def treatment_geoms(conn: Connection, *, statuses=STATUSES, codes: list[str] | None = None) -> list[dict]:
    """Patches with their measure and geometry (EPSG:4490), for scenarios and maps."""
    rows = repo.patches_with_geometry(conn, statuses)
    if codes is not None:
        unknown = sorted(set(codes) - {r["patch_code"] for r in rows})
        if unknown:
            raise InputError(N_("treatment patches not found (or not in status {statuses}): "
                             "{value1}", statuses=', '.join(statuses), value1=', '.join(unknown[:10])))
        rows = [r for r in rows if r["patch_code"] in set(codes)]
    return rows


__all__ = ["import_treatment", "progress", "sample_patches", "treatment_geoms", "patch_records"]
