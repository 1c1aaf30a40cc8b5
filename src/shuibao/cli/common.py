"""Shared CLI pieces: global state, output formats, table/CSV/JSON printers."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Any, Optional

from rich.console import Console
from rich.table import Table

from ..spreadsheet import safe_row


@dataclass
class State:
    db: str | None
    verbose: int
    quiet: bool
    actor: str | None = None


class Format(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"


class TableOrJson(str, Enum):
    table = "table"
    json = "json"


def console() -> Console:
    return Console(soft_wrap=False, width=None if sys.stdout.isatty() else 200)


def print_table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]],
                right: Iterable[str] = ()) -> None:
    right = set(right)
    table = Table(title=title, show_lines=False, header_style="bold")
    for c in columns:
        table.add_column(c, justify="right" if c in right else "left", overflow="fold")
    for row in rows:
        table.add_row(*["" if v is None else str(v) for v in row])
    console().print(table)


def print_csv(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    w = csv.writer(sys.stdout, lineterminator="\n")
    w.writerow(columns)
    for row in rows:
        w.writerow(safe_row(row))  # a project name like =HYPERLINK(…) must not run when the table is opened


def print_json(payload: Any) -> None:
    sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2, default=str) + "\n")


def emit_rows(title: str | None, columns: Sequence[str], rows: list[dict], fmt: Format, right: Iterable[str] = ()
              ) -> None:
    """Rows (dicts) as a table, CSV or JSON, the columns picked in order."""
    if fmt == Format.json:
        print_json(rows)
        return
    table = [[r.get(c) for c in columns] for r in rows]
    (print_csv(columns, table) if fmt == Format.csv else print_table(title, columns, table, right=right))


def option_date(value: Optional[str], option: str) -> Optional[date]:
    """A date option's value (YYYY-MM-DD) as a date, None when the option was not given; an InputError naming
    ``option`` otherwise."""
    from shuibao.services.supervision.common import as_date

    return None if value is None else as_date(value, option)
