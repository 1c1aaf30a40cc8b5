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

from .. import vocabulary
from ..spreadsheet import safe_row


def cli_language() -> str:
    """The language of the CLI's messages (错误信息的语言): ``SHUIBAO_LANG`` (zh or en), default zh."""
    import os

    lang = os.environ.get("SHUIBAO_LANG", "zh").strip().lower()[:2]
    return lang if lang in ("zh", "en") else "zh"


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


def column_title(column: str) -> str:
    """A table's column header: its Chinese label with the English after it (``名单 List``), else the key.
    (The command line has no language option yet: its tables are in Chinese with English headers.)"""
    if not vocabulary.has_label("field", column):
        return column
    zh, en = vocabulary.label("field", column, "zh"), vocabulary.label("field", column, "en")
    u = vocabulary.unit("field", column)
    return f"{zh} {en}" + (f" ({u})" if u else "")


def _plain(value: Any) -> Any:
    """A list or dict value as text for people (never a Python repr); other values as they are."""
    return vocabulary.value_text("", value) if isinstance(value, (list, tuple, dict)) else value


def emit_rows(title: str | None, columns: Sequence[str], rows: list[dict], fmt: Format, right: Iterable[str] = ()
              ) -> None:
    """Rows (dicts) as a table, CSV or JSON, the columns picked in order.  A table shows labels: headers from
    the vocabulary's fields, codes as their Chinese labels; CSV keeps the keys and codes (for scripts) but
    writes a list or a record as text, never a repr; JSON is the rows as they are."""
    if fmt == Format.json:
        print_json(rows)
        return
    if fmt == Format.csv:
        print_csv(columns, [[_plain(r.get(c)) for c in columns] for r in rows])
        return
    table = [[None if r.get(c) is None else vocabulary.value_text(c, r.get(c)) for c in columns] for r in rows]
    print_table(title, [column_title(c) for c in columns], table, right=[column_title(c) for c in right])


def option_date(value: Optional[str], option: str) -> Optional[date]:
    """A date option's value (YYYY-MM-DD) as a date, None when the option was not given; an InputError naming
    ``option`` otherwise."""
    from shuibao.services.supervision.common import as_date

    return None if value is None else as_date(value, option)
