"""Shared CLI pieces: global state, output formats, table/CSV/JSON printers."""

from __future__ import annotations

import csv
import json
import os
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Optional

from rich.console import Console
from rich.table import Table

from .. import vocabulary
from ..spreadsheet import safe_row


ERROR_LANGUAGE: str | None = None  # tests pin English; None: the command's language


def cli_language() -> str:
    """The language of the CLI's messages (错误信息的语言): the root ``--lang``, else ``SHUIBAO_LANG`` (zh or
    en), default zh — the same choice as its tables (:func:`current_lang`)."""
    return ERROR_LANGUAGE or current_lang()


@dataclass
class State:
    db: str | None
    verbose: int
    quiet: bool
    actor: str | None = None
    lang: str = "zh"  # the language of tables and messages for people (--lang / SHUIBAO_LANG)


class Format(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"


class TableOrJson(str, Enum):
    table = "table"
    json = "json"


def console() -> Console:
    # a terminal's own width, or COLUMNS where set; a pipe or a file gets 200 columns
    return Console(soft_wrap=False, width=None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 200)


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
    """CSV on stdout, starting with a UTF-8 BOM like every CSV Shuibao writes: ``> file.csv`` then opens in
    Excel on Chinese Windows without garbling; Python reads it with ``encoding="utf-8-sig"``."""
    sys.stdout.write("\ufeff")
    w = csv.writer(sys.stdout, lineterminator="\n")
    w.writerow(columns)
    for row in rows:
        w.writerow(safe_row(row))  # a project name like =HYPERLINK(…) must not run when the table is opened


def print_json(payload: Any) -> None:
    sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2, default=str) + "\n")


_LANG: str | None = None  # set by the root callback with the State (the vendored click has no public context)


def set_lang(lang: str | None) -> None:
    global _LANG
    _LANG = lang


def current_lang() -> str:
    """The command's language for people: the root ``--lang`` (``State.lang``), else SHUIBAO_LANG, else zh."""
    return _LANG or vocabulary.lang_of(os.environ.get("SHUIBAO_LANG"))


def title(key: str, /, **values: Any) -> str:
    """A table's title in the command's language, from the vocabulary's ``table_title`` group (``{name}``
    fields filled in from ``values``)."""
    text = vocabulary.label("table_title", key, current_lang())
    return text.format(**values) if values else text


Column = str | tuple[str, str]
"""A column: its key (the CSV header and the row's key), or (key, field) where the vocabulary's field that
labels it has another name (``("level", "unit_level")``: a run unit's level, not a warning's)."""


def _key(column: Column) -> str:
    return column if isinstance(column, str) else column[0]


def _field(column: Column) -> str:
    return column if isinstance(column, str) else column[1]


def column_title(column: Column, lang: str | None = None) -> str:
    """A table's column header in one language: the field's label, its unit in brackets (``水土保持率 (%)``);
    a key the vocabulary does not know as given (the vocabulary tests list the CLI's columns)."""
    lang = lang or current_lang()
    field = _field(column)
    if not vocabulary.has_label("field", field):  # an assessment's score columns are its indicators
        return vocabulary.label("assessment_indicator", field, lang)
    u = vocabulary.unit("field", field, lang)
    return vocabulary.label("field", field, lang) + (f" ({u})" if u else "")


_UNITS = {"km2": "km²", "hm2": "hm²", "m2": "m²", "m3": "m³"}  # a unit some records spell in ASCII
_ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
# keys whose whole numbers are identifiers or years (no thousands separator)
_ID_KEYS = {"id", "seq", "year", "adcode", "row", "source_row", "version", "area_version", "base_run", "run",
            "monitoring_run", "item"}


def cell_text(column: Column, value: Any, lang: str | None = None) -> str:
    """One cell for people: codes as labels (the field's value group), numbers with thousands separators
    (a change ``d_…`` signed), dates as dates, a list or record as text, never a repr."""
    lang = lang or current_lang()
    key, field = _key(column), _field(column)
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        return vocabulary.moment(value)
    if isinstance(value, date):
        return vocabulary.day(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value) if key in _ID_KEYS or key.endswith(("_id", "_no")) else f"{value:,}"
    if isinstance(value, Decimal):
        value = float(value)
    if field in ("unit", "plan_unit") and isinstance(value, str):
        return _UNITS.get(value, value)
    if isinstance(value, float):  # a column of numbers reads alike: two decimals (a change signed)
        return f"{value:+,.2f}" if key.startswith("d_") else vocabulary.number(value)
    e = vocabulary.entry("field", field)
    if isinstance(value, str) and not (e and e.values):  # a name, a code, a note: as recorded
        return vocabulary.moment(value) if _ISO_TIME.match(value) else value
    return vocabulary.value_text(field, value, lang)


def _plain(value: Any) -> Any:
    """A list or dict value as text for people (never a Python repr); other values as they are."""
    return vocabulary.value_text("", value) if isinstance(value, (list, tuple, dict)) else value


def emit_rows(title: str | None, columns: Sequence[Column], rows: list[dict], fmt: Format,
              right: Iterable[str] = ()) -> None:
    """Rows (dicts) as a table, CSV or JSON, the columns picked in order.  A table is in the command's
    language (``--lang``): headers from the vocabulary's fields with their units, codes as labels, numbers
    with separators; CSV keeps the English keys and the codes (stable, for scripts) but writes a list or a
    record as text, never a repr; JSON is the rows as they are."""
    if fmt == Format.json:
        print_json(rows)
        return
    if fmt == Format.csv:
        print_csv([_key(c) for c in columns], [[_plain(r.get(_key(c))) for c in columns] for r in rows])
        return
    lang = current_lang()
    right = set(right)
    table = [[cell_text(c, r.get(_key(c)), lang) for c in columns] for r in rows]
    print_table(title, [column_title(c, lang) for c in columns], table,
                right=[column_title(c, lang) for c in columns if _key(c) in right])


def option_date(value: Optional[str], option: str) -> Optional[date]:
    """A date option's value (YYYY-MM-DD) as a date, None when the option was not given; an InputError naming
    ``option`` otherwise."""
    from shuibao.services.supervision.common import as_date

    return None if value is None else as_date(value, option)


FIELDS_HELP = ("Field mapping FIELD=COLUMN (repeat, or comma-separated): which column of the file holds a field, "
               "before the built-in names and aliases, e.g. --fields code=项目编号,approval_number=批复文号; "
               "FIELD= says the file has none.")


def field_mapping(values: Optional[list[str]]) -> dict[str, str] | None:
    """The ``--fields`` options as one mapping (refused naming a malformed pair); None when not given."""
    if not values:
        return None
    from shuibao.services.imports.mappings import parse_field_mapping

    return parse_field_mapping(values)
