"""Pieces every supervision service shares: the actor, time, districts, areas, import reports."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import shapely
from pyproj import Transformer
from sqlalchemy import Connection

from shuibao.errors import N_, InputError, Issue, Joined, Text, issues_error, join_texts
from shuibao.io.atomic import atomic_path
from shuibao.plan.boundaries import EQUAL_AREA_CRS
from shuibao.store.repositories import imports as import_records
from shuibao.services.platform.actors import actor
from shuibao.store.repositories.district_codes import district_lookup
from shuibao.supervision.imports import FeatureReport, ValidatedLayer

__all__ = ["SHOW", "actor", "as_date", "district_lookup", "dumps", "joined_messages", "now", "report_hint", "record_import", "refusal", "refuse", "report_rows",
           "split_districts", "to_metres", "with_rows", "write_csv_rows", "write_report"]

_TO_METRES = Transformer.from_crs("EPSG:4490", EQUAL_AREA_CRS, always_xy=True)
SHOW = 10  # rejected rows quoted in an error message


def now() -> datetime:
    """The time a record is stored with (UTC, aware)."""
    return datetime.now(UTC)


def to_metres(geoms) -> np.ndarray:
    """EPSG:4490 geometries in the platform's Albers equal-area CRS (metres)."""
    arr = np.asarray(list(geoms), dtype=object)
    if not len(arr):
        return arr
    return shapely.transform(arr, lambda xy: np.column_stack(_TO_METRES.transform(xy[:, 0], xy[:, 1])))


def split_districts(text: str | None) -> list[str]:
    """The district names or codes in a field (separated by commas, 、, semicolons, slashes or spaces)."""
    return [t for t in re.split(r"[,，、;；/\s]+", text or "") if t]


def joined_messages(messages: Sequence[Text | str]) -> Joined:
    """A row's messages as one message, "; " between them, that renders in either language."""
    return join_texts("; ", messages)


def report_rows(reports: list[FeatureReport], lang: str | None = "en") -> list[dict]:
    """The per-feature report as rows (row, key, status, messages joined by "; "): the messages as text in
    ``lang`` (English for the stored import record and the CSV report), or as a message (``lang=None``) that
    the web renders in the reader's language."""
    def text(r: FeatureReport) -> Text | str:
        message = joined_messages(r.messages)
        return message if lang is None else message.render(lang)

    return [{"row": r.row, "key": r.key, "status": r.status, "messages": text(r)} for r in reports]


def write_csv_rows(path: Path, columns, rows: list[dict]) -> Path:
    """Rows (dicts) as a UTF-8 CSV with a BOM (so Excel on a Chinese Windows reads it) and these columns, written
    atomically; text that a spreadsheet would run as a formula is written as text (:mod:`shuibao.spreadsheet`)."""
    from shuibao.spreadsheet import csv_text

    text = csv_text(list(columns), rows)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8-sig")
    return path


def write_report(path: Path | None, reports: list[FeatureReport], problems: Sequence[Text | str]) -> None:
    """The per-feature report as CSV (file-level problems first, as row 0)."""
    if path is not None:
        rows = [{"row": 0, "key": "", "status": "file", "messages": str(p)} for p in problems] + report_rows(reports)
        write_csv_rows(path, ["row", "key", "status", "messages"], rows)


def record_import(conn: Connection, kind: str, path: Path, layer: str, checked: ValidatedLayer, period: str | None,
                  at, by: str) -> int:
    """The lineage row of an accepted import (file, checksum, layer, CRS, per-feature report); its id."""
    from shuibao.io.steps import sha256

    return import_records.record_import(
        conn, kind=kind, source_path=str(path), source_sha256=sha256(path), layer=layer, source_crs=checked.source_crs,
        period=period, features=len(checked.records), repaired=len(checked.repaired),
        report_json=dumps(report_rows(checked.reports)), recorded_at=at, recorded_by=by)


def refuse(role: str, path: Path, checked: ValidatedLayer, report: Path | None) -> InputError:
    """The error of an import that stores nothing: file problems and the first rejected rows, all counted.

    The error's ``rows`` hold every file problem (row 0) and every rejected row with all its reasons (the web
    answers them in the 422 body).
    """
    return refusal(role, path, checked.problems, checked.rejected, len(checked.reports), unit="feature(s)",
                   verb="rejected", hints=[report_hint(report)])


def report_hint(report: Path | None) -> Text:
    """Where the per-row report is (the command line's ``--report``; the web's answer lists every row itself)."""
    if report:
        return N_("the per-row report: {report}", report=report)
    return N_("on the command line, --report FILE.csv writes the per-row report (the web lists every refused row)")


def refusal(role: str, path: Path, problems: Sequence[Text | str], bad: list[FeatureReport], total: int, *, unit: str,
            verb: str, hints: Sequence[Text | str]) -> InputError:
    """One refused import in the one "N problem(s)" format: the file's problems, then each refused row (the
    first :data:`SHOW` listed, all counted and all in ``err.rows``), then what to do next."""
    issues = [Issue(N_("file"), "", p) for p in problems]
    issues += [Issue(N_("row {row}", row=r.row), f"({r.key})" if r.key else "", joined_messages(r.messages))
               for r in bad]
    context: Text | str = ""
    if bad:  # unit and verb: "feature(s) rejected" (a layer's features) or "row(s) refused" (a table's rows)
        context = (N_("({bad} of {total} feature(s) rejected)", bad=len(bad), total=total) if unit == "feature(s)"
                   else N_("({bad} of {total} row(s) refused)", bad=len(bad), total=total))
    err = issues_error(issues, N_("{role}: {path}: nothing was imported", role=role, path=path), context=context,
                       limit=len(problems) + SHOW, hint=join_texts("\n", hints) if hints else "")
    assert isinstance(err, InputError)
    return with_rows(err, problems, bad)


def with_rows(err: InputError, problems: Sequence[Text | str], bad: list[FeatureReport]) -> InputError:
    """``err`` carrying the refused rows (``err.rows``: file problems as row 0, then each refused row)."""
    # rows is no declared field of InputError: the web answers it where an error carries it
    err.rows = ([{"row": 0, "key": "", "status": "file", "messages": p} for p in problems]  # type: ignore[attr-defined]
                + report_rows(bad, lang=None))
    return err


def dumps(payload) -> str:
    """``payload`` as the JSON stored in the records: keys sorted, Chinese kept, dates as text."""
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, default=str)


def as_date(value, what: str) -> date:
    """A date from an option value (``date`` or ISO text), refused with the option named."""
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise InputError(N_("{what}: {value!r} is not a date (expected YYYY-MM-DD)", what=what, value=value)) from None
