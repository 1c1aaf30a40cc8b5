"""The audit log (``audit_log``): append one row, read the newest rows."""

from __future__ import annotations

from sqlalchemy import Connection, select

from shuibao.store import schema


def append_audit(conn: Connection, **values) -> None:
    """One ``audit_log`` row (at, actor, role, action, object_kind, object_id, before/after JSON, request)."""
    conn.execute(schema.audit_log.insert().values(**values))


def audit_entries(conn: Connection, *, kind: str | None = None, object_id: str | None = None,
                  limit: int = 200) -> list[dict]:
    """The newest ``limit`` audit rows, newest first, optionally of one object kind and id."""
    t = schema.audit_log
    q = select(t).order_by(t.c.id.desc()).limit(limit)
    if kind:
        q = q.where(t.c.object_kind == kind)
    if object_id is not None:
        q = q.where(t.c.object_id == str(object_id))
    return [dict(r._mapping) for r in conn.execute(q)]
