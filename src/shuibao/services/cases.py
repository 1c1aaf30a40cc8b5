"""The case ledger (台账): open cases, append steps with evidence, read timelines, find overdue ones.

Every step is a new ``case_events`` row in the same transaction as its
evidence files; ``(case_id, seq)`` is unique, so two people acting on one case
at once cannot both append step n — the second gets a clear error and retries
on the new state.  Evidence files are stored in the database by SHA-256 (one
copy however often they are cited), so a backup of the database is a backup
of the ledger.
"""

from __future__ import annotations

import json
import mimetypes
import secrets
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError

from ..errors import ConflictError, InputError, NotFoundError, StoreError
from ..io.steps import sha256
from ..store import Store, schema
from ..supervision.cases import STATE_ZH, STEP_ZH, State, Step, apply_step, load_case_rules, overdue_days
from ..supervision.model import CASE_CATEGORY_ZH, CATEGORY_ZH, VIOLATIONS, Category, case_category_label
from .compliance import resolve_analysis
from .supervision_common import actor as who, district_lookup, dumps, now

MAX_EVIDENCE_BYTES = 64 * 1024 * 1024
CASE_SOURCES = ("finding", "inspection", "monitoring_report", "verification", "manual")


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


def _store_evidence(conn: Connection, files: list[Path], at, by: str) -> list[int]:
    t = schema.evidence_files
    ids = []
    for f in files:
        p = Path(f)
        if not p.is_file():
            raise InputError(f"evidence {p}: file not found")
        size = p.stat().st_size
        if size > MAX_EVIDENCE_BYTES:
            raise InputError(f"evidence {p}: {size / 2**20:.0f} MiB is more than {MAX_EVIDENCE_BYTES // 2**20} MiB")
        digest = sha256(p)
        fid = conn.execute(select(t.c.id).where(t.c.sha256 == digest)).scalar()
        if fid is None:
            fid = conn.execute(t.insert().values(
                sha256=digest, name=p.name, media_type=mimetypes.guess_type(p.name)[0] or "application/octet-stream",
                size_bytes=size, content=p.read_bytes(), recorded_at=at, recorded_by=by)).inserted_primary_key[0]
        ids.append(int(fid))
    return ids


def _insert_case(conn: Connection, *, source_kind: str, source_id: int | None, patch_fid: int | None,
                 project_id: int | None, district: str | None, subject: str | None, category: str, title: str,
                 on: date, note: str, evidence: list[int], by: str, at) -> str:
    if source_kind not in CASE_SOURCES:
        raise InputError(f"case source {source_kind!r}: expected one of {', '.join(CASE_SOURCES)}")
    if category not in CASE_CATEGORY_ZH:
        raise InputError(f"case category {category!r}: expected one of {', '.join(CASE_CATEGORY_ZH)}")
    rules = load_case_rules()
    cid = conn.execute(schema.cases.insert().values(
        case_no=f"pending-{secrets.token_hex(8)}", source_kind=source_kind, source_id=source_id, patch_fid=patch_fid, project_id=project_id,
        district_code=district, subject=subject, category=category, title=title, opened_at=at, opened_by=by,
    )).inserted_primary_key[0]
    # numbered by the row id, which the database hands out: two people opening cases at once get distinct numbers
    case_no = f"SB{on.year}-{cid:05d}"
    conn.execute(schema.cases.update().where(schema.cases.c.id == cid).values(case_no=case_no))
    conn.execute(schema.case_events.insert().values(
        case_id=cid, seq=1, step=Step.open.value, state=State.open.value, outcome=None, on_date=on,
        deadline=rules.deadline(State.open, on), subject=subject, category=category, note=note,
        evidence_json=dumps(evidence), recorded_at=at, recorded_by=by))
    return case_no


def _district_code(conn: Connection, district: str) -> str:
    code = district_lookup(conn).get(district)
    if code is None:
        raise InputError(f"district {district!r} is not known (use the names or codes of `shuibao plan districts`)")
    return code


def open_case(db: str | None, *, title: str, category: str, on: date, source_kind: str = "manual",
              source_id: int | None = None, project_code: str | None = None, patch_fid: int | None = None,
              district: str | None = None, subject: str | None = None, note: str = "",
              evidence: list[Path] = (), actor: str | None = None, principal=None) -> str:
    """Open one case by hand (or from an inspection, report or verification); returns its number.

    With a ``principal`` (the web platform), its role must allow writing in the case's district, and
    the opening is audited in the same transaction.
    """
    by, at = (principal.name if principal else who(actor)), now()
    with Store(db) as store, store.transaction() as conn:
        store.require_current(conn)
        project_id = None
        if district is not None:
            district = _district_code(conn, district)
        if project_code:
            p = schema.projects
            row = conn.execute(select(p.c.id, p.c.builder, p.c.district_codes).where(p.c.code == project_code)).first()
            if row is None:
                raise InputError(f"project {project_code!r} is not known")
            project_id, subject = row.id, subject or row.builder
            district = district or row.district_codes.split(",")[0]
        if principal is not None:
            from .auth import audit, require

            require(principal, "write", district=district)
        case_no = _insert_case(conn, source_kind=source_kind, source_id=source_id, patch_fid=patch_fid,
                               project_id=project_id, district=district, subject=subject, category=category,
                               title=title, on=on, note=note, evidence=_store_evidence(conn, list(evidence), at, by),
                               by=by, at=at)
        if principal is not None:
            audit(conn, principal, "case.open", "case", case_no, None,
                  {"title": title, "category": category, "district": district, "on": on, "note": note})
        return case_no


