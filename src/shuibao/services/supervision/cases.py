"""The case ledger (台账): open cases, append steps with evidence, read timelines, find overdue ones.

Every step is a new ``case_events`` row in the same transaction as its
evidence files; ``(case_id, seq)`` is unique, so two people acting on one case
at once cannot both append step n — the second gets a clear error and retries
on the new state.  Evidence files are stored in the database by SHA-256 (one
copy however often they are cited), so a backup of the database is a backup
of the ledger.

Authority is decided here, from the stored records: a case's district comes
from its patch, else its project, else the district named when it is opened
(see :func:`open_case`); its provenance (``source_kind``/``source_id``) is set
by the code that opens it.  A mistaken step is repaired by a void (作废) or a
correction (更正) event, never by changing a row (:mod:`.case_corrections`).
Every write is audited: through the web as the logged-in principal, from the
command line as the operating-system user (role 命令行).
"""

from __future__ import annotations

import mimetypes
import secrets
from collections.abc import Sequence
from datetime import date
from typing import overload
from pathlib import Path

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from shuibao.errors import N_, ConflictError, InputError, NotFoundError, PermissionDeniedError, StoreError, Text
from shuibao.io.steps import sha256
from shuibao.store import Store
from shuibao.vocabulary import LabelText
from shuibao.store.repositories import case_ledger, patches as patch_records, projects as project_records
from shuibao.store.repositories.compliance import suspect_findings
from shuibao.supervision.cases import (
    CORRECTIONS,
    EARLIEST_DATE,
    State,
    Step,
    apply_step,
    check_date,
    load_case_rules,
)
from shuibao.supervision.model import CASE_CATEGORY_ZH, CATEGORY_ZH, VIOLATIONS, Category, case_category_label
from shuibao.services.supervision.case_views import CaseView, case_views
from shuibao.services.supervision.compliance import resolve_analysis
from shuibao.services.supervision.common import actor as who, district_lookup, dumps, now

MAX_EVIDENCE_BYTES = 64 * 1024 * 1024
# Evidence quota [D]: a site visit is documented by a handful of phone photos (3–8 MiB each) and a scanned
# notice; 20 files a step and 256 MiB a case (about fifty such photos over the case's life) leave room for that
# while keeping one case from growing the database — whose evidence can never be deleted — without bound.
MAX_EVIDENCE_FILES_PER_STEP = 20
MAX_CASE_EVIDENCE_BYTES = 256 * 1024 * 1024
# Text limits [D]: a title is one line (the generated finding titles are under 80 characters); a note is a few
# paragraphs — reports and minutes go in as evidence files.
MAX_TITLE_CHARS = 200
MAX_SUBJECT_CHARS = 200
MAX_NOTE_CHARS = 4000
CASE_SOURCES = ("finding", "inspection", "monitoring_report", "verification", "manual", "plan_recheck")
VIOLATION_VALUES = tuple(c.value for c in VIOLATIONS)
"""The categories a finding opens a case for by default."""


@overload
def check_text(value: str, what: str, limit: int, *, required: bool = False) -> str: ...
@overload
def check_text(value: str | None, what: str, limit: int, *, required: bool = False) -> str | None: ...
def check_text(value: str | None, what: str, limit: int, *, required: bool = False) -> str | None:
    """``value`` if it is acceptable text: no NUL, at most ``limit`` characters, not blank when required."""
    if value is None:
        return None
    if "\x00" in value:
        raise InputError(N_("{what}: contains a NUL character", what=what))
    if required and not value.strip():
        raise InputError(N_("{what}: empty (or only spaces)", what=what))
    if len(value) > limit:
        raise InputError(N_("{what}: {n_value} characters, at most {limit}", what=what, n_value=len(value), limit=limit))
    return value


