"""`shuibao supervise approvals …`: plan applications (方案报批) from registration to decision, filing and re-check."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .common import Column, Format, emit_rows, option_date, title
from shuibao.errors import N_, InputError

app = typer.Typer(help="Plan applications (方案审批): register, intake, review, decide, file, re-check.",
                  no_args_is_help=True)
recheck_app = typer.Typer(help="方案抽查复核: draw a reproducible sample of approved plans, record results.",
                          no_args_is_help=True)
app.add_typer(recheck_app, name="recheck")

LIST_COLUMNS: list[Column] = ["application_no", "project_code", "name", "district_code", ("plan_class", "plan_class"),
                ("path", "approval_path"), ("state", "application_state"), "land_take_hm2", "earthwork_m3",
                "counted_days", "limit_days", ("due_on", "approval_due_on"), "overdue"]


def _units(values: list[str]) -> list:
    """``--unit role=NAME[:CODE]`` options as units; InputError naming the option."""
    from shuibao.services.supervision.approvals import Unit

    out = []
    for v in values:
        role, sep, rest = v.partition("=")
        if not sep or not rest.strip():
            raise InputError(N_("--unit {value!r}: expected role=NAME or role=NAME:CREDITCODE", value=v))
        name, _, code = rest.partition(":")
        out.append(Unit(role.strip(), name.strip(), code.strip() or None))
    return out


def _polygon(path: Optional[Path], option: str = "--polygon"):
    from shuibao.services.supervision.approvals import read_polygon

    return None if path is None else read_polygon(path, option.lstrip("-").replace("-", "_"))


def _summary(a: dict) -> None:
    from .supervise import _label

    steps = ", ".join(_label("application_step", s) for s in a["valid_steps"]) or "—"
    typer.echo(f"{a['application_no']} ({a['project_code']}): {_label('plan_class', a['plan_class'])}, "
               f"{_label('approval_path', a['path'])}, {_label('application_state', a['state'])}; next: {steps}")


@app.command("register")
def register(ctx: typer.Context, project_code: str = typer.Argument(..., help="The project's code (项目编号)."),
             name: str = typer.Option(..., "--name"), industry: str = typer.Option(..., "--industry"),
             applicant: str = typer.Option(..., "--applicant"),
             land_take: float = typer.Option(..., "--land-take", help="征占地面积, hm²."),
             earthwork: float = typer.Option(..., "--earthwork", help="挖填土石方总量, m³."),
             polygon: Optional[Path] = typer.Option(None, "--polygon", help="The responsibility area (one polygon, "
                                                                            "GeoJSON/GeoPackage with a CRS)."),
             unit: list[str] = typer.Option([], "--unit", help="role=NAME[:CREDITCODE], role one of builder, "
                                                               "compiler, designer, constructor, supervisor, monitor "
                                                               "(repeat; a builder is required)."),
             document: Optional[Path] = typer.Option(None, "--document", help="The plan document (stored hashed)."),
             on: Optional[str] = typer.Option(None, "--on"), note: str = typer.Option("", "--note"),
             classes: Optional[Path] = typer.Option(None, "--classes", help="Replacement plan_classes.toml."),
             rules: Optional[Path] = typer.Option(None, "--rules", help="Replacement approvals.toml.")):
    """Register an application: the class, path and district follow from the data and the polygon."""
    from shuibao.services.supervision.approvals import register_application

    a = register_application(ctx.obj.db, project_code=project_code, name=name, industry=industry,
                             applicant=applicant, land_take_hm2=land_take, earthwork_m3=earthwork,
                             polygon=_polygon(polygon), units=_units(unit), document=document,
                             on=option_date(on, "--on"), note=note, actor=ctx.obj.actor, classes=classes, rules=rules)
    _summary(a)


@app.command("intake")
def intake(ctx: typer.Context, application: str, on: Optional[str] = typer.Option(None, "--on"),
           note: str = typer.Option("", "--note"),
           decision_no: Optional[str] = typer.Option(None, "--decision-no", help="承诺制: the decision number "
                                                                                 "(approved at intake)."),
           conditions: str = typer.Option("", "--conditions"),
           fmt: Format = typer.Option(Format.table, "--format", "-f")):
    """受理: shows and records the units' credit history (open cases, watch list, blacklist)."""
    from shuibao.services.supervision.approvals import intake as take, show_application

    a = take(ctx.obj.db, application, on=option_date(on, "--on"), note=note, decision_no=decision_no,
             conditions=conditions, actor=ctx.obj.actor)
    taken = next(e for e in show_application(ctx.obj.db, application)["events"] if e["step"] == "intake")
    rows = taken["detail"]["credit"]
    emit_rows(title("approvals.credit", name=application), [("role", "approval_role"), "name", "credit_code",
                                                           "open_cases", "watch_list", "blacklist"], rows, fmt)
    _summary(a)


