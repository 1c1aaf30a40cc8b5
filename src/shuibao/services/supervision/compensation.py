"""水土保持补偿费 on the store: assessments (one per project, period and basis), payments, exemptions (免征) and
refunds (退费) as append-only entries, and the fee's use (专项用于水土流失预防和治理): allocations of the collected
fees to treatment projects, with a summary per year and district.

Every write runs in one transaction with its audit row.  The arithmetic is :class:`shuibao.supervision.fees.Balance`
(Decimal 元, half-up to the fen; stored as integer fen).  A fee belongs to its project's first district (the one a
case of the project is filed under), an allocation to its treatment project's district.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from shuibao.errors import InputError, StoreError, N_
from shuibao.store import Store
from shuibao.vocabulary import LabelText
from shuibao.store.repositories import fees as rows, programs as records, projects as project_records
from shuibao.supervision import fees
from shuibao.services.platform.auth import audit, command_line_principal
from shuibao.services.supervision.common import actor as who, now

FEN = Decimal("0.01")
_VOLUME_FIELDS = {"spoil_disposal": "spoil_m3", "excavation": "excavation_m3"}


def rate_table(rates: Path | None = None) -> fees.RateTable:
    """The rate table in use: ``rates`` or the packaged default (Chongqing, draft)."""
    return fees.load_rate_table(rates)


def _yuan(fen: int) -> Decimal:
    return Decimal(int(fen)) * FEN


def _fen(yuan: Decimal) -> int:
    return int((yuan * 100).to_integral_value())


def _audit(conn: Connection, actor: str | None, action: str, kind: str, object_id, after: dict) -> None:
    """The audit row of a command-line write: the operating-system user (or --actor)."""
    audit(conn, command_line_principal(actor), action, kind, object_id, None, after)


def _project(conn: Connection, code: str):
    row = project_records.project_by_code(conn, code)
    if row is None:
        raise InputError(N_("project {code!r} is not known", code=code))
    return row


def _district(district_codes: str) -> str:
    return district_codes.split(",")[0]


def _default_quantity(prow, category: str, basis: str) -> float:
    """The project's own quantity for the rate's basis: disturbed (else total) area, or its recorded volume."""
    if basis == "area_m2":
        hm2 = prow.disturbed_area_hm2 if prow.disturbed_area_hm2 is not None else prow.total_area_hm2
        return hm2 * 1e4
    column = _VOLUME_FIELDS.get(category) if basis == "volume_m3" else None
    value = getattr(prow, column) if column else None
    if value is None:
        what = f"its {column} is not recorded" if column else "the project records no such quantity"
        raise InputError(N_("project {code}: fee category {category!r} is charged per {basis} and {what}; "
                         "give --quantity", code=prow.code, category=category, basis=basis, what=what))
    return value


def _duplicate(code: str, existing) -> InputError:
    return InputError(N_(
        "project {code}: period {period}, basis {basis} is already assessed: assessment {id} of {assessed_on}, "
        "{amount} 元 ({category}); the same project, period and basis is assessed once (a different period or "
        "basis is a new assessment)", code=code, period=existing.period, basis=existing.basis, id=existing.id,
        assessed_on=existing.assessed_on, amount=_yuan(existing.amount_fen), category=existing.category))


def assess_fee(db: str | None, project_code: str, *, category: str = "general", quantity: float | None = None,
               on: date, period: str | None = None, due_in_days: int = 30, exemption: str | None = None,
               rates: Path | None = None, actor: str | None = None) -> dict:
    """补偿费 for a project; the quantity defaults to its disturbed (else total) area in m² for area rates and to
    its recorded spoil or excavation volume for those volume rates; otherwise it must be given.  A second
    assessment of the same project, period and basis is refused naming the first (also under a race: the unique
    index uq_fee_assessments_period), and nothing is stored."""
    table = fees.load_rate_table(rates)
    entry = table.entry_for(category, on)
    key = fees.assessment_period(entry.charged, period)
    by, at = who(actor), now()
    try:
        with Store(db) as store, store.transaction() as conn:
            store.require_current(conn)
            prow = _project(conn, project_code)
            existing = rows.assessment_by_key(conn, prow.id, key, entry.basis)
            if existing is not None:
                raise _duplicate(project_code, existing)
            if quantity is None:
                quantity = _default_quantity(prow, category, entry.basis)
            a = fees.assess(table, category, quantity, on_date=on, exemption=exemption)
            aid = records.insert_fee_assessment(
                conn, project_id=prow.id, assessed_on=on, due_on=on + timedelta(days=due_in_days),
                category=a.category, basis=a.basis, period=key, quantity=float(a.quantity),
                billable_quantity=float(a.billable_quantity), rate_fen=_fen(a.rate), amount_fen=_fen(a.amount),
                rates_version=a.table_version, rate_entry=a.entry_id, exemption=a.exemption_key, recorded_at=at,
                recorded_by=by)
            _audit(conn, actor, "fee.assess", "fee_assessment", aid,
                   {"project": project_code, "category": a.category, "period": key, "amount_yuan": str(a.amount),
                    "on": on, "rate_status": a.rate_status})
    except StoreError as exc:
        if not isinstance(exc.__cause__, IntegrityError):
            raise
        with Store(db) as store, store.reading() as conn:  # another writer stored the same key first
            prow = _project(conn, project_code)
            existing = rows.assessment_by_key(conn, prow.id, key, entry.basis)
        if existing is None:
            raise
        raise _duplicate(project_code, existing) from None
    return {"assessment_id": aid, "amount_yuan": str(a.amount), "rate": str(a.rate), "basis": a.basis,
            "period": key, "billable_quantity": str(a.billable_quantity), "exempt": a.exempt,
            "example_rates": table.is_example, "rate_status": a.rate_status, "rate_entry": a.entry_id,
            "rate_source": entry.source, "references": list(entry.references), "rates_path": str(table.path)}


def _balance(conn: Connection, assessment_id: int, *, lock: bool = True):
    head = rows.assessment(conn, assessment_id, for_update=lock)
    if head is None:
        raise InputError(N_("fee assessment {assessment_id} does not exist", assessment_id=assessment_id))
    paid, exempted, refunded = rows.ledger_sums(conn, assessment_id)
    return head, fees.Balance(_yuan(head.amount_fen), _yuan(paid), _yuan(exempted), _yuan(refunded))


def _after(b: fees.Balance, kind: str, amount: Decimal) -> fees.Balance:
    return fees.Balance(b.assessed, b.paid + (amount if kind == "payment" else 0),
                        b.exempted + (amount if kind == "exemption" else 0),
                        b.refunded + (amount if kind == "refund" else 0))


def pay_fee(db: str | None, assessment_id: int, *, paid_on: date, amount_yuan: str, receipt: str,
            actor: str | None = None) -> int:
    """A payment (缴纳) against an assessment; beyond the outstanding amount it is refused (overpayment)."""
    amount = fees.money(amount_yuan)
    receipt = (receipt or "").strip()
    if not receipt:
        raise InputError(N_("receipt: required, the payment's receipt number (票据号)"))
    by, at = who(actor), now()
    with Store(db) as store, store.transaction() as conn:
        store.require_current(conn)
        _, b = _balance(conn, assessment_id)
        if records.receipt_exists(conn, receipt):
            raise InputError(N_("receipt {receipt!r} is already recorded", receipt=receipt))
        fees.check_entry(b, "payment", amount)
        pid = records.insert_payment(conn, assessment_id=assessment_id, paid_on=paid_on, amount_fen=_fen(amount),
                                     receipt_no=receipt, recorded_at=at, recorded_by=by)
        _audit(conn, actor, "fee.pay", "fee_assessment", assessment_id,
               {"payment": pid, "paid_on": paid_on, "amount_yuan": str(amount), "receipt": receipt,
                "outstanding_yuan": str(_after(b, "payment", amount).outstanding)})
        return pid


def exempt_fee(db: str | None, assessment_id: int, *, on: date, rule: str, reason: str,
               amount_yuan: str | None = None, reference: str | None = None, rates: Path | None = None,
               actor: str | None = None) -> dict:
    """An exemption (免征) of part or all (the default: what is still due) of an assessment, under a rule of the
    rate table's exemptions (财综〔2014〕8号 第十一条), cited in the entry as the table words it."""
    table = fees.load_rate_table(rates)
    ex = next((x for x in table.exemptions if x.key == rule), None)
    if ex is None:
        raise InputError(N_("exemption {exemption!r} is unknown; valid: {valid}", exemption=rule,
                            valid=", ".join(x.key for x in table.exemptions) or "none in this table"))
    reason = (reason or "").strip()
    if not reason:
        raise InputError(N_("reason: required, why the exemption applies (the exempt part, the decision)"))
    by, at = who(actor), now()
    with Store(db) as store, store.transaction() as conn:
        store.require_current(conn)
        _, b = _balance(conn, assessment_id)
        amount = fees.money(amount_yuan) if amount_yuan is not None else b.due
        if amount <= 0:
            raise InputError(N_("fee assessment {assessment_id}: nothing is due to exempt", assessment_id=assessment_id))
        fees.check_entry(b, "exemption", amount)
        eid = rows.insert_adjustment(conn, assessment_id=assessment_id, kind="exemption", on_date=on,
                                     amount_fen=_fen(amount), rule=ex.key, rule_source=ex.source, reason=reason,
                                     reference=(reference or "").strip() or None, recorded_at=at, recorded_by=by)
        after = _after(b, "exemption", amount)
        _audit(conn, actor, "fee.exempt", "fee_assessment", assessment_id,
               {"adjustment": eid, "on": on, "amount_yuan": str(amount), "rule": ex.key, "rule_source": ex.source,
                "reason": reason, "outstanding_yuan": str(after.outstanding)})
    return {"adjustment_id": eid, "amount_yuan": str(amount), "rule": ex.key, "rule_source": ex.source,
            "rule_verified": ex.verified, "outstanding_yuan": str(after.outstanding),
            "credit_yuan": str(after.credit)}


