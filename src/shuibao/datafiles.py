"""Reading the platform's data tables (CSV shipped in the package or supplied by the user).

One reader for every lookup table, so every malformed file is reported the same
way: the file, the row (as numbered in a spreadsheet, header = row 1), the
column and what was expected.
"""

from __future__ import annotations

import csv
from decimal import Decimal, InvalidOperation
from pathlib import Path

from .errors import ReferenceDataError


class CsvTable:
    """Read one CSV with a declared set of required columns; errors name file, row and column."""

    def __init__(self, name: str, required: tuple[str, ...], folder: Path):
        self.path = Path(folder) / name
        try:
            with open(self.path, encoding="utf-8", newline="") as fh:
                reader = csv.DictReader(fh)
                missing = [c for c in required if c not in (reader.fieldnames or [])]
                if missing:
                    raise ReferenceDataError(
                        f"{self.path}: missing column(s) {', '.join(missing)}; expected {', '.join(required)}"
                    )
                self.rows = list(reader)
        except FileNotFoundError as exc:
            raise ReferenceDataError(f"{self.path}: reference data file not found") from exc
        except (UnicodeDecodeError, csv.Error) as exc:
            raise ReferenceDataError(f"{self.path}: not a UTF-8 CSV file ({exc})") from exc

    def number(self, i: int, column: str, *, optional: bool = False) -> Decimal | None:
        text = (self.rows[i].get(column) or "").strip()
        if not text:
            if optional:
                return None
            raise ReferenceDataError(f"{self.path}, row {i + 2}, column {column}: value is empty, a number was expected")
        try:
            value = Decimal(text)
        except InvalidOperation as exc:
            raise ReferenceDataError(
                f"{self.path}, row {i + 2}, column {column}: {text!r} is not a number"
            ) from exc
        if not value.is_finite():
            raise ReferenceDataError(f"{self.path}, row {i + 2}, column {column}: {text!r} is not finite")
        return value

    def text(self, i: int, column: str, *, choices: tuple[str, ...] | None = None, optional: bool = False) -> str:
        value = (self.rows[i].get(column) or "").strip()
        if not value and not optional:
            raise ReferenceDataError(f"{self.path}, row {i + 2}, column {column}: value is empty")
        if choices is not None and value and value not in choices:
            raise ReferenceDataError(
                f"{self.path}, row {i + 2}, column {column}: {value!r} is not one of {', '.join(choices)}"
            )
        return value

    def __len__(self) -> int:
        return len(self.rows)

    def float(self, i: int, column: str, *, optional: bool = False, minimum: float | None = None,
              maximum: float | None = None) -> float | None:
        value = self.number(i, column, optional=optional)
        if value is None:
            return None
        if (minimum is not None and value < Decimal(str(minimum))) or (maximum is not None and value > Decimal(str(maximum))):
            raise ReferenceDataError(
                f"{self.path}, row {i + 2}, column {column}: {value} is outside [{minimum}, {maximum}]"
            )
        return float(value)
