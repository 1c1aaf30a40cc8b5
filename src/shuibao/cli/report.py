"""`shuibao report`: documents generated from stored data."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .common import State

app = typer.Typer(help="Reports from stored data: the annual bulletin (水土保持公报).", no_args_is_help=True)


@app.command()
def bulletin(ctx: typer.Context,
             run: str = typer.Option("latest", "--run", help="Monitoring run id or 'latest'."),
             compare: Optional[str] = typer.Option(None, "--compare", help="An earlier run to compare with."),
             out: Path = typer.Option(..., "-o", "--out", help="Output folder (bulletin.html).")) -> None:
    """The annual bulletin in Chinese: city, regions, 三峡库区, 附表1/附表2/表2, provenance."""
    from ..reports.render import write_bulletin
    from ..services.bulletin import bulletin_data

    state: State = ctx.obj
    path = write_bulletin(bulletin_data(state.db, run, compare), out)
    typer.echo(str(path))
