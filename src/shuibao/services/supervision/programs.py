"""Inspections (双随机一公开), monitoring reports (绿黄红), acceptance filing and verification (验收报备/核查),
compensation fees (补偿费) and credit lists (重点关注名单/失信黑名单), on the store.

The rules live in the domain modules and their data files; these functions
read the records they need, apply the rules and write the outcome in one
transaction.  A red report, a failed verification and an inspection that finds
problems each open a case in the ledger.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Connection

from shuibao.errors import InputError, raise_issues, N_, Text
from shuibao.io.features import read_features
from shuibao.io.tables import write_metadata
from shuibao.store import Store
from shuibao.store.repositories import case_ledger, programs as records, projects as project_records
from shuibao.supervision import credit, draws, traffic_light
from shuibao.supervision.cases import Step, effective_events
from shuibao.services.platform.auth import audit, command_line_principal
from shuibao.services.supervision.cases import insert_case
from shuibao.services.supervision.compensation import (  # noqa: F401 (the fee functions' old home)
    allocate_fee, assess_fee, exempt_fee, fee_entries, fee_ledger, fee_use_summary, pay_fee, refund_fee,
)
from shuibao.services.supervision.common import actor as who, district_lookup, dumps, now, write_csv_rows

FEN = Decimal("0.01")


def _project(conn: Connection, code: str):
    row = project_records.project_by_code(conn, code)
    if row is None:
        raise InputError(N_("project {code!r} is not known", code=code))
    return row


def _set_status(conn: Connection, row, status: str, at, by: str, note: str) -> None:
    from shuibao.supervision.model import check_project_transition

    try:
        check_project_transition(row.status, status, row.code)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    project_records.update_project(conn, row.id, status=status, updated_at=at)
    project_records.add_event(
        conn, project_id=row.id, event="status", before_json=dumps({"status": row.status}),
        after_json=dumps({"status": status}), note=note, recorded_at=at, recorded_by=by)


def _audit(conn: Connection, actor: str | None, action: str, kind: str, object_id, after: dict) -> None:
    """The audit row of a command-line write (these programmes have no web route yet): the operating-system user."""
    audit(conn, command_line_principal(actor), action, kind, object_id, None, after)


def _case(conn, row, category: str, title: str, on: date, note: str, source_kind: str, source_id, at, by) -> str:
    return insert_case(conn, source_kind=source_kind, source_id=source_id, patch_fid=None, project_id=row.id,
                        district=row.district_codes.split(",")[0], subject=row.builder, category=category,
                        title=title, on=on, note=note, evidence=[], by=by, at=at)


# ---------------------------------------------------------------------------------------------- inspections
def import_inspectors(db: str | None, path: Path, *, actor: str | None = None) -> int:
    """Inspectors from a CSV (code, name, district); known codes are updated.  Returns the count."""
    layer = read_features(path, "inspectors")
    need = [k for k in ("code", "name", "district") if k not in layer.fields]
    if need:
        raise InputError(N_("inspectors: {path} lacks column(s) {need}; expected code,name,district", path=path, need=', '.join(need)))
    with Store(db) as store, store.transaction() as conn:
        store.require_current(conn)
        lookup = district_lookup(conn)
        rows: list[dict] = []
        problems: list[Text | str] = []
        for i, (code, name, district) in enumerate(zip(layer.fields["code"], layer.fields["name"],
                                                       layer.fields["district"]), start=1):
            if not code or not name or str(district) not in lookup:
                problems.append(N_("row {i}: code and name needed, district {district!r} must be known", i=i, district=district))
                continue
            if any(r["code"] == str(code) for r in rows):
                problems.append(N_("row {i}: code {code!r} is used twice", i=i, code=code))
                continue
            rows.append(dict(code=str(code), name=str(name), district_code=lookup[str(district)], active=True))
        raise_issues(problems, N_("inspectors: {path}: nothing imported", path=path))
        known = records.inspector_ids(conn)
        for r in rows:
            if r["code"] in known:
                records.update_inspector(conn, known[r["code"]], **r)
            else:
                records.insert_inspector(conn, **r)
        _audit(conn, actor, "inspectors.import", "inspectors", path.name,
               {"file": path.name, "rows": len(rows), "updated": sum(r["code"] in known for r in rows)})
    return len(rows)


def draw(db: str | None, *, seed: int, count: int | None = None, ratio: float | None = None,
         per_project: int = 2, max_load: int | None = None, actor: str | None = None) -> dict:
    """A 双随机 draw over the projects under construction and the active inspectors; stored with its seed."""
    by, at = who(actor), now()
    with Store(db) as store, store.transaction() as conn:
        store.require_current(conn)
        projects = [draws.DrawProject(r.id, r.name, frozenset(r.district_codes.split(",")))
                    for r in project_records.projects_in_status(conn, "under_construction")]
        people = [draws.Inspector(r.code, r.name, r.district_code) for r in records.active_inspectors(conn)]
        if not projects or not people:
            raise InputError(N_("a draw needs projects under construction ({n_projects}) and active inspectors "
                             "({n_people})", n_projects=len(projects), n_people=len(people)))
        d = draws.draw_inspections(projects, people, seed=seed, count=count, ratio=ratio, per_project=per_project,
                                   max_load=max_load)
        draw_id = records.insert_draw(
            conn, seed=seed, parameters_json=dumps(d.parameters), population_digest=d.population_digest,
            population=len(projects), recorded_at=at, recorded_by=by)
        records.insert_inspections(conn, [dict(
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
        raise InputError(N_("result {result!r}: expected pass or problems", result=result))
    if result == "problems" and not findings.strip():
        raise InputError(N_("an inspection with problems needs --findings describing them"))
    by, at = who(actor), now()
    with Store(db) as store, store.transaction() as conn:
        store.require_current(conn)
        insp = records.inspection(conn, inspection_id)
        if insp is None:
            raise InputError(N_("inspection {inspection_id} does not exist", inspection_id=inspection_id))
        done = records.inspection_result(conn, inspection_id)
        if done is not None:
            raise InputError(N_("inspection {inspection_id} already has its result ({result}, {inspected_on}, "
                             "by {recorded_by}); results are final — add a note to its case instead", inspection_id=inspection_id, result=done.result, inspected_on=done.inspected_on, recorded_by=done.recorded_by))
        prow = project_records.project_by_id(conn, insp.project_id)
        case_no = None
        if result == "problems":
            case_no = _case(conn, prow, "inspection_problem", f"跟踪检查发现问题：{prow.name}", on, findings,
                            "inspection", inspection_id, at, by)
        case_id = None if case_no is None else case_ledger.case_id(conn, case_no)
        records.insert_inspection_result(
            conn, inspection_id=inspection_id, inspected_on=on, result=result, findings=findings, case_id=case_id,
            recorded_at=at, recorded_by=by)
        _audit(conn, actor, "inspection.result", "inspection", inspection_id,
               {"on": on, "result": result, "findings": findings, "case": case_no})
    return case_no


def publish_draw(db: str | None, draw_id: int, out: Path) -> Path:
    """The public list (一公开) of a draw: seed, population digest, each project, inspectors and result (CSV)."""
    with Store(db) as store, store.reading() as conn:
        head = records.draw_head(conn, draw_id)
        if head is None:
            raise InputError(N_("draw {draw_id} does not exist", draw_id=draw_id))
        rows = records.draw_rows(conn, draw_id)
    columns = ["project_code", "project_name", "builder", "inspectors", "inspected_on", "result", "findings"]
    write_csv_rows(out, columns, [dict(zip(columns, row)) for row in rows])
    # what the draw was (seed, population and its digest) beside the data, never as a comment line in it
    write_metadata(out, {"@context": "http://www.w3.org/ns/csvw", "url": out.name,
                         "dc:title": f"双随机一公开 抽查结果 draw {draw_id}", "shuibao:seed": head.seed,
                         "shuibao:population": head.population, "shuibao:population_sha256": head.population_digest,
                         "shuibao:drawn_on": f"{head.recorded_at:%Y-%m-%d}"})
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
        if records.report_exists(conn, prow.id, period):
            raise InputError(N_("project {project_code}: a report for {period} is already stored", project_code=project_code, period=period))
        rid = records.insert_report(
            conn, project_id=prow.id, period=period, period_end=period_end, scheme_version=ev.scheme_version,
            scores_json=dumps(dict(scores)), total=float(ev.total), colour=ev.colour, case_id=None,
            recorded_at=at, recorded_by=by)
        case_no = None
        if ev.colour == "red":
            case_no = _case(conn, prow, "red_report", f"监测季报红色：{prow.name} {period}", period_end,
                            f"三色评价 {ev.total:g} 分（{ev.colour_zh}）" + ("；" + "；".join(ev.reasons) if ev.reasons else ""),
                            "monitoring_report", rid, at, by)
            records.set_report_case(conn, rid, case_ledger.case_id(conn, case_no))
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
        fid = records.insert_filing(conn, project_id=prow.id, filed_on=filed_on, reference=reference, sample_id=None,
                                    recorded_at=at, recorded_by=by)
        _audit(conn, actor, "acceptance.file", "acceptance_filing", fid,
               {"project": project_code, "filed_on": filed_on, "reference": reference})
        return fid


def sample_acceptance(db: str | None, *, ratio: float, seed: int, actor: str | None = None) -> dict:
    """Draw filings not yet sampled for verification (核查), seeded and stored with the population."""
    by, at = who(actor), now()
    with Store(db) as store, store.transaction() as conn:
        store.require_current(conn)
        ids = records.unsampled_filings(conn)
        if not ids:
            raise InputError(N_("no acceptance filing is waiting to be sampled"))
        chosen = draws.sample(ids, ratio=ratio, seed=seed)
        sid = records.insert_sample(conn, seed=seed, ratio=ratio, population_json=dumps(ids),
                                    selected_json=dumps(list(chosen)), recorded_at=at, recorded_by=by)
        records.mark_sampled(conn, ids, sid)
        _audit(conn, actor, "acceptance.sample", "acceptance_sample", sid,
               {"seed": seed, "ratio": ratio, "population": len(ids), "selected": list(chosen)})
    return {"sample_id": sid, "population": ids, "selected": list(chosen)}


def verify_acceptance(db: str | None, filing_id: int, *, on: date, result: str, notes: str = "",
                      actor: str | None = None) -> str | None:
    """核查 of a sampled filing: pass → verified; fail → back to completed and a case.  Returns the case number."""
    if result not in ("pass", "fail"):
        raise InputError(N_("result {result!r}: expected pass or fail", result=result))
    by, at = who(actor), now()
    with Store(db) as store, store.transaction() as conn:
        store.require_current(conn)
        filing = records.filing(conn, filing_id)
        if filing is None:
            raise InputError(N_("acceptance filing {filing_id} does not exist", filing_id=filing_id))
        chosen = records.sample_selection(conn, filing.sample_id) if filing.sample_id else []
        if filing_id not in chosen:
            raise InputError(N_("acceptance filing {filing_id} was not drawn for verification", filing_id=filing_id))
        done = records.verification(conn, filing_id)
        if done is not None:
            raise InputError(N_("acceptance filing {filing_id} was already verified ({result}, {verified_on})", filing_id=filing_id, result=done.result, verified_on=done.verified_on))
        prow = project_records.project_by_id(conn, filing.project_id)
        case_no = None
        if result == "pass":
            _set_status(conn, prow, "verified", at, by, f"核查通过（报备 {filing.reference}）")
        else:
            _set_status(conn, prow, "completed", at, by, f"核查不合格（报备 {filing.reference}）")
            case_no = _case(conn, prow, "acceptance_failed", f"验收核查不合格：{prow.name}", on, notes,
                            "verification", filing_id, at, by)
        case_id = None if case_no is None else case_ledger.case_id(conn, case_no)
        records.insert_verification(conn, filing_id=filing_id, verified_on=on, result=result, notes=notes,
                                    case_id=case_id, recorded_at=at, recorded_by=by)
        _audit(conn, actor, "acceptance.verify", "acceptance_filing", filing_id,
               {"on": on, "result": result, "notes": notes, "case": case_no})
    return case_no


# ---------------------------------------------------------------------------------------------- fees
# The 补偿费 ledger and its use live in compensation.py (imported above, so these names stay importable here).


# ---------------------------------------------------------------------------------------------- credit lists
def _history(conn: Connection, as_of: date):
    """Case, report and fee records as the credit rules read them (nothing dated after ``as_of``)."""
    events = defaultdict(list)
    for ev in case_ledger.all_events(conn):
        events[ev.case_id].append(ev)
    cases = []
    for head in case_ledger.case_heads(conn, ordered=False):
        evs = effective_events(events.get(head.id, []), until=as_of)[0]  # voided steps do not count
        subject = next((x.subject for x in reversed(evs) if x.subject), head.subject)
        if not subject or not evs:
            continue
        confirm = next((x for x in evs if x.step == Step.verify.value and x.outcome == "confirmed"), None)
        category = next((x.category for x in reversed(evs) if x.category), head.category)
        orders = [x for x in evs if x.step in (Step.order_rectification.value, Step.extend_deadline.value)]
        rectified = [x.on_date for x in evs if x.step == Step.rectify.value]
        closed = next((x.on_date for x in evs if x.step == Step.close.value), None)
        cases.append(credit.CaseRecord(
            head.id, subject, head.project_id, category if confirm else None, confirm.on_date if confirm else None,
            orders[-1].deadline if orders else None, rectified[-1] if rectified else None, closed))
    reports = [credit.ReportRecord(x.id, x.builder, x.project_id, x.period_end, x.colour)
               for x in records.reports_until(conn, as_of)]
    fees_ = [credit.FeeRecord(x["assessment_id"], x["builder"], x["project_id"], x["due_on"], x["outstanding_yuan"])
             for x in fee_ledger(conn, as_of) if x["assessed_on"] <= as_of]
    return cases, reports, fees_


def update_credit(db: str | None, *, as_of: date | None = None, rules: Path | None = None,
                  actor: str | None = None) -> list[dict]:
    """Apply the credit rules to the history up to ``as_of``; store entries not stored yet; return the active ones."""
    ruleset = credit.load_rules(rules)
    by, at = who(actor), now()
    as_of = as_of or date.today()
    with Store(db) as store, store.transaction() as conn:
        store.require_current(conn)
        entries = credit.evaluate(ruleset, *_history(conn, as_of), as_of=as_of)
        known = records.credit_keys(conn)
        new = [e for e in entries if (e.list_kind, e.subject, e.rule_id, e.valid_from) not in known]
        if new:
            records.insert_credit_entries(conn, [dict(
                list_kind=e.list_kind, subject=e.subject, rule_id=e.rule_id, rules_version=e.rules_version,
                valid_from=e.valid_from, valid_to=e.valid_to, evidence_json=dumps([list(x) for x in e.evidence]),
                reason=e.reason_zh, recorded_at=at, recorded_by=by) for e in new])
        _audit(conn, actor, "credit.update", "credit_lists", as_of,
               {"as_of": as_of, "new_entries": [[e.list_kind, e.subject, e.rule_id] for e in new]})
    return credit_lists(db, as_of=as_of)


def credit_lists_on(conn: Connection, as_of: date, list_kind: str | None = None) -> list[dict]:
    """Entries in force on ``as_of`` (valid_from ≤ as_of < valid_to), with their evidence."""
    return [{**r, "evidence": json.loads(r["evidence_json"])} for r in records.credit_entries_on(conn, as_of, list_kind)]


def credit_lists(db: str | None, *, as_of: date | None = None, list_kind: str | None = None) -> list[dict]:
    """Entries in force on ``as_of`` (default today)."""
    with Store(db) as store, store.reading() as conn:
        store.require_current(conn)
        return credit_lists_on(conn, as_of or date.today(), list_kind)
