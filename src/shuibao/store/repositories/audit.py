"""The audit log (``audit_log``): append one row, read the newest rows (a page of them), count them."""

from __future__ import annotations

from sqlalchemy import Connection, func, select

from shuibao.store import schema


def append_audit(conn: Connection, **values) -> None:
    """One ``audit_log`` row (at, actor, role, action, object_kind, object_id, before/after JSON, request)."""
    conn.execute(schema.audit_log.insert().values(**values))


def _of(q, t, kind: str | None, object_id: str | None):
    if kind:
        q = q.where(t.c.object_kind == kind)
    if object_id is not None:
        q = q.where(t.c.object_id == str(object_id))
    return q


def audit_entries(conn: Connection, *, kind: str | None = None, object_id: str | None = None,
                  limit: int = 200, offset: int = 0) -> list[dict]:
    """``limit`` audit rows after the newest ``offset``, newest first, optionally of one object kind and id."""
    t = schema.audit_log
    q = _of(select(t).order_by(t.c.id.desc()).limit(limit).offset(offset), t, kind, object_id)
    return [dict(r._mapping) for r in conn.execute(q)]


def audit_count(conn: Connection, *, kind: str | None = None, object_id: str | None = None) -> int:
    """How many audit rows there are (of one object kind and id when given)."""
    t = schema.audit_log
    return int(conn.execute(_of(select(func.count()).select_from(t), t, kind, object_id)).scalar_one())
