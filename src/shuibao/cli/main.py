"""The ``shuibao`` command line: parse, call a service, print.

Errors derived from :class:`shuibao.errors.ShuibaoError` become one line on
stderr and exit code 2; ``-v`` adds the traceback.
"""

from __future__ import annotations

import logging
import sys
import traceback
from typing import Optional

import typer

from .. import __version__
from ..errors import ShuibaoError, render_error
from . import db as db_commands
from . import demo as demo_command
from . import erosion as erosion_commands
from . import governance as governance_commands
from . import monitor as monitor_commands
from . import plan as plan_commands
from . import report as report_commands
from . import scenario as scenario_commands
from . import stations as stations_commands
from . import supervise as supervise_commands
from . import terrain as terrain_commands
from . import web as web_commands
from .common import State, cli_language, set_lang

app = typer.Typer(
    name="shuibao",
    help="Shuibao 水保 — soil and water conservation platform (Chongqing 14th Five-Year Plan).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(plan_commands.app, name="plan")
app.add_typer(db_commands.app, name="db")
app.add_typer(terrain_commands.app, name="terrain")
app.add_typer(erosion_commands.app, name="erosion")
app.add_typer(report_commands.app, name="report")
app.add_typer(monitor_commands.app, name="monitor")
app.add_typer(supervise_commands.app, name="supervise")
app.add_typer(governance_commands.app, name="governance")
app.add_typer(stations_commands.app, name="stations")
app.add_typer(scenario_commands.app, name="scenario")
app.add_typer(governance_commands.warn_app, name="warn")
app.add_typer(governance_commands.assess_app, name="assess")
app.command("demo")(demo_command.demo)
app.command("serve")(web_commands.serve)
app.add_typer(web_commands.app, name="users")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"shuibao {__version__}")
        raise typer.Exit()


def _lang(value: str) -> str:
    """``--lang``: zh or en (en-GB and the like read as en); anything else is a usage error."""
    from ..vocabulary import lang_of

    if value.lower() not in ("zh", "en") and not value.lower().startswith(("zh-", "zh_", "en-", "en_")):
        raise typer.BadParameter(f"{value!r}: give zh or en", param_hint="--lang")
    return lang_of(value)


@app.callback()
def main(
    ctx: typer.Context,
    db: Optional[str] = typer.Option(
        None, "--db", envvar="SHUIBAO_DB",
        help="Database: a .gpkg file path (embedded, default ./shuibao.gpkg) or postgresql+psycopg://… URL.",
    ),
    verbose: int = typer.Option(0, "--verbose", "-v", count=True, help="More output; -v shows tracebacks."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only errors."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
    # --lang: the language of tables for people (titles, headers, labelled codes); CSV/JSON keep the codes
    lang: str = typer.Option("zh", "--lang", envvar="SHUIBAO_LANG", help="Language of tables: zh (default) or en."),
) -> None:
    level = logging.ERROR if quiet else (logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    ctx.obj = State(db=db, verbose=verbose, quiet=quiet, lang=_lang(lang))
    set_lang(ctx.obj.lang)  # run() resets it: the next command in this process reads its own --lang


def run(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    args = sys.argv[1:] if argv is None else argv
    verbose = any(a in ("-v", "--verbose") or (a.startswith("-v") and set(a[1:]) == {"v"}) for a in args)
    set_lang(None)
    try:
        app(args=args, prog_name="shuibao", standalone_mode=False)
    except ShuibaoError as exc:
        if verbose:
            traceback.print_exc()
        lang = cli_language()
        typer.echo(("错误：" if lang == "zh" else "error: ") + render_error(exc, lang), err=True)
        return exc.exit_code
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        typer.echo("aborted", err=True)
        return 130
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        return 130
    except Exception as exc:  # click usage errors carry their own exit code
        code = getattr(exc, "exit_code", None)
        if code is not None and hasattr(exc, "show"):
            exc.show()
            return code
        raise
    finally:
        set_lang(None)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(run())
