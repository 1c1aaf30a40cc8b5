"""The case ledger's state machine (台账 → 核查 → 整改 → 复核 → 销号).

A case's state is the state after its last event; events are never changed.
Steps and the states they lead to::

    open ──verify(confirmed)──▶ confirmed ──order_rectification──▶ rectification_ordered
      │                                                              │ rectify (evidence required)
      └─verify(not_confirmed)─▶ dismissed ──close──▶ closed          ▼
                                                                 rectified ──review(passed)──▶ review_passed ──close──▶ closed
                                 review_failed ◀──review(failed)──┘
                                 review_failed ──order_rectification──▶ rectification_ordered

``extend_deadline`` (rectification only) and ``note`` keep the state.  Each
state has a deadline (``data/case_rules.toml``): a case past it on a given
day is overdue.  A confirmed case's category becomes the confirmed value
(疑似未批先建 → 未批先建); verification may also correct the category.

Corrections (作废/更正): events are never changed, so a mistaken step is
*voided* by a later ``void`` event naming its ``seq`` (with a reason); a
``correct`` event voids a step and is followed by its replacement.  A voided
step stays in the timeline but no longer counts for the state, deadline,
subject, category or date order.  Only a note, or the newest step that is not
a note, may be voided (a step that later steps built on is voided after them),
and the opening never (a case opened by mistake is dismissed and closed).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from importlib import resources
from pathlib import Path

from ..errors import InputError, N_, ReferenceDataError, Text
from ..vocabulary import LabelText, LabelsText


class Step(StrEnum):
    open = "open"
    verify = "verify"
    order_rectification = "order_rectification"
    rectify = "rectify"
    review = "review"
    close = "close"
    extend_deadline = "extend_deadline"
    note = "note"
    void = "void"  # 作废: voids the step named by voids_seq
    correct = "correct"  # 更正: voids the step named by voids_seq; its replacement is the next event


class State(StrEnum):
    open = "open"
    confirmed = "confirmed"
    dismissed = "dismissed"
    rectification_ordered = "rectification_ordered"
    rectified = "rectified"
    review_failed = "review_failed"
    review_passed = "review_passed"
    closed = "closed"


STATE_ZH = {
    State.open: "待核查", State.confirmed: "已核实", State.dismissed: "核查不属实", State.rectification_ordered: "整改中",
    State.rectified: "已整改待复核", State.review_failed: "复核未通过", State.review_passed: "复核通过", State.closed: "已销号",
}
STEP_ZH = {
    Step.open: "立案（登记台账）", Step.verify: "现场核查", Step.order_rectification: "下达整改通知", Step.rectify: "整改完成",
    Step.review: "复核", Step.close: "销号", Step.extend_deadline: "延长整改期限", Step.note: "备注",
    Step.void: "作废", Step.correct: "更正",
}
CORRECTIONS = (Step.void, Step.correct)  # events that void an earlier one and are not steps of the case

# Date bounds of a case.  A day of tolerance after today: the server's clock may run in UTC while the
# officer's day (UTC+8 in China) has already begun, so "today" in the browser can be the server's tomorrow.
FUTURE_TOLERANCE_DAYS = 1
# No case or step before 2000-01-01: the platform's records (remote-sensing patches, approvals under the
# 水土保持法 as revised in 2010) are all later; an earlier date is a typing error such as 0001-01-01.
EARLIEST_DATE = date(2000, 1, 1)
# A rectification deadline at most two years after its order [D]: local practice sets weeks to months; a later
# date is a typing error (9999-12-31), and a real longer period is reached by extend_deadline.
MAX_DEADLINE_DAYS = 730

OUTCOMES = {Step.verify: ("confirmed", "not_confirmed"), Step.review: ("passed", "failed")}

_NEXT: dict[tuple[State, Step, str | None], State] = {
    (State.open, Step.verify, "confirmed"): State.confirmed,
    (State.open, Step.verify, "not_confirmed"): State.dismissed,
    (State.confirmed, Step.order_rectification, None): State.rectification_ordered,
    (State.review_failed, Step.order_rectification, None): State.rectification_ordered,
    (State.rectification_ordered, Step.rectify, None): State.rectified,
    (State.rectified, Step.review, "passed"): State.review_passed,
    (State.rectified, Step.review, "failed"): State.review_failed,
    (State.review_passed, Step.close, None): State.closed,
    (State.dismissed, Step.close, None): State.closed,
}


@dataclass(frozen=True)
class CaseRules:
    version: str
    deadline_days: dict[str, int]

    def deadline(self, state: State, on: date) -> date | None:
        days = self.deadline_days.get(state.value)
        if days is None:
            return None
        try:
            return on + timedelta(days=days)
        except OverflowError:  # dates are bounded before they get here; guard anyway
            raise InputError(N_("the deadline {days} days after {on} is past the last representable date", days=days, on=on)) from None


def load_case_rules(path: Path | str | None = None) -> CaseRules:
    if path is None:
        name = "case_rules.toml (shipped)"
        text = (resources.files("shuibao.supervision") / "data" / "case_rules.toml").read_text(encoding="utf-8")
    else:
        name, text = str(path), Path(path).read_text(encoding="utf-8")
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ReferenceDataError(N_("{name}: not valid TOML ({exc})", name=name, exc=exc)) from exc
    days = doc.get("deadline_days", {})
    bad = [f"{k} = {v!r}" for k, v in days.items()
           if k not in {s.value for s in State} or isinstance(v, bool) or not isinstance(v, int) or v < 0]
    if bad or not isinstance(doc.get("version"), str):
        raise ReferenceDataError(N_("{name}: deadline_days needs state = whole days ≥ 0 and a version; bad: {bad}", name=name, bad=bad))
    return CaseRules(doc["version"], dict(days))


@dataclass(frozen=True)
class Transition:
    state: State
    deadline: date | None


def _step(step: Step) -> LabelText:
    return LabelText("case_step", step.value)


def _state(state: State) -> LabelText:
    return LabelText("case_state", state.value)


def latest_date(today: date) -> date:
    """The latest date a case event may carry when the server's day is ``today``."""
    return today + timedelta(days=FUTURE_TOLERANCE_DAYS)