def refund_fee(db: str | None, assessment_id: int, *, on: date, amount_yuan: str, reason: str,
               reference: str | None = None, actor: str | None = None) -> dict:
    """A refund (退费) of what was paid beyond the amount due (after an exemption granted once paid)."""
    amount = fees.money(amount_yuan)
    reason = (reason or "").strip()
    if not reason:
        raise InputError(N_("reason: required, why the fee is refunded (退费原因)"))
    by, at = who(actor), now()
    with Store(db) as store, store.transaction() as conn:
        store.require_current(conn)
        _, b = _balance(conn, assessment_id)
        fees.check_entry(b, "refund", amount)
        rid = rows.insert_adjustment(conn, assessment_id=assessment_id, kind="refund", on_date=on,
                                     amount_fen=_fen(amount), rule=None, rule_source=None, reason=reason,
                                     reference=(reference or "").strip() or None, recorded_at=at, recorded_by=by)
        after = _after(b, "refund", amount)
        _audit(conn, actor, "fee.refund", "fee_assessment", assessment_id,
               {"adjustment": rid, "on": on, "amount_yuan": str(amount), "reason": reason,
                "outstanding_yuan": str(after.outstanding)})
    return {"adjustment_id": rid, "amount_yuan": str(amount), "outstanding_yuan": str(after.outstanding),
            "credit_yuan": str(after.credit)}


