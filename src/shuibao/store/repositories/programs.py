"""The supervision programmes' records: inspectors and random inspections (双随机一公开), quarterly monitoring
reports (绿黄红), acceptance filings, samples and verifications (验收报备/核查), compensation fees (补偿费) and
credit-list entries (信用名单)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from sqlalchemy import Connection, Row, func, select

from shuibao.store import schema

from ._keys import inserted_id


# ---------------------------------------------------------------------------------------------- inspections
def inspector_ids(conn: Connection) -> dict[str, int]:
    """code → id of every inspector."""
    t = schema.inspectors
    return {r.code: r.id for r in conn.execute(select(t.c.code, t.c.id))}


def update_inspector(conn: Connection, iid: int, **values) -> None:
    t = schema.inspectors
    conn.execute(t.update().where(t.c.id == iid).values(**values))


def insert_inspector(conn: Connection, **values) -> None:
    conn.execute(schema.inspectors.insert().values(**values))


def active_inspectors(conn: Connection) -> Sequence[Row]:
    i = schema.inspectors
    return conn.execute(select(i).where(i.c.active.is_(True))).all()


def insert_draw(conn: Connection, **values) -> int:
    return inserted_id(conn.execute(schema.inspection_draws.insert().values(**values)))


def insert_inspections(conn: Connection, rows: list[dict]) -> None:
    conn.execute(schema.inspections.insert(), rows)


def inspection(conn: Connection, inspection_id: int):
    i = schema.inspections
    return conn.execute(select(i).where(i.c.id == inspection_id)).first()


def inspection_result(conn: Connection, inspection_id: int):
    r = schema.inspection_results
    return conn.execute(select(r).where(r.c.inspection_id == inspection_id)).first()


def insert_inspection_result(conn: Connection, **values) -> None:
    conn.execute(schema.inspection_results.insert().values(**values))


def draw_head(conn: Connection, draw_id: int):
    d = schema.inspection_draws
    return conn.execute(select(d).where(d.c.id == draw_id)).first()


def draw_rows(conn: Connection, draw_id: int) -> Sequence[Row]:
    """Each project of a draw (code, name, builder), its inspectors and result, by project code."""
    i, r, p = schema.inspections, schema.inspection_results, schema.projects
    return conn.execute(select(p.c.code, p.c.name, p.c.builder, i.c.inspector_codes, r.c.inspected_on,
                               r.c.result, r.c.findings).join(p, p.c.id == i.c.project_id)
                        .join(r, r.c.inspection_id == i.c.id, isouter=True).where(i.c.draw_id == draw_id)
                        .order_by(p.c.code)).all()


def inspection_results_between(conn: Connection, start, end) -> Sequence[Row]:
    r = schema.inspection_results
    return conn.execute(select(r.c.result).where(r.c.inspected_on >= start, r.c.inspected_on <= end)).all()


# ---------------------------------------------------------------------------------------------- monitoring reports
def report_exists(conn: Connection, project_id: int, period: str) -> bool:
    t = schema.monitoring_reports
    return conn.execute(select(t.c.id).where(t.c.project_id == project_id, t.c.period == period)).first() is not None


def insert_report(conn: Connection, **values) -> int:
    return inserted_id(conn.execute(schema.monitoring_reports.insert().values(**values)))


def set_report_case(conn: Connection, report_id: int, case_id: int | None) -> None:
    t = schema.monitoring_reports
    conn.execute(t.update().where(t.c.id == report_id).values(case_id=case_id))


def report_colours_between(conn: Connection, start, end) -> list[str]:
    """The colour of every report whose period ends in [start, end]."""
    mr = schema.monitoring_reports
    return [c for (c,) in conn.execute(select(mr.c.colour).where(mr.c.period_end >= start, mr.c.period_end <= end))]


def reports_until(conn: Connection, as_of) -> Sequence[Row]:
    """Reports ending by ``as_of`` (id, project_id, period_end, colour) with the project's builder."""
    r, p = schema.monitoring_reports, schema.projects
    return conn.execute(select(r.c.id, r.c.project_id, r.c.period_end, r.c.colour, p.c.builder)
                        .join(p, p.c.id == r.c.project_id).where(r.c.period_end <= as_of)).all()


