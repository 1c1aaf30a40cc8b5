"""`shuibao stations …`: the station registry, observations with quality flags, annual summaries, rain export."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .. import vocabulary
from .common import FIELDS_HELP, Format, State, current_lang, emit_rows, field_mapping, title

app = typer.Typer(help="Monitoring stations (监测站点): registry, observations, QC, erosivity, rain for the "
                       "monitoring run.", no_args_is_help=True)

VARIABLE = typer.Option("rain_mm", "--variable", help="rain_mm, runoff_mm or sediment_kg (a variable of the QC "
                                                      "rules).")
RULES = typer.Option(None, "--rules", help="QC rules TOML replacing the shipped stations/data/qc_rules.toml.")


@app.callback()
def _group(ctx: typer.Context,
           actor: Optional[str] = typer.Option(None, "--actor", envvar="SHUIBAO_ACTOR",
                                               help="Who acts (recorded with every import); default: login name.")):
    ctx.obj.actor = actor



@app.command("import")
def stations_import(ctx: typer.Context,
                    file: Path = typer.Argument(..., help="CSV: code,name,kind,district,lon,lat[,elevation_m,"
                                                          "status,established_on]."),
                    fields: Optional[list[str]] = typer.Option(None, "--fields", help=FIELDS_HELP)):
    """Add stations and update known ones (by code); any rejected row refuses the file."""
    from shuibao.services.stations.records import import_stations

    state: State = ctx.obj
    r = import_stations(state.db, file, actor=state.actor, fields=field_mapping(fields))
    typer.echo(f"import {r['import_id']}: {r['rows']} station(s): {r['created']} new, {r['updated']} updated, "
               f"{r['unchanged']} unchanged")


@app.command("plan")
def stations_plan(ctx: typer.Context):
    """Register the plan's new stations of 专栏4 (status planned; idempotent)."""
    from shuibao.services.stations.records import register_planned_stations

    typer.echo(f"{register_planned_stations(ctx.obj.db)} planned station(s) added")


@app.command("list")
def stations_list(ctx: typer.Context, fmt: Format = typer.Option(Format.table, "--format", "-f")):
    """Registered stations."""
    from shuibao.services.stations.records import list_stations

    emit_rows(title("stations.list"), ["code", "name", ("kind", "station_kind"), "district_code", "lon", "lat",
                                       "elevation_m", ("status", "station_status"),
                             "plan_item", "established_on"], list_stations(ctx.obj.db), fmt)


@app.command("observations")
def stations_observations(ctx: typer.Context,
                          file: Path = typer.Argument(..., help="CSV: station,date,value (or rain_mm; "
                                                                "站码,日期,降雨量)."),
                          variable: str = VARIABLE, rules: Optional[Path] = RULES,
                          report: Optional[Path] = typer.Option(None, "--report", help="Write the per-row report "
                                                                                       "(CSV), also when refused."),
                          fields: Optional[list[str]] = typer.Option(None, "--fields", help="Field mapping "
                                                                     "FIELD=COLUMN of station, date and value, e.g. "
                                                                     "--fields station=测站编码,value=日雨量.")):
    """Import daily observations; every value is stored with its QC flag, missing days as gaps."""
    from shuibao.services.stations.records import import_observations

    state: State = ctx.obj
    r = import_observations(state.db, file, variable=variable, report=report, actor=state.actor, rules=rules,
                            fields=field_mapping(fields))
    flags = ", ".join(f"{k} {v}" for k, v in r["counts"].items() if v)
    typer.echo(f"import {r['import_id']}: {r['rows']} row(s) of {r['variable']} at {r['stations']} station(s) "
               f"(QC rules {r['rules_version']}): {flags}; {r['filled_gaps']} stored gap day(s) filled")


@app.command("qc")
def stations_qc(ctx: typer.Context, station: Optional[str] = typer.Option(None, "--station"),
                year: Optional[int] = typer.Option(None, "--year"), variable: str = VARIABLE,
                fmt: Format = typer.Option(Format.table, "--format", "-f")):
    """Every flagged observation (gap, missing, negative, impossible, spike, duplicate)."""
    from shuibao.services.stations.records import qc_report

    emit_rows(title("stations.qc", variable=vocabulary.label("variable", variable, current_lang())), ["station", "date", "value", "flag", "note", "source_row", "import_id"],
          qc_report(ctx.obj.db, station=station, year=year, variable=variable), fmt, right=["value"])


@app.command("summary")
def stations_summary(ctx: typer.Context, year: int = typer.Argument(...), variable: str = VARIABLE,
                     rules: Optional[Path] = RULES, fmt: Format = typer.Option(Format.table, "--format", "-f")):
    """Per station: ok days, gaps, flagged days, completeness, totals and (rain) R in MJ·mm/(hm²·h·a)."""
    from shuibao.services.stations.records import annual_summary

    rows = annual_summary(ctx.obj.db, year, variable=variable, rules=rules)
    if fmt != Format.json:
        for r in rows:
            r["completeness"] = round(r["completeness"], 3)
            r["total"] = round(r["total"], 1)
            r["r"] = None if r["r"] is None else round(r["r"], 1)
    emit_rows(title("stations.summary", year=year, variable=vocabulary.label("variable", variable, current_lang())),
              ["station", "name", ("kind", "station_kind"), "days_ok", "gaps", "flagged", "no_record",
                                 "completeness", "complete", ("total", "variable_total"), "max_daily", "days_ge_50", "r"], rows, fmt,
          right=["days_ok", "gaps", "flagged", "no_record", "completeness", "total", "max_daily", "days_ge_50", "r"])


@app.command("export-rain")
def stations_export_rain(ctx: typer.Context, year: int = typer.Argument(...),
                         out: Path = typer.Option(..., "-o", "--out", help="CSV for a monitoring spec's "
                                                                           "[inputs] rain.")):
    """The year's ok-flagged daily rain as station,date,rain_mm,lon,lat (the monitoring run's rain input)."""
    from shuibao.services.stations.records import export_rain

    left_out: list[str] = []
    path = export_rain(ctx.obj.db, year, out, left_out=left_out)
    typer.echo(str(path))
    if left_out:
        typer.echo(f"left out (no coordinates): {', '.join(left_out)}", err=True)