def fee_entries(db: str | None, assessment_id: int) -> dict:
    """An assessment and its entries (payments, exemptions, refunds) by date, each with the outstanding amount
    after it."""
    with Store(db) as store, store.reading() as conn:
        head, b = _balance(conn, assessment_id, lock=False)
        entries = ([{"kind": "payment", "on_date": p.paid_on, "amount_yuan": _yuan(p.amount_fen),
                     "reference": p.receipt_no, "rule": None, "reason": "", "recorded_by": p.recorded_by, "id": p.id}
                    for p in rows.payments_of(conn, assessment_id)]
                   + [{"kind": x.kind, "on_date": x.on_date, "amount_yuan": _yuan(x.amount_fen),
                       "reference": x.reference or "", "rule": x.rule, "rule_source": x.rule_source,
                       "reason": x.reason, "recorded_by": x.recorded_by, "id": x.id}
                      for x in rows.adjustments_of(conn, assessment_id)])
    entries.sort(key=lambda e: (e["on_date"], e["kind"] != "payment", e["id"]))
    run = fees.Balance(b.assessed, Decimal(0), Decimal(0), Decimal(0))
    for e in entries:
        run = _after(run, e["kind"], e["amount_yuan"])
        e["outstanding_yuan"], e["credit_yuan"] = run.outstanding, run.credit
    return {"assessment_id": head.id, "project_code": head.code, "category": head.category, "basis": head.basis,
            "period": head.period, "assessed_on": head.assessed_on, "amount_yuan": b.assessed, "paid_yuan": b.paid,
            "exempted_yuan": b.exempted, "refunded_yuan": b.refunded, "outstanding_yuan": b.outstanding,
            "credit_yuan": b.credit, "rates_version": head.rates_version, "rate_entry": head.rate_entry,
            "entries": entries}


