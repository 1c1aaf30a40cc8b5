"""The case ledger's writes and lookups (台账): case rows, append-only ``case_events``, evidence files stored once
by SHA-256.  (A case's timeline as a whole is read by :mod:`shuibao.store.repositories.cases`.)"""

from __future__ import annotations

from collections.abc import Sequence
from sqlalchemy import Connection, Row, select

from shuibao.store import schema

from ._keys import inserted_id


def evidence_id(conn: Connection, sha256: str) -> int | None:
    """The id of the stored evidence file with this SHA-256 (None when it is not stored)."""
    t = schema.evidence_files
    return conn.execute(select(t.c.id).where(t.c.sha256 == sha256)).scalar()


def insert_evidence(conn: Connection, **values) -> int:
    """Store one evidence file (sha256, name, media_type, size_bytes, content, recorded_at/by); its id."""
    return inserted_id(conn.execute(schema.evidence_files.insert().values(**values)))


def evidence_file(conn: Connection, sha256: str):
    """(name, media_type, content) of a stored evidence file, or None."""
    t = schema.evidence_files
    return conn.execute(select(t.c.name, t.c.media_type, t.c.content).where(t.c.sha256 == sha256)).first()


def insert_case(conn: Connection, **values) -> int:
    """Store one ``cases`` row; its id (the number is set afterwards from it, :func:`set_case_no`)."""
    return inserted_id(conn.execute(schema.cases.insert().values(**values)))


def set_case_no(conn: Connection, case_id: int, case_no: str) -> None:
    conn.execute(schema.cases.update().where(schema.cases.c.id == case_id).values(case_no=case_no))


def append_event(conn: Connection, **values) -> None:
    """Append one ``case_events`` row; ``(case_id, seq)`` is unique, so a concurrent append fails."""
    conn.execute(schema.case_events.insert().values(**values))


def case_head(conn: Connection, case_no: str):
    """The ``cases`` row of a case number (None when it does not exist)."""
    c = schema.cases
    return conn.execute(select(c).where(c.c.case_no == case_no)).first()


def case_heads(conn: Connection, *, ordered: bool = True) -> Sequence[Row]:
    """Every ``cases`` row (in id order unless ``ordered`` is False)."""
    c = schema.cases
    q = select(c).order_by(c.c.id) if ordered else select(c)
    return conn.execute(q).all()


def case_id(conn: Connection, case_no: str) -> int | None:
    c = schema.cases
    return conn.execute(select(c.c.id).where(c.c.case_no == case_no)).scalar()


def patches_with_cases(conn: Connection) -> set[int]:
    """The fids of every patch a case is about."""
    c = schema.cases
    return set(conn.execute(select(c.c.patch_fid).where(c.c.patch_fid.is_not(None))).scalars())


def all_events(conn: Connection) -> Sequence[Row]:
    """Every ``case_events`` row, by case and sequence."""
    e = schema.case_events
    return conn.execute(select(e).order_by(e.c.case_id, e.c.seq)).all()
