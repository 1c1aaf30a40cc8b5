"""Reading the platform's data files shipped in the package or supplied by the user: the lookup tables (CSV)
and the rule files (TOML) of the supervision, stations, governance and assessment packages.

One reader for every lookup table, so every malformed file is reported the same
way: the file, the row (as numbered in a spreadsheet, header = row 1), the
column and what was expected.  One reader for every rule file (:func:`read_toml`) with the header each
carries (:func:`header`: version, source, verified, note).
"""

from __future__ import annotations

import csv
import os
import tomllib
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path

from .errors import Issues, ReferenceDataError, N_

PLAN_DATA_ENV = "SHUIBAO_PLAN_DATA"
"""Environment variable naming a folder that replaces the plan's shipped reference CSVs."""


def plan_data_dir() -> Path:
    """Folder the plan's reference CSVs are read from (``SHUIBAO_PLAN_DATA`` overrides the package's)."""
    override = os.environ.get(PLAN_DATA_ENV)
    if override:
        path = Path(override)
        if not path.is_dir():
            raise ReferenceDataError(N_("{PLAN_DATA_ENV}={override}: not a folder", PLAN_DATA_ENV=PLAN_DATA_ENV, override=override))
        return path
    return Path(str(resources.files("shuibao.plan") / "data"))


class CsvTable:
    """Read one CSV with a declared set of required columns; errors name file, row and column."""

    def __init__(self, name: str, required: tuple[str, ...], folder: Path):
        self.path = Path(folder) / name
        try:
            with open(self.path, encoding="utf-8-sig", newline="") as fh:  # a table saved by Excel has a BOM
                reader = csv.DictReader(fh)
                missing = [c for c in required if c not in (reader.fieldnames or [])]
                if missing:
                    raise ReferenceDataError(
                        N_("{path}: missing column(s) {missing}; expected {required}", path=self.path, missing=', '.join(missing), required=', '.join(required))
                    )
                self.rows = list(reader)
        except FileNotFoundError as exc:
            raise ReferenceDataError(N_("{path}: reference data file not found", path=self.path)) from exc
        except (UnicodeDecodeError, csv.Error) as exc:
            raise ReferenceDataError(N_("{path}: not a UTF-8 CSV file ({exc})", path=self.path, exc=exc)) from exc

    def number(self, i: int, column: str, *, optional: bool = False) -> Decimal | None:
        text = (self.rows[i].get(column) or "").strip()
        if not text:
            if optional:
                return None
            raise ReferenceDataError(N_("{path}, row {row}, column {column}: value is empty, a number was expected", path=self.path, row=i + 2, column=column))
        try:
            value = Decimal(text)
        except InvalidOperation as exc:
            raise ReferenceDataError(
                N_("{path}, row {row}, column {column}: {text!r} is not a number", path=self.path, row=i + 2, column=column, text=text)
            ) from exc
        if not value.is_finite():
            raise ReferenceDataError(N_("{path}, row {row}, column {column}: {text!r} is not finite", path=self.path, row=i + 2, column=column, text=text))
        return value

    def text(self, i: int, column: str, *, choices: tuple[str, ...] | None = None, optional: bool = False) -> str:
        value = (self.rows[i].get(column) or "").strip()
        if not value and not optional:
            raise ReferenceDataError(N_("{path}, row {row}, column {column}: value is empty", path=self.path, row=i + 2, column=column))
        if choices is not None and value and value not in choices:
            raise ReferenceDataError(
                N_("{path}, row {row}, column {column}: {value!r} is not one of {choices}", path=self.path, row=i + 2, column=column, value=value, choices=', '.join(choices))
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
                N_("{path}, row {row}, column {column}: {value} is outside [{minimum}, {maximum}]", path=self.path, row=i + 2, column=column, value=value, minimum=minimum, maximum=maximum)
            )
        return float(value)


# --------------------------------------------------------------------------- rule files (TOML)
def read_toml(path: Path | str | None, default: str, package: str = "shuibao.supervision") -> tuple[Path, dict]:
    """The user's file if given, else ``default`` in ``package``'s data folder; ReferenceDataError if unreadable."""
    p = Path(str(resources.files(package) / "data" / default)) if path is None else Path(path)
    try:
        return p, tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ReferenceDataError(N_("{p}: reference data file not found", p=p)) from exc
    except UnicodeDecodeError as exc:
        raise ReferenceDataError(N_("{p}: not UTF-8 text ({exc})", p=p, exc=exc)) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ReferenceDataError(N_("{p}: not valid TOML: {exc}", p=p, exc=exc)) from exc
    except OSError as exc:
        raise ReferenceDataError(N_("{p}: cannot be read ({exc})", p=p, exc=exc)) from exc


def _problem(problems: list, field: str, message: str) -> None:
    """One problem into ``problems``: an :class:`~shuibao.errors.Issue` for ``Issues``, else its text
    (``"field: message"``, the same words) for a plain list."""
    if isinstance(problems, Issues):
        problems.add("", field, message)
    else:
        problems.append(N_("{field}: {message}", field=field, message=message))


def header(doc: dict, problems: list) -> tuple[str, str, bool, str]:
    """version, source, verified, note: the fields every rule file carries; problems go into ``problems``
    (an :class:`~shuibao.errors.Issues` or a list of strings)."""
    out = []
    for key in ("version", "source"):
        value = doc.get(key)
        if not isinstance(value, str) or not value.strip():
            _problem(problems, key, f"required, a non-empty string (found {value!r})")
            value = ""
        out.append(value.strip())
    verified, note = doc.get("verified", True), doc.get("note", "")
    if not isinstance(verified, bool):
        _problem(problems, "verified", f"expected true or false, found {verified!r}")
        verified = False
    if not isinstance(note, str):
        _problem(problems, "note", f"expected a string, found {note!r}")
        note = ""
    if verified is False and not note.strip():
        _problem(problems, "note", "required when verified = false (say what is unverified and why)")
    return out[0], out[1], verified, note.strip()
