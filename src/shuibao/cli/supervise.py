"""`shuibao supervise …`: projects, disturbance patches, compliance, cases and the other supervision records."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Optional

import typer

from .common import Format, State, print_csv, print_json, print_table

app = typer.Typer(help="Supervision of production and construction projects (生产建设项目监管).",
                  no_args_is_help=True)
projects_app = typer.Typer(help="Projects (生产建设项目) and their responsibility areas (防治责任范围).",
                           no_args_is_help=True)
patches_app = typer.Typer(help="Remote-sensing disturbance patches (扰动图斑).", no_args_is_help=True)
cases_app = typer.Typer(help="The case ledger (台账 → 整改 → 销号).", no_args_is_help=True)
app.add_typer(projects_app, name="projects")
app.add_typer(patches_app, name="patches")
app.add_typer(cases_app, name="cases")


@app.callback()
def _group(ctx: typer.Context,
           actor: Optional[str] = typer.Option(None, "--actor", envvar="SHUIBAO_ACTOR",
                                               help="Who acts (recorded with every write); default: login name.")):
    ctx.obj.actor = actor


def _date(value: Optional[str], option: str) -> Optional[date]:
    from ..services.supervision_common import as_date

    return None if value is None else as_date(value, option)


def _emit(title: str, columns: list[str], rows: list[dict], fmt: Format, right=()) -> None:
    if fmt == Format.json:
        print_json(rows)
        return
    table = [[r.get(c) for c in columns] for r in rows]
    (print_csv(columns, table) if fmt == Format.csv else print_table(title, columns, table, right=right))


# ---------------------------------------------------------------------------------------------- projects
@projects_app.command("import")
def projects_import(ctx: typer.Context,
                    file: Path = typer.Argument(..., help="GeoPackage, Shapefile or GeoJSON of responsibility "
                                                          "areas with project fields, or a CSV of projects."),
                    attributes: Optional[Path] = typer.Option(None, "--attributes",
                                                              help="CSV of project fields joined by code."),
                    layer: Optional[str] = typer.Option(None, "--layer"),
                    report: Optional[Path] = typer.Option(None, "--report", help="Write the per-feature report "
                                                                                 "(CSV), also when refused.")):
    """Add new projects and update known ones (by code); a changed polygon becomes a new area version."""
    from ..services.projects import import_projects

    state: State = ctx.obj
    r = import_projects(state.db, file, attributes=attributes, layer=layer, report=report, actor=state.actor)
    typer.echo(f"import {r.import_id}: {r.features} project(s): {r.created} new, {r.updated} updated, "
               f"{r.unchanged} unchanged; {r.new_areas} new responsibility area version(s); {r.repaired} repaired")
    for row in r.rows:
        if row["messages"]:
            typer.echo(f"  row {row['row']} ({row['key']}): {row['status']}: {row['messages']}")


@projects_app.command("list")
def projects_list(ctx: typer.Context, status: Optional[str] = typer.Option(None, "--status"),
                  district: Optional[str] = typer.Option(None, "--district"),
                  fmt: Format = typer.Option(Format.table, "--format", "-f")):
    """Projects with status and current responsibility area."""
    from ..services.projects import list_projects

    rows = list_projects(ctx.obj.db, status=status, district=district)
    for r in rows:
        r["area_hm2"] = None if r["area_m2"] is None else round(r["area_m2"] / 1e4, 2)
    _emit("生产建设项目 projects", ["code", "name", "builder", "industry", "district_codes", "status",
                                 "approval_date", "area_version", "area_hm2"], rows, fmt, right=["area_hm2"])


@projects_app.command("export")
def projects_export(ctx: typer.Context, out: Path = typer.Option(..., "-o", "--out",
                                                                 help=".gpkg, .geojson, .shp or .csv")):
    """Export projects in the import format (re-importable), with their current areas."""
    from ..services.projects import export_projects

    for path in export_projects(ctx.obj.db, out):
        typer.echo(str(path))


@projects_app.command("status")
def projects_status(ctx: typer.Context, code: str, status: str, note: str = typer.Option("", "--note")):
    """Move a project along its lifecycle (approved → under_construction → completed → acceptance_filed → verified)."""
    from ..services.projects import set_status

    before = set_status(ctx.obj.db, code, status, note=note, actor=ctx.obj.actor)
    typer.echo(f"{code}: {before} → {status}")


@projects_app.command("history")
def projects_history(ctx: typer.Context, code: str, fmt: Format = typer.Option(Format.table, "--format", "-f")):
    """Every recorded change of a project (append-only)."""
    from ..services.projects import project_history

    _emit(f"{code} history", ["id", "event", "before_json", "after_json", "note", "recorded_at", "recorded_by"],
          project_history(ctx.obj.db, code), fmt)


# ---------------------------------------------------------------------------------------------- patches
@patches_app.command("import")
def patches_import(ctx: typer.Context, file: Path = typer.Argument(..., help="Polygons of one period."),
                   period: Optional[str] = typer.Option(None, "--period", help="The period, if the file has none."),
                   layer: Optional[str] = typer.Option(None, "--layer"),
                   report: Optional[Path] = typer.Option(None, "--report", help="Write the per-feature report "
                                                                                "(CSV), also when refused.")):
    """Import a period's disturbance patches; any rejected feature refuses the file (nothing stored)."""
    from ..services.patches import import_patches

    r = import_patches(ctx.obj.db, file, period=period, layer=layer, report=report, actor=ctx.obj.actor)
    typer.echo(f"import {r.import_id}: period {r.period}: {r.features} patch(es), {r.total_area_m2 / 1e4:.2f} hm², "
               f"{r.repaired} repaired")
    for row in r.rows:
        if row["messages"]:
            typer.echo(f"  row {row['row']} ({row['key']}): {row['status']}: {row['messages']}")


