"""信用监管"两单": 重点关注名单 (watch_list) and 失信黑名单 (blacklist) from codified rules.

Source of the structure: 水利部 生产建设项目水土保持信用监管"两单"制度 (not
retrieved, unverified); every condition, window and validity period is a
design default [D] in ``data/credit_rules.toml``, replaceable with
``load_rules(path)``.

Each rule's ``kind`` picks how history is read; each yields *triggers*, the
dates on which its condition became true for a subject, with the records that
made it true as evidence (for the window kinds: every qualifying record in the
window ending on the trigger date)::

    confirmed_violations  the n-th of n cases confirmed (confirmed_on) in one of `categories`
                          within window_days (t − first < window_days); trigger t = its confirmed_on
    overdue_rectification a case with a deadline D not rectified (rectified_on, else closed_on)
                          before D + grace_days + 1; trigger t = D + grace_days + 1
    red_reports           n red reports of the subject within window_days (as above, by period_end),
                          or, with consecutive = true, the last n reports of one project all red;
                          trigger t = period_end of the n-th
    unpaid_fees           a fee with outstanding > 0; trigger t = due_on + days

A trigger lists the subject from t to t + validity_days (end exclusive).  At
``as_of`` a subject is listed under a rule if any trigger is active; the entry
runs from the latest active trigger (each new breach renews the listing) and
its evidence is every record of the active triggers.  Records dated after
``as_of`` (confirmed_on, period_end, rectified_on, closed_on) are ignored: a
rectification after ``as_of`` does not yet count.  A fee's ``outstanding`` is
taken as known at ``as_of``.  Consecutive means consecutive in the project's
submitted reports (a missing quarter is not detected).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import cast

from ..errors import ReferenceDataError, raise_issues, N_, Text
from ..datafiles import header as _header, read_toml as _read_toml

LISTS = {"watch_list": "重点关注名单", "blacklist": "失信黑名单"}
COLOURS = ("green", "yellow", "red")
_EVIDENCE_ZH = {"case": "案件", "report": "季报", "fee": "补偿费"}
# kind → {parameter: (check, required)}
_PARAMS = {
    "confirmed_violations": {"n": ("positive", True), "window_days": ("positive", True), "categories": ("keys", True)},
    "overdue_rectification": {"grace_days": ("non_negative", True)},
    "red_reports": {"n": ("positive", True), "window_days": ("positive", False), "consecutive": ("bool", False)},
    "unpaid_fees": {"days": ("non_negative", True)},
}
_EXPECTED = {"positive": "a positive integer", "non_negative": "an integer ≥ 0", "bool": "true or false",
             "keys": "a non-empty list of category keys"}
_RULE_KEYS = {"id", "list", "kind", "parameters", "validity_days", "description_zh"}


@dataclass(frozen=True)
class CreditRule:
    id: str
    list_kind: str  # 'watch_list' | 'blacklist'
    kind: str  # a key of _PARAMS
    parameters: tuple[tuple[str, object], ...]  # (name, value), sorted by name
    validity_days: int
    description_zh: str

    def param(self, name: str, default=None):
        return dict(self.parameters).get(name, default)


@dataclass(frozen=True)
class RuleSet:
    version: str
    source: str
    verified: bool
    note: str
    rules: tuple[CreditRule, ...]
    path: Path


@dataclass(frozen=True)
class CaseRecord:
    case_id: int
    subject: str
    project_id: int | None
    confirmed_category: str | None
    confirmed_on: date | None
    deadline: date | None
    rectified_on: date | None
    closed_on: date | None


@dataclass(frozen=True)
class ReportRecord:
    report_id: int
    subject: str
    project_id: int
    period_end: date
    colour: str  # 'green' | 'yellow' | 'red'


@dataclass(frozen=True)
class FeeRecord:
    fee_id: int
    subject: str
    project_id: int
    due_on: date
    outstanding: Decimal


@dataclass(frozen=True)
class CreditEntry:
    list_kind: str
    subject: str
    rule_id: str
    rules_version: str
    valid_from: date
    valid_to: date  # exclusive
    evidence: tuple[tuple[str, int], ...]  # ('case' | 'report' | 'fee', id), sorted
    reason_zh: str


def _check_param(value, check: str) -> bool:
    if check == "bool":
        return isinstance(value, bool)
    if check == "keys":
        return isinstance(value, list) and bool(value) and all(isinstance(v, str) and v for v in value)
    ok = isinstance(value, int) and not isinstance(value, bool)
    return ok and (value > 0 if check == "positive" else value >= 0)


def _rule(n: int, item, problems: list[Text | str]) -> CreditRule | None:
    where = f"rules #{n}" + (f" ({item.get('id')})" if isinstance(item, dict) and item.get("id") else "")
    if not isinstance(item, dict):
        problems.append(N_("{where}: expected a table", where=where))
        return None
    before = len(problems)
    problems += [N_("{where}, {k}: unknown field", where=where, k=k) for k in item if k not in _RULE_KEYS]
    for k in ("id", "description_zh"):
        if not isinstance(item.get(k), str) or not item[k].strip():
            problems.append(N_("{where}, {k}: required, a non-empty string", where=where, k=k))
    if item.get("list") not in LISTS:
        problems.append(N_("{where}, list: {get!r} is not one of {LISTS}", where=where, get=item.get('list'), LISTS=', '.join(LISTS)))
    if not _check_param(item.get("validity_days"), "positive"):
        problems.append(N_("{where}, validity_days: expected a positive integer, found {get!r}", where=where, get=item.get('validity_days')))
    kind, params = item.get("kind"), item.get("parameters", {})
    if kind not in _PARAMS:
        problems.append(N_("{where}, kind: {kind!r} is not one of {PARAMS}", where=where, kind=kind, PARAMS=', '.join(_PARAMS)))
    elif not isinstance(params, dict):
        problems.append(N_("{where}, parameters: expected a [rules.parameters] table", where=where))
    else:
        spec = _PARAMS[kind]
        problems += [N_("{where}, parameters.{k}: not a parameter of kind {kind} (expected {spec})", where=where, k=k, kind=kind, spec=', '.join(spec))
                     for k in params if k not in spec]
        for name, (check, required) in spec.items():
            if name not in params:
                if required:
                    problems.append(N_("{where}, parameters.{name}: required for kind {kind}", where=where, name=name, kind=kind))
            elif not _check_param(params[name], check):
                problems.append(N_("{where}, parameters.{name}: expected {value1}, found {value2!r}", where=where, name=name, value1=_EXPECTED[check], value2=params[name]))
        if kind == "red_reports" and params.get("consecutive") is True and "window_days" in params:
            problems.append(N_("{where}, parameters.window_days: has no meaning with consecutive = true", where=where))
        if kind == "red_reports" and params.get("consecutive") is not True and "window_days" not in params:
            problems.append(N_("{where}, parameters.window_days: required unless consecutive = true", where=where))
    if len(problems) > before:
        return None
    values = tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in params.items()))
    # kind is one of _PARAMS (checked above)
    return CreditRule(item["id"].strip(), item["list"], cast(str, kind), values, item["validity_days"],
                      item["description_zh"].strip())


def load_rules(path: Path | str | None = None) -> RuleSet:
    """Read and check the credit rules; every problem is reported in one ReferenceDataError."""
    p, doc = _read_toml(path, "credit_rules.toml")
    problems: list[Text | str] = []
    version, source, verified, note = _header(doc, problems)
    allowed = ("version", "source", "verified", "note", "rules")
    problems += [N_("{k}: unknown key (expected one of {allowed})", k=k, allowed=', '.join(allowed)) for k in doc if k not in allowed]
    raw = doc.get("rules")
    if not isinstance(raw, list) or not raw:
        problems.append(N_("rules: required, a list of [[rules]] tables"))
        raw = []
    rules = [r for r in (_rule(n, item, problems) for n, item in enumerate(raw, start=1)) if r is not None]
    ids = [item["id"].strip() for item in raw if isinstance(item, dict) and isinstance(item.get("id"), str)]
    problems += [N_("rules: duplicate id {i!r}", i=i) for i in sorted({i for i in ids if ids.count(i) > 1})]
    if problems:
        raise_issues(problems, str(p), error=ReferenceDataError)
    return RuleSet(version, source, verified, note, tuple(rules), p)


_DATES = {CaseRecord: ("confirmed_on", "deadline", "rectified_on", "closed_on"), ReportRecord: ("period_end",),
          FeeRecord: ("due_on",)}  # optional (None allowed) only in CaseRecord


def _is_date(value) -> bool:
    return isinstance(value, date) and not isinstance(value, datetime)


def _check_records(cases, reports, fees, as_of) -> None:
    problems: list[Text | str] = [] if _is_date(as_of) else [N_("as_of: expected a date, found {as_of!r}", as_of=as_of)]
    for label, records, cls in (("case", cases, CaseRecord), ("report", reports, ReportRecord),
                                ("fee", fees, FeeRecord)):
        ids = []
        for r in records:
            if not isinstance(r, cls):
                problems.append(N_("{label} records: expected {name}, found {name2}", label=label, name=cls.__name__, name2=type(r).__name__))
                continue
            rid = getattr(r, fields(cls)[0].name)
            ids.append(rid)
            if not isinstance(r.subject, str) or not r.subject.strip():
                problems.append(N_("{label} {rid}: subject is empty", label=label, rid=rid))
            for name in _DATES[cls]:
                v = getattr(r, name)
                if not _is_date(v) and not (v is None and cls is CaseRecord):
                    problems.append(N_("{label} {rid}, {name}: expected a date, found {v!r}", label=label, rid=rid, name=name, v=v))
            if isinstance(r, ReportRecord) and r.colour not in COLOURS:
                problems.append(N_("report {rid}, colour: {colour!r} is not one of {COLOURS}", rid=rid, colour=r.colour, COLOURS=', '.join(COLOURS)))
            if isinstance(r, FeeRecord) and (not isinstance(r.outstanding, (Decimal, int))
                                             or isinstance(r.outstanding, bool)
                                   or not Decimal(r.outstanding).is_finite() or r.outstanding < 0):
                problems.append(N_("fee {rid}, outstanding: expected a non-negative Decimal, found {outstanding!r}", rid=rid, outstanding=r.outstanding))
        problems += [N_("duplicate {label} id {i}", label=label, i=i) for i in sorted({i for i in ids if ids.count(i) > 1}, key=str)]
    seen = defaultdict(list)
    for r in reports:
        if isinstance(r, ReportRecord):
            seen[(r.project_id, r.period_end)].append(r.report_id)
    problems += [N_("reports {reports}: same project {project} and period_end {period_end}", reports=', '.join(map(str, v)), project=k[0], period_end=k[1])
                 for k, v in seen.items() if len(v) > 1]
    if problems:
        raise_issues(problems, N_("credit evaluation"))


def _in_window(dated: list[tuple[date, int]], n: int, window_days: int, kind: str):
    """Triggers of '≥ n events within window_days': at each event, the events of the window ending there."""
    for k, (t, _) in enumerate(dated):
        window = [(kind, i) for d, i in dated[: k + 1] if (t - d).days < window_days]
        if len(window) >= n:
            yield t, tuple(window)


def _triggers(rule: CreditRule, cases, reports, fees, as_of: date) -> dict[str, list[tuple[date, tuple]]]:
    out: dict[str, list[tuple[date, tuple]]] = defaultdict(list)
    p = rule.param
    if rule.kind == "confirmed_violations":
        per: dict[str, list] = defaultdict(list)
        for c in cases:
            if c.confirmed_category in p("categories") and c.confirmed_on is not None and c.confirmed_on <= as_of:
                per[c.subject].append((c.confirmed_on, c.case_id))
        for subject, dated in per.items():
            out[subject] += _in_window(sorted(dated), p("n"), p("window_days"), "case")
    elif rule.kind == "overdue_rectification":
        for c in cases:
            if c.deadline is None or (c.confirmed_on is not None and c.confirmed_on > as_of):
                continue
            t = c.deadline + timedelta(days=p("grace_days") + 1)
            done = [d for d in (c.rectified_on, c.closed_on) if d is not None and d <= as_of]
            if t <= as_of and (not done or min(done) >= t):
                out[c.subject].append((t, (("case", c.case_id),)))
    elif rule.kind == "red_reports":
        past = sorted((r for r in reports if r.period_end <= as_of), key=lambda r: (r.period_end, r.report_id))
        if p("consecutive", False):
            runs: dict[tuple, list] = defaultdict(list)
            for r in past:
                runs[(r.subject, r.project_id)].append(r)
            for (subject, _), series in runs.items():
                for k in range(p("n") - 1, len(series)):
                    last = series[k - p("n") + 1: k + 1]
                    if all(r.colour == "red" for r in last):
                        out[subject].append((series[k].period_end, tuple(("report", r.report_id) for r in last)))
        else:
            per = defaultdict(list)
            for r in past:
                if r.colour == "red":
                    per[r.subject].append((r.period_end, r.report_id))
            for subject, dated in per.items():
                out[subject] += _in_window(dated, p("n"), p("window_days"), "report")
    elif rule.kind == "unpaid_fees":
        for f in fees:
            t = f.due_on + timedelta(days=p("days"))
            if f.outstanding > 0 and t <= as_of:
                out[f.subject].append((t, (("fee", f.fee_id),)))
    return out


def evaluate(rules: RuleSet, cases: Sequence[CaseRecord], reports: Sequence[ReportRecord],
             fees: Sequence[FeeRecord], *, as_of: date) -> tuple[CreditEntry, ...]:
    """Entries of both lists active on ``as_of`` (valid_from ≤ as_of < valid_to), by (list, subject, rule)."""
    cases, reports, fees = list(cases), list(reports), list(fees)
    _check_records(cases, reports, fees, as_of)
    entries = []
    for rule in rules.rules:
        span = timedelta(days=rule.validity_days)
        for subject, triggers in _triggers(rule, cases, reports, fees, as_of).items():
            active = [(t, ev) for t, ev in triggers if t <= as_of < t + span]
            if not active:
                continue
            start = max(t for t, _ in active)
            evidence = tuple(sorted({e for _, ev in active for e in ev}))
            cited = "、".join(f"{_EVIDENCE_ZH[k]}{i}" for k, i in evidence)
            entries.append(CreditEntry(rule.list_kind, subject, rule.id, rules.version, start, start + span, evidence,
                                       f"{LISTS[rule.list_kind]}：{rule.description_zh}（依据：{cited}）"))
    return tuple(sorted(entries, key=lambda e: (e.list_kind, e.subject, e.rule_id)))