def fee_ledger(conn_or_db, as_of: date | None = None) -> list[dict]:
    """Each assessment with paid, exempted, refunded and outstanding amounts (元) and days overdue on ``as_of``."""
    if not isinstance(conn_or_db, Connection):
        with Store(conn_or_db) as store, store.reading() as conn:
            return fee_ledger(conn, as_of)
    conn, as_of = conn_or_db, as_of or date.today()
    paid = records.paid_fen_by_assessment(conn, as_of)
    exempted = rows.adjusted_fen_by_assessment(conn, "exemption", as_of)
    refunded = rows.adjusted_fen_by_assessment(conn, "refund", as_of)
    out = []
    for r in records.fee_assessments(conn):
        b = fees.Balance(_yuan(r.amount_fen), _yuan(paid.get(r.id, 0) or 0), _yuan(exempted.get(r.id, 0)),
                         _yuan(refunded.get(r.id, 0)))
        out.append({"assessment_id": r.id, "project_id": r.project_id, "project_code": r.code, "builder": r.builder,
                    "category": r.category, "basis": r.basis, "period": r.period, "assessed_on": r.assessed_on,
                    "due_on": r.due_on, "amount_yuan": b.assessed, "paid_yuan": b.paid, "exempted_yuan": b.exempted,
                    "refunded_yuan": b.refunded, "outstanding_yuan": b.outstanding, "credit_yuan": b.credit,
                    "rates_version": r.rates_version, "exemption": r.exemption,
                    "overdue_days": max((as_of - r.due_on).days, 0) if b.outstanding > 0 else 0})
    return out


# ---------------------------------------------------------------------------------------------- use
def _collected_fen(conn: Connection, district: str, until: date) -> int:
    """Fees of the district's projects paid less refunded, on or before ``until`` (fen)."""
    assessed, paid, adjusted = rows.ledger_rows(conn)
    mine = {a.id for a in assessed if _district(a.district_codes) == district}
    return (sum(p.amount_fen for p in paid if p.assessment_id in mine and p.paid_on <= until)
            - sum(x.amount_fen for x in adjusted if x.kind == "refund" and x.assessment_id in mine
                  and x.on_date <= until))