def store_evidence(conn: Connection, files: list[Path], at, by: str, cited: dict[str, int] | None = None
                   ) -> list[int]:
    """Store the files (once per SHA-256) and return their ids; ``cited``: SHA-256 → size of the files the case
    already cites, for its quota (InputError past the limits of files a step, bytes a file, bytes a case)."""
    if len(files) > MAX_EVIDENCE_FILES_PER_STEP:
        raise InputError(N_("evidence: {n_files} files in one step, at most {MAX_EVIDENCE_FILES_PER_STEP}", n_files=len(files), MAX_EVIDENCE_FILES_PER_STEP=MAX_EVIDENCE_FILES_PER_STEP))
    checked = []
    for f in files:
        p = Path(f)
        if not p.is_file():
            raise InputError(N_("evidence {name}: file not found", name=p.name))
        size = p.stat().st_size
        if size > MAX_EVIDENCE_BYTES:
            raise InputError(N_("evidence {name}: {value1:.0f} MiB is more than "
                             "{value2} MiB", name=p.name, value1=size / 2**20, value2=MAX_EVIDENCE_BYTES // 2**20))
        checked.append((p, sha256(p), size))
    total = dict(cited or {})
    for _p, digest, size in checked:
        total[digest] = size
    if sum(total.values()) > MAX_CASE_EVIDENCE_BYTES:
        raise InputError(N_("evidence: the case would cite {value1:.0f} MiB of files, at most "
                         "{value2} MiB a case (cite fewer or smaller files)", value1=sum(total.values()) / 2**20, value2=MAX_CASE_EVIDENCE_BYTES // 2**20))
    ids = []
    for p, digest, size in checked:
        fid = case_ledger.evidence_id(conn, digest)
        if fid is None:
            fid = case_ledger.insert_evidence(
                conn, sha256=digest, name=p.name,
                media_type=mimetypes.guess_type(p.name)[0] or "application/octet-stream",
                size_bytes=size, content=p.read_bytes(), recorded_at=at, recorded_by=by)
        ids.append(int(fid))
    return ids


def cited_evidence(view: "CaseView") -> dict[str, int]:
    """SHA-256 → size of every file a case's events cite (voided ones too: they stay stored)."""
    return {f["sha256"]: f["size_bytes"] for x in view.events for f in x["evidence"]}


def audit_write(conn: Connection, principal, actor: str | None, action: str, case_no: str, before, after) -> None:
    """The audit row of a case write: as the web principal, or — from the command line — as the
    operating-system user with the role 命令行 (no permission check is made for the command line)."""
    from shuibao.services.platform.auth import audit, command_line_principal

    audit(conn, principal or command_line_principal(actor), action, "case", case_no, before, after)


def require_on_case(principal, permission: str, case_no: str, district: str | None) -> None:
    """``auth.require`` for a write on a case; a case without a district (stored before districts were
    derived, or a finding outside every district) is acted on by city administrators only."""
    if principal is None:
        return
    from shuibao.services.platform.auth import require

    if district is None and principal.role != "city_admin":
        raise PermissionDeniedError(N_("{name} ({role}) may not act on case {case_no}: it has no district, so only "
                                       "city administrators may act on it", name=principal.name,
                                       role=LabelText("role", principal.role), case_no=case_no))
    require(principal, permission, district=district)


def insert_case(conn: Connection, *, source_kind: str, source_id: int | None, patch_fid: int | None,
                project_id: int | None, district: str | None, subject: str | None, category: str, title: str,
                on: date, note: str, evidence: list[int], by: str, at) -> str:
    """Store a new case and its opening event (no permission check, no audit: the caller does both); its number
    ``SB{year}-{id:05d}``.  InputError for an unknown source kind or category."""
    if source_kind not in CASE_SOURCES:
        raise InputError(N_("case source {source_kind!r}: expected one of {CASE_SOURCES}", source_kind=source_kind, CASE_SOURCES=', '.join(CASE_SOURCES)))
    if category not in CASE_CATEGORY_ZH:
        raise InputError(N_("case category {category!r}: expected one of {CASE_CATEGORY_ZH}", category=category, CASE_CATEGORY_ZH=', '.join(CASE_CATEGORY_ZH)))
    rules = load_case_rules()
    try:
        first_deadline = rules.deadline(State.open, on)
    except ValueError as exc:
        raise InputError(N_("case {title!r}: {exc}", title=title, exc=exc)) from None
    cid = case_ledger.insert_case(
        conn, case_no=f"pending-{secrets.token_hex(8)}", source_kind=source_kind, source_id=source_id,
        patch_fid=patch_fid, project_id=project_id, district_code=district, subject=subject, category=category,
        title=title, opened_at=at, opened_by=by)
    # numbered by the row id, which the database hands out: two people opening cases at once get distinct numbers
    case_no = f"SB{on.year}-{cid:05d}"
    case_ledger.set_case_no(conn, cid, case_no)
    case_ledger.append_event(
        conn, case_id=cid, seq=1, step=Step.open.value, state=State.open.value, outcome=None, on_date=on,
        deadline=first_deadline, subject=subject, category=category, note=note,
        evidence_json=dumps(evidence), recorded_at=at, recorded_by=by)
    return case_no


def _district_code(conn: Connection, district: str) -> str:
    code = district_lookup(conn).get(district)
    if code is None:
        raise InputError(N_("district {district!r} is not known (use the names or codes of `shuibao plan districts`)", district=district))
    return code


def _case_district(patch, project, named: str | None, principal) -> str:
    """The district of a new case, derived from its records (see :func:`open_case`)."""
    if patch is not None and patch.district_code:
        where = f"patch {patch.fid} ({patch.patch_code}) lies in district {patch.district_code}"
        if project is not None and patch.district_code not in _codes(project):
            raise InputError(N_("{where}, but project {code} covers {codes}; "
                             "name the patch or the project the case is about", where=where, code=project.code, codes=', '.join(_codes(project))))
        if named is not None and named != patch.district_code:
            raise InputError(N_("{where}; the request names district {named} (leave the district out: it is "
                             "taken from the patch)", where=where, named=named))
        return patch.district_code
    if project is not None:
        codes = _codes(project)
        if named is not None:
            if named not in codes:
                raise InputError(N_("project {code} covers district(s) {codes}; the request "
                                 "names district {named}", code=project.code, codes=', '.join(codes), named=named))
            return named
        own = principal.district_code if principal is not None else None
        return own if own in codes else codes[0]
    if named is None:
        raise InputError(N_("a case needs a district: name its patch (patch_fid), its project or its district"))
    return named


def _codes(project) -> list[str]:
    return [c.strip() for c in project.district_codes.split(",") if c.strip()]


def open_case(db: str | None, *, title: str, category: str, on: date, source_kind: str = "manual",
              source_id: int | None = None, project_code: str | None = None, patch_fid: int | None = None,
              district: str | None = None, subject: str | None = None, note: str = "",
              evidence: Sequence[Path] = (), actor: str | None = None, principal=None) -> str:
    """Open one case by hand (or from an inspection, report or verification); returns its number.

    The district is derived, never taken on trust: a patch's district wins (a named project must cover it);
    else the project's — a named district must be one of a multi-district project's, by default the
    caller's own if the project covers it, else the project's first; else the named district, which is then
    required.  A named district that disagrees is refused.  The opening date lies between 2000-01-01 (and
    the patch's image date) and tomorrow.  With a ``principal`` (the web platform) the role must allow
    writing in that district and the source is ``manual``; the opening is audited in the same transaction
    (from the command line as the operating-system user).
    """
    title = check_text(title, "title", MAX_TITLE_CHARS, required=True).strip()
    note = check_text(note, "note", MAX_NOTE_CHARS)
    subject = check_text(subject, "subject", MAX_SUBJECT_CHARS)
    if source_kind == "finding":
        raise InputError(N_("case source 'finding' is set only by `supervise cases open-from-findings` (a finding "
                         "case names its finding)"))
    if principal is not None and (source_kind != "manual" or source_id is not None):
        raise InputError(N_("a case opened through the web platform is 'manual'; its source is set by the server"))
    by, at = (principal.name if principal else who(actor)), now()
    with Store(db) as store, store.transaction() as conn:
        store.require_current(conn)
        named = _district_code(conn, district) if district is not None else None
        patch = project = None
        if patch_fid is not None:
            if not 0 < patch_fid < 2**63:  # beyond a 64-bit row id no patch exists (and the database refuses it)
                raise InputError(N_("patch {patch_fid} does not exist", patch_fid=patch_fid))
            patch = patch_records.patch_header(conn, patch_fid)
            if patch is None:
                raise InputError(N_("patch {patch_fid} does not exist", patch_fid=patch_fid))
        if project_code:
            project = project_records.project_case_header(conn, project_code)
            if project is None:
                raise InputError(N_("project {project_code!r} is not known", project_code=project_code))
            subject = subject or project.builder
        code = _case_district(patch, project, named, principal)
        floor: date = EARLIEST_DATE
        why: Text | str = ""
        if patch is not None and patch.image_date > floor:
            floor, why = patch.image_date, N_("the image date of patch {patch} ({period})", patch=patch.patch_code,
                                              period=patch.period)
        check_date(on, date.today(), what=N_("the opening date"), not_before=floor, floor_reason=why)
        require_on_case(principal, "write", "(new)", code)
        case_no = insert_case(conn, source_kind=source_kind, source_id=source_id, patch_fid=patch_fid,
                              project_id=project.id if project else None, district=code, subject=subject,
                              category=category, title=title, on=on, note=note,
                              evidence=store_evidence(conn, list(evidence), at, by), by=by, at=at)
        audit_write(conn, principal, actor, "case.open", case_no, None,
                    {"title": title, "category": category, "district": code, "on": on, "note": note,
                     "source": source_kind, "patch_fid": patch_fid, "project": project_code})
        return case_no


def open_cases_from_findings(db: str | None, *, analysis: int | None = None, period: str | None = None,
                             categories: tuple[str, ...] = VIOLATION_VALUES,
                             on: date | None = None, actor: str | None = None) -> list[str]:
    """A case for each suspect finding of an analysis whose patch has no case yet; returns the new numbers.

    Each case's district is its patch's, else its project's first; a patch outside every district with no
    project gives a case without a district, which only city administrators may act on (the finding is not
    dropped).  Each opening is audited as its own row, like a web opening, so a case's audit trail starts
    with its opening whoever opened it.
    """
    bad = [c for c in categories if c not in {v.value for v in VIOLATIONS}]
    if bad:
        raise InputError(N_("categories {bad}: cases are opened for {value1}", bad=bad, value1=', '.join(sorted(v.value for v in VIOLATIONS))))
    by, at = who(actor), now()
    on = on or date.today()
    check_date(on, date.today(), what="--on")
    opened = []
    with Store(db) as store, store.transaction() as conn:
        store.require_current(conn)
        rid = resolve_analysis(conn, analysis, period)
        known = case_ledger.patches_with_cases(conn)
        for r in suspect_findings(conn, rid, categories):
            if r.patch_fid in known:
                continue
            if on < r.image_date:
                raise InputError(N_("--on {on} is before the image date {image_date} of patch {patch_code} "
                                 "({period}); a case cannot be opened before its patch was seen", on=on, image_date=r.image_date, patch_code=r.patch_code, period=r.period))
            district = r.district_code or (r.district_codes.split(",")[0].strip() if r.district_codes else None)
            label = CATEGORY_ZH[Category(r.category)]
            title = f"{r.period} 扰动图斑 {r.patch_code} {label}" + (f"（{r.project_name}）" if r.project_name else "")
            no = insert_case(
                conn, source_kind="finding", source_id=r.id, patch_fid=r.patch_fid, project_id=r.project_id,
                district=district, subject=r.builder, category=r.category, title=title, on=on,
                note=r.reason, evidence=[], by=by, at=at)
            audit_write(conn, None, actor, "case.open", no, None,
                        {"title": title, "category": r.category, "district": district, "on": on,
                         "source": "finding", "finding": r.id, "patch_fid": r.patch_fid})
            opened.append(no)
    return opened


def add_step(db: str | None, case_no: str, step: str, *, on: date, outcome: str | None = None,
             deadline: date | None = None, note: str = "", evidence: Sequence[Path] = (), subject: str | None = None,
             category: str | None = None, actor: str | None = None, principal=None) -> CaseView:
    """Append one step to a case (see :mod:`shuibao.supervision.cases` for what is allowed when).

    With a ``principal``: verification and notes need the 'verify' permission, other steps 'write', both
    in the case's district (a case without one: city administrators only).  The date lies between the
    case's last counting event and tomorrow.  The step is audited (state before and after) in the same
    transaction, from the command line as the operating-system user.
    """
    try:
        st = Step(step)
    except ValueError:
        allowed = ", ".join(s.value for s in Step if s != Step.open and s not in CORRECTIONS)
        raise InputError(N_("step {step!r}: expected one of {allowed}", step=step, allowed=allowed)) from None
    if st in CORRECTIONS:
        raise InputError(N_("{value} names the step it corrects: use `cases {value}` (the web: "
                         "POST /api/cases/{{case}}/steps/{{seq}}/{value})", value=st.value))
    if category is not None and category not in {v.value for v in VIOLATIONS}:
        raise InputError(N_("category {category!r}: expected one of {value1}", category=category, value1=', '.join(sorted(v.value for v in VIOLATIONS))))
    if (category is not None or subject is not None) and not (st == Step.verify and outcome == "confirmed"):
        raise InputError(N_("the responsible party and the category are set only by a confirming verification "
                         "(verify --outcome confirmed)"))
    note = check_text(note, "note", MAX_NOTE_CHARS)
    subject = check_text(subject, "subject", MAX_SUBJECT_CHARS)
    by, at = (principal.name if principal else who(actor)), now()
    rules = load_case_rules()
    try:
        with Store(db) as store, store.transaction() as conn:
            store.require_current(conn)
            view = case_view(conn, case_no, on)
            require_on_case(principal, "verify" if st in (Step.verify, Step.note) else "write", case_no,
                            view.header["district_code"])
            files = store_evidence(conn, list(evidence), at, by, cited_evidence(view))
            tr = transition(case_no, view, st, on=on, rules=rules, outcome=outcome, deadline=deadline, note=note,
                            evidence=len(files))
            case_ledger.append_event(
                conn, case_id=view.id, seq=next_seq(view), step=st.value, state=tr.state.value, outcome=outcome,
                on_date=on, deadline=tr.deadline, subject=subject, category=category, note=note,
                evidence_json=dumps(files), recorded_at=at, recorded_by=by)
            audit_write(conn, principal, actor, f"case.{st.value}", case_no,
                        {"state": view.state, "deadline": view.deadline},
                        {"state": tr.state.value, "deadline": tr.deadline, "outcome": outcome, "note": note,
                         "evidence": files, "on": on})
    except StoreError as exc:
        raise conflict_error(case_no, exc) from exc
    return get_case(db, case_no, as_of=on)


def transition(case_no: str, view: CaseView, st: Step, *, on: date, rules, outcome, deadline, note, evidence):
    """The state machine's answer for a step on ``view`` (its counting events), as an InputError."""
    last = view.effective[-1]
    try:
        return apply_step(State(view.state), st, on=on, last_on=last["on_date"], current_deadline=view.deadline,
                          rules=rules, outcome=outcome, deadline=deadline, note=note, evidence=evidence,
                          today=date.today())
    except ValueError as exc:
        raise InputError(N_("case {case_no}: {exc}", case_no=case_no, exc=exc)) from None


def next_seq(view: CaseView) -> int:
    """The sequence number the next event of the case takes."""
    return max(x["seq"] for x in view.events) + 1


def conflict_error(case_no: str, exc: StoreError) -> StoreError:
    """A failed case write as the caller should see it: a ConflictError when someone else appended the same step
    number at once (the unique ``(case_id, seq)``), else ``exc`` itself."""
    if isinstance(exc.__cause__, IntegrityError):
        return ConflictError(N_("case {case_no}: someone else added a step at the same time; reload it and retry", case_no=case_no))
    return exc


def case_view(conn: Connection, case_no: str, as_of: date) -> CaseView:
    """One case with its timeline as of ``as_of``; NotFoundError when the number is not known."""
    head = case_ledger.case_head(conn, case_no)
    if head is None:
        raise NotFoundError(N_("case {case_no!r} does not exist", case_no=case_no))
    return case_views(conn, [head], as_of)[0]


def get_case(db: str | None, case_no: str, *, as_of: date | None = None) -> CaseView:
    with Store(db) as store, store.reading() as conn:
        store.require_current(conn)
        return case_view(conn, case_no, as_of or date.today())


def list_cases(db: str | None, *, state: str | None = None, district: str | None = None,
               overdue: bool = False, as_of: date | None = None) -> list[dict]:
    """One row per case with its current state, deadline and overdue days on ``as_of`` (default today)."""
    as_of = as_of or date.today()
    with Store(db) as store, store.reading() as conn:
        store.require_current(conn)
        district = _district_code(conn, district) if district else None
        views = case_views(conn, case_ledger.case_heads(conn), as_of)
    rows = []
    for v in views:
        if (state and v.state != state) or (district and v.header["district_code"] != district):
            continue
        if overdue and not v.overdue_days:
            continue
        rows.append({"case_no": v.case_no, "title": v.header["title"], "district_code": v.header["district_code"],
                     "subject": v.subject, "category": v.category, "confirmed": v.confirmed,
                     "category_zh": case_category_label(v.category, v.confirmed), "state": v.state,
                     "state_zh": v.state_zh, "deadline": v.deadline, "overdue_days": v.overdue_days,
                     "opened_on": v.events[0]["on_date"], "steps": len(v.events)})
    return rows


def evidence_content(db: str | None, sha: str) -> tuple[str, str, bytes]:
    """(name, media type, bytes) of a stored evidence file."""
    with Store(db) as store, store.reading() as conn:
        row = case_ledger.evidence_file(conn, sha)
    if row is None:
        raise NotFoundError(N_("no evidence file with SHA-256 {sha}", sha=sha))
    return row.name, row.media_type, bytes(row.content)


def save_evidence(db: str | None, sha: str, out: Path) -> tuple[str, str, int]:
    """Write a stored evidence file to ``out`` (atomically); its (name, media type, size)."""
    from shuibao.io.atomic import atomic_path

    name, media, content = evidence_content(db, sha)
    with atomic_path(out) as tmp:
        tmp.write_bytes(content)
    return name, media, len(content)
