"""Version 6 (3fcf33f, 2026-12-06): corrections of the case ledger (作废/更正).

``case_events.voids_seq`` names the step a void/correct event voids; ``case_events`` stays append-only (its
triggers are untouched).  Added only where missing: a store created by the code of 3fcf33f built version 3's
tables from the live schema and had the column already.  Frozen; never edit, add a new version.
"""

from __future__ import annotations

from sqlalchemy import Connection, Integer

from . import _ddl

ADDED_COLUMNS = {"case_events": {"voids_seq": Integer()}}


def apply(conn: Connection, backend: str) -> None:
    """Add ``case_events.voids_seq`` (INTEGER, nullable)."""
    for table, columns in ADDED_COLUMNS.items():
        _ddl.add_columns(conn, table, columns)
