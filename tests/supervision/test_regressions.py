"""Regressions found by a review of the supervision module: each failed before its fix."""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from shuibao.errors import InputError
from shuibao.services.supervision import cases as case_service
from shuibao.services.supervision import compliance as compliance_service
from shuibao.services.supervision import patches as patch_service
from shuibao.services.supervision import projects as project_service
from shuibao.services.supervision import programs
from shuibao.services.supervision.summary import supervision_summary
from shuibao.store import Store, schema

from tests.helpers import patch_row, project_row, square, write_layer


def _count(db, table) -> int:
    with Store(db) as store, store.reading() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar()


def _write_csv(path, rows: list[dict]):
    keys = list(dict.fromkeys(k for r in rows for k in r))
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, keys)
        w.writeheader()
        w.writerows(rows)
    return path


# ------------------------------------------------------------------------------------------------ compliance
def test_compliance_with_an_unsupported_output_stores_no_analysis(sdb, tmp_path):
    """services/supervision/compliance.py:91: the analysis is committed before the export checks its suffix, so a
    refused `-o out.shp` leaves a stored analysis behind (and a rerun stores a second one)."""
    project_service.import_projects(sdb, write_layer(tmp_path / "p.gpkg", [project_row("P1")], [square(0, 0, 100)]))
    patch_service.import_patches(sdb, write_layer(tmp_path / "a.gpkg", [patch_row("A")], [square(10, 10, 50)]))
    with pytest.raises(InputError):
        compliance_service.run_compliance(sdb, out=tmp_path / "out.shp")
    assert _count(sdb, schema.compliance_runs) == 0
    assert _count(sdb, schema.compliance_findings) == 0


# ------------------------------------------------------------------------------------------------ projects
def test_project_export_with_a_project_without_area_reimports(sdb, tmp_path):
    """services/supervision/projects.py:273-306 + supervision/imports.py:204: a project imported from a CSV (no area) is
    exported with a NULL geometry; the documented "re-importable" export is then refused ("no geometry")."""
    project_service.import_projects(sdb, write_layer(tmp_path / "p.gpkg", [project_row("P1")], [square(0, 0, 100)]))
    project_service.import_projects(sdb, _write_csv(tmp_path / "p2.csv", [project_row("P2")]))
    out = tmp_path / "export.gpkg"
    project_service.export_projects(sdb, out)
    r = project_service.import_projects(sdb, out)
    assert (r.created, r.updated, r.unchanged, r.new_areas) == (0, 0, 2, 0)


def test_attribute_rows_without_a_polygon_are_not_silently_dropped(sdb, tmp_path):
    """services/supervision/projects.py:46-59: `--attributes` rows whose code has no polygon vanish: not imported,
    not reported, no error."""
    polygons = write_layer(tmp_path / "areas.gpkg", [{"code": "P1"}], [square(0, 0, 100)])
    attributes = _write_csv(tmp_path / "attrs.csv", [project_row("P1"), project_row("P2")])
    try:
        project_service.import_projects(sdb, polygons, attributes=attributes)
    except InputError as exc:
        assert "P2" in str(exc)
        return
    codes = {p["code"] for p in project_service.list_projects(sdb)}
    assert codes == {"P1", "P2"}


def test_a_refused_status_change_is_in_the_per_row_report(sdb, tmp_path):
    """services/supervision/projects.py:95 and 176-181: the report is written (all rows "ok") before the lifecycle check;
    the import is then refused on a status move, and the report the error points to says nothing about it."""
    src = write_layer(tmp_path / "p.gpkg", [project_row("P1", status="施工")], [square(0, 0, 100)])
    project_service.import_projects(sdb, src)
    project_service.set_status(sdb, "P1", "completed")
    report = tmp_path / "r.csv"
    with pytest.raises(InputError, match="cannot go from completed to under_construction"):
        project_service.import_projects(sdb, src, report=report)
    with open(report, encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["status"] for r in rows] == ["rejected"]
    assert "completed" in rows[0]["messages"]


# ------------------------------------------------------------------------------------------------ patches
def test_a_long_change_type_is_judged_per_row_on_both_backends(sdb, tmp_path):
    """schema.py disturbance_patches.change_type is String(20): PostgreSQL refuses a longer value with a bare
    database error (no row named); SQLite stores it.  check_change_type accepts any 续建… text."""
    change = "续建（范围扩大，较上期新增临时堆土区与施工便道）"
    assert len(change) > 20
    src = write_layer(tmp_path / "p.gpkg", [patch_row("A", change_type=change)], [square(0, 0, 50)])
    try:
        patch_service.import_patches(sdb, src)
    except InputError as exc:  # a per-row rejection is a fine fix too
        assert "row 1" in str(exc)


