"""`shuibao serve` and `shuibao users …`: the web platform and its accounts."""

from __future__ import annotations

from typing import Optional

import typer

app = typer.Typer(help="Accounts of the web platform: users (roles) and read-only API keys.", no_args_is_help=True)


def serve(ctx: typer.Context, host: Optional[str] = typer.Option(None, "--host", help="Default SHUIBAO_HOST or "
                                                                                   "127.0.0.1."),
          port: Optional[int] = typer.Option(None, "--port", help="Default SHUIBAO_PORT or 8000."),
          workers: int = typer.Option(1, "--workers", help="Worker processes (uvicorn).")) -> None:
    """Run the web platform (API under /api, OGC API Features under /ogc) on the database of --db/SHUIBAO_DB."""
    import os

    from ..errors import ShuibaoError

    try:
        import uvicorn

        from ..web import Settings
    except ImportError as exc:
        raise ShuibaoError(f"the web platform needs its extra ({exc.name} is missing): "
                           "pip install -e '.[web]'") from exc
    from ..services.database import require_current

    settings = Settings.from_env(db=ctx.obj.db, host=host, port=port)
    require_current(settings.db)  # refuse to start on a missing or old database, with the reason
    os.environ["SHUIBAO_DB"] = settings.db  # the factory reads the environment in each worker
    typer.echo(f"shuibao web on http://{settings.host}:{settings.port} (database {settings.db})", err=True)
    uvicorn.run("shuibao.web.app:create_app", factory=True, host=settings.host, port=settings.port,
                workers=workers, log_level="warning")


@app.command("add")
def users_add(ctx: typer.Context, username: str,
              role: str = typer.Option(..., "--role", help="city_admin, district_officer, inspector or viewer"),
              district: Optional[str] = typer.Option(None, "--district", help="A district officer's district."),
              name: Optional[str] = typer.Option(None, "--name", help="Display name."),
              password: str = typer.Option(..., "--password", prompt=True, hide_input=True,
                                           confirmation_prompt=True, envvar="SHUIBAO_NEW_PASSWORD")) -> None:
    """Add a user (passwords are stored as argon2id hashes)."""
    from ..services.auth import create_user

    uid = create_user(ctx.obj.db, username, password, role, display_name=name, district=district)
    typer.echo(f"user {uid}: {username} ({role})")


@app.command("api-key")
def users_api_key(ctx: typer.Context, department: str = typer.Argument(..., help="Who the key is for.")) -> None:
    """Issue a read-only API key for another department; it is shown once (only its hash is kept)."""
    from ..services.auth import issue_api_key

    typer.echo(issue_api_key(ctx.obj.db, department))
