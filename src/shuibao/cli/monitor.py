"""`shuibao monitor`: the annual monitoring run — validate, run, list, show, compare, template."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from .common import Format, State, emit_rows, print_csv, print_json, title

app = typer.Typer(help="Annual soil-loss monitoring (年度水土流失动态监测) from a run spec (TOML).",
                  no_args_is_help=True)

STEP_NAMES = {"erosion": "CSLE factors 因子", "soil_loss": "soil loss 侵蚀模数", "zones": "districts 区县",
              "watersheds": "small watersheds 小流域", "counts": "zonal counts 分区统计", "tables": "tables 表格",
              "vectors": "GeoPackage 图层", "store": "database 入库"}


class _Progress:
    """One line per step on stderr: a bar of the steps done, the step, its time; substeps indented."""

    def __init__(self, quiet: bool):
        self.quiet, self.total, self.done = quiet, 0, 0

    def __call__(self, kind: str, name: str, seconds: float) -> None:
        if kind == "plan":  # a new run: its number of steps
            self.total, self.done = int(seconds), 0
            return
        if self.quiet:
            return
        label = STEP_NAMES.get(name, name)
        if kind == "substep":
            typer.echo(f"      {name:<22} {seconds:8.2f} s", err=True)
            return
        if kind == "start":
            typer.echo(f"  [{self._bar()}] {label} …", err=True)
            return
        self.done += 1
        note = "reused from an earlier attempt" if kind == "reused" else f"{seconds:.2f} s"
        typer.echo(f"  [{self._bar()}] {label}: {note}", err=True)

    def _bar(self) -> str:
        n = min(self.done, self.total)
        return "#" * n + "." * (self.total - n)


@app.command()
def validate(ctx: typer.Context, spec: Path = typer.Argument(..., help="Run spec (TOML).")) -> None:
    """Check the spec and every input (files, CRS, grids, codes, rain) without computing; lists every problem."""
    from shuibao.services.monitoring.run_inputs import validate_run

    state: State = ctx.obj
    prep = validate_run(spec, state.db)
    if not state.quiet:
        g = prep.grid
        typer.echo(f"{spec}: valid — {prep.spec.name} ({prep.spec.year}); grid {g.shape[0]}×{g.shape[1]} cells of "
                   f"{g.cell_width:g} m, {int(prep.valid.sum()):,} with data; {len(prep.zones)} district zones; "
                   f"output {prep.spec.output}" + (" — SYNTHETIC inputs" if prep.spec.synthetic else ""))


@app.command()
def run(ctx: typer.Context, spec: Path = typer.Argument(..., help="Run spec (TOML).")) -> None:
    """Run (or resume) the monitoring run of SPEC: rasters, tables, GeoPackage, and the run in the database."""
    from shuibao.services.monitoring.annual_run import run_monitoring

    state: State = ctx.obj
    if not state.quiet:
        typer.echo(f"validating {spec} …", err=True)
    result = run_monitoring(spec, state.db, on_event=_Progress(state.quiet))
    if state.quiet:
        return
    s = result.summary
    syn = " (SYNTHETIC 合成数据)" if s["synthetic"] else ""
    typer.echo(f"run {result.run_id}{syn}: 全市 {s['total_km2']:.2f} km², 水土流失 {s['loss_km2']:.2f} km², "
               f"水土保持率 {s['rate_pct']:.2f} % (2025 target {s['target_2025_pct']:.2f} %, gap "
               f"{s['gap_pp']:+.2f} pp); {s['watersheds']} small watersheds")
    typer.echo(f"outputs in {result.output}: rasters/, tables/, monitoring.xlsx, monitoring.gpkg, provenance.json")


@app.command("list")
def list_(ctx: typer.Context, fmt: Format = typer.Option(Format.table, "--format", "-f")) -> None:
    """The stored monitoring runs, oldest first."""
    from shuibao.services.monitoring.runs import list_runs

    state: State = ctx.obj
    runs = list_runs(state.db)
    cols = ["id", "year", "name", "synthetic", "rate_pct", "total_km2", ("cell_m", "cell_size_m"), "created_at",
            "output_dir"]
    if fmt == Format.json:
        print_json([{"id": r.id, "year": r.year, "name": r.name, "synthetic": r.synthetic, "rate_pct": r.rate_pct,
                     "total_km2": r.total_km2, "cell_m": r.cell_size_m, "created_at": r.created_at.isoformat(),
                     "output_dir": r.output_dir} for r in runs])
    elif fmt == Format.csv:  # stable English column codes and plain values, for scripts
        print_csv([c if isinstance(c, str) else c[0] for c in cols],
                  [[r.id, r.year, r.name, "yes" if r.synthetic else "", f"{r.rate_pct:.2f}", f"{r.total_km2:.2f}",
                    f"{r.cell_size_m:g}", r.created_at.strftime("%Y-%m-%d %H:%M"), r.output_dir] for r in runs])
    else:
        emit_rows(title("monitor.runs" if runs else "monitor.runs_empty"), cols,
                  [{"id": r.id, "year": r.year, "name": r.name, "synthetic": r.synthetic, "rate_pct": r.rate_pct,
                    "total_km2": r.total_km2, "cell_m": r.cell_size_m, "created_at": r.created_at,
                    "output_dir": r.output_dir} for r in runs], fmt, right=("id", "rate_pct", "total_km2", "cell_m"))


def unit_rows(units: list[dict]) -> list[dict]:
    """A run's (or a comparison's) unit rows for a table: ``name`` in the table's language (a district's or
    region's label, the city's, the Three Gorges area's), the rest as stored."""
    from .common import current_lang
    from .. import vocabulary

    lang = current_lang()
    return [{**u, "name": vocabulary.label(u["level"], u.get("code"), lang) if u.get("level") in ("district", "region")
             else vocabulary.label("unit_level", u.get("level"), lang)} for u in units]