# ------------------------------------------------------------------------------------------------ cases
def test_case_list_filters_by_district_name_as_documented(sdb, tmp_path):
    """services/supervision/cases.py:431: `cases list --district 万州区` (docs) compares the name with district_code."""
    project_service.import_projects(sdb, write_layer(tmp_path / "p.gpkg", [project_row("P1")], [square(0, 0, 100)]))
    no = case_service.open_case(sdb, title="t", category="unapproved", on=date(2025, 7, 1), project_code="P1")
    assert [r["case_no"] for r in case_service.list_cases(sdb, district="yubei")] == [no]
    assert [r["case_no"] for r in case_service.list_cases(sdb, district="渝北区")] == [no]


def test_summary_counts_cases_open_at_the_end_of_a_past_year(sdb, tmp_path):
    """services/supervision/summary.py:441-447: the year-end counts use each case's *current* state, so a case
    open on 31 December 2025 and closed in January 2026 disappears from the 2025 bulletin's 年末未销号."""
    project_service.import_projects(sdb, write_layer(tmp_path / "p.gpkg", [project_row("P1")], [square(0, 0, 100)]))
    no = case_service.open_case(sdb, title="t", category="unapproved", on=date(2025, 3, 1), project_code="P1")
    case_service.add_step(sdb, no, "verify", on=date(2026, 1, 10), outcome="not_confirmed", note="不属实")
    case_service.add_step(sdb, no, "close", on=date(2026, 1, 20), note="销号")
    with Store(sdb) as store, store.reading() as conn:
        rows = {r["item"]: r for r in supervision_summary(conn, 2025)}
    assert rows["年末未销号"]["value"] == 1
    assert rows["当年销号"]["value"] == 0


# ------------------------------------------------------------------------------------------------ fees
def test_volume_fee_does_not_default_to_the_area(sdb, tmp_path):
    """services/supervision/programs.py:266-268: without --quantity every category is billed on the area in m²,
    also the volume (m³) and output (t) categories: 1 hm² becomes 10,000 m³ of spoil."""
    project_service.import_projects(sdb, write_layer(tmp_path / "p.gpkg", [project_row("P1", spoil_m3=500.0)],
                                                     [square(0, 0, 100)]))
    try:
        a = programs.assess_fee(sdb, "P1", category="spoil_disposal", on=date(2025, 7, 1))
    except InputError:
        return  # refusing to guess a volume is a fine fix
    assert a["basis"] == "volume_m3" and Decimal(a["billable_quantity"]) == Decimal(500)


def test_a_nan_payment_is_refused_as_input(sdb, tmp_path):
    """services/supervision/programs.py:282-287: Decimal('NaN') passes quantize; `amount <= 0` then raises
    decimal.InvalidOperation (a traceback) instead of the InputError the CLI reports."""
    project_service.import_projects(sdb, write_layer(tmp_path / "p.gpkg", [project_row("P1")], [square(0, 0, 100)]))
    aid = programs.assess_fee(sdb, "P1", on=date(2025, 7, 1))["assessment_id"]
    with pytest.raises(InputError):
        programs.pay_fee(sdb, aid, paid_on=date(2025, 7, 2), amount_yuan="NaN", receipt="R-1")


def test_the_period_option_fills_blank_period_cells(sdb, tmp_path):
    """services/supervision/patches.py:348 + imports.py:263-265: `--period` is only a default for a *missing* column; a file
    whose 监管期次 column is present but blank is refused row by row ("period: empty") although the option
    names the period (docs: period "yes, or --period")."""
    src = write_layer(tmp_path / "p.gpkg", [patch_row("A", period=None), patch_row("B", period="2025H1")],
                      [square(0, 0, 50), square(100, 0, 50)])
    r = patch_service.import_patches(sdb, src, period="2025H1")
    assert (r.period, r.features) == ("2025H1", 2)


def test_a_second_result_for_one_inspection_is_an_input_error(sdb, tmp_path):
    """services/supervision/programs.py:116-140: a second result for an inspection hits the UNIQUE constraint
    and surfaces as a bare "database error: UNIQUE constraint failed" (after opening and rolling back a case)."""
    project_service.import_projects(sdb, write_layer(tmp_path / "p.gpkg", [project_row("P1")], [square(0, 0, 100)]))
    staff = _write_csv(tmp_path / "staff.csv", [{"code": "I1", "name": "甲", "district": "江北区"},
                                                {"code": "I2", "name": "乙", "district": "江北区"}])
    programs.import_inspectors(sdb, staff)
    d = programs.draw(sdb, seed=1, count=1)
    with Store(sdb) as store, store.reading() as conn:
        iid = conn.execute(select(schema.inspections.c.id).where(schema.inspections.c.draw_id == d["draw_id"])
                           ).scalar()
    programs.record_inspection(sdb, iid, on=date(2025, 7, 1), result="pass")
    with pytest.raises(InputError, match="already"):
        programs.record_inspection(sdb, iid, on=date(2025, 7, 2), result="problems", findings="弃渣未拦挡")
