"""Version 11 (issue 19, 2026-12-08): imports that take a bureau's own files.

* ``import_mappings``: the field → column mapping an officer gave for an import kind and a source (a name the
  officer gives, or the file's column signature), so the web form offers it again for the next file.  An
  operational table (out of the GeoPackage contents, like the platform's other bookkeeping).
* ``projects.total_area_computed``: true where ``total_area_hm2`` was computed from the polygon because the file
  gave no area (NULL on rows stored before this version: they were declared).

Frozen: the table and column as this migration made them.  Never edit; add a new version.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Connection, DateTime, Integer, MetaData, Table, Text, UniqueConstraint
from sqlalchemy.types import TypeEngine

from . import _ddl

metadata = MetaData()

ADDED_COLUMNS: dict[str, dict[str, TypeEngine]] = {"projects": {"total_area_computed": Boolean()}}
"""Columns added to version 3's tables."""

import_mappings = Table(
    "import_mappings", metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", Text, nullable=False),  # projects | patches | treatment | stations | observations
    Column("source", Text, nullable=False),  # the officer's name for the source, or "columns:" + a column signature
    Column("columns_json", Text, nullable=False),  # the file's columns when the mapping was last used
    Column("mapping_json", Text, nullable=False),  # field → column
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("recorded_by", Text, nullable=False),
    UniqueConstraint("kind", "source", name="uq_import_mappings"),
)


def apply(conn: Connection, backend: str) -> None:
    """Add ``projects.total_area_computed`` and create ``import_mappings`` (not registered in gpkg_contents)."""
    for table, columns in ADDED_COLUMNS.items():
        _ddl.add_columns(conn, table, columns)
    import_mappings.create(conn)
