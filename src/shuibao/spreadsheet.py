"""CSV cells that a spreadsheet program opens as text, never as a formula.

Excel, LibreOffice and WPS evaluate a cell that begins with ``=``, ``+``, ``-`` or ``@`` (and, after a tab or
carriage return, the same), so a project name such as ``=HYPERLINK("http://…"&A1,"点击")`` in a download
would run when a bureau officer opens it (OWASP, "CSV Injection").  Such a text cell is written with a
leading apostrophe, which the programs show as text and hide; numbers — ``-12.5`` included — stay numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence

from .errors import Text

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def safe_cell(value):
    """``value`` as a CSV cell that is never evaluated (text beginning like a formula gets a leading ')."""
    if isinstance(value, Text):  # a message (shuibao.errors.N_): its English text, guarded like any text
        value = str(value)
    if isinstance(value, str) and value.startswith(FORMULA_START) and not _is_number(value):
        return "'" + value
    return value


def safe_row(row: Sequence) -> list:
    return [safe_cell("" if v is None else v) for v in row]


def csv_chunks(columns: Sequence[str], rows: Iterable[dict], *, bom: bool = True,
               rows_per_chunk: int = 1000) -> Iterator[bytes]:
    """UTF-8 CSV in chunks, every cell made safe; with a BOM (the default, for files and downloads: Excel on a
    Chinese Windows reads UTF-8 only after one)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(safe_row(columns))
    n = 0
    first = True
    for r in rows:
        w.writerow(safe_row([r.get(c) for c in columns]))
        n += 1
        if n % rows_per_chunk == 0:
            yield (("\ufeff" if bom and first else "") + buf.getvalue()).encode("utf-8")
            first = False
            buf.seek(0)
            buf.truncate()
    yield (("\ufeff" if bom and first else "") + buf.getvalue()).encode("utf-8")


def csv_text(columns: Sequence[str], rows: Iterable[dict]) -> str:
    """The same as one string without the BOM (the caller's encoding adds it: ``utf-8-sig``)."""
    return b"".join(csv_chunks(columns, rows, bom=False)).decode("utf-8")