STEP_DATE = N_("the step's date")


def check_date(on: date, today: date, *, what: Text | str = STEP_DATE, not_before: date = EARLIEST_DATE,
               floor_reason: Text | str = "") -> None:
    """ValueError unless ``on`` lies between ``not_before`` (default 2000-01-01) and today plus the tolerance."""
    if on > latest_date(today):
        raise InputError(N_("{what} {on} is in the future (today is {today}; at most {FUTURE_TOLERANCE_DAYS} day "
                         "ahead is accepted)", what=what, on=on, today=today, FUTURE_TOLERANCE_DAYS=FUTURE_TOLERANCE_DAYS))
    if on < not_before:
        if floor_reason:
            raise InputError(N_("{what} {on} is before {not_before} ({reason})", what=what, on=on, not_before=not_before,
                                reason=floor_reason))
        raise InputError(N_("{what} {on} is before {not_before}", what=what, on=on, not_before=not_before))


def apply_step(state: State, step: Step, *, on: date, last_on: date, current_deadline: date | None,
               rules: CaseRules, outcome: str | None = None, deadline: date | None = None,
               note: str = "", evidence: int = 0, today: date | None = None) -> Transition:
    """The state and deadline after ``step``; ValueError says what is allowed instead.

    With ``today``, a date after today (plus the tolerance) is refused as well.
    """
    if step in CORRECTIONS:
        raise InputError(N_("{step} names the step it corrects (use the void or correct command)", step=_step(step)))
    if today is not None:
        check_date(on, today)
    if deadline is not None and deadline > on + timedelta(days=MAX_DEADLINE_DAYS):
        raise InputError(N_("the deadline {deadline} is more than {MAX_DEADLINE_DAYS} days after {on}; "
                         "give a nearer one and extend it later if needed", deadline=deadline, MAX_DEADLINE_DAYS=MAX_DEADLINE_DAYS, on=on))
    if state == State.closed:
        raise InputError(N_("the case is closed (销号); a new finding needs a new case"))
    if on < last_on:
        raise InputError(N_("the step's date {on} is before the case's last event ({last_on})", on=on, last_on=last_on))
    if step == Step.open:
        raise InputError(N_("a case is opened once"))
    if step in OUTCOMES and outcome not in OUTCOMES[step]:
        raise InputError(N_("{step} needs its outcome: {outcomes}", step=_step(step),
                           outcomes=LabelsText("case_outcome", tuple(OUTCOMES[step]), alternatives=True)))
    if step not in OUTCOMES and outcome is not None:
        raise InputError(N_("{step} takes no outcome", step=_step(step)))
    if deadline is not None and step not in (Step.order_rectification, Step.extend_deadline):
        raise InputError(N_("only {steps} set a deadline", steps=LabelsText("case_step", ("order_rectification", "extend_deadline"), alternatives=True)))
    if step in (Step.verify, Step.review) and not note.strip() and not evidence:
        raise InputError(N_("{step} needs a note or evidence of what was found", step=_step(step)))
    if step == Step.rectify and not evidence:
        raise InputError(N_("{step} needs evidence (photos or documents of the rectified site)", step=_step(step)))
    if step == Step.note:
        if not note.strip() and not evidence:
            raise InputError(N_("a note needs text or evidence"))
        return Transition(state, current_deadline)
    if step == Step.extend_deadline:
        if state != State.rectification_ordered:
            raise InputError(N_("only a rectification deadline can be extended (the case is {state})", state=_state(state)))
        if deadline is None or (current_deadline and deadline <= current_deadline):
            raise InputError(N_("{step} needs a new deadline after {current_deadline}", step=_step(step), current_deadline=current_deadline))
        return Transition(state, deadline)
    nxt = _NEXT.get((state, step, outcome if step in OUTCOMES else None))
    if nxt is None:
        allowed = sorted({s.value for (st, s, _o) in _NEXT if st == state} | {"note"})
        raise InputError(N_("a case in state {state} cannot take the step {step}; the steps it can take: {allowed}",
                           state=_state(state), step=_step(step), allowed=LabelsText("case_step", tuple(allowed))))
    if step == Step.order_rectification and deadline is not None and deadline <= on:
        raise InputError(N_("the rectification deadline {deadline} must be after the order's date {on}", deadline=deadline, on=on))
    return Transition(nxt, deadline or rules.deadline(nxt, on))


