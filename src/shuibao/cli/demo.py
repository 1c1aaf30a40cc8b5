"""`shuibao demo`: the platform's main job on SYNTHETIC inputs over the real Chongqing districts."""

from __future__ import annotations

from pathlib import Path

import typer

from .common import State
from .monitor import _Progress


def demo(ctx: typer.Context,
         out: Path = typer.Option(Path("demo-output"), "--out", "-o", help="Output folder (inputs, runs, database)."),
         resolution: float = typer.Option(100.0, "--resolution", min=20.0, max=2000.0,
                                          help="Cell size in metres (100 m: about 8 M cells over the city).")) -> None:
    """Generate synthetic inputs for two years over the real districts, run the annual monitoring, compare,
    and keep a year of project supervision on synthetic projects and patches.

    Uses --db/SHUIBAO_DB if given, else OUT/shuibao.gpkg.  Every output is labelled SYNTHETIC.
    """
    from shuibao.demo.run import run_demo

    state: State = ctx.obj

    def say(text: str) -> None:
        if not state.quiet:
            typer.echo(text, err=True)

    result = run_demo(out, resolution_m=resolution, db=state.db, on_event=_Progress(state.quiet), say=say)
    if state.quiet:
        return
    typer.echo("SYNTHETIC DEMO 合成数据演示 — the numbers below describe made-up inputs, not Chongqing")
    for r in result.runs:
        s = r.summary
        typer.echo(f"  run {r.run_id}: 全市 {s['total_km2']:.0f} km², 水土保持率 {s['rate_pct']:.2f} % "
                   f"(2025 target {s['target_2025_pct']:.2f} %), {s['watersheds']} small watersheds → {r.output}")
    city = next(u for u in result.comparison["units"] if u["level"] == "city")
    typer.echo(f"  change {result.comparison['a'].year}→{result.comparison['b'].year}: "
               f"{city['d_rate_pp']:+.2f} pp ({city['toward_target']}); tables in "
               f"{result.comparison_files[0].parent}")
    sv = result.supervision
    if sv is not None:
        counts = ", ".join(f"{k} {v}" for k, v in sv.counts.items())
        typer.echo(f"  supervision: compliance {counts}; {sv.cases_opened} cases opened, {sv.cases_closed} closed, "
                   f"{sv.credit_entries} credit-list entries → {sv.files[0].parent}")
        if sv.governance is not None:
            g = sv.governance
            typer.echo(f"  treatment: {g.patches} patches, {g.done_km2:.1f} km² done, {g.planned} planned → {g.path}")
        if sv.stations is not None:
            st = sv.stations
            typer.echo(f"  stations: {st.stations} rain gauges, {st.observations} daily observations; "
                       + (f"warning {st.warning_id} for {st.warning_date}: {st.hits} sites to inspect; "
                          if st.warning_id else "no day reached a warning level; ")
                       + f"assessment {st.assessment_id} (`shuibao assess show {st.assessment_id}`)")
        if sv.scenario is not None:
            sc = sv.scenario
            city = sc.unit("city", next(u["code"] for u in sc.units if u["level"] == "city"))
            typer.echo(f"  scenario {sc.scenario_id}: {len(sc.patches)} planned/ongoing patches built → city rate "
                       f"{city['base_rate_pct']:.2f} → {city['rate_pct']:.2f} % ({sc.cells_changed} cells changed; "
                       f"`shuibao scenario show {sc.scenario_id}`)")
    if result.plan_check:
        typer.echo(f"  first year against the plan's 2020 monitoring (附表1, 表2) → {result.plan_check_file}")
        for row in result.plan_check:
            typer.echo(f"    {'✓' if row.holds else '✗'} {row.label}: plan {row.plan_2020}, demo {row.demo} "
                       f"({row.bound})")
        missed = sum(not r.holds for r in result.plan_check)
        if missed:
            typer.echo(f"    {missed} figure(s) outside the bounds: see docs/validation.md, 'The demo against the "
                       "plan's 2020 picture', for which table entries keep them out")
    typer.echo(f"  database {result.db}: `shuibao --db {result.db} monitor list`, `… supervise cases list`")
    if result.web_login is not None:
        typer.echo(f"  web: `shuibao --db {result.db} serve`, then http://127.0.0.1:8000 — log in with the demo "
                   f"account in {result.web_login}")
    else:
        typer.echo("  web: install the web extra (`pip install -e '.[web]'`) and rerun to browse the demo")
