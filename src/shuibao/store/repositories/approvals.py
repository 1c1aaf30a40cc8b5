"""Plan applications (方案报批) as stored: headers, units, steps, review, decisions, re-checks, zones, consultations."""

from __future__ import annotations

from sqlalchemy import Connection, func, select

from shuibao.store import schema


def insert(conn: Connection, table, **values) -> int:
    """One row of an approval table; its id."""
    return int(conn.execute(table.insert().values(**values).returning(table.c.id)).scalar_one())


def next_number(conn: Connection, year: int) -> str:
    """The next application number of a year (SB-2026-0001, …)."""
    a = schema.applications
    n = conn.execute(select(func.count()).select_from(a).where(a.c.application_no.like(f"SB-{year}-%"))).scalar()
    return f"SB-{year}-{int(n or 0) + 1:04d}"


def application(conn: Connection, application_no: str):
    a = schema.applications
    return conn.execute(select(a).where(a.c.application_no == application_no)).first()


def application_by_code(conn: Connection, project_code: str):
    a = schema.applications
    return conn.execute(select(a).where(a.c.project_code == project_code)).first()


def applications(conn: Connection, *, district: str | None = None, state: str | None = None) -> list:
    a = schema.applications
    q = select(a).order_by(a.c.application_no)
    if district:
        q = q.where(a.c.district_code == district)
    if state:
        q = q.where(a.c.state == state)
    return list(conn.execute(q))


def set_header(conn: Connection, application_id: int, **values) -> None:
    a = schema.applications
    conn.execute(a.update().where(a.c.id == application_id).values(**values))


def events(conn: Connection, application_ids: list[int]) -> dict[int, list[dict]]:
    e = schema.application_events
    out: dict[int, list[dict]] = {i: [] for i in application_ids}
    if application_ids:
        for r in conn.execute(select(e).where(e.c.application_id.in_(application_ids)).order_by(e.c.application_id,
                                                                                                 e.c.seq)):
            out[r.application_id].append(dict(r._mapping))
    return out


def last_seq(conn: Connection, application_id: int) -> int:
    e = schema.application_events
    return int(conn.execute(select(func.max(e.c.seq)).where(e.c.application_id == application_id)).scalar() or 0)


def rows_of(conn: Connection, table, application_id: int) -> list[dict]:
    return [dict(r._mapping) for r in conn.execute(select(table).where(table.c.application_id == application_id)
                                                   .order_by(table.c.id))]


def latest_assignment(conn: Connection, application_id: int):
    t = schema.review_assignments
    return conn.execute(select(t).where(t.c.application_id == application_id).order_by(t.c.id.desc())).first()


def document_versions(conn: Connection, application_id: int) -> int:
    t = schema.review_records
    return int(conn.execute(select(func.max(t.c.document_version)).where(t.c.application_id == application_id))
               .scalar() or 0)


def decision(conn: Connection, application_id: int):
    t = schema.decisions
    return conn.execute(select(t).where(t.c.application_id == application_id)).first()


def decision_by_no(conn: Connection, decision_no: str):
    t = schema.decisions
    return conn.execute(select(t).where(t.c.decision_no == decision_no)).first()


def zones(conn: Connection) -> list:
    return list(conn.execute(select(schema.zone_evaluations).order_by(schema.zone_evaluations.c.code)))


def zone(conn: Connection, zone_id: int):
    z = schema.zone_evaluations
    return conn.execute(select(z).where(z.c.id == zone_id)).first()


def zone_by_code(conn: Connection, code: str):
    z = schema.zone_evaluations
    return conn.execute(select(z).where(z.c.code == code)).first()


def consultations(conn: Connection) -> list[dict]:
    t = schema.consultations
    return [dict(r._mapping) for r in conn.execute(select(t).order_by(t.c.consulted_on, t.c.id))]


def sample(conn: Connection, sample_id: int):
    t = schema.recheck_samples
    return conn.execute(select(t).where(t.c.id == sample_id)).first()


def sampled_ids(conn: Connection) -> set[int]:
    """Applications drawn by any earlier re-check sample."""
    import json

    return {i for (s,) in conn.execute(select(schema.recheck_samples.c.selected_json)) for i in json.loads(s)}


def recheck_result(conn: Connection, sample_id: int, application_id: int):
    t = schema.recheck_results
    return conn.execute(select(t).where(t.c.sample_id == sample_id, t.c.application_id == application_id)).first()


def open_cases_of(conn: Connection, subjects: list[str]) -> list[dict]:
    """Cases naming one of ``subjects`` whose last step leaves them open (not closed, not dismissed)."""
    c, e = schema.cases, schema.case_events
    if not subjects:
        return []
    last = (select(e.c.case_id, func.max(e.c.seq).label("seq")).group_by(e.c.case_id).subquery())
    q = (select(c.c.case_no, c.c.subject, c.c.category, c.c.title, e.c.state)
         .join(last, last.c.case_id == c.c.id).join(e, (e.c.case_id == c.c.id) & (e.c.seq == last.c.seq))
         .where(c.c.subject.in_(subjects)).order_by(c.c.case_no))
    return [dict(r._mapping) for r in conn.execute(q) if r.state not in ("closed", "dismissed")]


def credit_entries_of(conn: Connection, subjects: list[str], as_of) -> list[dict]:
    t = schema.credit_entries
    if not subjects:
        return []
    q = (select(t.c.list_kind, t.c.subject, t.c.rule_id, t.c.valid_from, t.c.valid_to, t.c.reason)
         .where(t.c.subject.in_(subjects), t.c.valid_from <= as_of, t.c.valid_to > as_of)
         .order_by(t.c.list_kind, t.c.subject, t.c.rule_id))
    return [dict(r._mapping) for r in conn.execute(q)]
