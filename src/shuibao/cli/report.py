"""`shuibao report`: documents generated from stored data."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Optional

import typer

from .common import Format, State, emit_rows, print_csv, print_json, title
from shuibao.errors import N_

app = typer.Typer(help="Reports from stored data: the annual bulletin (水土保持公报).", no_args_is_help=True)


@app.command()
def bulletin(ctx: typer.Context,
             run: str = typer.Option("latest", "--run", help="Monitoring run id or 'latest'."),
             compare: Optional[str] = typer.Option(
                 None, "--compare", help="An earlier run id, or 'previous' (the newest run of an earlier year)."),
             out: Path = typer.Option(..., "-o", "--out", help="Output folder."),
             pdf: bool = typer.Option(True, "--pdf/--no-pdf", help="Also write bulletin.pdf (WeasyPrint)."),
             issuer: Optional[str] = typer.Option(
                 None, "--issuer", help="Issuing body on the cover and in the 前言 (default 重庆市水利局)."),
             issued: Optional[datetime] = typer.Option(
                 None, "--issued", formats=["%Y-%m-%d"], help="Date on the cover, YYYY-MM-DD (default: the day "
                                                             "the run was stored).")) -> None:
    """The annual bulletin in Chinese (bulletin.html, figures/, bulletin.pdf): cover, 前言, 目录, city, regions,
    三峡库区, maps, charts, district tables, records, provenance."""
    from shuibao.services.reporting.bulletin import write_bulletin_report

    state: State = ctx.obj
    for path in write_bulletin_report(state.db, run, compare, out, pdf=pdf, issuer=issuer,
                                      issued=issued.date() if issued else None):
        typer.echo(str(path))


@app.command()
def district(ctx: typer.Context,
             names: Optional[list[str]] = typer.Argument(None, help="District name(s) or code(s), e.g. 万州区."),
             all_: bool = typer.Option(False, "--all", help="A sheet for every district the run covers."),
             run: str = typer.Option("latest", "--run", help="Monitoring run id or 'latest'."),
             compare: Optional[str] = typer.Option(
                 "previous", "--compare", help="An earlier run id, or 'previous' (the newest run of an earlier year)."),
             out: Path = typer.Option(..., "-o", "--out", help="Output folder."),
             pdf: bool = typer.Option(True, "--pdf/--no-pdf", help="Also write a PDF per sheet.")) -> None:
    """One-page sheets per district: rate against the target, grades, map, change since the previous run."""
    from ..errors import InputError
    from shuibao.services.reporting.bulletin import write_district_reports

    state: State = ctx.obj
    if bool(names) == all_:
        raise InputError(N_("name one or more districts, or give --all (not both)"))
    for path in write_district_reports(state.db, run, None if all_ else list(names), compare, out, pdf=pdf):
        if path.suffix != ".svg":
            typer.echo(str(path))


@app.command("plan-progress")
def plan_progress(ctx: typer.Context,
                  run: str = typer.Option("latest", "--run", help="Monitoring run whose 水土保持率 is used."),
                  fmt: Format = typer.Option(Format.table, "--format", "-f")) -> None:
    """The plan's indicators (专栏1, 专栏3, 专栏4) against the platform's records; unrecorded ones say so."""
    from shuibao.services.assessment.plan_progress import COLUMNS
    from shuibao.services.assessment.plan_progress import plan_progress as progress

    state: State = ctx.obj
    rows = progress(state.db, run)
    if fmt == Format.json:
        print_json(rows)
        return
    table = [["" if r[c] is None else r[c] for c in COLUMNS] for r in rows]
    if fmt == Format.csv:
        print_csv(COLUMNS, table)
    else:  # the table leaves out the indicator's code (key): its label is the row's name
        emit_rows(title("report.plan_progress"), [("source", "plan_source"), ("item", "plan_item"),
                                                  ("label", "plan_indicator"), "status_2020", "target_2025",
                                                  ("unit", "plan_unit"), ("value", "plan_value"),
                                                  ("status", "plan_progress_status"), ("evidence", "plan_evidence")],
                  rows, fmt,
                  right=["status_2020", "target_2025", "value"])