def open_cases_from_findings(db: str | None, *, analysis: int | None = None, period: str | None = None,
                             categories: tuple[str, ...] = tuple(c.value for c in VIOLATIONS),
                             on: date | None = None, actor: str | None = None) -> list[str]:
    """A case for each suspect finding of an analysis whose patch has no case yet; returns the new numbers."""
    bad = [c for c in categories if c not in {v.value for v in VIOLATIONS}]
    if bad:
        raise InputError(f"categories {bad}: cases are opened for {', '.join(sorted(v.value for v in VIOLATIONS))}")
    f, p, pr, c = schema.compliance_findings, schema.disturbance_patches, schema.projects, schema.cases
    by, at = who(actor), now()
    on = on or date.today()
    opened = []
    with Store(db) as store, store.transaction() as conn:
        store.require_current(conn)
        rid = resolve_analysis(conn, analysis, period)
        known = set(conn.execute(select(c.c.patch_fid).where(c.c.patch_fid.is_not(None))).scalars())
        q = (select(f.c.id, f.c.patch_fid, f.c.category, f.c.project_id, f.c.reason, p.c.patch_code, p.c.period,
                    p.c.district_code, pr.c.builder, pr.c.name.label("project_name"))
             .join(p, p.c.fid == f.c.patch_fid).join(pr, pr.c.id == f.c.project_id, isouter=True)
             .where(f.c.run_id == rid, f.c.category.in_(categories)).order_by(p.c.patch_code))
        for r in conn.execute(q).all():
            if r.patch_fid in known:
                continue
            label = CATEGORY_ZH[Category(r.category)]
            title = f"{r.period} 扰动图斑 {r.patch_code} {label}" + (f"（{r.project_name}）" if r.project_name else "")
            opened.append(_insert_case(
                conn, source_kind="finding", source_id=r.id, patch_fid=r.patch_fid, project_id=r.project_id,
                district=r.district_code, subject=r.builder, category=r.category, title=title, on=on,
                note=r.reason, evidence=[], by=by, at=at))
    return opened


def add_step(db: str | None, case_no: str, step: str, *, on: date, outcome: str | None = None,
             deadline: date | None = None, note: str = "", evidence: list[Path] = (), subject: str | None = None,
             category: str | None = None, actor: str | None = None, principal=None) -> CaseView:
    """Append one step to a case (see :mod:`shuibao.supervision.cases` for what is allowed when).

    With a ``principal``: verification and notes need the 'verify' permission, other steps 'write', both
    in the case's district; the step is audited (state before and after) in the same transaction.
    """
    try:
        st = Step(step)
    except ValueError:
        raise InputError(f"step {step!r}: expected one of {', '.join(s.value for s in Step if s != Step.open)}") from None
    if category is not None and category not in {v.value for v in VIOLATIONS}:
        raise InputError(f"category {category!r}: expected one of {', '.join(sorted(v.value for v in VIOLATIONS))}")
    if (category is not None or subject is not None) and not (st == Step.verify and outcome == "confirmed"):
        raise InputError("the responsible party and the category are set only by a confirming verification "
                         "(verify --outcome confirmed)")
    by, at = (principal.name if principal else who(actor)), now()
    rules = load_case_rules()
    try:
        with Store(db) as store, store.transaction() as conn:
            store.require_current(conn)
            view = _view(conn, case_no, on)
            if principal is not None:
                from .auth import require

                require(principal, "verify" if st in (Step.verify, Step.note) else "write",
                        district=view.header["district_code"])
            last = view.events[-1]
            files = _store_evidence(conn, list(evidence), at, by)
            try:
                tr = apply_step(State(view.state), st, on=on, last_on=last["on_date"], current_deadline=view.deadline,
                                rules=rules, outcome=outcome, deadline=deadline, note=note, evidence=len(files))
            except ValueError as exc:
                raise InputError(f"case {case_no}: {exc}") from None
            conn.execute(schema.case_events.insert().values(
                case_id=view.id, seq=last["seq"] + 1, step=st.value, state=tr.state.value, outcome=outcome, on_date=on,
                deadline=tr.deadline, subject=subject, category=category, note=note, evidence_json=dumps(files),
                recorded_at=at, recorded_by=by))
            if principal is not None:
                from .auth import audit

                audit(conn, principal, f"case.{st.value}", "case", case_no,
                      {"state": view.state, "deadline": view.deadline},
                      {"state": tr.state.value, "deadline": tr.deadline, "outcome": outcome, "note": note,
                       "evidence": files, "on": on})
    except StoreError as exc:
        if isinstance(exc.__cause__, IntegrityError):
            raise ConflictError(f"case {case_no}: someone else added a step at the same time; reload it and retry"
                                ) from exc
        raise
    return get_case(db, case_no, as_of=on)


