"""Table output adapter: report tables (附表) as CSV and as one Excel workbook.

A :class:`Table` carries bilingual headers, units and decimals once, so the
CSV (for scripts) and the XLSX (for the bureau's printed report) agree.

Both writers are deterministic and atomic: the same content gives the same
bytes on every run (a killed-and-resumed monitoring run is checked for
byte-identical outputs), and a file is written under a temporary name in the
target folder and renamed, so a reader never sees half a file.
"""

from __future__ import annotations

import io
import json
import math
import numbers
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Context, Decimal
from pathlib import Path

import numpy as np

from ..errors import InputError, N_
from .atomic import atomic_path

ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip entry can carry
SHEET_NAME_MAX = 31  # Excel's limit
EXACT = Context(prec=400, rounding=ROUND_HALF_UP)  # enough digits for any float's integer part


@dataclass
class Column:
    """One column: key in CSV and rows, Chinese and English headers, unit; ``decimals`` None = text/integer."""

    key: str
    zh: str
    en: str
    unit: str = ""
    decimals: int | None = None


@dataclass
class Table:
    """A report table (附表): ``name`` is the ASCII file stem, ``title`` the Chinese caption, ``sheet`` the
    Chinese sheet name in the workbook (the ``name`` when empty)."""

    name: str
    title: str
    columns: list[Column]
    rows: list[dict]
    notes: list[str] = field(default_factory=list)
    synthetic: bool = False
    sheet: str = ""

    @property
    def sheet_name(self) -> str:
        return self.sheet or self.name


def _number(value, table: Table, col: Column, row: int) -> float | int:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InputError(N_("table {name}: row {row}, column {key!r} is {value!r}; "
                         "expected a number (decimals={decimals})", name=table.name, row=row + 1, key=col.key, value=value, decimals=col.decimals))
    if isinstance(value, numbers.Integral):
        return int(value)
    value = float(value)
    if math.isinf(value):
        raise InputError(N_("table {name}: row {row}, column {key!r} is {value}; expected a finite number", name=table.name, row=row + 1, key=col.key, value=value))
    return value


def _cell(value, table: Table, col: Column, row: int):
    """The value as stored: None for empty (None/NaN), rounded to ``decimals``, else int or str.

    Rounding is half away from zero (四舍五入, as in the printed reports) of the exact
    binary value: 2.5 → 3, but 1.005 → 1.0 (it is 1.00499…); CSV and XLSX agree.
    """
    if isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral) and math.isnan(value):
        value = None
    if value is None:
        return None
    if col.decimals is not None:
        exact = Decimal(float(_number(value, table, col, row)))
        value = float(exact.quantize(Decimal(1).scaleb(-col.decimals), context=EXACT))
        return 0.0 if value == 0 else value  # no negative zero
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):  # a float in a text/integer column: kept in full, never in 1e-05 form
        value = _number(value, table, col, row)
        return int(value) if float(value).is_integer() else float(value)
    if isinstance(value, str):
        return value
    raise InputError(N_("table {name}: row {row}, column {key!r} is a {name2} "
                     "({value!r}); expected text or a number", name=table.name, row=row + 1, key=col.key, name2=type(value).__name__, value=value))


def _rows(table: Table) -> Iterator[list]:
    for i, row in enumerate(table.rows):
        missing = [c.key for c in table.columns if c.key not in row]
        if missing:
            raise InputError(N_("table {name}: row {row} has no value for column(s) {missing}", name=table.name, row=i + 1, missing=', '.join(missing)))
        yield [_cell(row[c.key], table, c, i) for c in table.columns]


def _text(value, col: Column) -> str:
    """Fixed-point text: ``decimals`` places, or the shortest exact digits of a float (never '1e-05')."""
    if value is None:
        return ""
    if isinstance(value, float):
        if col.decimals is not None:
            return f"{value:.{col.decimals}f}"  # _cell rounded it and removed negative zero
        return np.format_float_positional(value, trim="-")
    return str(value)


def _csv_field(text: str) -> str:
    if any(ch in text for ch in ',"\n\r'):
        return '"' + text.replace('"', '""') + '"'
    return text


def metadata_path(csv_path: Path | str) -> Path:
    """Where a CSV's metadata sidecar lies: ``<name>.csv-metadata.json`` beside it, the name W3C's CSV on the
    Web looks for first (Tabular Data Model, §5.2 "Locating metadata": ``{+url}-metadata.json``)."""
    p = Path(csv_path)
    return p.with_name(p.name + "-metadata.json")


def csv_metadata(table: Table, csv_name: str) -> dict:
    """The table's title, notes, synthetic flag and columns (Chinese and English titles, unit, decimals) as CSVW
    metadata (W3C Metadata Vocabulary for Tabular Data): what used to be a ``#`` comment line, which broke
    default CSV readers, now beside the data."""
    columns = []
    for c in table.columns:
        col: dict = {"name": c.key, "titles": {"zh": c.zh, "en": c.en}}
        if c.unit:
            col["shuibao:unit"] = c.unit
        if c.decimals is not None:
            col["datatype"] = "number"
            col["shuibao:decimals"] = c.decimals
        columns.append(col)
    meta: dict = {"@context": "http://www.w3.org/ns/csvw", "url": csv_name, "dc:title": table.title,
                  "dialect": {"encoding": "utf-8", "header": True, "lineTerminator": "\n"},
                  "tableSchema": {"columns": columns}}
    if table.notes:
        meta["notes"] = list(table.notes)
    if table.synthetic:
        meta["shuibao:synthetic"] = "SYNTHETIC 合成数据: made from synthetic inputs, not observations"
    return meta


