"""`shuibao supervise …`: projects, disturbance patches, compliance, cases and the other supervision records."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Optional

import typer

from .common import FIELDS_HELP, Format, State, emit_rows, field_mapping, option_date, print_json, title
from .supervise_approvals import app as approvals_app
from .supervise_detect import detect
from .supervise_fees import fees_app
from shuibao.errors import N_

app = typer.Typer(help="Supervision of production and construction projects (生产建设项目监管).",
                  no_args_is_help=True)
projects_app = typer.Typer(help="Projects (生产建设项目) and their responsibility areas (防治责任范围).",
                           no_args_is_help=True)
patches_app = typer.Typer(help="Remote-sensing disturbance patches (扰动图斑).", no_args_is_help=True)
cases_app = typer.Typer(help="The case ledger (台账 → 整改 → 销号).", no_args_is_help=True)
app.add_typer(projects_app, name="projects")
app.add_typer(patches_app, name="patches")
app.add_typer(cases_app, name="cases")
app.add_typer(approvals_app, name="approvals")
app.command("detect")(detect)


@app.callback()
def _group(ctx: typer.Context,
           actor: Optional[str] = typer.Option(None, "--actor", envvar="SHUIBAO_ACTOR",
                                               help="Who acts (recorded with every write); default: login name.")):
    ctx.obj.actor = actor




def _label(group: str, code) -> str:
    """A code's label in the command's language (``--lang``), for the one-line summaries."""
    from .. import vocabulary
    from .common import current_lang

    return vocabulary.label(group, code, current_lang())


# ---------------------------------------------------------------------------------------------- projects
@projects_app.command("import")
def projects_import(ctx: typer.Context,
                    file: Path = typer.Argument(..., help="GeoPackage, Shapefile or GeoJSON of responsibility "
                                                          "areas with project fields, or a CSV of projects."),
                    attributes: Optional[Path] = typer.Option(None, "--attributes",
                                                              help="CSV of project fields joined by code."),
                    layer: Optional[str] = typer.Option(None, "--layer"),
                    report: Optional[Path] = typer.Option(None, "--report", help="Write the per-feature report "
                                                                                 "(CSV), also when refused."),
                    fields: Optional[list[str]] = typer.Option(None, "--fields", help=FIELDS_HELP)):
    """Add new projects and update known ones (by code); a changed polygon becomes a new area version.

    A file without a total area takes each polygon's area, flagged as computed."""
    from shuibao.services.supervision.projects import import_projects

    state: State = ctx.obj
    r = import_projects(state.db, file, attributes=attributes, layer=layer, report=report, actor=state.actor,
                        fields=field_mapping(fields))
    typer.echo(f"import {r.import_id}: {r.features} project(s): {r.created} new, {r.updated} updated, "
               f"{r.unchanged} unchanged; {r.new_areas} new responsibility area version(s); {r.repaired} repaired"
               + (f"; {r.computed_areas} total area(s) computed from the polygon" if r.computed_areas else ""))
    for row in r.rows:
        if row["messages"]:
            typer.echo(f"  row {row['row']} ({row['key']}): {row['status']}: {row['messages']}")


@projects_app.command("list")
def projects_list(ctx: typer.Context, status: Optional[str] = typer.Option(None, "--status"),
                  district: Optional[str] = typer.Option(None, "--district"),
                  fmt: Format = typer.Option(Format.table, "--format", "-f")):
    """Projects with status and current responsibility area."""
    from shuibao.services.supervision.projects import list_projects

    rows = list_projects(ctx.obj.db, status=status, district=district)
    for r in rows:
        r["area_hm2"] = None if r["area_m2"] is None else round(r["area_m2"] / 1e4, 2)
    emit_rows(title("projects.list"), ["code", "name", "builder", "industry", "district_codes", "status",
                                 "approval_date", "area_version", "area_hm2"], rows, fmt, right=["area_hm2"])