@patches_app.command("periods")
def patches_periods(ctx: typer.Context, fmt: Format = typer.Option(Format.table, "--format", "-f")):
    """Stored periods with their patch counts and areas."""
    from ..services.patches import list_periods

    _emit("扰动图斑 periods", ["period", "patches", "area_m2", "first_image", "last_image"],
          list_periods(ctx.obj.db), fmt, right=["patches", "area_m2"])


# ---------------------------------------------------------------------------------------------- compliance
@app.command()
def compliance(ctx: typer.Context, period: Optional[str] = typer.Option(None, "--period",
                                                                       help="Default: the latest period."),
               rules: Optional[Path] = typer.Option(None, "--rules", help="A rule file replacing the shipped one."),
               out: Optional[Path] = typer.Option(None, "-o", "--out", help="OUT.gpkg or OUT.csv")):
    """Classify every patch of a period: compliant, out_of_bounds, unapproved, relocated (合规性分析)."""
    from ..services.compliance import run_compliance

    r = run_compliance(ctx.obj.db, period=period, rules=rules, out=out, actor=ctx.obj.actor)
    counts = ", ".join(f"{k} {v}" for k, v in r.counts.items())
    typer.echo(f"analysis {r.analysis_id}: period {r.period}, rules {r.rules_version}: {counts}; "
               f"{r.project_findings} project finding(s)")
    for p in r.outputs:
        typer.echo(str(p))


# ---------------------------------------------------------------------------------------------- cases
CASE_COLUMNS = ["case_no", "title", "district_code", "subject", "category_zh", "state_zh", "deadline", "overdue_days"]


@cases_app.command("open-from-findings")
def cases_from_findings(ctx: typer.Context, analysis: Optional[int] = typer.Option(None, "--analysis"),
                        period: Optional[str] = typer.Option(None, "--period"),
                        on: Optional[str] = typer.Option(None, "--on", help="Date of opening (default today).")):
    """Open a case for every suspect finding (out_of_bounds, unapproved, relocated) whose patch has none."""
    from ..services.cases import open_cases_from_findings

    numbers = open_cases_from_findings(ctx.obj.db, analysis=analysis, period=period, on=_date(on, "--on"),
                                       actor=ctx.obj.actor)
    typer.echo(f"{len(numbers)} case(s) opened" + (f": {numbers[0]} … {numbers[-1]}" if numbers else ""))


