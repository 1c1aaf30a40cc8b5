"""方案审批 (plan applications): the plan class, the path, the state machine and the statutory time limits.

Pure domain (no I/O beyond reading the shipped data files): the services (``services/supervision/approvals.py``)
store what these functions decide.

* **Plan class** (方案类别, ``data/plan_classes.toml``): 报告书 ``report``, 报告表 ``form`` or 不需编报
  ``not_required``, from land take (hm²) OR earthwork (m³) against a replaceable thresholds table (水利部令第53号).
* **Path** (审批路径, ``data/approvals.toml [[paths]]``): ``ordinary`` (受理 → 技术评审 → 批复), ``commitment``
  (承诺制: approved on intake, re-checked later), ``filing`` (备案制), ``zone`` (simplified inside a development
  zone with a 区域评价 on record: no technical review) and ``not_required`` (不需编报: recorded and closed).
* **State machine** (:data:`TRANSITIONS`): one table of (path, step, from state, outcome) → state, which the
  services enforce and the CLI and web read to offer only valid steps (:func:`valid_steps`).
* **Time limits** (``[limits]``, working days from intake, technical review not counted: 令53) and
  :func:`clock`, which counts them with the holiday table (:mod:`.workdays`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path

from shuibao.datafiles import header, read_toml
from shuibao.errors import N_, InputError, ReferenceDataError, Text, raise_issues

from .workdays import HolidayTable


class PlanClass(StrEnum):
    """方案类别."""

    report = "report"  # 报告书
    form = "form"  # 报告表
    not_required = "not_required"  # 不需编报


class Path_(StrEnum):
    """审批路径 (named ``Path_`` beside :class:`pathlib.Path`)."""

    ordinary = "ordinary"  # 审批 (先审后批)
    commitment = "commitment"  # 承诺制 (先批后核)
    filing = "filing"  # 备案制
    zone = "zone"  # 区域评价 园区简化
    not_required = "not_required"  # 不需编报


class State(StrEnum):
    """申请状态."""

    registered = "registered"  # 已登记 (待受理)
    accepted = "accepted"  # 已受理
    under_review = "under_review"  # 技术评审中
    revision_requested = "revision_requested"  # 待修改补充
    review_concluded = "review_concluded"  # 评审已结论
    approved = "approved"  # 已批复
    refused = "refused"  # 不予许可
    filed = "filed"  # 已备案
    closed_not_required = "closed_not_required"  # 不需编报 (已办结)


class Step(StrEnum):
    """办理环节."""

    register = "register"  # 登记
    intake = "intake"  # 受理 (事先告知: credit history shown and recorded)
    assign_review = "assign_review"  # 委托技术评审
    opinion = "opinion"  # 评审意见
    revision = "revision"  # 修改补充 (a new document version)
    conclude_review = "conclude_review"  # 评审结论
    decide = "decide"  # 批复 / 不予许可
    file = "file"  # 备案
    recheck = "recheck"  # 抽查复核
    extend = "extend"  # 延长审批期限 (once, approved by the agency head: 令53)


TERMINAL = frozenset({State.approved, State.refused, State.filed, State.closed_not_required})
"""States no time limit runs in (a re-check still appends to an approved application)."""


@dataclass(frozen=True)
class Transition:
    path: Path_ | None  # None: every path
    step: Step
    before: State | None  # None: a new application
    outcome: str | None  # None: the step has no outcome here
    after: State


_ALL = None
TRANSITIONS: tuple[Transition, ...] = (
    Transition(_ALL, Step.register, None, None, State.registered),
    # 受理: the ordinary, zone and filing paths wait for the next step; 承诺制 is decided at intake (即时办结)
    Transition(Path_.ordinary, Step.intake, State.registered, None, State.accepted),
    Transition(Path_.zone, Step.intake, State.registered, None, State.accepted),
    Transition(Path_.filing, Step.intake, State.registered, None, State.accepted),
    Transition(Path_.commitment, Step.intake, State.registered, None, State.approved),
    Transition(Path_.not_required, Step.intake, State.registered, None, State.closed_not_required),
    # 技术评审 (ordinary only): assignment, opinions (revise or not), revisions, conclusion
    Transition(Path_.ordinary, Step.assign_review, State.accepted, None, State.under_review),
    Transition(Path_.ordinary, Step.opinion, State.under_review, "revise", State.revision_requested),
    Transition(Path_.ordinary, Step.opinion, State.under_review, "noted", State.under_review),
    Transition(Path_.ordinary, Step.revision, State.revision_requested, None, State.under_review),
    Transition(Path_.ordinary, Step.conclude_review, State.under_review, "pass", State.review_concluded),
    Transition(Path_.ordinary, Step.conclude_review, State.under_review, "fail", State.review_concluded),
    # 批复: after the review's conclusion (ordinary) or on the zone's 区域评价 (zone)
    Transition(Path_.ordinary, Step.decide, State.review_concluded, "approve", State.approved),
    Transition(Path_.ordinary, Step.decide, State.review_concluded, "refuse", State.refused),
    Transition(Path_.zone, Step.decide, State.accepted, "approve", State.approved),
    Transition(Path_.zone, Step.decide, State.accepted, "refuse", State.refused),
    Transition(Path_.filing, Step.file, State.accepted, None, State.filed),
    # 延长: the decision limit extended once (经审批部门负责人批准, 令53); the state stays
    *(Transition(Path_.ordinary, Step.extend, s, None, s) for s in (State.accepted, State.under_review,
                                                                      State.revision_requested, State.review_concluded)),
    Transition(Path_.zone, Step.extend, State.accepted, None, State.accepted),
    # 抽查复核 of an approved plan: appended to its history, the state stays
    Transition(_ALL, Step.recheck, State.approved, "pass", State.approved),
    Transition(_ALL, Step.recheck, State.approved, "fail", State.approved),
)
"""The application state machine: (path, step, state before, outcome) → state after."""

STEP_OUTCOMES = {s: tuple(dict.fromkeys(t.outcome for t in TRANSITIONS if t.step == s and t.outcome)) for s in Step}
"""The outcomes each step takes (empty: none)."""


def valid_steps(path: str, state: str | None) -> list[Step]:
    """The steps an application on ``path`` in ``state`` may take next (the CLI and web offer only these)."""
    return list(dict.fromkeys(t.step for t in TRANSITIONS if t.path in (None, path) and t.before == state))


def next_state(path: str, state: str | None, step: str, outcome: str | None = None) -> State:
    """The state after ``step``; InputError naming the step (and what is allowed) if it is out of order."""
    rows = [t for t in TRANSITIONS if t.path in (None, path) and t.before == state and t.step == step]
    if not rows:
        allowed = ", ".join(valid_steps(path, state)) or "none"
        raise InputError(N_("step: {step} is not allowed on path {path} in state {state} (allowed: {allowed})",
                            step=step, path=path, state=state or "new", allowed=allowed))
    outcomes = [t.outcome for t in rows if t.outcome]
    if outcomes:
        match = [t for t in rows if t.outcome == outcome]
        if not match:
            raise InputError(N_("outcome: {step} needs one of {outcomes}, found {outcome!r}", step=step,
                                outcomes=", ".join(outcomes), outcome=outcome))
        return match[0].after
    if outcome is not None:
        raise InputError(N_("outcome: {step} takes no outcome, found {outcome!r}", step=step, outcome=outcome))
    return rows[0].after


# --------------------------------------------------------------------------------------------- data files
@dataclass(frozen=True)
class ClassThreshold:
    code: PlanClass
    min_land_take_hm2: Decimal
    min_earthwork_m3: Decimal


@dataclass(frozen=True)
class ClassTable:
    version: str
    source: str
    classes: tuple[ClassThreshold, ...]  # largest first

    def classify(self, land_take_hm2: float | Decimal, earthwork_m3: float | Decimal) -> PlanClass:
        """The first class whose land-take OR earthwork threshold is reached (``≥``); else 不需编报."""
        land, earth = Decimal(str(land_take_hm2)), Decimal(str(earthwork_m3))
        if land < 0 or earth < 0:
            raise InputError(N_("land_take_hm2 and earthwork_m3 must not be negative"))
        for c in self.classes:
            if land >= c.min_land_take_hm2 or earth >= c.min_earthwork_m3:
                return c.code
        return PlanClass.not_required


def _decimal(value, where: str, problems: list) -> Decimal:
    try:
        d = Decimal(str(value))
        if not d.is_finite() or d < 0:
            raise InvalidOperation
        return d
    except (InvalidOperation, ValueError):
        problems.append(N_("{where}: expected a non-negative number, found {value!r}", where=where, value=value))
        return Decimal(0)


def load_classes(path: Path | str | None = None) -> ClassTable:
    """The plan-class thresholds (default ``data/plan_classes.toml``)."""
    p, doc = read_toml(path, "plan_classes.toml")
    problems: list[Text | str] = []
    version, source, _verified, _note = header(doc, problems)
    classes = []
    for i, row in enumerate(doc.get("classes") or [], start=1):
        code = row.get("code")
        if code not in (PlanClass.report, PlanClass.form):
            problems.append(N_("classes[{i}].code: expected report or form, found {code!r}", i=i, code=code))
            continue
        classes.append(ClassThreshold(PlanClass(code), _decimal(row.get("min_land_take_hm2"), f"classes[{i}].min_land_take_hm2", problems),
                                      _decimal(row.get("min_earthwork_m3"), f"classes[{i}].min_earthwork_m3", problems)))
    if not classes:
        problems.append(N_("classes: at least one [[classes]] table is required"))
    raise_issues(problems, N_("{p}: plan classes", p=p), error=ReferenceDataError)
    classes.sort(key=lambda c: (c.min_land_take_hm2, c.min_earthwork_m3), reverse=True)
    return ClassTable(version, source, tuple(classes))


@dataclass(frozen=True)
class PathRule:
    plan_class: PlanClass | None
    in_zone: bool | None
    path: Path_
    source: str


@dataclass(frozen=True)
class Limit:
    decision_days: int | None  # None: no limit known (never overdue)
    extension_days: int
    review_days: int | None
    source: str


@dataclass(frozen=True)
class ApprovalRules:
    version: str
    source: str
    paths: tuple[PathRule, ...]
    limits: dict[Path_, Limit]
    land_take_tolerance: Decimal
    outside_share: Decimal
    recheck_ratio: Decimal
    recheck_minimum: int
    recheck_source: str

    def path_for(self, plan_class: str, in_zone: bool) -> Path_:
        """The first path rule matching the class and whether a 区域评价 covers the project."""
        for r in self.paths:
            if r.plan_class in (None, plan_class) and r.in_zone in (None, in_zone):
                return r.path
        raise ReferenceDataError(N_("approvals rules: no [[paths]] rule for class {plan_class} (in zone: {in_zone})",
                                    plan_class=plan_class, in_zone=in_zone))


def _int(value, where: str, problems: list) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        problems.append(N_("{where}: expected a non-negative integer, found {value!r}", where=where, value=value))
        return None
    return value


def load_rules(path: Path | str | None = None) -> ApprovalRules:
    """Paths, time limits, tolerances and the re-check ratio (default ``data/approvals.toml``)."""
    p, doc = read_toml(path, "approvals.toml")
    problems: list[Text | str] = []
    version, source, _verified, _note = header(doc, problems)
    paths = []
    for i, row in enumerate(doc.get("paths") or [], start=1):
        cls, zone, target = row.get("plan_class"), row.get("in_zone"), row.get("path")
        if cls is not None and cls not in PlanClass.__members__:
            problems.append(N_("paths[{i}].plan_class: unknown {value!r}", i=i, value=cls))
        elif zone is not None and not isinstance(zone, bool):
            problems.append(N_("paths[{i}].in_zone: expected true or false, found {value!r}", i=i, value=zone))
        elif target not in Path_.__members__:
            problems.append(N_("paths[{i}].path: unknown {value!r}", i=i, value=target))
        elif not str(row.get("source") or "").strip():
            problems.append(N_("paths[{i}].source: required", i=i))
        else:
            paths.append(PathRule(None if cls is None else PlanClass(cls), zone, Path_(target), row["source"]))
    limits = {}
    for name in Path_:
        row = (doc.get("limits") or {}).get(name.value, {})
        limits[name] = Limit(_int(row.get("decision_days"), f"limits.{name}.decision_days", problems),
                             _int(row.get("extension_days"), f"limits.{name}.extension_days", problems) or 0,
                             _int(row.get("review_days"), f"limits.{name}.review_days", problems),
                             str(row.get("source") or "unverified: no limit set"))
    tol, rc = doc.get("tolerances") or {}, doc.get("recheck") or {}
    land = _decimal(tol.get("land_take_relative"), "tolerances.land_take_relative", problems)
    outside = _decimal(tol.get("outside_share"), "tolerances.outside_share", problems)
    ratio = _decimal(rc.get("ratio"), "recheck.ratio", problems)
    if ratio > 1:
        problems.append(N_("recheck.ratio: expected a share between 0 and 1, found {value}", value=ratio))
    minimum = _int(rc.get("minimum", 1), "recheck.minimum", problems) or 0
    raise_issues(problems, N_("{p}: approval rules", p=p), error=ReferenceDataError)
    return ApprovalRules(version, source, tuple(paths), limits, land, outside, ratio, minimum,
                         str(rc.get("source") or ""))


# --------------------------------------------------------------------------------------------- time limits
@dataclass(frozen=True)
class Clock:
    """Where an application stands against its time limit on a day."""

    limit_days: int | None  # the decision limit (None: none known)
    counted_days: int  # working days since intake, review days not counted
    review_days: int  # working days in technical review so far
    review_limit_days: int | None
    overdue: bool  # the decision limit (or the review's own limit) is passed
    due_on: date | None  # the last day of the decision limit, review time added as it stands


def clock(limit: Limit, intake_on: date | None, review_spans: list[tuple[date, date | None]], as_of: date,
          calendar: HolidayTable, *, extended: bool = False) -> Clock:
    """Count the working days of an application that is still open on ``as_of``.

    ``review_spans``: (assigned, concluded or None while under review) of its technical reviews; their working
    days do not count against the decision limit (令53) but may not exceed the review limit themselves.
    ``extended``: the limit was extended (by ``limit.extension_days``).
    """
    if limit.decision_days is not None and extended:
        limit = Limit(limit.decision_days + limit.extension_days, 0, limit.review_days, limit.source)
    if intake_on is None:
        return Clock(limit.decision_days, 0, 0, limit.review_days, False, None)
    review = sum(calendar.working_days_between(a, min(c or as_of, as_of)) for a, c in review_spans)
    counted = calendar.working_days_between(intake_on, as_of) - review
    overdue_review = limit.review_days is not None and review > limit.review_days
    due = None if limit.decision_days is None else calendar.add_working_days(intake_on, limit.decision_days + review)
    over = (limit.decision_days is not None and counted > limit.decision_days) or overdue_review
    return Clock(limit.decision_days, counted, review, limit.review_days, over, due)
