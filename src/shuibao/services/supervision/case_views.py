"""Cases as they stand (案件台账): each case's timeline with its evidence, state, deadline and overdue days,
read from the store's cases repository and judged by the state machine of :mod:`shuibao.supervision.cases`.

Used by the case service itself and by the reports that count cases (overviews, the supervision summary,
the assessment, the rain warning).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Connection

from shuibao.store.repositories.cases import case_events, cited_files
from shuibao.supervision.cases import CORRECTIONS, STATE_ZH, STEP_ZH, Step, effective_events, overdue_days, state_after


@dataclass
class CaseView:
    """A case with its timeline, current state and deadline."""

    case_no: str
    id: int
    header: dict
    events: list[dict] = field(default_factory=list)
    state: str = "open"
    state_zh: str = ""
    deadline: date | None = None
    overdue_days: int = 0
    subject: str | None = None
    category: str = ""
    confirmed: bool = False
    effective: list[dict] = field(default_factory=list)  # the events that count: no corrections, none voided


def case_views(conn: Connection, heads: Sequence, as_of: date, *, until: date | None = None) -> list[CaseView]:
    """The cases ``heads`` (``cases`` rows) with their timelines, read in three queries whatever their number;
    overdue days are counted on ``as_of``.

    With ``until``, each case is as it stood at the end of that day (later steps left out; cases opened
    later are dropped), so a past year's figures do not change with what happened after it — except that a
    void or correction applies whatever its date (it says the voided step never happened as recorded).
    """
    events = case_events(conn, [h.id for h in heads], until=until, always=CORRECTIONS)
    names = cited_files(conn, events)
    views = []
    for head in heads:
        evs = events[head.id]
        kept, voided = effective_events(evs)
        if not kept:
            continue
        for x in evs:
            x["evidence"] = [names[i] for i in json.loads(x.pop("evidence_json"))]
            x["step_zh"] = STEP_ZH[Step(x["step"])]
            by = voided.get(x["seq"])
            x["voided_by"] = None if by is None else {
                "seq": by["seq"], "step": by["step"], "on_date": by["on_date"], "reason": by["note"],
                "recorded_by": by["recorded_by"], "recorded_at": by["recorded_at"]}
        state, deadline = state_after(kept)
        subject = next((x["subject"] for x in reversed(kept) if x["subject"]), head.subject)
        category = next((x["category"] for x in reversed(kept) if x["category"]), head.category)
        confirmed = any(x["step"] == Step.verify.value and x["outcome"] == "confirmed" for x in kept)
        views.append(CaseView(head.case_no, head.id, dict(head._mapping), evs, state.value, STATE_ZH[state], deadline,
                              overdue_days(state, deadline, as_of), subject, category, confirmed, kept))
    return views