# ---------------------------------------------------------------------------------------------- acceptance
def insert_filing(conn: Connection, **values) -> int:
    return inserted_id(conn.execute(schema.acceptance_filings.insert().values(**values)))


def unsampled_filings(conn: Connection) -> list[int]:
    f = schema.acceptance_filings
    return list(conn.execute(select(f.c.id).where(f.c.sample_id.is_(None)).order_by(f.c.id)).scalars())


def insert_sample(conn: Connection, **values) -> int:
    return inserted_id(conn.execute(schema.acceptance_samples.insert().values(**values)))


def mark_sampled(conn: Connection, filing_ids: list[int], sample_id: int) -> None:
    f = schema.acceptance_filings
    conn.execute(f.update().where(f.c.id.in_(filing_ids)).values(sample_id=sample_id))


def filing(conn: Connection, filing_id: int):
    f = schema.acceptance_filings
    return conn.execute(select(f).where(f.c.id == filing_id)).first()


def sample_selection(conn: Connection, sample_id: int) -> list[int]:
    """The filing ids a sample drew (empty when the sample has no selection)."""
    s = schema.acceptance_samples
    return json.loads(conn.execute(select(s.c.selected_json).where(s.c.id == sample_id)).scalar() or "[]")


def verification(conn: Connection, filing_id: int):
    v = schema.acceptance_verifications
    return conn.execute(select(v).where(v.c.filing_id == filing_id)).first()


def insert_verification(conn: Connection, **values) -> None:
    conn.execute(schema.acceptance_verifications.insert().values(**values))


def filings_between(conn: Connection, start, end) -> int:
    f = schema.acceptance_filings
    return int(conn.execute(select(func.count()).select_from(f).where(f.c.filed_on >= start, f.c.filed_on <= end))
               .scalar() or 0)


# ---------------------------------------------------------------------------------------------- fees
def insert_fee_assessment(conn: Connection, **values) -> int:
    return inserted_id(conn.execute(schema.fee_assessments.insert().values(**values)))


def fee_assessment_exists(conn: Connection, assessment_id: int) -> bool:
    a = schema.fee_assessments
    return conn.execute(select(a.c.id).where(a.c.id == assessment_id)).first() is not None


def receipt_exists(conn: Connection, receipt: str) -> bool:
    t = schema.fee_payments
    return conn.execute(select(t.c.id).where(t.c.receipt_no == receipt)).first() is not None


def insert_payment(conn: Connection, **values) -> int:
    return inserted_id(conn.execute(schema.fee_payments.insert().values(**values)))


def paid_fen_by_assessment(conn: Connection, as_of) -> dict[int, int]:
    """assessment id → fen paid on or before ``as_of``."""
    pmt = schema.fee_payments
    return dict(conn.execute(select(pmt.c.assessment_id, func.sum(pmt.c.amount_fen)).where(pmt.c.paid_on <= as_of)
                             .group_by(pmt.c.assessment_id)).all())


def fee_assessments(conn: Connection) -> Sequence[Row]:
    """Every assessment (all columns) with the project's code and builder, by id."""
    a, p = schema.fee_assessments, schema.projects
    return conn.execute(select(a, p.c.code, p.c.builder).join(p, p.c.id == a.c.project_id).order_by(a.c.id)).all()


# ---------------------------------------------------------------------------------------------- credit lists
def credit_keys(conn: Connection) -> set[tuple]:
    """(list_kind, subject, rule_id, valid_from) of every stored entry."""
    t = schema.credit_entries
    return {(r.list_kind, r.subject, r.rule_id, r.valid_from) for r in conn.execute(select(t))}


def insert_credit_entries(conn: Connection, rows: list[dict]) -> None:
    conn.execute(schema.credit_entries.insert(), rows)


def credit_entries_on(conn: Connection, as_of, list_kind: str | None = None) -> list[dict]:
    """Entries in force on ``as_of`` (valid_from ≤ as_of < valid_to), by list, subject and rule."""
    t = schema.credit_entries
    q = select(t).where(t.c.valid_from <= as_of, t.c.valid_to > as_of).order_by(t.c.list_kind, t.c.subject, t.c.rule_id)
    if list_kind:
        q = q.where(t.c.list_kind == list_kind)
    return [dict(r._mapping) for r in conn.execute(q)]