def synthetic_note(synthetic: bool) -> str:
    return title("synthetic") if synthetic else ""


@app.command()
def show(ctx: typer.Context, run_ref: str = typer.Argument("latest", help="Run id or 'latest'."),
         fmt: Format = typer.Option(Format.table, "--format", "-f")) -> None:
    """One run: area by grade and 水土保持率 per district, region, 三峡库区 and city."""
    from shuibao.services.monitoring.runs import get_run

    state: State = ctx.obj
    run = get_run(state.db, run_ref)
    info = run["info"]
    cols = [("level", "unit_level"), ("name", "unit_name"), "total_km2", "slight_km2", "loss_km2", "rate_pct",
            "target_2025_pct", "gap_pp"]
    keys = [c if isinstance(c, str) else c[0] for c in cols]
    if fmt == Format.json:
        print_json({"run": info.__dict__, "units": run["units"], "landuse": run["landuse"]})
    elif fmt == Format.csv:
        print_csv(keys, [[u[c] if not isinstance(u[c], float) else f"{u[c]:.2f}" for c in keys] for u in run["units"]])
    else:
        emit_rows(title("monitor.run", id=info.id, name=info.name) + synthetic_note(info.synthetic), cols,
                  unit_rows(run["units"]), fmt, right=keys[2:])


@app.command()
def compare(ctx: typer.Context, run_a: str = typer.Argument(..., help="Earlier run id (or 'latest')."),
            run_b: str = typer.Argument("latest", help="Later run id (default: latest)."),
            fmt: Format = typer.Option(Format.table, "--format", "-f")) -> None:
    """Year over year: change in area by grade and in 水土保持率 per unit, grade transitions, toward/away from targets."""
    from shuibao.services.monitoring.runs import compare_runs

    state: State = ctx.obj
    c = compare_runs(state.db, run_a, run_b)
    if fmt == Format.json:
        m = c["transition_cells"]
        print_json({"a": c["a"].__dict__, "b": c["b"].__dict__, "units": c["units"],
                    "transition_cells": None if m is None else m.tolist(),
                    "transition_km2": None if m is None else c["transition_km2"].tolist(),
                    "no_transitions": c["no_transitions"], "grades": c["grade_names"], "synthetic": c["synthetic"]})
        return
    cols = [("level", "unit_level"), ("name", "unit_name"), "rate_a", "rate_b", "d_rate_pp", "d_loss_km2",
            "target_2025_pct", "gap_b_pp", "toward_target"]
    keys = [c if isinstance(c, str) else c[0] for c in cols]

    def fmt_cell(v):
        return f"{v:+.2f}" if isinstance(v, float) else ("" if v is None else v)

    if fmt == Format.csv:
        print_csv(keys, [[fmt_cell(u[k]) if k.startswith("d_") else (f"{u[k]:.2f}" if isinstance(u[k], float) else u[k])
                          for k in keys] for u in c["units"]])
        return
    emit_rows(title("monitor.compare", a=c["a"].id, year_a=c["a"].year, b=c["b"].id, year_b=c["b"].year)
              + synthetic_note(c["synthetic"]), cols, unit_rows(c["units"]), fmt, right=keys[2:8])
    if c["transition_cells"] is None:
        typer.echo(f"no grade transition matrix: {c['no_transitions']}", err=True)
        return
    from .common import current_lang
    from .. import vocabulary

    grades = ["slight", "light", "moderate", "intense", "very_intense", "severe"]  # SL 190-2007, grade codes 1–6
    km2 = c["transition_km2"]
    lang = current_lang()
    names = [vocabulary.label("erosion_grade", g, lang) for g in grades]
    from .common import print_table

    print_table(title("monitor.transitions"), [title("monitor.transitions_corner"), *names],
                [[names[i - 1], *[vocabulary.number(km2[i, j]) for j in range(1, 7)]] for i in range(1, 7)],
                right=names)


@app.command()
def delete(ctx: typer.Context, run_ref: str = typer.Argument(..., help="Run id or 'latest'.")) -> None:
    """Remove a stored run from the database (its output folder stays)."""
    from shuibao.services.monitoring.runs import delete_run

    state: State = ctx.obj
    rid = delete_run(state.db, run_ref)
    if not state.quiet:
        typer.echo(f"deleted run {rid}")


@app.command()
def template() -> None:
    """Print a commented run spec with every input and parameter (units and defaults)."""
    from shuibao.services.monitoring.run_inputs import spec_template

    sys.stdout.write(spec_template())
