"""Cases (案件): their heads, timelines (events) and the evidence files the events cite."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from datetime import date

from sqlalchemy import Connection, Row, select

from .. import schema

CHUNK = 500
"""Ids per ``IN (…)``: well below SQLite's limit of bound parameters."""


def all_cases(conn: Connection, *, ordered: bool = False) -> Sequence[Row]:
    """Every ``cases`` row (by id with ``ordered``)."""
    c = schema.cases
    return conn.execute(select(c).order_by(c.c.id) if ordered else select(c)).all()


def case_by_no(conn: Connection, case_no: str):
    """The ``cases`` row of ``case_no``, None if there is none."""
    c = schema.cases
    return conn.execute(select(c).where(c.c.case_no == case_no)).first()


def case_events(conn: Connection, case_ids: list[int], *, until: date | None = None,
                always: Collection[str] = ()) -> dict[int, list[dict]]:
    """case id → its events (dicts, by seq), in ``len(case_ids) / CHUNK`` queries.

    With ``until``, events dated later are left out, except the steps named in ``always`` (voids and
    corrections apply whatever their date).
    """
    e = schema.case_events
    events: dict[int, list[dict]] = {i: [] for i in case_ids}
    for k in range(0, len(case_ids), CHUNK):
        for r in conn.execute(select(e).where(e.c.case_id.in_(case_ids[k:k + CHUNK])).order_by(e.c.case_id, e.c.seq)):
            if until is None or r.on_date <= until or r.step in always:
                events[r.case_id].append(dict(r._mapping))
    return events


def cited_files(conn: Connection, events: dict[int, list[dict]]) -> dict[int, dict]:
    """evidence id → id, name, sha256, media_type, size_bytes of every file the events cite (``evidence_json``)."""
    ev = schema.evidence_files
    cited = sorted({i for evs in events.values() for x in evs for i in json.loads(x["evidence_json"])})
    names = {}
    for k in range(0, len(cited), CHUNK):
        for r in conn.execute(select(ev.c.id, ev.c.name, ev.c.sha256, ev.c.media_type, ev.c.size_bytes)
                              .where(ev.c.id.in_(cited[k:k + CHUNK]))):
            names[r.id] = {"id": r.id, "name": r.name, "sha256": r.sha256, "media_type": r.media_type,
                           "size_bytes": r.size_bytes}
    return names


def patch_geoms(conn: Connection) -> dict:
    """fid → geometry of every disturbance patch (a case's site when it comes from a patch)."""
    d = schema.disturbance_patches
    return dict(conn.execute(select(d.c.fid, d.c.geom)).all())