def effective_events(events: list, *, until: date | None = None) -> tuple[list, dict]:
    """The events that count — neither a correction nor voided, dated up to ``until`` — and {voided seq: the
    correction event}.  ``events`` are in seq order (mappings or rows with seq, step, voids_seq, on_date).

    A correction applies whatever its own date: it says the voided step never happened as recorded.
    """
    get = (lambda e, k: e[k]) if events and isinstance(events[0], dict) else getattr
    voided = {get(e, "voids_seq"): e for e in events if get(e, "step") in CORRECTIONS}
    kept = [e for e in events if get(e, "step") not in CORRECTIONS and get(e, "seq") not in voided
            and (until is None or get(e, "on_date") <= until)]
    return kept, voided


def check_voidable(events: list[dict], seq: int) -> dict:
    """The event ``seq`` if it may be voided now; ValueError says why not (and what to void first)."""
    target = next((e for e in events if e["seq"] == seq), None)
    if target is None:
        raise InputError(N_("the case has no step {seq}", seq=seq))
    kept, voided = effective_events(events)
    if Step(target["step"]) in CORRECTIONS:
        raise InputError(N_("step {seq} is itself a correction; record the step again instead of voiding the void", seq=seq))
    if seq in voided:
        raise InputError(N_("step {seq} is already voided (by step {seq2})", seq=seq, seq2=voided[seq]['seq']))
    if target["step"] == Step.open.value:
        raise InputError(N_("the opening cannot be voided; a case opened by mistake is verified as {outcome} and closed",
                           outcome=LabelText("case_outcome", "not_confirmed")))
    if target["step"] != Step.note.value:
        later = [e for e in kept if e["seq"] > seq and e["step"] != Step.note.value]
        if later:
            raise InputError(N_("step {seq} ({step}) is followed by step {seq2} ({step2}); void the later steps first",
                               seq=seq, step=LabelText("case_step", target['step']), seq2=later[-1]['seq'],
                               step2=LabelText("case_step", later[-1]['step'])))
    return target


def state_after(kept: list) -> tuple[State, date | None]:
    """State and deadline of a case from its counting events: those of the newest that is not a note."""
    get = (lambda e, k: e[k]) if kept and isinstance(kept[0], dict) else getattr
    last = next((e for e in reversed(kept) if get(e, "step") != Step.note.value), None)
    if last is None:
        raise InputError(N_("a case needs its opening event"))
    return State(get(last, "state")), get(last, "deadline")


def overdue_days(state: State, deadline: date | None, as_of: date) -> int:
    """Days past the deadline on ``as_of`` (0 when not overdue or closed)."""
    if state == State.closed or deadline is None or as_of <= deadline:
        return 0
    return (as_of - deadline).days