@projects_app.command("export")
def projects_export(ctx: typer.Context, out: Path = typer.Option(..., "-o", "--out",
                                                                 help=".gpkg, .geojson, .shp or .csv")):
    """Export projects in the import format (re-importable), with their current areas."""
    from shuibao.services.supervision.projects import export_projects

    for path in export_projects(ctx.obj.db, out):
        typer.echo(str(path))


@projects_app.command("status")
def projects_status(ctx: typer.Context, code: str, status: str, note: str = typer.Option("", "--note")):
    """Move a project along its lifecycle (approved → under_construction → completed → acceptance_filed → verified)."""
    from shuibao.services.supervision.projects import set_status

    before = set_status(ctx.obj.db, code, status, note=note, actor=ctx.obj.actor)
    typer.echo(f"{code}: {before} → {status}")


@projects_app.command("history")
def projects_history(ctx: typer.Context, code: str, fmt: Format = typer.Option(Format.table, "--format", "-f")):
    """Every recorded change of a project (append-only)."""
    from shuibao.services.supervision.projects import project_history

    rows = project_history(ctx.obj.db, code)
    if fmt == Format.table:  # before/after as labelled records, not JSON text
        import json

        rows = [{**r, **{k: json.loads(r[k]) if isinstance(r.get(k), str) and r[k][:1] in "{[" else r.get(k)
                         for k in ("before_json", "after_json")}} for r in rows]
    emit_rows(title("projects.history", code=code), ["id", "event", "before_json", "after_json", "note", "recorded_at",
                                                     "recorded_by"], rows, fmt)


# ---------------------------------------------------------------------------------------------- patches
@patches_app.command("import")
def patches_import(ctx: typer.Context, file: Path = typer.Argument(..., help="Polygons of one period."),
                   period: Optional[str] = typer.Option(None, "--period", help="The period, if the file has none."),
                   layer: Optional[str] = typer.Option(None, "--layer"),
                   report: Optional[Path] = typer.Option(None, "--report", help="Write the per-feature report "
                                                                                "(CSV), also when refused."),
                   fields: Optional[list[str]] = typer.Option(None, "--fields", help=FIELDS_HELP)):
    """Import a period's disturbance patches; any rejected feature refuses the file (nothing stored)."""
    from shuibao.services.supervision.patches import import_patches

    r = import_patches(ctx.obj.db, file, period=period, layer=layer, report=report, actor=ctx.obj.actor,
                       fields=field_mapping(fields))
    typer.echo(f"import {r.import_id}: period {r.period}: {r.features} patch(es), {r.total_area_m2 / 1e4:.2f} hm², "
               f"{r.repaired} repaired")
    for row in r.rows:
        if row["messages"]:
            typer.echo(f"  row {row['row']} ({row['key']}): {row['status']}: {row['messages']}")


@patches_app.command("periods")
def patches_periods(ctx: typer.Context, fmt: Format = typer.Option(Format.table, "--format", "-f")):
    """Stored periods with their patch counts and areas."""
    from shuibao.services.supervision.patches import list_periods

    emit_rows(title("patches.periods"), ["period", "patches", "area_m2", "first_image", "last_image"],
          list_periods(ctx.obj.db), fmt, right=["patches", "area_m2"])


