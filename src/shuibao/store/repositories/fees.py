"""补偿费 ledger rows: assessments by their key (project, period, basis), exemptions and refunds (fee_adjustments),
and the fee's use, allocations to treatment projects (fee_allocations).  Amounts are integer fen."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, Row, func, select

from .. import schema
from ._keys import inserted_id


def assessment_by_key(conn: Connection, project_id: int, period: str, basis: str) -> Row | None:
    """The assessment of a project for a period and basis (at most one: uq_fee_assessments_period)."""
    a = schema.fee_assessments
    return conn.execute(select(a).where(a.c.project_id == project_id, a.c.period == period, a.c.basis == basis)).first()


def assessment(conn: Connection, assessment_id: int, *, for_update: bool = False) -> Row | None:
    """One assessment with its project's code and districts; ``for_update`` locks it (PostgreSQL) so that two
    writers of its ledger run one after the other."""
    a, p = schema.fee_assessments, schema.projects
    q = select(a, p.c.code, p.c.district_codes).join(p, p.c.id == a.c.project_id).where(a.c.id == assessment_id)
    return conn.execute(q.with_for_update(of=a) if for_update else q).first()


def ledger_sums(conn: Connection, assessment_id: int) -> tuple[int, int, int]:
    """(paid, exempted, refunded) fen of one assessment, every date."""
    pmt, adj = schema.fee_payments, schema.fee_adjustments
    paid = conn.execute(select(func.coalesce(func.sum(pmt.c.amount_fen), 0))
                        .where(pmt.c.assessment_id == assessment_id)).scalar()
    by_kind = dict(conn.execute(select(adj.c.kind, func.sum(adj.c.amount_fen))
                                .where(adj.c.assessment_id == assessment_id).group_by(adj.c.kind)).all())
    return int(paid or 0), int(by_kind.get("exemption") or 0), int(by_kind.get("refund") or 0)


def insert_adjustment(conn: Connection, **values) -> int:
    return inserted_id(conn.execute(schema.fee_adjustments.insert().values(**values)))


def adjusted_fen_by_assessment(conn: Connection, kind: str, as_of) -> dict[int, int]:
    """assessment id → fen exempted (or refunded) on or before ``as_of``."""
    adj = schema.fee_adjustments
    return {k: int(v) for k, v in conn.execute(
        select(adj.c.assessment_id, func.sum(adj.c.amount_fen)).where(adj.c.kind == kind, adj.c.on_date <= as_of)
        .group_by(adj.c.assessment_id)).all()}


def payments_of(conn: Connection, assessment_id: int) -> Sequence[Row]:
    t = schema.fee_payments
    return conn.execute(select(t).where(t.c.assessment_id == assessment_id).order_by(t.c.paid_on, t.c.id)).all()


def adjustments_of(conn: Connection, assessment_id: int) -> Sequence[Row]:
    t = schema.fee_adjustments
    return conn.execute(select(t).where(t.c.assessment_id == assessment_id).order_by(t.c.on_date, t.c.id)).all()


def ledger_rows(conn: Connection) -> tuple[Sequence[Row], Sequence[Row], Sequence[Row]]:
    """Every assessment (id, project's districts, date, amount), payment and adjustment, for the use summary."""
    a, p, pmt, adj = schema.fee_assessments, schema.projects, schema.fee_payments, schema.fee_adjustments
    assessed = conn.execute(select(a.c.id, a.c.assessed_on, a.c.amount_fen, p.c.district_codes)
                            .join(p, p.c.id == a.c.project_id)).all()
    paid = conn.execute(select(pmt.c.assessment_id, pmt.c.paid_on, pmt.c.amount_fen)).all()
    adjusted = conn.execute(select(adj.c.assessment_id, adj.c.kind, adj.c.on_date, adj.c.amount_fen)).all()
    return assessed, paid, adjusted


# ---------------------------------------------------------------------------------------------- use (allocations)
def treatment_project(conn: Connection, code: str) -> Row | None:
    tp = schema.treatment_projects
    return conn.execute(select(tp).where(tp.c.code == code)).first()


def insert_allocation(conn: Connection, **values) -> int:
    return inserted_id(conn.execute(schema.fee_allocations.insert().values(**values)))


def allocations(conn: Connection) -> Sequence[Row]:
    """Every allocation with its treatment project's code and name, by date."""
    f, tp = schema.fee_allocations, schema.treatment_projects
    return conn.execute(select(f, tp.c.code, tp.c.name).join(tp, tp.c.id == f.c.treatment_project_id)
                        .order_by(f.c.allocated_on, f.c.id)).all()


def lock_allocations(conn: Connection, district_code: str) -> None:
    """Serialise allocations of one district on PostgreSQL (a transaction-scoped advisory lock); SQLite writers are
    serialised by its database lock already."""
    if conn.dialect.name == "postgresql":
        conn.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"fee_allocations:{district_code}"))))
