"""Inspections (双随机一公开), monitoring reports (绿黄红), acceptance filing and verification (验收报备/核查),
compensation fees (补偿费) and credit lists (重点关注名单/失信黑名单), on the store.

The rules live in the domain modules and their data files; these functions
read the records they need, apply the rules and write the outcome in one
transaction.  A red report, a failed verification and an inspection that finds
problems each open a case in the ledger.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from sqlalchemy import Connection, func, select

from shuibao.errors import InputError
from shuibao.io.atomic import atomic_path
from shuibao.io.features import read_features
from shuibao.spreadsheet import safe_row
from shuibao.store import Store, schema
from shuibao.supervision import credit, draws, fees, traffic_light
from shuibao.supervision.cases import Step, effective_events
from shuibao.services.platform.auth import audit, command_line_principal
from shuibao.services.supervision.cases import _insert_case
from shuibao.services.supervision.common import actor as who, district_lookup, dumps, now

FEN = Decimal("0.01")


def _project(conn: Connection, code: str):
    p = schema.projects
    row = conn.execute(select(p).where(p.c.code == code)).first()
    if row is None:
        raise InputError(f"project {code!r} is not known")
    return row


def _set_status(conn: Connection, row, status: str, at, by: str, note: str) -> None:
    from shuibao.supervision.model import check_project_transition

    try:
        check_project_transition(row.status, status, row.code)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    conn.execute(schema.projects.update().where(schema.projects.c.id == row.id).values(status=status, updated_at=at))
    conn.execute(schema.project_events.insert().values(
        project_id=row.id, event="status", before_json=dumps({"status": row.status}),
        after_json=dumps({"status": status}), note=note, recorded_at=at, recorded_by=by))


def _audit(conn: Connection, actor: str | None, action: str, kind: str, object_id, after: dict) -> None:
    """The audit row of a command-line write (these programmes have no web route yet): the operating-system user."""
    audit(conn, command_line_principal(actor), action, kind, object_id, None, after)


def _case(conn, row, category: str, title: str, on: date, note: str, source_kind: str, source_id, at, by) -> str:
    return _insert_case(conn, source_kind=source_kind, source_id=source_id, patch_fid=None, project_id=row.id,
                        district=row.district_codes.split(",")[0], subject=row.builder, category=category,
                        title=title, on=on, note=note, evidence=[], by=by, at=at)


# ---------------------------------------------------------------------------------------------- inspections
def import_inspectors(db: str | None, path: Path, *, actor: str | None = None) -> int:
    """Inspectors from a CSV (code, name, district); known codes are updated.  Returns the count."""
    layer = read_features(path, "inspectors")
    need = [k for k in ("code", "name", "district") if k not in layer.fields]
    if need:
        raise InputError(f"inspectors: {path} lacks column(s) {', '.join(need)}; expected code,name,district")
    t = schema.inspectors
    with Store(db) as store, store.transaction() as conn:
        store.require_current(conn)
        lookup = district_lookup(conn)
        rows, problems = [], []
        for i, (code, name, district) in enumerate(zip(layer.fields["code"], layer.fields["name"],
                                                       layer.fields["district"]), start=1):
            if not code or not name or str(district) not in lookup:
                problems.append(f"row {i}: code and name needed, district {district!r} must be known")
                continue
            if any(r["code"] == str(code) for r in rows):
                problems.append(f"row {i}: code {code!r} is used twice")
                continue
            rows.append(dict(code=str(code), name=str(name), district_code=lookup[str(district)], active=True))
        if problems:
            raise InputError(f"inspectors: {path}: nothing imported; " + "; ".join(problems))
        known = {r.code: r.id for r in conn.execute(select(t.c.code, t.c.id))}
        for r in rows:
            if r["code"] in known:
                conn.execute(t.update().where(t.c.id == known[r["code"]]).values(**r))
            else:
                conn.execute(t.insert().values(**r))
        _audit(conn, actor, "inspectors.import", "inspectors", path.name,
               {"file": path.name, "rows": len(rows), "updated": sum(r["code"] in known for r in rows)})
    return len(rows)


def draw(db: str | None, *, seed: int, count: int | None = None, ratio: float | None = None,
         per_project: int = 2, max_load: int | None = None, actor: str | None = None) -> dict:
    """A 双随机 draw over the projects under construction and the active inspectors; stored with its seed."""
    p, i = schema.projects, schema.inspectors
    by, at = who(actor), now()
    with Store(db) as store, store.transaction() as conn:
        store.require_current(conn)
        projects = [draws.DrawProject(r.id, r.name, frozenset(r.district_codes.split(",")))
                    for r in conn.execute(select(p).where(p.c.status == "under_construction"))]
        people = [draws.Inspector(r.code, r.name, r.district_code)
                  for r in conn.execute(select(i).where(i.c.active.is_(True)))]
        if not projects or not people:
            raise InputError(f"a draw needs projects under construction ({len(projects)}) and active inspectors "
                             f"({len(people)})")
        d = draws.draw_inspections(projects, people, seed=seed, count=count, ratio=ratio, per_project=per_project,
                                   max_load=max_load)
        draw_id = conn.execute(schema.inspection_draws.insert().values(
            seed=seed, parameters_json=dumps(d.parameters), population_digest=d.population_digest,
            population=len(projects), recorded_at=at, recorded_by=by)).inserted_primary_key[0]
        conn.execute(schema.inspections.insert(), [dict(
            draw_id=draw_id, project_id=a.project_id, inspector_codes=",".join(a.inspector_ids), recorded_at=at,
            recorded_by=by) for a in d.assignments])
        _audit(conn, actor, "inspection.draw", "inspection_draw", draw_id,
               {"seed": seed, "population": len(projects), "assignments": len(d.assignments)})
    return {"draw_id": draw_id, "seed": seed, "population": len(projects), "population_digest": d.population_digest,
            "assignments": [(a.project_id, a.inspector_ids) for a in d.assignments]}


def record_inspection(db: str | None, inspection_id: int, *, on: date, result: str, findings: str = "",
                      actor: str | None = None) -> str | None:
    """The result of one inspection (pass | problems); problems open a case.  Returns the case number."""
    if result not in ("pass", "problems"):
        raise InputError(f"result {result!r}: expected pass or problems")
    if result == "problems" and not findings.strip():
        raise InputError("an inspection with problems needs --findings describing them")
    i = schema.inspections
    by, at = who(actor), now()
    with Store(db) as store, store.transaction() as conn:
        store.require_current(conn)
        insp = conn.execute(select(i).where(i.c.id == inspection_id)).first()
        if insp is None:
            raise InputError(f"inspection {inspection_id} does not exist")
        done = conn.execute(select(schema.inspection_results).where(
            schema.inspection_results.c.inspection_id == inspection_id)).first()
        if done is not None:
            raise InputError(f"inspection {inspection_id} already has its result ({done.result}, {done.inspected_on}, "
                             f"by {done.recorded_by}); results are final — add a note to its case instead")
        prow = conn.execute(select(schema.projects).where(schema.projects.c.id == insp.project_id)).first()
        case_no = None
        if result == "problems":
            case_no = _case(conn, prow, "inspection_problem", f"跟踪检查发现问题：{prow.name}", on, findings,
                            "inspection", inspection_id, at, by)
        case_id = None if case_no is None else conn.execute(
            select(schema.cases.c.id).where(schema.cases.c.case_no == case_no)).scalar()
        conn.execute(schema.inspection_results.insert().values(
            inspection_id=inspection_id, inspected_on=on, result=result, findings=findings, case_id=case_id,
            recorded_at=at, recorded_by=by))
        _audit(conn, actor, "inspection.result", "inspection", inspection_id,
               {"on": on, "result": result, "findings": findings, "case": case_no})
    return case_no


def publish_draw(db: str | None, draw_id: int, out: Path) -> Path:
    """The public list (一公开) of a draw: seed, population digest, each project, inspectors and result (CSV)."""
    d, i, r, p = schema.inspection_draws, schema.inspections, schema.inspection_results, schema.projects
    with Store(db) as store, store.reading() as conn:
        head = conn.execute(select(d).where(d.c.id == draw_id)).first()
        if head is None:
            raise InputError(f"draw {draw_id} does not exist")
        rows = conn.execute(select(p.c.code, p.c.name, p.c.builder, i.c.inspector_codes, r.c.inspected_on,
                                   r.c.result, r.c.findings).join(p, p.c.id == i.c.project_id)
                            .join(r, r.c.inspection_id == i.c.id, isouter=True).where(i.c.draw_id == draw_id)
                            .order_by(p.c.code)).all()
    buf = io.StringIO()
    buf.write(f"# 双随机一公开 draw {draw_id}: seed {head.seed}, {head.population} projects drawn from, "
              f"population SHA-256 {head.population_digest}, drawn {head.recorded_at:%Y-%m-%d}\n")
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["project_code", "project_name", "builder", "inspectors", "inspected_on", "result", "findings"])
    for row in rows:
        w.writerow(safe_row(row))
    with atomic_path(out) as tmp:
        tmp.write_text(buf.getvalue(), encoding="utf-8")
    return out


# ---------------------------------------------------------------------------------------------- monitoring reports
def submit_report(db: str | None, project_code: str, period: str, period_end: date, scores: dict[str, float], *,
                  scheme: Path | None = None, actor: str | None = None) -> dict:
    """Score a quarterly monitoring report (绿黄红); a red result opens a mandatory verification case."""
    ev = traffic_light.evaluate(traffic_light.load_scheme(scheme), scores)
    by, at = who(actor), now()
    with Store(db) as store, store.transaction() as conn:
        store.require_current(conn)
        prow = _project(conn, project_code)
        t = schema.monitoring_reports
        if conn.execute(select(t.c.id).where(t.c.project_id == prow.id, t.c.period == period)).first():
            raise InputError(f"project {project_code}: a report for {period} is already stored")
        rid = conn.execute(t.insert().values(
            project_id=prow.id, period=period, period_end=period_end, scheme_version=ev.scheme_version,
            scores_json=dumps(dict(scores)), total=float(ev.total), colour=ev.colour, case_id=None,
            recorded_at=at, recorded_by=by)).inserted_primary_key[0]
        case_no = None
        if ev.colour == "red":
            case_no = _case(conn, prow, "red_report", f"监测季报红色：{prow.name} {period}", period_end,
                            f"三色评价 {ev.total:g} 分（{ev.colour_zh}）" + ("；" + "；".join(ev.reasons) if ev.reasons else ""),
                            "monitoring_report", rid, at, by)
            case_id = conn.execute(select(schema.cases.c.id).where(schema.cases.c.case_no == case_no)).scalar()
            conn.execute(t.update().where(t.c.id == rid).values(case_id=case_id))
        _audit(conn, actor, "report.submit", "monitoring_report", rid,
               {"project": project_code, "period": period, "total": float(ev.total), "colour": ev.colour,
                "case": case_no})
    return {"report_id": rid, "total": float(ev.total), "colour": ev.colour, "colour_zh": ev.colour_zh,
            "reasons": list(ev.reasons), "case_no": case_no}


# ---------------------------------------------------------------------------------------------- acceptance
def file_acceptance(db: str | None, project_code: str, *, filed_on: date, reference: str,
                    actor: str | None = None) -> int:
    """设施验收报备: the project moves to acceptance_filed."""
    by, at = who(actor), now()
    with Store(db) as store, store.transaction() as conn:
        store.require_current(conn)
        prow = _project(conn, project_code)
        _set_status(conn, prow, "acceptance_filed", at, by, f"验收报备 {reference}")
        fid = conn.execute(schema.acceptance_filings.insert().values(
            project_id=prow.id, filed_on=filed_on, reference=reference, sample_id=None, recorded_at=at,
            recorded_by=by)).inserted_primary_key[0]
        _audit(conn, actor, "acceptance.file", "acceptance_filing", fid,
               {"project": project_code, "filed_on": filed_on, "reference": reference})
        return fid


def sample_acceptance(db: str | None, *, ratio: float, seed: int, actor: str | None = None) -> dict:
    """Draw filings not yet sampled for verification (核查), seeded and stored with the population."""
    f = schema.acceptance_filings
    by, at = who(actor), now()
    with Store(db) as store, store.transaction() as conn:
        store.require_current(conn)
        ids = list(conn.execute(select(f.c.id).where(f.c.sample_id.is_(None)).order_by(f.c.id)).scalars())
        if not ids:
            raise InputError("no acceptance filing is waiting to be sampled")
        chosen = draws.sample(ids, ratio=ratio, seed=seed)
        sid = conn.execute(schema.acceptance_samples.insert().values(
            seed=seed, ratio=ratio, population_json=dumps(ids), selected_json=dumps(list(chosen)),
            recorded_at=at, recorded_by=by)).inserted_primary_key[0]
        conn.execute(f.update().where(f.c.id.in_(ids)).values(sample_id=sid))
        _audit(conn, actor, "acceptance.sample", "acceptance_sample", sid,
               {"seed": seed, "ratio": ratio, "population": len(ids), "selected": list(chosen)})
    return {"sample_id": sid, "population": ids, "selected": list(chosen)}


def verify_acceptance(db: str | None, filing_id: int, *, on: date, result: str, notes: str = "",
                      actor: str | None = None) -> str | None:
    """核查 of a sampled filing: pass → verified; fail → back to completed and a case.  Returns the case number."""
    if result not in ("pass", "fail"):
        raise InputError(f"result {result!r}: expected pass or fail")
    f, s = schema.acceptance_filings, schema.acceptance_samples
    by, at = who(actor), now()
    with Store(db) as store, store.transaction() as conn:
        store.require_current(conn)
        filing = conn.execute(select(f).where(f.c.id == filing_id)).first()
        if filing is None:
            raise InputError(f"acceptance filing {filing_id} does not exist")
        chosen = json.loads(conn.execute(select(s.c.selected_json).where(s.c.id == filing.sample_id)).scalar()
                            or "[]") if filing.sample_id else []
        if filing_id not in chosen:
            raise InputError(f"acceptance filing {filing_id} was not drawn for verification")
        done = conn.execute(select(schema.acceptance_verifications).where(
            schema.acceptance_verifications.c.filing_id == filing_id)).first()
        if done is not None:
            raise InputError(f"acceptance filing {filing_id} was already verified ({done.result}, {done.verified_on})")
        prow = conn.execute(select(schema.projects).where(schema.projects.c.id == filing.project_id)).first()
        case_no = None
        if result == "pass":
            _set_status(conn, prow, "verified", at, by, f"核查通过（报备 {filing.reference}）")
        else:
            _set_status(conn, prow, "completed", at, by, f"核查不合格（报备 {filing.reference}）")
            case_no = _case(conn, prow, "acceptance_failed", f"验收核查不合格：{prow.name}", on, notes,
                            "verification", filing_id, at, by)
        case_id = None if case_no is None else conn.execute(
            select(schema.cases.c.id).where(schema.cases.c.case_no == case_no)).scalar()
        conn.execute(schema.acceptance_verifications.insert().values(
            filing_id=filing_id, verified_on=on, result=result, notes=notes, case_id=case_id, recorded_at=at,
            recorded_by=by))
        _audit(conn, actor, "acceptance.verify", "acceptance_filing", filing_id,
               {"on": on, "result": result, "notes": notes, "case": case_no})
    return case_no


# ---------------------------------------------------------------------------------------------- fees
_VOLUME_FIELDS = {"spoil_disposal": "spoil_m3", "excavation": "excavation_m3"}


def _default_quantity(prow, category: str, basis: str) -> float:
    """The project's own quantity for the rate's basis: disturbed (else total) area, or its recorded volume."""
    if basis == "area_m2":
        hm2 = prow.disturbed_area_hm2 if prow.disturbed_area_hm2 is not None else prow.total_area_hm2
        return hm2 * 1e4
    column = _VOLUME_FIELDS.get(category) if basis == "volume_m3" else None
    value = getattr(prow, column) if column else None
    if value is None:
        what = f"its {column} is not recorded" if column else "the project records no such quantity"
        raise InputError(f"project {prow.code}: fee category {category!r} is charged per {basis} and {what}; "
                         "give --quantity")
    return value


def assess_fee(db: str | None, project_code: str, *, category: str = "general", quantity: float | None = None,
               on: date, due_in_days: int = 30, exemption: str | None = None, rates: Path | None = None,
               actor: str | None = None) -> dict:
    """补偿费 for a project; the quantity defaults to its disturbed (else total) area in m² for area rates and to
    its recorded spoil or excavation volume for those volume rates; otherwise it must be given."""
    table = fees.load_rate_table(rates)
    by, at = who(actor), now()
    with Store(db) as store, store.transaction() as conn:
        store.require_current(conn)
        prow = _project(conn, project_code)
        if quantity is None:
            quantity = _default_quantity(prow, category, table.entry_for(category, on).basis)
        a = fees.assess(table, category, quantity, on_date=on, exemption=exemption)
        aid = conn.execute(schema.fee_assessments.insert().values(
            project_id=prow.id, assessed_on=on, due_on=on + timedelta(days=due_in_days), category=a.category,
            basis=a.basis, quantity=float(a.quantity), billable_quantity=float(a.billable_quantity),
            rate_fen=int((a.rate * 100).to_integral_value()), amount_fen=int((a.amount * 100).to_integral_value()),
            rates_version=a.table_version, rate_entry=a.entry_id, exemption=a.exemption_key, recorded_at=at,
            recorded_by=by)).inserted_primary_key[0]
        _audit(conn, actor, "fee.assess", "fee_assessment", aid,
               {"project": project_code, "category": a.category, "amount_yuan": str(a.amount), "on": on})
    return {"assessment_id": aid, "amount_yuan": str(a.amount), "rate": str(a.rate), "basis": a.basis,
            "billable_quantity": str(a.billable_quantity), "exempt": a.exempt, "example_rates": table.is_example}


def pay_fee(db: str | None, assessment_id: int, *, paid_on: date, amount_yuan: str, receipt: str,
            actor: str | None = None) -> int:
    try:
        amount = Decimal(str(amount_yuan).strip())
    except ArithmeticError:
        amount = None
    if amount is None or not amount.is_finite():
        raise InputError(f"amount {amount_yuan!r} is not a number of 元")
    amount = amount.quantize(FEN, rounding=ROUND_HALF_UP)
    if amount <= 0:
        raise InputError(f"amount {amount} must be positive")
    by, at = who(actor), now()
    with Store(db) as store, store.transaction() as conn:
        store.require_current(conn)
        if conn.execute(select(schema.fee_assessments.c.id).where(schema.fee_assessments.c.id == assessment_id)
                        ).first() is None:
            raise InputError(f"fee assessment {assessment_id} does not exist")
        if conn.execute(select(schema.fee_payments.c.id).where(schema.fee_payments.c.receipt_no == receipt)).first():
            raise InputError(f"receipt {receipt!r} is already recorded")
        pid = conn.execute(schema.fee_payments.insert().values(
            assessment_id=assessment_id, paid_on=paid_on, amount_fen=int(amount * 100), receipt_no=receipt,
            recorded_at=at, recorded_by=by)).inserted_primary_key[0]
        _audit(conn, actor, "fee.pay", "fee_assessment", assessment_id,
               {"payment": pid, "paid_on": paid_on, "amount_yuan": str(amount), "receipt": receipt})
        return pid


def fee_ledger(conn_or_db, as_of: date | None = None) -> list[dict]:
    """Each assessment with paid and outstanding amounts (元) and days overdue on ``as_of``."""
    if not isinstance(conn_or_db, Connection):
        with Store(conn_or_db) as store, store.reading() as conn:
            return fee_ledger(conn, as_of)
    conn, as_of = conn_or_db, as_of or date.today()
    a, pmt, p = schema.fee_assessments, schema.fee_payments, schema.projects
    paid = dict(conn.execute(select(pmt.c.assessment_id, func.sum(pmt.c.amount_fen)).where(pmt.c.paid_on <= as_of)
                             .group_by(pmt.c.assessment_id)).all())
    rows = []
    for r in conn.execute(select(a, p.c.code, p.c.builder).join(p, p.c.id == a.c.project_id).order_by(a.c.id)):
        out = r.amount_fen - int(paid.get(r.id, 0) or 0)
        rows.append({"assessment_id": r.id, "project_id": r.project_id, "project_code": r.code, "builder": r.builder,
                     "category": r.category, "assessed_on": r.assessed_on, "due_on": r.due_on,
                     "amount_yuan": Decimal(r.amount_fen) * FEN, "paid_yuan": Decimal(int(paid.get(r.id, 0) or 0)) * FEN,
                     "outstanding_yuan": Decimal(out) * FEN, "rates_version": r.rates_version,
                     "exemption": r.exemption,
                     "overdue_days": max((as_of - r.due_on).days, 0) if out > 0 else 0})
    return rows


# ---------------------------------------------------------------------------------------------- credit lists
def _history(conn: Connection, as_of: date):
    """Case, report and fee records as the credit rules read them (nothing dated after ``as_of``)."""
    c, e, p = schema.cases, schema.case_events, schema.projects
    events = defaultdict(list)
    for ev in conn.execute(select(e).order_by(e.c.case_id, e.c.seq)):
        events[ev.case_id].append(ev)
    records = []
    for head in conn.execute(select(c)):
        evs = effective_events(events.get(head.id, []), until=as_of)[0]  # voided steps do not count
        subject = next((x.subject for x in reversed(evs) if x.subject), head.subject)
        if not subject or not evs:
            continue
        confirm = next((x for x in evs if x.step == Step.verify.value and x.outcome == "confirmed"), None)
        category = next((x.category for x in reversed(evs) if x.category), head.category)
        orders = [x for x in evs if x.step in (Step.order_rectification.value, Step.extend_deadline.value)]
        rectified = [x.on_date for x in evs if x.step == Step.rectify.value]
        closed = next((x.on_date for x in evs if x.step == Step.close.value), None)
        records.append(credit.CaseRecord(
            head.id, subject, head.project_id, category if confirm else None, confirm.on_date if confirm else None,
            orders[-1].deadline if orders else None, rectified[-1] if rectified else None, closed))
    r = schema.monitoring_reports
    reports = [credit.ReportRecord(x.id, x.builder, x.project_id, x.period_end, x.colour)
               for x in conn.execute(select(r.c.id, r.c.project_id, r.c.period_end, r.c.colour, p.c.builder)
                                     .join(p, p.c.id == r.c.project_id).where(r.c.period_end <= as_of))]
    fees_ = [credit.FeeRecord(x["assessment_id"], x["builder"], x["project_id"], x["due_on"], x["outstanding_yuan"])
             for x in fee_ledger(conn, as_of) if x["assessed_on"] <= as_of]
    return records, reports, fees_


def update_credit(db: str | None, *, as_of: date | None = None, rules: Path | None = None,
                  actor: str | None = None) -> list[dict]:
    """Apply the credit rules to the history up to ``as_of``; store entries not stored yet; return the active ones."""
    ruleset = credit.load_rules(rules)
    by, at = who(actor), now()
    as_of = as_of or date.today()
    t = schema.credit_entries
    with Store(db) as store, store.transaction() as conn:
        store.require_current(conn)
        entries = credit.evaluate(ruleset, *_history(conn, as_of), as_of=as_of)
        known = {(r.list_kind, r.subject, r.rule_id, r.valid_from) for r in conn.execute(select(t))}
        new = [e for e in entries if (e.list_kind, e.subject, e.rule_id, e.valid_from) not in known]
        if new:
            conn.execute(t.insert(), [dict(
                list_kind=e.list_kind, subject=e.subject, rule_id=e.rule_id, rules_version=e.rules_version,
                valid_from=e.valid_from, valid_to=e.valid_to, evidence_json=dumps([list(x) for x in e.evidence]),
                reason=e.reason_zh, recorded_at=at, recorded_by=by) for e in new])
        _audit(conn, actor, "credit.update", "credit_lists", as_of,
               {"as_of": as_of, "new_entries": [[e.list_kind, e.subject, e.rule_id] for e in new]})
    return credit_lists(db, as_of=as_of)


def credit_lists_on(conn: Connection, as_of: date, list_kind: str | None = None) -> list[dict]:
    """Entries in force on ``as_of`` (valid_from ≤ as_of < valid_to), with their evidence."""
    t = schema.credit_entries
    q = select(t).where(t.c.valid_from <= as_of, t.c.valid_to > as_of).order_by(t.c.list_kind, t.c.subject, t.c.rule_id)
    if list_kind:
        q = q.where(t.c.list_kind == list_kind)
    return [{**dict(r._mapping), "evidence": json.loads(r.evidence_json)} for r in conn.execute(q)]


def credit_lists(db: str | None, *, as_of: date | None = None, list_kind: str | None = None) -> list[dict]:
    """Entries in force on ``as_of`` (default today)."""
    with Store(db) as store, store.reading() as conn:
        store.require_current(conn)
        return credit_lists_on(conn, as_of or date.today(), list_kind)
