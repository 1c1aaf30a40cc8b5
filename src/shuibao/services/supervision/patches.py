"""Disturbance patches (扰动图斑): import a period's interpreted patches with lineage; list them.

Each patch keeps where it came from (the import: file, SHA-256, layer, CRS,
time, who; and its row).  Invalid polygons are repaired and reported; any
rejected feature — or a patch id already stored for the period — refuses the
whole file, so a failed import stores nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from sqlalchemy import Connection

from shuibao.errors import InputError, N_
from shuibao.io.features import read_features
from shuibao.store import Store
from shuibao.store.repositories import patches as patch_records
from shuibao.store.repositories.district_codes import majority_districts
from shuibao.supervision.imports import PATCH_FIELDS, check_change_type, validate_layer
from shuibao.services.supervision.common import (
    actor as who,
    now,
    record_import,
    refuse,
    joined_messages,
    report_rows,
    to_metres,
    write_report,
)

DECLARED_AREA_TOLERANCE = 0.1  # a declared area further than this from the polygon's is noted in the report


@dataclass(frozen=True)
class PatchImport:
    import_id: int
    period: str
    features: int
    repaired: int
    total_area_m2: float
    rows: list[dict]


def import_patches(db: str | None, path: Path, *, period: str | None = None, layer: str | None = None,
                   report: Path | None = None, actor: str | None = None, principal=None,
                   fields: dict[str, str] | None = None) -> PatchImport:
    """Store one period's patches (every feature judged; nothing stored unless all are acceptable).

    ``fields``: the officer's field → column mapping, before the aliases (字段映射).

    With a ``principal`` (the web platform): city administrators only, audited in the import's transaction.
    """
    from shuibao.services.platform.auth import batch_actor

    actor = batch_actor(principal, actor)
    src = read_features(path, "patches", layer=layer)
    defaults = {"period": period} if period else {}
    checked = validate_layer(src.geoms, src.fields, src.crs, PATCH_FIELDS, "patch_id", has_geometry=src.has_geometry,
                             defaults=defaults, mapping=fields)
    if period:  # the option names the period: a file that says otherwise is a mistake
        for rec, rep in zip(checked.records, checked.reports):
            if rec.get("period") not in (None, period):
                rep.reject(N_("period {period!r} differs from --period {period2!r}", period=rec['period'], period2=period))
    metres = to_metres([g if g is not None else shapely.Point() for g in checked.geoms])
    areas = shapely.area(metres) if len(metres) else np.zeros(0)
    for rec, rep, area in zip(checked.records, checked.reports, areas):
        rec["area_computed"] = float(area)
        if not check_change_type(rec.get("change_type")):
            rep.reject(N_("change_type: {change_type!r} is not 新增, 续建(…) or 完工", change_type=rec['change_type']))
        declared = rec.get("area_m2")
        if declared and area and abs(declared - area) > DECLARED_AREA_TOLERANCE * area:
            rep.messages.append(N_("note: declared area_m2 {declared:.0f} differs from the polygon's {area:.0f} m²", declared=declared, area=area))
    periods = {rec["period"] for rec in checked.records if rec.get("period")}
    if not checked.records:
        checked.problems.append(N_("the file holds no features"))
    if len(periods) > 1:
        checked.problems.append(N_("one import holds one period; found {periods} "
                                "(split the file, or give --period)", periods=', '.join(sorted(periods))))
    by = who(actor)
    with Store(db) as store, store.transaction() as conn:
        store.require_current(conn)
        reject_known_ids(conn, checked)
        write_report(report, checked.reports, checked.problems)
        if not checked.ok or not periods:
            raise refuse("patches", path, checked, report)
        (the_period,) = periods
        at = now()
        import_id = record_import(conn, "patches", path, src.layer, checked, the_period, at, by)
        districts = majority_districts(conn, checked.geoms)
        patch_records.insert_patches(conn, [dict(
            patch_code=rec["patch_id"], period=rec["period"], image_date=rec["image_date"],
            kind=rec.get("kind") or "其他扰动", industry=rec.get("industry"), change_type=rec.get("change_type"),
            construction_status=rec.get("construction_status"), declared_area_m2=rec.get("area_m2"),
            area_m2=rec["area_computed"], district_code=d, import_id=import_id, source_row=rep.row,
            repaired=rep.status == "repaired", repair_note=joined_messages(rep.messages).render("en") or None, geom=g,
        ) for rec, rep, g, d in zip(checked.records, checked.reports, checked.geoms, districts)])
        from shuibao.services.platform.auth import audit, writer  # the command line: audited as the operating-system user
        audit(conn, writer(principal, actor), "patches.import", "import", import_id, None,
              {"period": the_period, "features": len(checked.records), "repaired": len(checked.repaired),
               "source": str(path.name)})
    return PatchImport(import_id, the_period, len(checked.records), len(checked.repaired), float(areas.sum()),
                       report_rows(checked.reports))


def reject_known_ids(conn: Connection, checked) -> None:
    """Reject patch ids that the period already holds (a correction is a new period or a new id)."""
    for period in {r.get("period") for r in checked.records if r.get("period")}:
        codes = {r["patch_id"] for r in checked.records if r.get("period") == period and r.get("patch_id")}
        stored = patch_records.stored_patch_codes(conn, period, codes)
        for rec, rep in zip(checked.records, checked.reports):
            if rec.get("period") == period and rec.get("patch_id") in stored:
                rep.reject(N_("patch_id {patch_id!r} is already stored for period {period}", patch_id=rec['patch_id'], period=period))


def list_periods(db: str | None) -> list[dict]:
    """One row per stored period: patches, area (m²), first and last image date."""
    with Store(db) as store, store.reading() as conn:
        store.require_current(conn)
        return patch_records.period_summaries(conn)


def latest_period(conn: Connection) -> str:
    """The period of the most recently imaged patch; InputError when none is stored."""
    period = patch_records.latest_period(conn)
    if period is None:
        raise InputError(N_("no disturbance patches are stored: run `shuibao supervise patches import FILE` first"))
    return period
