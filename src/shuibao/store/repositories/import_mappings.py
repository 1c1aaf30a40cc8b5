"""Remembered field mappings of the imports (``import_mappings``): one row per import kind and source."""

from __future__ import annotations

from sqlalchemy import Connection, select

from shuibao.store import schema

from ._keys import inserted_id


def mapping_row(conn: Connection, kind: str, source: str):
    """The stored mapping of ``kind`` and ``source`` (None when none is remembered)."""
    t = schema.import_mappings
    return conn.execute(select(t).where(t.c.kind == kind, t.c.source == source)).first()


def save_mapping(conn: Connection, *, kind: str, source: str, columns_json: str, mapping_json: str, recorded_at,
                 recorded_by: str) -> tuple[int, str | None]:
    """Insert or replace the mapping of ``kind`` and ``source``; its id and the mapping it replaced (JSON)."""
    t = schema.import_mappings
    old = mapping_row(conn, kind, source)
    values = dict(columns_json=columns_json, mapping_json=mapping_json, recorded_at=recorded_at,
                  recorded_by=recorded_by)
    if old is None:
        return inserted_id(conn.execute(t.insert().values(kind=kind, source=source, **values))), None
    conn.execute(t.update().where(t.c.id == old.id).values(**values))
    return old.id, old.mapping_json