def allocate_fee(db: str | None, treatment_project: str, *, on: date, amount_yuan: str, reference: str | None = None,
                 note: str = "", actor: str | None = None) -> dict:
    """Allocate collected fees to a treatment project (专项用于水土流失预防和治理).  The district's balance is its
    fees collected (paid less refunded) up to ``on`` less every allocation recorded for it; more is refused."""
    amount = fees.money(amount_yuan)
    by, at = who(actor), now()
    with Store(db) as store, store.transaction() as conn:
        store.require_current(conn)
        tp = rows.treatment_project(conn, treatment_project)
        if tp is None:
            raise InputError(N_("treatment project {code!r} is not known (shuibao governance import)",
                                code=treatment_project))
        if not tp.district_code:
            raise InputError(N_("treatment project {code}: no district recorded; the fee it is funded by is a "
                                "district's", code=treatment_project))
        rows.lock_allocations(conn, tp.district_code)
        allocated = sum(x.amount_fen for x in rows.allocations(conn) if x.district_code == tp.district_code)
        balance = _yuan(_collected_fen(conn, tp.district_code, on) - allocated)
        if amount > balance:
            raise InputError(N_("allocation {amount} 元 to {code} exceeds the unallocated balance of district "
                                "{district} on {on}: {balance} 元 (collected less refunded, less allocations "
                                "already recorded)", amount=amount, code=treatment_project,
                                district=LabelText("district", tp.district_code), on=on, balance=balance))
        fid = rows.insert_allocation(conn, treatment_project_id=tp.id, district_code=tp.district_code,
                                     allocated_on=on, amount_fen=_fen(amount),
                                     reference=(reference or "").strip() or None, note=note.strip(),
                                     recorded_at=at, recorded_by=by)
        _audit(conn, actor, "fee.allocate", "fee_allocation", fid,
               {"treatment_project": treatment_project, "district": tp.district_code, "on": on,
                "amount_yuan": str(amount), "balance_yuan": str(balance - amount)})
    return {"allocation_id": fid, "amount_yuan": str(amount), "district": tp.district_code,
            "balance_yuan": str(balance - amount)}


def fee_allocations(db: str | None) -> list[dict]:
    with Store(db) as store, store.reading() as conn:
        return [{"allocation_id": x.id, "treatment_project": x.code, "treatment_name": x.name,
                 "district_code": x.district_code, "allocated_on": x.allocated_on,
                 "amount_yuan": _yuan(x.amount_fen), "reference": x.reference or "", "note": x.note,
                 "recorded_by": x.recorded_by} for x in rows.allocations(conn)]


SUMMARY_FIELDS = ("assessed_yuan", "collected_yuan", "exempted_yuan", "refunded_yuan", "allocated_yuan",
                  "unallocated_yuan")


def fee_use_summary(db: str | None, *, year: int | None = None, district: str | None = None) -> list[dict]:
    """Per year and district: assessed (by assessment date), collected (payments), exempted, refunded and allocated
    in the year, and unallocated: the balance at the year's end (every year's collections less refunds less
    allocations up to then).  Years run from the first record to the last."""
    with Store(db) as store, store.reading() as conn:
        assessed, paid, adjusted = rows.ledger_rows(conn)
        alloc = rows.allocations(conn)
    where = {a.id: _district(a.district_codes) for a in assessed}
    flows: defaultdict[tuple[int, str], dict[str, int]] = defaultdict(lambda: dict.fromkeys(SUMMARY_FIELDS, 0))
    for a in assessed:
        flows[(a.assessed_on.year, where[a.id])]["assessed_yuan"] += a.amount_fen
    for p in paid:
        flows[(p.paid_on.year, where[p.assessment_id])]["collected_yuan"] += p.amount_fen
    for x in adjusted:
        flows[(x.on_date.year, where[x.assessment_id])][f"{'exempted' if x.kind == 'exemption' else 'refunded'}_yuan"] \
            += x.amount_fen
    for x in alloc:
        flows[(x.allocated_on.year, x.district_code)]["allocated_yuan"] += x.amount_fen
    if not flows:
        return []
    years = range(min(y for y, _ in flows), max(y for y, _ in flows) + 1)
    out = []
    for dc in sorted({d for _, d in flows}):
        balance = 0
        for y in years:
            flow = flows.get((y, dc))
            if flow is not None:
                balance += flow["collected_yuan"] - flow["refunded_yuan"] - flow["allocated_yuan"]
            if (year is None or y == year) and (district is None or dc == district) and (flow is not None or balance):
                row = dict(flow or dict.fromkeys(SUMMARY_FIELDS, 0), unallocated_yuan=balance)
                out.append({"year": y, "district_code": dc, **{k: _yuan(v) for k, v in row.items()}})
    return sorted(out, key=lambda r: (r["year"], r["district_code"]))
