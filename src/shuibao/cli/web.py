"""`shuibao serve` and `shuibao users …`: the web platform and its accounts."""

from __future__ import annotations

from typing import Optional

import typer
from typer.core import TyperGroup
from shuibao.errors import N_

app = typer.Typer(help="Accounts of the web platform: users (roles) and read-only API keys.", no_args_is_help=True)


class _IssueByDefault(TyperGroup):
    """`users api-key DEPT …` (no subcommand) issues a key, as before `list` and `revoke` existed."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["issue", *args]
        return super().parse_args(ctx, args)


keys = typer.Typer(cls=_IssueByDefault, no_args_is_help=True,
                   help="Read-only API keys of other departments: issue (the default), list, revoke.")
app.add_typer(keys, name="api-key")
NEW_PASSWORD = dict(prompt=True, hide_input=True, confirmation_prompt=True, envvar="SHUIBAO_NEW_PASSWORD")


def _by(ctx: typer.Context):
    from shuibao.services.platform.auth import command_line_principal

    return command_line_principal(ctx.obj.actor)  # audited as --actor / SHUIBAO_ACTOR / the system user


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
        raise ShuibaoError(N_("the web platform needs its extra ({name} is missing): "
                           "pip install -e '.[web]'", name=exc.name)) from exc
    from shuibao.services.platform.database import require_current

    settings = Settings.from_env(db=ctx.obj.db, host=host, port=port)
    require_current(settings.db)  # refuse to start on a missing or old database, with the reason
    os.environ["SHUIBAO_DB"] = settings.db  # the factory reads the environment in each worker
    typer.echo(f"shuibao web on http://{settings.host}:{settings.port} (database {settings.db})", err=True)
    from ..web.access import access_log_config

    # the platform writes its own access log (logger shuibao.access, with request id and user): uvicorn's is off
    uvicorn.run("shuibao.web.app:create_app", factory=True, host=settings.host, port=settings.port,
                workers=workers, log_level="warning", access_log=False, log_config=access_log_config())


@app.command("add")
def users_add(ctx: typer.Context, username: str,
              role: str = typer.Option(..., "--role", help="city_admin, district_officer, inspector or viewer"),
              district: Optional[str] = typer.Option(None, "--district", help="A district officer's district."),
              name: Optional[str] = typer.Option(None, "--name", help="Display name."),
              password: str = typer.Option(..., "--password", **NEW_PASSWORD)) -> None:
    """Add a user (passwords: at least 15 characters, not the user name, not a common password; stored as
    argon2id hashes)."""
    from shuibao.services.platform.auth import create_user

    uid = create_user(ctx.obj.db, username, password, role, display_name=name, district=district, by=_by(ctx))
    typer.echo(f"user {uid}: {username.strip()} ({role})")


@app.command("list")
def users_list(ctx: typer.Context) -> None:
    """The users: role, district, whether active, last login."""
    from shuibao.services.platform.auth import list_users
    from .common import Format, emit_rows, title

    rows = [{**u, "active": "active" if u["active"] else "inactive", "last_login_at": u["last_login_at"] or "never"}
            for u in list_users(ctx.obj.db)]
    emit_rows(title("users.list"), ["username", "display_name", "role", "district", ("active", "account_state"),
                                    ("last_login_at", "last_login_utc")], rows, Format.table)


@app.command("deactivate")
def users_deactivate(ctx: typer.Context, username: str) -> None:
    """Deactivate a user: logins refused, every session ended (at once in this database; a running server's
    workers stop accepting a cached session within 10 seconds)."""
    from shuibao.services.platform.auth import set_active

    set_active(ctx.obj.db, username, False, by=_by(ctx))
    typer.echo(f"user {username.strip()}: deactivated, sessions ended")


@app.command("activate")
def users_activate(ctx: typer.Context, username: str) -> None:
    """Reactivate a deactivated user."""
    from shuibao.services.platform.auth import set_active

    set_active(ctx.obj.db, username, True, by=_by(ctx))
    typer.echo(f"user {username.strip()}: active")


@app.command("passwd")
def users_passwd(ctx: typer.Context, username: str,
                 password: str = typer.Option(..., "--password", **NEW_PASSWORD)) -> None:
    """Reset a user's password (asked for, or SHUIBAO_NEW_PASSWORD); every session of the user ends."""
    from shuibao.services.platform.auth import set_password

    set_password(ctx.obj.db, username, password, by=_by(ctx))
    typer.echo(f"user {username.strip()}: password reset, sessions ended")


@keys.command("issue")
def keys_issue(ctx: typer.Context, department: str = typer.Argument(..., help="Who the key is for."),
               collections: Optional[str] = typer.Option(
                   None, "--collections", help="What the key may read, comma-separated: districts, watersheds, "
                   "patches, projects, treatment, stations, runs (products and map tiles), assessment, warnings. "
                   "Default: districts,watersheds.")) -> None:
    """Issue a read-only API key for another department; it is shown once (only its hash is kept)."""
    from shuibao.services.platform.auth import issue_api_key

    typer.echo(issue_api_key(ctx.obj.db, department, collections=collections, by=_by(ctx)))


@keys.command("list")
def keys_list(ctx: typer.Context) -> None:
    """The API keys: id, department, collections, whether active (never the key)."""
    from shuibao.services.platform.auth import list_api_keys
    from .common import Format, emit_rows, title

    rows = [{**k, "collections": [c for c in k["collections"] if c], "active": "valid" if k["active"] else "revoked"}
            for k in list_api_keys(ctx.obj.db)]
    emit_rows(title("keys.list"), ["id", ("name", "department"), ("collections", "key_collections"),
                                   ("active", "account_state"), ("created_at", "issued_utc")], rows, Format.table,
              right=["id"])


@keys.command("revoke")
def keys_revoke(ctx: typer.Context, key: str = typer.Argument(..., metavar="ID_OR_NAME",
                                                               help="A key's id, or a department (all its keys).")
                ) -> None:
    """Revoke an API key (by id) or every active key of a department (by name)."""
    from shuibao.services.platform.auth import revoke_api_key

    ids = revoke_api_key(ctx.obj.db, key, by=_by(ctx))
    typer.echo(f"revoked API key(s) {', '.join(map(str, ids))}")