# ---------------------------------------------------------------------------------------------- compliance
@app.command()
def compliance(ctx: typer.Context, period: Optional[str] = typer.Option(None, "--period",
                                                                       help="Default: the latest period."),
               rules: Optional[Path] = typer.Option(None, "--rules", help="A rule file replacing the shipped one."),
               out: Optional[Path] = typer.Option(None, "-o", "--out", help="OUT.gpkg or OUT.csv")):
    """Classify every patch of a period: compliant, out_of_bounds, unapproved, relocated (合规性分析)."""
    from shuibao.services.supervision.compliance import run_compliance

    r = run_compliance(ctx.obj.db, period=period, rules=rules, out=out, actor=ctx.obj.actor)
    counts = ", ".join(f"{_label('compliance', k)} {v}" for k, v in r.counts.items())
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
    from shuibao.services.supervision.cases import open_cases_from_findings

    numbers = open_cases_from_findings(ctx.obj.db, analysis=analysis, period=period, on=option_date(on, "--on"),
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
    from shuibao.services.supervision.cases import open_case

    no = open_case(ctx.obj.db, title=title, category=category, on=option_date(on, "--on") or date.today(),
                   source_kind=source, project_code=project, district=district, subject=subject, note=note,
                   evidence=evidence, actor=ctx.obj.actor)
    typer.echo(no)


@cases_app.command("step")
def cases_step(ctx: typer.Context, case_no: str, step: str = typer.Argument(
                   ..., help="verify, order_rectification, rectify, review, close, extend_deadline or note "
                        "(a mistake: `cases void` / `cases correct`)"),
               on: Optional[str] = typer.Option(None, "--on", help="When it happened (default today)."),
               outcome: Optional[str] = typer.Option(None, "--outcome",
                                                     help="verify: confirmed|not_confirmed; review: passed|failed"),
               deadline: Optional[str] = typer.Option(None, "--deadline"),
               note: str = typer.Option("", "--note"), evidence: list[Path] = typer.Option([], "--evidence"),
               subject: Optional[str] = typer.Option(None, "--subject", help="Party found responsible (verify)."),
               category: Optional[str] = typer.Option(None, "--category", help="Corrected category (verify).")):
    """Append a step to a case; the ledger keeps every step (nothing is changed or deleted)."""
    from shuibao.services.supervision.cases import add_step

    v = add_step(ctx.obj.db, case_no, step, on=option_date(on, "--on") or date.today(), outcome=outcome,
                 deadline=option_date(deadline, "--deadline"), note=note, evidence=evidence, subject=subject,
                 category=category, actor=ctx.obj.actor)
    typer.echo(f"{v.case_no}: {_label('case_state', v.state)}" + (f", deadline {v.deadline}" if v.deadline else ""))


@cases_app.command("void")
def cases_void(ctx: typer.Context, case_no: str,
               seq: int = typer.Option(..., "--seq", help="The step to void (its # in `cases show`)."),
               reason: str = typer.Option(..., "--reason", help="Why the step is void (required)."),
               on: Optional[str] = typer.Option(None, "--on", help="Date of the correction (default today)."),
               evidence: list[Path] = typer.Option([], "--evidence")):
    """Void a mistaken step (作废): it stays in the timeline but no longer counts (state, deadline, dates)."""
    from shuibao.services.supervision.case_corrections import void_step

    v = void_step(ctx.obj.db, case_no, seq, reason=reason, on=option_date(on, "--on"), evidence=evidence,
                  actor=ctx.obj.actor)
    typer.echo(f"{v.case_no}: step {seq} voided; {_label('case_state', v.state)}"
               + (f", deadline {v.deadline}" if v.deadline else ""))


@cases_app.command("correct")
def cases_correct(ctx: typer.Context, case_no: str,
                  seq: int = typer.Option(..., "--seq", help="The step to correct (its # in `cases show`)."),
                  on: str = typer.Option(..., "--on", help="The step's right date."),
                  reason: str = typer.Option(..., "--reason", help="Why it is corrected (required)."),
                  note: Optional[str] = typer.Option(None, "--note", help="The right note (default: unchanged)."),
                  deadline: Optional[str] = typer.Option(None, "--deadline"),
                  evidence: list[Path] = typer.Option([], "--evidence")):
    """Correct a step's date or note (更正): the step is voided and recorded again."""
    from shuibao.services.supervision.case_corrections import correct_step

    v = correct_step(ctx.obj.db, case_no, seq, on=option_date(on, "--on"), reason=reason, note=note,
                     deadline=option_date(deadline, "--deadline"), evidence=evidence, actor=ctx.obj.actor)
    typer.echo(f"{v.case_no}: step {seq} corrected; {_label('case_state', v.state)}"
               + (f", deadline {v.deadline}" if v.deadline else ""))


@cases_app.command("list")
def cases_list(ctx: typer.Context, state: Optional[str] = typer.Option(None, "--state"),
               district: Optional[str] = typer.Option(None, "--district"),
               overdue: bool = typer.Option(False, "--overdue", help="Only cases past their deadline."),
               as_of: Optional[str] = typer.Option(None, "--as-of"),
               fmt: Format = typer.Option(Format.table, "--format", "-f")):
    """The ledger: each case with its state, deadline and days overdue."""
    from shuibao.services.supervision.cases import list_cases

    rows = list_cases(ctx.obj.db, state=state, district=district, overdue=overdue, as_of=option_date(as_of, "--as-of"))
    if fmt == Format.table:  # the category and state by their labels in the table's language (CSV: CASE_COLUMNS)
        rows = [{**r, "category_label": _category(r)} for r in rows]
        emit_rows(title("cases.list"), ["case_no", "title", "district_code", "subject",
                                        ("category_label", "case_category_label"), "state", "deadline",
                                        "overdue_days"], rows, fmt, right=["overdue_days"])
        return
    emit_rows(None, CASE_COLUMNS, rows, fmt)


def _category(row: dict) -> str:
    """A case's category in the table's language: a confirmed violation drops its 疑似 (suspected), as
    supervision.model.case_category_label does."""
    from .. import vocabulary
    from .common import current_lang

    lang = current_lang()
    if row.get("confirmed") and vocabulary.has_label("compliance_confirmed", row["category"]):
        return vocabulary.label("compliance_confirmed", row["category"], lang)
    return vocabulary.label("case_category", row["category"], lang)


@cases_app.command("show")
def cases_show(ctx: typer.Context, case_no: str, fmt: Format = typer.Option(Format.table, "--format", "-f")):
    """A case's timeline with its evidence files."""
    from shuibao.services.supervision.cases import get_case

    v = get_case(ctx.obj.db, case_no)
    if fmt == Format.json:
        print_json({"case_no": v.case_no, "header": v.header, "state": v.state, "deadline": v.deadline,
                    "overdue_days": v.overdue_days, "subject": v.subject, "category": v.category,
                    "events": v.events})
        return
    from .. import vocabulary
    from .common import current_lang

    typer.echo(f"{v.case_no} {v.header['title']}: {vocabulary.label('case_state', v.state, current_lang())}"
               + (f", deadline {v.deadline}" + (f", {v.overdue_days} days overdue" if v.overdue_days else "")
                  if v.deadline else ""))
    rows = [{**e, "evidence": ", ".join(f["name"] for f in e["evidence"]), "correction": _correction(e)}
            for e in v.events]
    emit_rows(title("cases.show", case_no=v.case_no),
              ["seq", "on_date", "step" if fmt == Format.table else "step_zh", "outcome", "deadline", "note",
               "evidence", "recorded_by", "correction"], rows, fmt)


def _correction(event: dict) -> str:
    """How a timeline row reads in the correction column: 已作废 by whom and why, or the step it voids."""
    by = event.get("voided_by")
    if by:
        return f"已作废 voided by #{by['seq']} {by['recorded_by']} {by['on_date']}: {by['reason']}"
    return f"voids #{event['voids_seq']}" if event.get("voids_seq") else ""


# ---------------------------------------------------------------------------------------------- programmes
inspect_app = typer.Typer(help="双随机一公开: inspectors, seeded draws, results, publication.", no_args_is_help=True)
reports_app = typer.Typer(help="监测季报 and the 绿黄红 traffic-light evaluation.", no_args_is_help=True)
acceptance_app = typer.Typer(help="设施验收报备 and 核查 by seeded sample.", no_args_is_help=True)
credit_app = typer.Typer(help="重点关注名单 and 失信黑名单 from the credit rules.", no_args_is_help=True)
for _sub, _name in ((inspect_app, "inspect"), (reports_app, "reports"), (acceptance_app, "acceptance"),
                    (fees_app, "fees"), (credit_app, "credit")):
    app.add_typer(_sub, name=_name)


@inspect_app.command("inspectors")
def inspect_inspectors(ctx: typer.Context, csv_file: Path = typer.Argument(..., help="CSV: code,name,district")):
    """Load or update the inspectors available to draws."""
    from shuibao.services.supervision.programs import import_inspectors

    typer.echo(f"{import_inspectors(ctx.obj.db, csv_file)} inspector(s) loaded")


@inspect_app.command("draw")
def inspect_draw(ctx: typer.Context, seed: int = typer.Option(..., "--seed", help="Announce it before drawing."),
                 count: Optional[int] = typer.Option(None, "--count"),
                 ratio: Optional[float] = typer.Option(None, "--ratio"),
                 per_project: int = typer.Option(2, "--per-project"),
                 max_load: Optional[int] = typer.Option(None, "--max-load")):
    """Draw projects under construction and inspectors (none from the project's district); reproducible by seed."""
    from shuibao.services.supervision.programs import draw

    d = draw(ctx.obj.db, seed=seed, count=count, ratio=ratio, per_project=per_project, max_load=max_load,
             actor=ctx.obj.actor)
    typer.echo(f"draw {d['draw_id']}: seed {d['seed']}, {len(d['assignments'])} of {d['population']} project(s), "
               f"population SHA-256 {d['population_digest']}")
    for project_id, team in d["assignments"]:
        typer.echo(f"  project {project_id}: {', '.join(team)}")


@inspect_app.command("result")
def inspect_result(ctx: typer.Context, inspection_id: int, result: str = typer.Argument(..., help="pass|problems"),
                   on: Optional[str] = typer.Option(None, "--on"), findings: str = typer.Option("", "--findings")):
    """Record an inspection's result; problems open a case."""
    from shuibao.services.supervision.programs import record_inspection

    no = record_inspection(ctx.obj.db, inspection_id, on=option_date(on, "--on") or date.today(), result=result,
                           findings=findings, actor=ctx.obj.actor)
    typer.echo(f"inspection {inspection_id}: {result}" + (f"; case {no} opened" if no else ""))


@inspect_app.command("publish")
def inspect_publish(ctx: typer.Context, draw_id: int, out: Path = typer.Option(..., "-o", "--out")):
    """The public list of a draw and its results (CSV)."""
    from shuibao.services.supervision.programs import publish_draw

    typer.echo(str(publish_draw(ctx.obj.db, draw_id, out)))


@reports_app.command("submit")
def reports_submit(ctx: typer.Context, project: str, period: str = typer.Argument(..., help="e.g. 2025Q3"),
                   period_end: str = typer.Option(..., "--period-end"),
                   scores: Path = typer.Option(..., "--scores", help="JSON object or CSV (indicator,score)."),
                   scheme: Optional[Path] = typer.Option(None, "--scheme", help="Replacement scoring scheme TOML.")):
    """Score a quarterly monitoring report (15 indicators, 100 points); red opens a verification case."""
    import csv as csv_module
    import json

    from ..errors import InputError
    from shuibao.services.supervision.programs import submit_report

    try:
        text = scores.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(N_("--scores {scores}: {strerror}", scores=scores, strerror=exc.strerror)) from None
    if scores.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(N_("--scores {scores}: not valid JSON ({exc})", scores=scores, exc=exc)) from None
    else:
        def number(v: str):
            try:
                return float(v)
            except ValueError:
                return v  # evaluate() names it among the problems

        data = {row[0]: number(row[1]) for row in csv_module.reader(text.splitlines())
                if len(row) >= 2 and row[0] != "indicator"}
    r = submit_report(ctx.obj.db, project, period, option_date(period_end, "--period-end"), data, scheme=scheme,
                      actor=ctx.obj.actor)
    typer.echo(f"{project} {period}: {r['total']:g} points, {_label('traffic_light', r['colour'])}"
               + (f"; case {r['case_no']} opened" if r["case_no"] else ""))


@acceptance_app.command("file")
def acceptance_file(ctx: typer.Context, project: str, reference: str = typer.Option(..., "--reference"),
                    on: Optional[str] = typer.Option(None, "--on")):
    """Record an acceptance filing (the project moves to acceptance_filed)."""
    from shuibao.services.supervision.programs import file_acceptance

    fid = file_acceptance(ctx.obj.db, project, filed_on=option_date(on, "--on") or date.today(), reference=reference,
                          actor=ctx.obj.actor)
    typer.echo(f"filing {fid}")


@acceptance_app.command("sample")
def acceptance_sample(ctx: typer.Context, ratio: float = typer.Option(..., "--ratio"),
                      seed: int = typer.Option(..., "--seed")):
    """Draw the filings to verify (核查) among those not sampled yet."""
    from shuibao.services.supervision.programs import sample_acceptance

    s = sample_acceptance(ctx.obj.db, ratio=ratio, seed=seed, actor=ctx.obj.actor)
    typer.echo(f"sample {s['sample_id']}: {len(s['selected'])} of {len(s['population'])}: "
               f"{', '.join(map(str, s['selected']))}")


@acceptance_app.command("verify")
def acceptance_verify(ctx: typer.Context, filing_id: int, result: str = typer.Argument(..., help="pass|fail"),
                      on: Optional[str] = typer.Option(None, "--on"), notes: str = typer.Option("", "--notes")):
    """Record a verification; a failure opens a case and returns the project to completed."""
    from shuibao.services.supervision.programs import verify_acceptance

    no = verify_acceptance(ctx.obj.db, filing_id, on=option_date(on, "--on") or date.today(), result=result, notes=notes,
                           actor=ctx.obj.actor)
    typer.echo(f"filing {filing_id}: {result}" + (f"; case {no} opened" if no else ""))


@credit_app.command("update")
def credit_update(ctx: typer.Context, as_of: Optional[str] = typer.Option(None, "--as-of"),
                  rules: Optional[Path] = typer.Option(None, "--rules"),
                  fmt: Format = typer.Option(Format.table, "--format", "-f")):
    """Apply the credit rules to the history; store new entries; show the lists in force."""
    from shuibao.services.supervision.programs import update_credit

    rows = update_credit(ctx.obj.db, as_of=option_date(as_of, "--as-of"), rules=rules, actor=ctx.obj.actor)
    emit_rows(title("credit.list"), ["list_kind", "subject", "rule_id", "valid_from", "valid_to", "reason"], rows, fmt)


@credit_app.command("list")
def credit_list(ctx: typer.Context, as_of: Optional[str] = typer.Option(None, "--as-of"),
                list_kind: Optional[str] = typer.Option(None, "--list", help="watch_list or blacklist"),
                fmt: Format = typer.Option(Format.table, "--format", "-f")):
    """Entries in force on a date, with the rule and evidence behind each."""
    from shuibao.services.supervision.programs import credit_lists

    rows = credit_lists(ctx.obj.db, as_of=option_date(as_of, "--as-of"), list_kind=list_kind)
    emit_rows(title("credit.list"), ["list_kind", "subject", "rule_id", "valid_from", "valid_to", "reason",
                                     ("evidence", "credit_evidence_list")],
          rows, fmt)


@cases_app.command("evidence")
def cases_evidence(ctx: typer.Context, sha256: str = typer.Argument(..., help="The file's SHA-256 (cases show)."),
                   out: Path = typer.Option(..., "-o", "--out", help="Where to write the file.")):
    """Write a stored evidence file (photo, document) back to disk."""
    from shuibao.services.supervision.cases import save_evidence

    name, media, size = save_evidence(ctx.obj.db, sha256, out)
    typer.echo(f"{out} ({name}, {media}, {size} bytes)")
