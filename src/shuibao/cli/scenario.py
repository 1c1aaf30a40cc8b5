"""`shuibao scenario`: "if these planned treatment patches were built" — run, list, show."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .common import Format, State, emit_rows, print_csv, print_json, title
from .monitor import synthetic_note, unit_rows

app = typer.Typer(help="Treatment scenarios (情景分析): planned patches' B/E/T applied to a monitoring run, "
                       "district rates beside the baseline.", no_args_is_help=True)

# the unit table's columns: the CSV's keys (stable, for scripts) and, where another name labels it, the field
SHOW_COLUMNS: list = [("level", "unit_level"), ("name", "unit_name"), "base_rate_pct", ("rate_pct", "scenario_rate_pct"),
                      "d_rate_pp", "target_2025_pct", "base_gap_pp", ("gap_pp", "scenario_gap_pp"), "base_loss_km2",
                      ("loss_km2", "scenario_loss_km2"), "d_loss_km2"]
SHOW_KEYS = [c if isinstance(c, str) else c[0] for c in SHOW_COLUMNS]


def _num(key: str, v):
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:+.3f}" if key.startswith("d_") else f"{v:.2f}"
    return v


@app.command()
def run(ctx: typer.Context,
        name: str = typer.Option(..., "--name", "-n", help="A title for the scenario."),
        run_ref: str = typer.Option("latest", "--run", help="Baseline monitoring run: id or 'latest'."),
        patch: Optional[list[str]] = typer.Option(None, "--patch", help="A treatment patch code (repeat); "
                                                   "default: every patch in --status."),
        status: Optional[list[str]] = typer.Option(None, "--status", help="Patch status to select (repeat): "
                                                    "planned, under_construction, completed, accepted; default "
                                                    "planned and under_construction."),
        measures: Optional[Path] = typer.Option(None, "--measures", help="Own measures table (TOML) instead of "
                                                "the shipped one."),
        out: Optional[Path] = typer.Option(None, "--out", "-o", help="Folder for soil_loss.tif, grade.tif, "
                                           "patches.tif, units.csv, patches.csv, scenario.json."),
        literal: bool = typer.Option(False, "--literal", help="Apply each measure's B/E/T on every cell under "
                                     "its patch, even where that raises soil loss (default: only where it lowers it)."),
        changed: bool = typer.Option(False, "--changed", help="Print only the units that change (and the city)."),
        fmt: Format = typer.Option(Format.table, "--format", "-f")) -> None:
    """Apply the selected patches' measures to a run, recompute the cells under them and store the unit table."""
    from shuibao.services.governance.scenarios import DEFAULT_STATUSES, run_scenario

    state: State = ctx.obj
    r = run_scenario(state.db, base_run=run_ref, name=name, patch_codes=patch or None,
                     statuses=tuple(status) if status else DEFAULT_STATUSES, measures=measures, out=out,
                     actor=state.actor, never_worse=not literal)
    if state.quiet:
        return
    if fmt == Format.json:
        print_json({"scenario_id": r.scenario_id, "name": r.name, "base_run_id": r.base_run_id,
                    "synthetic": r.synthetic, "cells_covered": r.cells_covered, "cells_changed": r.cells_changed,
                    "cells_grade_changed": r.cells_grade_changed, "cells_increased": r.cells_increased,
                    "patches": r.patches, "units": r.units, "output": str(r.output) if r.output else None,
                    "timings_s": r.timings_s})
        return
    _print_units(title("scenario.run", id=r.scenario_id, name=r.name, base=r.base_run_id) + synthetic_note(r.synthetic),
                 r.units, fmt, changed)
    if fmt == Format.csv:
        return
    city = r.unit("city", "city")
    typer.echo(f"{len(r.patches)} patch(es), {r.cells_covered:,} cells under them, {r.cells_changed:,} changed "
               f"({r.cells_grade_changed:,} change grade); 全市 水土保持率 {city['base_rate_pct']:.2f} % → "
               f"{city['rate_pct']:.2f} % (target {city['target_2025_pct']:.2f} %)", err=True)
    empty = [p["patch_code"] for p in r.patches if p["cells"] == 0]
    if empty:
        typer.echo(f"note: {len(empty)} patch(es) cover no cell with data of the run's grid: {', '.join(empty[:20])}",
                   err=True)
    if r.output:
        typer.echo(f"outputs in {r.output}", err=True)


def _print_units(heading: str, units: list[dict], fmt: Format, changed: bool = False) -> None:
    """Districts, regions, 三峡库区 and the city (``changed``: only the units whose grade areas changed)."""
    keep = [u for u in units if u["level"] != "outside"
            and (not changed or u["level"] == "city" or any(u[f"d_{k}"] for k in ("slight_km2", "loss_km2")))]
    if fmt == Format.csv:
        print_csv(SHOW_KEYS, [[_num(k, u[k]) for k in SHOW_KEYS] for u in keep])
    else:
        emit_rows(heading, SHOW_COLUMNS, unit_rows(keep), fmt, right=SHOW_KEYS[2:])


@app.command("list")
def list_(ctx: typer.Context, fmt: Format = typer.Option(Format.table, "--format", "-f")) -> None:
    """The stored scenarios, oldest first, with the city's rate beside its baseline's."""
    from shuibao.services.governance.scenarios import list_scenarios

    state: State = ctx.obj
    items = list_scenarios(state.db)
    if fmt == Format.json:
        print_json(items)
        return
    cols = ["id", "name", "base_run", "year", "synthetic", "cells_changed", "base_rate_pct", "rate_pct",
            "target_2025_pct", "recorded_at"]
    if fmt == Format.csv:
        print_csv(cols, [[s["id"], s["name"], s["base_run_id"], s["year"], "yes" if s["synthetic"] else "",
                          s["cells_changed"], _num("", s["base_rate_pct"]), _num("", s["rate_pct"]),
                          _num("", s["target_2025_pct"]),
                          s["recorded_at"].strftime("%Y-%m-%d %H:%M") if s["recorded_at"] else ""] for s in items])
    else:
        emit_rows(title("scenario.list" if items else "scenario.list_empty"), cols,
                  [{**s, "base_run": s["base_run_id"]} for s in items], fmt,
                  right=("id", "cells_changed", "base_rate_pct", "rate_pct", "target_2025_pct"))


@app.command()
def show(ctx: typer.Context, scenario_id: str = typer.Argument(..., help="Scenario id or 'latest'."),
         changed: bool = typer.Option(False, "--changed", help="Print only the units that change (and the city)."),
         fmt: Format = typer.Option(Format.table, "--format", "-f")) -> None:
    """One scenario: 水土保持率, gap to the 2025 target and soil-loss area per unit, beside the baseline."""
    from shuibao.services.governance.scenarios import get_scenario

    state: State = ctx.obj
    s = get_scenario(state.db, scenario_id)
    info = s["info"]
    if fmt == Format.json:
        print_json({"scenario": info, "base_run": s["base"].__dict__, "selection": s["selection"],
                    "units": s["units"]})
        return
    _print_units(title("scenario.show", id=info["id"], name=info["name"], base=info["base_run_id"],
                       base_name=s["base"].name) + synthetic_note(s["synthetic"]), s["units"], fmt, changed)
    if fmt == Format.table:
        cols = ["patch_code", "measure", ("status", "treatment_status"), "cells", "cells_applied", "cells_changed",
                "cells_raising"]
        emit_rows(title("scenario.patches"), cols, s["patches"], fmt, right=cols[3:])
