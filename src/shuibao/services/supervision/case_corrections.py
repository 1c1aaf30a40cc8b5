"""Repairing the append-only case ledger: void (作废) a mistaken step, or correct (更正) its date and note.

Events are never changed (``case_events`` refuses UPDATE and DELETE), so a correction is itself an event: a
``void`` names the ``seq`` of the step it voids, with a reason and optional evidence; a ``correct`` does the
same and is followed, in the same transaction, by the step recorded again with the right date and note.  The
voided step stays in the timeline (struck through, with who voided it and why) but no longer counts for the
state, the deadline, the subject and category, the date order or the overdue figures.  What may be voided:
see :func:`shuibao.supervision.cases.check_voidable`.

Who may correct (the same people who may record the step, narrowed for inspectors):

* city administrators: any step of any case;
* district officers: any step of a case of their own district (a case without a district: administrators);
* inspectors, who record verifications and notes anywhere: only the steps they recorded themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

from shuibao.errors import InputError, PermissionDeniedError, StoreError, N_
from shuibao.store import Store
from shuibao.store.repositories.case_ledger import append_event
from shuibao.supervision.cases import (
    EARLIEST_DATE,
    Step,
    check_date,
    check_voidable,
    effective_events,
    load_case_rules,
    state_after,
)
from shuibao.services.supervision.cases import (
    MAX_NOTE_CHARS,
    CaseView,
    audit_write,
    case_view,
    check_text,
    cited_evidence,
    conflict_error,
    get_case,
    next_seq,
    require_on_case,
    store_evidence,
    transition,
)
from shuibao.services.supervision.common import actor as who, dumps, now


def _may_correct(principal, case_no: str, view: CaseView, target: dict) -> None:
    if principal is None:  # the command line: whoever opens the database holds every right (audited)
        return
    district = view.header["district_code"]
    if principal.role == "inspector":
        require_on_case(principal, "verify", case_no, district)
        if target["recorded_by"] != principal.name:
            raise PermissionDeniedError(N_("{name} (检查人员) may void only the steps they recorded; step "
                                        "{seq} was recorded by {recorded_by}", name=principal.name, seq=target['seq'], recorded_by=target['recorded_by']))
        return
    require_on_case(principal, "write", case_no, district)


def _checked(case_no: str, view: CaseView, seq: int, on: date, reason: str) -> dict:
    if not isinstance(seq, int) or isinstance(seq, bool):
        raise InputError(N_("seq {seq!r}: expected the number of a step of case {case_no}", seq=seq, case_no=case_no))
    check_text(reason, "reason", MAX_NOTE_CHARS, required=True)
    try:
        target = check_voidable(view.events, seq)
        check_date(on, date.today(), what=N_("the correction's date"),
                   not_before=max(view.effective[0]["on_date"], EARLIEST_DATE),
                   floor_reason=N_("the case's opening"))
    except ValueError as exc:
        raise InputError(N_("case {case_no}: {exc}", case_no=case_no, exc=exc)) from None
    return target


def void_step(db: str | None, case_no: str, seq: int, *, reason: str, on: date | None = None,
              evidence: Sequence[Path] = (), actor: str | None = None, principal=None) -> CaseView:
    """Void step ``seq`` of a case (作废) with a reason; audited. Returns the case as it now stands."""
    on = on or date.today()
    by, at = (principal.name if principal else who(actor)), now()
    try:
        with Store(db) as store, store.transaction() as conn:
            store.require_current(conn)
            view = case_view(conn, case_no, on)
            target = _checked(case_no, view, seq, on, reason)
            _may_correct(principal, case_no, view, target)
            files = store_evidence(conn, list(evidence), at, by, cited_evidence(view))
            kept, _ = effective_events([x for x in view.events if x["seq"] != seq])
            state, deadline = state_after(kept)
            append_event(
                conn, case_id=view.id, seq=next_seq(view), step=Step.void.value, state=state.value, outcome=None,
                on_date=on, deadline=deadline, subject=None, category=None, note=reason,
                evidence_json=dumps(files), voids_seq=seq, recorded_at=at, recorded_by=by)
            audit_write(conn, principal, actor, "case.void", case_no,
                        {"state": view.state, "deadline": view.deadline, "voided": _summary(target)},
                        {"state": state.value, "deadline": deadline, "reason": reason, "evidence": files,
                         "on": on})
    except StoreError as exc:
        raise conflict_error(case_no, exc) from exc
    return get_case(db, case_no, as_of=on)


def correct_step(db: str | None, case_no: str, seq: int, *, on: date, reason: str, note: str | None = None,
                 deadline: date | None = None, evidence: Sequence[Path] = (), actor: str | None = None,
                 principal=None) -> CaseView:
    """Correct step ``seq`` (更正): void it and record the same step again dated ``on``, with ``note`` (default:
    the old note), ``deadline`` (order/extension steps) and the old evidence plus ``evidence``; audited once."""
    by, at = (principal.name if principal else who(actor)), now()
    today = date.today()
    try:
        with Store(db) as store, store.transaction() as conn:
            store.require_current(conn)
            view = case_view(conn, case_no, today)
            target = _checked(case_no, view, seq, today, reason)
            _may_correct(principal, case_no, view, target)
            st = Step(target["step"])
            note = target["note"] if note is None else check_text(note, "note", MAX_NOTE_CHARS)
            files = store_evidence(conn, list(evidence), at, by, cited_evidence(view))
            old_files = [f["id"] for f in target["evidence"]]
            rest = [x for x in view.events if x["seq"] != seq]
            kept, _ = effective_events(rest)
            state, current_deadline = state_after(kept)
            before = CaseView(view.case_no, view.id, view.header, rest, state.value, "", current_deadline,
                              effective=kept)
            if deadline is None and st == Step.extend_deadline:
                deadline = target["deadline"]
            tr = transition(case_no, before, st, on=on, rules=load_case_rules(), outcome=target["outcome"],
                            deadline=deadline, note=note, evidence=len(old_files) + len(files))
            n = next_seq(view)
            append_event(
                conn, case_id=view.id, seq=n, step=Step.correct.value, state=state.value, outcome=None, on_date=today,
                deadline=current_deadline, subject=None, category=None, note=reason, evidence_json=dumps(files),
                voids_seq=seq, recorded_at=at, recorded_by=by)
            append_event(
                conn, case_id=view.id, seq=n + 1, step=st.value, state=tr.state.value, outcome=target["outcome"],
                on_date=on, deadline=tr.deadline, subject=target["subject"], category=target["category"], note=note,
                evidence_json=dumps(old_files + [f for f in files if f not in old_files]), recorded_at=at,
                recorded_by=by)
            audit_write(conn, principal, actor, "case.correct", case_no,
                        {"state": view.state, "deadline": view.deadline, "corrected": _summary(target)},
                        {"state": tr.state.value, "deadline": tr.deadline, "reason": reason, "on": on, "note": note,
                         "replacement_seq": n + 1})
    except StoreError as exc:
        raise conflict_error(case_no, exc) from exc
    return get_case(db, case_no, as_of=max(on, today))


def _summary(event: dict) -> dict:
    return {k: event[k] for k in ("seq", "step", "on_date", "outcome", "note", "recorded_by")}
