"""`shuibao governance …`, `shuibao warn …`, `shuibao assess …`: treatment patches, rain warnings, assessment."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .common import FIELDS_HELP, Format, emit_rows, field_mapping, option_date, print_json, title
from .governance_farmland import sloping_farmland

app = typer.Typer(help="Comprehensive governance (综合治理): treatment patches, progress against 专栏3.",
                  no_args_is_help=True)
warn_app = typer.Typer(help="Rain warnings (暴雨预警) tied to the sites at risk.", no_args_is_help=True)
assess_app = typer.Typer(help="District target-responsibility assessment (目标责任考核).", no_args_is_help=True)
app.command("sloping-farmland")(sloping_farmland)


@app.command("import")
def governance_import(ctx: typer.Context, file: Path = typer.Argument(..., help="Treatment patches (polygons)."),
                      layer: Optional[str] = typer.Option(None, "--layer"),
                      report: Optional[Path] = typer.Option(None, "--report", help="Per-feature report (CSV)."),
                      fields: Optional[list[str]] = typer.Option(None, "--fields", help=FIELDS_HELP)):
    """Add or update treatment patches and their projects; nothing stored unless every feature is acceptable."""
    from shuibao.services.governance.treatment import import_treatment

    r = import_treatment(ctx.obj.db, file, layer=layer, report=report, actor=ctx.obj.actor,
                         fields=field_mapping(fields))
    typer.echo(f"import {r.import_id}: {r.features} patch(es), {r.area_km2:.3f} km²: {r.created} new, {r.updated} "
               f"updated; {r.projects_created} new project(s); {r.repaired} repaired")


@app.command("progress")
def governance_progress(ctx: typer.Context, year: Optional[int] = typer.Option(None, "--year"),
                        by: str = typer.Option("kind", "--by", help="kind | district | year"),
                        fmt: Format = typer.Option(Format.table, "--format", "-f")):
    """Done, under way and planned treatment against the plan's quantities (专栏3)."""
    from shuibao.services.governance.treatment import progress

    p = progress(ctx.obj.db, year=year)
    if by == "district":
        emit_rows(title("governance.by_district", year=p["year"]),
                  ["district", ("kind", "measure_kind"), "done_km2", "share_of_city_pct"],
              p["by_district"], fmt, right=["done_km2", "share_of_city_pct"])
    elif by == "year":
        emit_rows(title("governance.by_year"), ["year", ("kind", "measure_kind"), ("status", "treatment_status"), "area_km2"],
                  p["by_year"], fmt, right=["area_km2"])
    else:
        emit_rows(title("governance.by_kind", year=p["year"], patches=p["patches"]),
              ["label", "unit", "target_2025", "done", "share_pct", "under_construction", "planned", "patches",
               "cost_wan"], p["by_kind"], fmt, right=["target_2025", "done", "share_pct", "under_construction",
                                                      "planned", "patches", "cost_wan"])


@app.command("sample")
def governance_sample(ctx: typer.Context, ratio: float = typer.Option(0.05, "--ratio", help="0.01–0.10"),
                      seed: int = typer.Option(..., "--seed"),
                      status: Optional[str] = typer.Option("completed", "--status"),
                      year: Optional[int] = typer.Option(None, "--year")):
    """A reproducible sample of treatment patches for re-check (复核)."""
    from shuibao.services.governance.treatment import sample_patches

    s = sample_patches(ctx.obj.db, ratio=ratio, seed=seed, status=status, year=year, actor=ctx.obj.actor)
    typer.echo(f"sample {s['sample_id']}: {len(s['selected'])} of {s['population']}: {', '.join(s['selected'])}")


@warn_app.command("run")
def warn_run(ctx: typer.Context, day: str = typer.Option(..., "--date", help="The day of the rain, YYYY-MM-DD."),
             grid: Optional[Path] = typer.Option(None, "--grid", help="A rain GeoTIFF (mm); default: the stations."),
             run: str = typer.Option("latest", "--run", help="Monitoring run whose grades are used, or 'none'."),
             rules: Optional[Path] = typer.Option(None, "--rules", help="Replacement warning levels (TOML)."),
             out: Optional[Path] = typer.Option(None, "-o", "--out", help="OUT.gpkg or OUT.csv"),
             fmt: Format = typer.Option(Format.table, "--format", "-f")):
    """Footprints of the day's rain per level and the sites inside them, each with an inspection task."""
    from shuibao.services.stations.rain_warning import warn

    r = warn(ctx.obj.db, rain_date=option_date(day, "--date"), rain_grid=grid, rules_path=rules,
             run=None if run == "none" else run, out=out, actor=ctx.obj.actor)
    if fmt == Format.json:
        print_json({"warning": r.run_id, "source": r.source, "footprints_km2": r.footprints, "hits": r.hits,
                    "notes": r.notes})
        return
    typer.echo(f"warning {r.run_id} for {r.rain_date} ({r.source}): "
               + (", ".join(f"{k} {v} km²" for k, v in r.footprints.items()) or "no level reached"))
    emit_rows(None, ["level", "target_kind", "target_label", "district_code", "rain_mm", "task_due_on", "task"], r.hits,
          fmt)
    for note in r.notes:
        typer.echo(f"note: {note}", err=True)
    for p in r.outputs:
        typer.echo(str(p))


@warn_app.command("show")
def warn_show(ctx: typer.Context, warning_id: int, fmt: Format = typer.Option(Format.table, "--format", "-f")):
    """The sites and tasks of a stored warning."""
    from shuibao.services.stations.rain_warning import warning_hits

    emit_rows(title("warn.show", id=warning_id), ["level", "target_kind", "target_label", "district_code", "rain_mm",
                                    "task_due_on", "task"], warning_hits(ctx.obj.db, warning_id), fmt)


@assess_app.command("run")
def assess_run(ctx: typer.Context, year: int = typer.Option(..., "--year"),
               run: Optional[str] = typer.Option(None, "--run", help="Monitoring run (default: the year's latest)."),
               scheme: Optional[Path] = typer.Option(None, "--scheme", help="Replacement indicator tree (TOML)."),
               out: Optional[Path] = typer.Option(None, "-o", "--out", help="OUT.csv (+ OUT.summary.csv)"),
               fmt: Format = typer.Option(Format.table, "--format", "-f")):
    """Score every district for a year from the records; every score keeps the records behind it."""
    from shuibao.services.assessment.responsibility import LEAVES, run_assessment

    r = run_assessment(ctx.obj.db, year, run=run, scheme_path=scheme, out=out, actor=ctx.obj.actor)
    emit_rows(title("assess.run", year=year, id=r["assessment_id"], run=r["monitoring_run"]),
          ["district", *LEAVES, "total", "grade"], r["districts"], fmt, right=[*LEAVES, "total"])
    for p in r.get("outputs", []):
        typer.echo(str(p))


@assess_app.command("show")
def assess_show(ctx: typer.Context, assessment_id: int, district: Optional[str] = typer.Option(None, "--district"),
                fmt: Format = typer.Option(Format.table, "--format", "-f")):
    """Scores with their evidence (the record ids each score comes from)."""
    from shuibao.services.assessment.responsibility import get_assessment

    rows = get_assessment(ctx.obj.db, assessment_id)["scores"]
    if district:
        rows = [r for r in rows if r["district_code"] == district]
    emit_rows(title("assess.show", id=assessment_id), ["district_code", "indicator", "value", "score", "max_score", "evidence"],
          rows, fmt, right=["value", "score", "max_score"])