@app.command("unit")
def add_unit(ctx: typer.Context, application: str, unit: str = typer.Argument(..., help="role=NAME[:CREDITCODE]")):
    """Add a later unit (设计/施工/监理/监测单位)."""
    from shuibao.services.supervision.approvals import add_unit as add

    _summary(add(ctx.obj.db, application, _units([unit])[0], actor=ctx.obj.actor))


@app.command("review")
def review(ctx: typer.Context, application: str,
           action: str = typer.Argument(..., help="assign | opinion | revision | conclude"),
           organisation: Optional[str] = typer.Option(None, "--organisation", help="assign: who reviews."),
           reviewer_kind: str = typer.Option("third_party", "--reviewer-kind", help="third_party | expert_panel"),
           outcome: Optional[str] = typer.Option(None, "--outcome", help="opinion: revise|noted; conclude: "
                                                                         "pass|fail"),
           conditions: str = typer.Option("", "--conditions"),
           document: Optional[Path] = typer.Option(None, "--document", help="The opinion, or the revised plan."),
           on: Optional[str] = typer.Option(None, "--on"), note: str = typer.Option("", "--note")):
    """技术评审: assign a reviewer, record opinions, revisions and the conclusion."""
    from shuibao.services.supervision import approvals as svc

    db, who, day = ctx.obj.db, ctx.obj.actor, option_date(on, "--on")
    if action == "assign":
        a = svc.assign_review(db, application, organisation=organisation or "", reviewer_kind=reviewer_kind, on=day,
                              note=note, actor=who)
    elif action == "opinion":
        a = svc.record_opinion(db, application, outcome=outcome or "", conditions=conditions, document=document,
                               on=day, note=note, actor=who)
    elif action == "revision":
        if document is None:
            raise InputError(N_("--document: a revision is a new version of the plan document: required"))
        a = svc.record_revision(db, application, document=document, on=day, note=note, actor=who)
    elif action == "conclude":
        a = svc.conclude_review(db, application, outcome=outcome or "", conditions=conditions, document=document,
                                on=day, note=note, actor=who)
    else:
        raise InputError(N_("action: {action!r}: expected assign, opinion, revision or conclude", action=action))
    _summary(a)


@app.command("extend")
def extend(ctx: typer.Context, application: str, reason: str = typer.Option(..., "--reason"),
           on: Optional[str] = typer.Option(None, "--on")):
    """延长审批期限 once (令53: 10 more working days, approved by the agency head; the reason is recorded)."""
    from shuibao.services.supervision.approvals import extend_limit

    _summary(extend_limit(ctx.obj.db, application, reason=reason, on=option_date(on, "--on"), actor=ctx.obj.actor))


@app.command("decide")
def decide(ctx: typer.Context, application: str,
           outcome: str = typer.Option(..., "--outcome", help="approve | refuse"),
           decision_no: str = typer.Option(..., "--decision-no"), on: Optional[str] = typer.Option(None, "--on"),
           conditions: str = typer.Option("", "--conditions"), authority: Optional[str] = typer.Option(None,
                                                                                                        "--authority"),
           approved_area: Optional[Path] = typer.Option(None, "--approved-area", help="The approved responsibility "
                                                                                      "area (default: the applied "
                                                                                      "polygon)."),
           note: str = typer.Option("", "--note")):
    """批复: the approved area becomes the project's current responsibility area version."""
    from shuibao.services.supervision.approvals import decide as dec

    a = dec(ctx.obj.db, application, outcome=outcome, decision_no=decision_no, on=option_date(on, "--on"),
            conditions=conditions, authority=authority, approved_area=_polygon(approved_area, "--approved-area"),
            note=note, actor=ctx.obj.actor)
    _summary(a)


@app.command("file")
def file(ctx: typer.Context, application: str, filing_no: str = typer.Option(..., "--filing-no"),
         on: Optional[str] = typer.Option(None, "--on"), note: str = typer.Option("", "--note")):
    """备案 (filing): the filed area becomes the project's current responsibility area version."""
    from shuibao.services.supervision.approvals import file_application

    _summary(file_application(ctx.obj.db, application, filing_no=filing_no, on=option_date(on, "--on"), note=note,
                              actor=ctx.obj.actor))


@app.command("list")
def list_(ctx: typer.Context, overdue: bool = typer.Option(False, "--overdue", help="Only those past their "
                                                                                      "time limit."),
          state: Optional[str] = typer.Option(None, "--state"), district: Optional[str] = typer.Option(None,
                                                                                                       "--district"),
          as_of: Optional[str] = typer.Option(None, "--as-of"),
          fmt: Format = typer.Option(Format.table, "--format", "-f")):
    """Applications with their time limits (working days, review time not counted); --overdue adds the count per
    district."""
    from shuibao.services.supervision.approvals import list_applications, overdue_counts

    day = option_date(as_of, "--as-of")
    rows = list_applications(ctx.obj.db, state=state, district=district, overdue=overdue, as_of=day)
    emit_rows(title("approvals.overdue" if overdue else "approvals.list"), LIST_COLUMNS, rows, fmt,
              right=["land_take_hm2", "earthwork_m3", "counted_days", "limit_days"])
    if overdue and fmt == Format.table:
        emit_rows(title("approvals.districts"), ["district_code", "open", "overdue"],
                  overdue_counts(ctx.obj.db, as_of=day), fmt, right=["open", "overdue"])