def _views(conn: Connection, heads: list, as_of: date, *, until: date | None = None) -> list[CaseView]:
    """Cases with their timelines, read in three queries whatever their number.

    With ``until``, each case is as it stood at the end of that day (later steps left out; cases opened
    later are dropped), so a past year's figures do not change with what happened after it.
    """
    e, ev = schema.case_events, schema.evidence_files
    ids = [h.id for h in heads]
    events: dict[int, list[dict]] = {i: [] for i in ids}
    for k in range(0, len(ids), 500):
        for r in conn.execute(select(e).where(e.c.case_id.in_(ids[k:k + 500])).order_by(e.c.case_id, e.c.seq)):
            if until is None or r.on_date <= until:
                events[r.case_id].append(dict(r._mapping))
    cited = sorted({i for evs in events.values() for x in evs for i in json.loads(x["evidence_json"])})
    names = {}
    for k in range(0, len(cited), 500):
        for r in conn.execute(select(ev.c.id, ev.c.name, ev.c.sha256, ev.c.media_type, ev.c.size_bytes)
                              .where(ev.c.id.in_(cited[k:k + 500]))):
            names[r.id] = {"id": r.id, "name": r.name, "sha256": r.sha256, "media_type": r.media_type,
                           "size_bytes": r.size_bytes}
    views = []
    for head in heads:
        evs = events[head.id]
        if not evs:
            continue
        for x in evs:
            x["evidence"] = [names[i] for i in json.loads(x.pop("evidence_json"))]
            x["step_zh"] = STEP_ZH[Step(x["step"])]
        state = State(evs[-1]["state"])
        deadline = next((x["deadline"] for x in reversed(evs) if x["step"] != Step.note.value), None)
        subject = next((x["subject"] for x in reversed(evs) if x["subject"]), head.subject)
        category = next((x["category"] for x in reversed(evs) if x["category"]), head.category)
        confirmed = any(x["step"] == Step.verify.value and x["outcome"] == "confirmed" for x in evs)
        views.append(CaseView(head.case_no, head.id, dict(head._mapping), evs, state.value, STATE_ZH[state], deadline,
                              overdue_days(state, deadline, as_of), subject, category, confirmed))
    return views


def _view(conn: Connection, case_no: str, as_of: date) -> CaseView:
    c = schema.cases
    head = conn.execute(select(c).where(c.c.case_no == case_no)).first()
    if head is None:
        raise NotFoundError(f"case {case_no!r} does not exist")
    return _views(conn, [head], as_of)[0]


def get_case(db: str | None, case_no: str, *, as_of: date | None = None) -> CaseView:
    with Store(db) as store, store.reading() as conn:
        store.require_current(conn)
        return _view(conn, case_no, as_of or date.today())


def list_cases(db: str | None, *, state: str | None = None, district: str | None = None,
               overdue: bool = False, as_of: date | None = None) -> list[dict]:
    """One row per case with its current state, deadline and overdue days on ``as_of`` (default today)."""
    as_of = as_of or date.today()
    c = schema.cases
    with Store(db) as store, store.reading() as conn:
        store.require_current(conn)
        district = _district_code(conn, district) if district else None
        views = _views(conn, conn.execute(select(c).order_by(c.c.id)).all(), as_of)
    rows = []
    for v in views:
        if (state and v.state != state) or (district and v.header["district_code"] != district):
            continue
        if overdue and not v.overdue_days:
            continue
        rows.append({"case_no": v.case_no, "title": v.header["title"], "district_code": v.header["district_code"],
                     "subject": v.subject, "category": v.category,
                     "category_zh": case_category_label(v.category, v.confirmed), "state": v.state,
                     "state_zh": v.state_zh, "deadline": v.deadline, "overdue_days": v.overdue_days,
                     "opened_on": v.events[0]["on_date"], "steps": len(v.events)})
    return rows


def evidence_content(db: str | None, sha: str) -> tuple[str, str, bytes]:
    """(name, media type, bytes) of a stored evidence file."""
    t = schema.evidence_files
    with Store(db) as store, store.reading() as conn:
        row = conn.execute(select(t.c.name, t.c.media_type, t.c.content).where(t.c.sha256 == sha)).first()
    if row is None:
        raise InputError(f"no evidence file with SHA-256 {sha}")
    return row.name, row.media_type, bytes(row.content)


def save_evidence(db: str | None, sha: str, out: Path) -> tuple[str, str, int]:
    """Write a stored evidence file to ``out`` (atomically); its (name, media type, size)."""
    from ..io.atomic import atomic_path

    name, media, content = evidence_content(db, sha)
    with atomic_path(out) as tmp:
        tmp.write_bytes(content)
    return name, media, len(content)
