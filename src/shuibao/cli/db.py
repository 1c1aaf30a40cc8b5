"""`shuibao db …`: create, upgrade and inspect the database."""

from __future__ import annotations

import typer

from shuibao.services.platform import database as service
from .common import State, column_title, print_table

app = typer.Typer(help="Create, upgrade and inspect the database (embedded GeoPackage or PostGIS).",
                  no_args_is_help=True)


@app.command()
def init(
    ctx: typer.Context,
    no_boundaries: bool = typer.Option(False, "--no-boundaries", help="Skip loading district polygons."),
) -> None:
    """Create the schema (or upgrade it) and load districts, regions, boundaries and the plan's tables.

    Idempotent: running it again rewrites the same reference rows.
    """
    state: State = ctx.obj
    result = service.init(state.db, boundaries=not no_boundaries)
    if not state.quiet:
        for m in result.migrations:
            typer.echo(f"applied migration {m}")
        loaded = ", ".join(f"{k} {v}" for k, v in result.counts.items() if v)
        typer.echo(f"{result.location} ({result.backend}): reference data loaded — {loaded}")


@app.command()
def upgrade(ctx: typer.Context) -> None:
    """Apply pending schema migrations."""
    state: State = ctx.obj
    location, applied = service.upgrade(state.db)
    if not state.quiet:
        for m in applied:
            typer.echo(f"applied migration {m}")
        typer.echo(f"{location}: schema is current" if not applied else f"{location}: upgraded")


@app.command()
def status(ctx: typer.Context) -> None:
    """Show the backend, schema version, pending migrations and row counts."""
    state: State = ctx.obj
    s = service.status(state.db)
    typer.echo(f"database: {s.location} ({s.backend})")
    typer.echo(f"schema version: {s.version if s.version is not None else 'none (empty database)'} "
               f"(this Shuibao: {s.latest})")
    typer.echo(f"pending migrations: {', '.join(s.pending) if s.pending else 'none'}")
    if s.last_reference_load:
        typer.echo(f"reference data loaded: {s.last_reference_load}")
    if s.counts:
        # the tables by their schema names (identifiers for whoever runs the database), counts with separators
        heads = [column_title("db_table"), column_title("row_count")]
        print_table(None, heads, [(t, f"{n:,}") for t, n in sorted(s.counts.items())], right=heads[1:])
