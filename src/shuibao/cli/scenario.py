"""`shuibao scenario`: "if these planned treatment patches were built" — run, list, show."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .common import Format, State, print_csv, print_json, print_table

app = typer.Typer(help="Treatment scenarios (情景分析): planned patches' B/E/T applied to a monitoring run, "
                       "district rates beside the baseline.", no_args_is_help=True)

LEVEL_ZH = {"district": "区县", "region": "区域", "three_gorges": "三峡库区", "city": "全市", "outside": "区县边界外"}
SHOW_COLUMNS = [("level", "层级"), ("name", "区县/区域"), ("base_rate_pct", "基准水保率%"),
                ("rate_pct", "情景水保率%"), ("d_rate_pp", "变化pp"), ("target_2025_pct", "2025目标%"),
                ("base_gap_pp", "基准距目标pp"), ("gap_pp", "情景距目标pp"), ("base_loss_km2", "基准流失km²"),
                ("loss_km2", "情景流失km²"), ("d_loss_km2", "流失变化km²")]


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
    _print_units(f"scenario {r.scenario_id}: {r.name} (baseline run {r.base_run_id})"
                 + (" — SYNTHETIC 合成数据" if r.synthetic else ""), r.units, fmt, changed)
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


def _print_units(title: str, units: list[dict], fmt: Format, changed: bool = False) -> None:
    """Districts, regions, 三峡库区 and the city (``changed``: only the units whose grade areas changed)."""
    keep = [u for u in units if u["level"] != "outside"
            and (not changed or u["level"] == "city" or any(u[f"d_{k}"] for k in ("slight_km2", "loss_km2")))]
    rows = [[LEVEL_ZH.get(u["level"], u["level"]) if k == "level" else _num(k, u[k]) for k, _ in SHOW_COLUMNS]
            for u in keep]
    if fmt == Format.csv:
        print_csv([k for k, _ in SHOW_COLUMNS], rows)
    else:
        print_table(title, [zh for _, zh in SHOW_COLUMNS], rows, right=[zh for _, zh in SHOW_COLUMNS[2:]])


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
    rows = [[s["id"], s["name"], s["base_run_id"], s["year"], "yes" if s["synthetic"] else "", s["cells_changed"],
             _num("", s["base_rate_pct"]), _num("", s["rate_pct"]), _num("", s["target_2025_pct"]),
             s["recorded_at"].strftime("%Y-%m-%d %H:%M") if s["recorded_at"] else ""] for s in items]
    if fmt == Format.csv:
        print_csv(cols, rows)
    else:
        print_table("scenarios 情景" if items else "no scenarios yet", cols, rows,
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
    _print_units(f"scenario {info['id']}: {info['name']} (baseline run {info['base_run_id']}: {s['base'].name})"
                 + (" — SYNTHETIC 合成数据" if s["synthetic"] else ""), s["units"], fmt, changed)
    if fmt == Format.table:
        cols = ["patch_code", "measure", "status", "cells", "cells_applied", "cells_changed", "cells_raising"]
        print_table("patches 图斑", cols, [[p.get(c) for c in cols] for p in s["patches"]], right=cols[3:])