@app.command("show")
def show(ctx: typer.Context, application: str, as_of: Optional[str] = typer.Option(None, "--as-of"),
         fmt: Format = typer.Option(Format.table, "--format", "-f")):
    """One application: its header, units and every step (who, when, why)."""
    from shuibao.services.supervision.approvals import show_application

    a = show_application(ctx.obj.db, application, as_of=option_date(as_of, "--as-of"))
    if fmt == Format.json:
        from .common import print_json

        print_json({k: v for k, v in a.items() if k != "geom"})
        return
    emit_rows(title("approvals.list"), LIST_COLUMNS + ["decision_no"],
              [{**a, "decision_no": (a["decision"] or {}).get("decision_no")}], fmt)
    emit_rows(title("approvals.units", name=application), [("role", "approval_role"), "name", "credit_code"],
              a["units"], fmt)
    emit_rows(title("approvals.events", name=application),
              ["seq", ("step", "application_step"), ("outcome", "application_outcome"), ("state", "application_state"),
               "on_date", "note", "recorded_by"], a["events"], fmt)


@app.command("zone")
def zone(ctx: typer.Context, code: str, name: str = typer.Option(..., "--name"),
         approval_no: str = typer.Option(..., "--approval-no"),
         approved_on: str = typer.Option(..., "--approved-on"), valid_from: str = typer.Option(..., "--valid-from"),
         valid_to: str = typer.Option(..., "--valid-to"),
         polygon: Optional[Path] = typer.Option(None, "--polygon"), note: str = typer.Option("", "--note")):
    """Record a development zone's 区域评价 (区域水土保持方案) with its polygon and validity."""
    from shuibao.services.supervision.approvals import record_zone_evaluation
    from shuibao.services.supervision.common import as_date

    z = record_zone_evaluation(ctx.obj.db, code=code, name=name, approval_no=approval_no,
                               approved_on=as_date(approved_on, "--approved-on"),
                               valid_from=as_date(valid_from, "--valid-from"),
                               valid_to=as_date(valid_to, "--valid-to"), polygon=_polygon(polygon), note=note,
                               actor=ctx.obj.actor)
    typer.echo(f"zone evaluation {z['code']} ({z['district_code']}, {z['area_m2'] / 1e4:.2f} hm²)")


@app.command("consult")
def consult(ctx: typer.Context, plan_name: str = typer.Option(..., "--plan"), sector: str = typer.Option(..., "--sector"),
            opinion: str = typer.Option(..., "--opinion"), on: Optional[str] = typer.Option(None, "--on"),
            district: Optional[str] = typer.Option(None, "--district"),
            document: Optional[Path] = typer.Option(None, "--document")):
    """Record a 征求意见 (the opinion given on a sectoral plan)."""
    from datetime import date

    from shuibao.services.supervision.approvals import record_consultation

    cid = record_consultation(ctx.obj.db, plan_name=plan_name, sector=sector, opinion=opinion,
                              on=option_date(on, "--on") or date.today(), district=district, document=document,
                              actor=ctx.obj.actor)
    typer.echo(f"consultation {cid}")


@recheck_app.command("draw")
def recheck_draw(ctx: typer.Context, year: int = typer.Option(..., "--year"), seed: int = typer.Option(..., "--seed"),
                 ratio: Optional[float] = typer.Option(None, "--ratio", help="Default: approvals.toml [recheck].")):
    """Draw the approved plans of a year to re-check (seeded: the same seed gives the same sample)."""
    from shuibao.services.supervision.approvals import draw_recheck

    s = draw_recheck(ctx.obj.db, year=year, seed=seed, ratio=ratio, actor=ctx.obj.actor)
    typer.echo(f"sample {s['sample_id']}: {len(s['selected'])} of {len(s['population'])} (ratio {s['ratio']}): "
               f"{', '.join(s['selected'])}")


@recheck_app.command("record")
def recheck_record(ctx: typer.Context, sample_id: int, application: str,
                   outcome: str = typer.Option(..., "--outcome", help="pass | fail"),
                   findings: str = typer.Option("", "--findings"), on: Optional[str] = typer.Option(None, "--on"),
                   no_case: bool = typer.Option(False, "--no-case", help="A failure opens no case.")):
    """Record a re-check; a failure opens a case against the plan's compiler."""
    from shuibao.services.supervision.approvals import record_recheck

    r = record_recheck(ctx.obj.db, sample_id, application, outcome=outcome, findings=findings,
                       on=option_date(on, "--on"), open_case=not no_case, actor=ctx.obj.actor)
    typer.echo(f"{application}: {outcome}" + (f"; case {r['case_no']} opened" if r["case_no"] else ""))