@cases_app.command("open")
def cases_open(ctx: typer.Context, title: str = typer.Option(..., "--title"),
               category: str = typer.Option(..., "--category"),
               project: Optional[str] = typer.Option(None, "--project", help="Project code."),
               district: Optional[str] = typer.Option(None, "--district"),
               subject: Optional[str] = typer.Option(None, "--subject", help="The responsible party."),
               source: str = typer.Option("manual", "--source"),
               on: Optional[str] = typer.Option(None, "--on"), note: str = typer.Option("", "--note"),
               evidence: list[Path] = typer.Option([], "--evidence")):
    """Open a case by hand (e.g. from a report by the public or an inspection)."""
    from ..services.cases import open_case

    no = open_case(ctx.obj.db, title=title, category=category, on=_date(on, "--on") or date.today(),
                   source_kind=source, project_code=project, district=district, subject=subject, note=note,
                   evidence=evidence, actor=ctx.obj.actor)
    typer.echo(no)


@cases_app.command("step")
def cases_step(ctx: typer.Context, case_no: str, step: str = typer.Argument(
                   ..., help="verify, order_rectification, rectify, review, close, extend_deadline or note"),
               on: Optional[str] = typer.Option(None, "--on", help="When it happened (default today)."),
               outcome: Optional[str] = typer.Option(None, "--outcome",
                                                     help="verify: confirmed|not_confirmed; review: passed|failed"),
               deadline: Optional[str] = typer.Option(None, "--deadline"),
               note: str = typer.Option("", "--note"), evidence: list[Path] = typer.Option([], "--evidence"),
               subject: Optional[str] = typer.Option(None, "--subject", help="Party found responsible (verify)."),
               category: Optional[str] = typer.Option(None, "--category", help="Corrected category (verify).")):
    """Append a step to a case; the ledger keeps every step (nothing is changed or deleted)."""
    from ..services.cases import add_step

    v = add_step(ctx.obj.db, case_no, step, on=_date(on, "--on") or date.today(), outcome=outcome,
                 deadline=_date(deadline, "--deadline"), note=note, evidence=evidence, subject=subject,
                 category=category, actor=ctx.obj.actor)
    typer.echo(f"{v.case_no}: {v.state} ({v.state_zh})" + (f", deadline {v.deadline}" if v.deadline else ""))


@cases_app.command("list")
def cases_list(ctx: typer.Context, state: Optional[str] = typer.Option(None, "--state"),
               district: Optional[str] = typer.Option(None, "--district"),
               overdue: bool = typer.Option(False, "--overdue", help="Only cases past their deadline."),
               as_of: Optional[str] = typer.Option(None, "--as-of"),
               fmt: Format = typer.Option(Format.table, "--format", "-f")):
    """The ledger: each case with its state, deadline and days overdue."""
    from ..services.cases import list_cases

    rows = list_cases(ctx.obj.db, state=state, district=district, overdue=overdue, as_of=_date(as_of, "--as-of"))
    _emit("台账 cases", CASE_COLUMNS, rows, fmt, right=["overdue_days"])


@cases_app.command("show")
def cases_show(ctx: typer.Context, case_no: str, fmt: Format = typer.Option(Format.table, "--format", "-f")):
    """A case's timeline with its evidence files."""
    from ..services.cases import get_case

    v = get_case(ctx.obj.db, case_no)
    if fmt == Format.json:
        print_json({"case_no": v.case_no, "header": v.header, "state": v.state, "deadline": v.deadline,
                    "overdue_days": v.overdue_days, "subject": v.subject, "category": v.category,
                    "events": v.events})
        return
    typer.echo(f"{v.case_no} {v.header['title']}: {v.state_zh} ({v.state})"
               + (f", deadline {v.deadline}" + (f", {v.overdue_days} days overdue" if v.overdue_days else "")
                  if v.deadline else ""))
    rows = [{**e, "evidence": ", ".join(f["name"] for f in e["evidence"])} for e in v.events]
    _emit(None, ["seq", "on_date", "step_zh", "outcome", "deadline", "note", "evidence", "recorded_by"], rows, fmt)