def write_csv(path: Path | str, table: Table) -> Path:
    """UTF-8 with BOM (so Excel shows Chinese), header = column keys, fixed-point values, '\\n' newlines; the
    title, notes, units and the synthetic label go to the CSVW sidecar (:func:`metadata_path`), never into a
    comment line.  Returns the CSV's path."""
    path = Path(path)
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8-sig", newline="") as out:
        out.write(",".join(_csv_field(c.key) for c in table.columns) + "\n")
        for values in _rows(table):
            out.write(",".join(_csv_field(_text(v, c)) for v, c in zip(values, table.columns)) + "\n")
    write_metadata(path, csv_metadata(table, path.name))
    return path


def write_metadata(csv_path: Path | str, meta: dict) -> Path:
    """A CSV's CSVW sidecar (:func:`metadata_path`), written atomically with sorted keys so bytes repeat."""
    text = json.dumps(meta, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    with atomic_path(metadata_path(csv_path)) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return metadata_path(csv_path)


def _number_format(col: Column) -> str:
    if col.decimals is None:
        return "General"
    return "0" if col.decimals <= 0 else "0." + "0" * col.decimals


def _width(text: str) -> int:
    """Display width in characters: CJK characters take two columns."""
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _sheet(wb, table: Table) -> None:
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    from openpyxl.utils.exceptions import IllegalCharacterError

    name = table.sheet_name
    if not table.name.isascii():
        raise InputError(N_("table name {name!r}: expected ASCII characters (it is the file stem)", name=table.name))
    if not 0 < len(name) <= SHEET_NAME_MAX or any(ch in name for ch in "[]:*?/\\"):
        raise InputError(N_("table {name}: sheet name {name2!r}: expected 1–{SHEET_NAME_MAX} characters "
                         "without []:*?/\\", name=table.name, name2=name, SHEET_NAME_MAX=SHEET_NAME_MAX))
    ws = wb.create_sheet(name)
    ws.append([table.title + (" — 合成数据 SYNTHETIC" if table.synthetic else "")])
    ws["A1"].font = Font(bold=True, size=12)
    ws.append([f"{c.zh}（{c.unit}）" if c.unit else c.zh for c in table.columns])
    ws.append([f"{c.en} ({c.unit})" if c.unit else c.en for c in table.columns])
    for cell in (*ws[2], *ws[3]):
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    widths = [max(_width(str(ws.cell(r, j + 1).value)) for r in (2, 3)) for j in range(len(table.columns))]
    formats = [_number_format(c) for c in table.columns]
    for i, values in enumerate(_rows(table)):
        try:
            ws.append(values)
        except IllegalCharacterError as exc:
            raise InputError(N_("table {name}: row {row} holds a control character Excel cannot store "
                             "({exc})", name=table.name, row=i + 1, exc=exc)) from exc
        row = 4 + i  # not ws.max_row: openpyxl recomputes it over every cell (quadratic on 10⁴ rows)
        for j, value in enumerate(values):
            cell = ws.cell(row, j + 1)
            cell.number_format = formats[j]
            if isinstance(value, str) and value.startswith("="):
                cell.data_type = "s"  # text, not a formula
            widths[j] = max(widths[j], _width(_text(value, table.columns[j])))
    if table.notes:
        ws.append([])
        for note in table.notes:
            ws.append([note])
    ws.freeze_panes = "A4"  # title and both header rows stay in view
    for j, w in enumerate(widths):
        ws.column_dimensions[get_column_letter(j + 1)].width = min(max(w + 2, 8), 60)


def write_xlsx(path: Path | str, tables: list[Table], *, timestamp: datetime) -> Path:
    """One sheet per table; properties dated ``timestamp`` and a normalised zip, so equal content = equal bytes.

    A naive ``timestamp`` is taken as UTC.  docProps/app.xml names the openpyxl
    version, so bytes match within one environment, not across upgrades.
    """
    from openpyxl import Workbook
    from openpyxl.writer.excel import ExcelWriter

    path = Path(path)
    names = [t.sheet_name for t in tables]
    if len(set(names)) != len(names):
        raise InputError(N_("{name}: sheet names must be distinct, got {names}", name=path.name, names=', '.join(names)))
    wb = Workbook()
    wb.remove(wb.active)
    for table in tables:
        _sheet(wb, table)
    when = timestamp.astimezone(UTC).replace(tzinfo=None) if timestamp.tzinfo else timestamp
    wb.properties.creator = "shuibao"
    wb.properties.lastModifiedBy = "shuibao"
    wb.properties.created = wb.properties.modified = when.replace(microsecond=0)
    raw = io.BytesIO()
    # ExcelWriter, not wb.save(): save() stamps "modified" with the wall-clock time
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).save()
    with atomic_path(path) as tmp:
        tmp.write_bytes(_normalised_zip(raw.getvalue()))
    return path


def _normalised_zip(data: bytes) -> bytes:
    """The same entries in the same order, with fixed dates, attributes and compression (zip stamps 'now')."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            info = zipfile.ZipInfo(item.filename, date_time=ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16  # rw------- regular file
            info.create_system = 3  # Unix, whatever the host
            dst.writestr(info, src.read(item.filename), compresslevel=6)
    return out.getvalue()
