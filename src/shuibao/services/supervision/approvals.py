"""方案审批 (plan applications) from registration to decision: register, intake, technical review, decision,
filing, re-check; zone evaluations (区域评价) and consultations (征求意见).

Every step runs in one transaction that appends an ``application_events`` row (who, when, why), moves the
application along the state machine of :mod:`shuibao.supervision.approvals` and writes its audit row; a
refused step stores nothing.  Authority is decided here from the record: an application's district is derived
from its polygon by the district boundaries (never taken from the caller); a district officer acts on the
applications of their district, a city administrator on all; from the command line the write is audited as
the operating-system user (role 命令行).

A decision (批复), a 承诺制 intake and a filing (备案) make the approved responsibility area the project's
current area version (``responsibility_areas``), creating the project on first approval, so the compliance
analysis uses it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import shapely
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from shuibao.errors import N_, ConflictError, InputError, Issue, NotFoundError, PermissionDeniedError, raise_issues
from shuibao.store import Store, schema
from shuibao.store.repositories import approvals as records, projects as project_records
from shuibao.store.repositories.district_codes import district_lookup
from shuibao.supervision import approvals as rules_mod
from shuibao.supervision.approvals import TERMINAL, ApprovalRules, ClassTable, Path_, State, Step, clock, next_state, valid_steps
from shuibao.supervision.credit_code import credit_code_problem, normalise_credit_code
from shuibao.supervision.workdays import CalendarError, load_holidays
from shuibao.services.supervision.common import actor as who, dumps, now, to_metres

ROLES = ("builder", "compiler", "designer", "constructor", "supervisor", "monitor")
"""Market subjects of an application (建设单位, 方案编制单位, 设计, 施工, 监理, 监测单位)."""
REVIEWER_KINDS = ("third_party", "expert_panel")
MAX_TEXT = 4000
MAX_NAME = 200


@dataclass(frozen=True)
class Unit:
    """One market subject of an application: its role, name and (when known) unified social credit code."""

    role: str
    name: str
    credit_code: str | None = None


# --------------------------------------------------------------------------------------------- input checks
def _text(value: str | None, field: str, limit: int, issues: list, *, required: bool = False) -> str:
    value = (value or "").strip()
    if "\x00" in value:
        issues.append(Issue(field, "", N_("contains a NUL character")))
    elif required and not value:
        issues.append(Issue(field, "", N_("required")))
    elif len(value) > limit:
        issues.append(Issue(field, "", N_("{n} characters, at most {limit}", n=len(value), limit=limit)))
    return value


def _number(value, field: str, issues: list) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        issues.append(Issue(field, "", N_("expected a number, found {value!r}", value=value)))
        return 0.0
    if not x >= 0 or x == float("inf"):
        issues.append(Issue(field, "", N_("expected a non-negative number, found {value!r}", value=value)))
    return x


def check_units(units: Sequence[Unit], issues: list, *, builder_required: bool = True) -> list[Unit]:
    """The units with their credit codes normalised; a problem per bad role, name or code (field named)."""
    out = []
    for i, u in enumerate(units, start=1):
        field = f"units[{i}]"
        if u.role not in ROLES:
            issues.append(Issue(f"{field}.role", "", N_("{role!r}: expected one of {roles}", role=u.role,
                                                         roles=", ".join(ROLES))))
        name = _text(u.name, f"{field}.name", MAX_NAME, issues, required=True)
        code = normalise_credit_code(u.credit_code) if u.credit_code else None
        if code:
            problem = credit_code_problem(code)
            if problem is not None:
                issues.append(Issue(f"{field}.credit_code", "", problem))
        out.append(Unit(u.role, name, code or None))
    if builder_required and not any(u.role == "builder" for u in out):
        issues.append(Issue("units", "", N_("the builder (建设单位, role builder) is required")))
    return out


def read_polygon(path: Path, field: str = "polygon"):
    """The one polygon of a vector file (GeoJSON, GeoPackage, zipped shapefile) in EPSG:4490."""
    from pyproj import CRS, Transformer

    from shuibao.io.features import read_features
    from shuibao.supervision.imports import FeatureReport, check_geometry

    layer = read_features(path, field)
    geoms = [g for g in layer.geoms if g is not None]
    if len(geoms) != 1:
        raise InputError(N_("{field}: {path} holds {n} polygons, expected one (merge them into one MultiPolygon)",
                            field=field, path=path.name, n=len(geoms)))
    if not layer.crs:
        raise InputError(N_("{field}: {path} has no CRS", field=field, path=path.name))
    transformer = None if CRS.from_user_input(layer.crs).equals(CRS.from_epsg(4490)) else Transformer.from_crs(
        layer.crs, "EPSG:4490", always_xy=True)
    rep = FeatureReport(1, path.name)
    g = check_geometry(geoms[0], layer.crs, transformer, rep)
    if g is None:
        raise InputError(N_("{field}: {problems}", field=field, problems="; ".join(map(str, rep.messages))))
    return g


def _multipolygon(geom, field: str):
    """``geom`` (shapely, EPSG:4490) as a valid MultiPolygon; InputError naming ``field``."""
    if geom is None or getattr(geom, "is_empty", True):
        raise InputError(N_("{field}: required (the responsibility-area polygon, EPSG:4490)", field=field))
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        raise InputError(N_("{field}: a {kind}, expected a polygon", field=field, kind=geom.geom_type))
    if not geom.is_valid:
        raise InputError(N_("{field}: not a valid polygon ({reason})", field=field,
                            reason=shapely.is_valid_reason(geom)))
    return geom if geom.geom_type == "MultiPolygon" else shapely.MultiPolygon([geom])


def locate(conn: Connection, geom, rules: ApprovalRules, field: str = "polygon") -> tuple[str, float]:
    """(district code, area m²) of a polygon; InputError when it lies (beyond the tolerance) outside Chongqing
    by the district polygons, or when the boundaries are not loaded."""
    from shuibao.store.repositories.district_codes import majority_districts
    from shuibao.store.repositories.reference import boundary_geoms

    bounds = list(boundary_geoms(conn))
    if not bounds:
        raise InputError(N_("{field}: the district boundaries are not loaded (run `shuibao db init`), so the "
                            "district cannot be derived", field=field))
    metres = to_metres([geom])[0]
    area = float(shapely.area(metres))
    if area <= 0:
        raise InputError(N_("{field}: the polygon has no area", field=field))
    inside = float(shapely.area(to_metres([shapely.intersection(geom, shapely.union_all(bounds))])[0]))
    outside = 1 - inside / area
    if outside > float(rules.outside_share):
        raise InputError(N_("{field}: {share:.1%} of the polygon lies outside Chongqing (by the district polygons; at "
                            "most {limit:.1%} allowed)", field=field, share=outside, limit=float(rules.outside_share)))
    district = majority_districts(conn, [geom])[0]
    if district is None:
        raise InputError(N_("{field}: the polygon lies outside every district", field=field))
    return district, area


def _zone_for(conn: Connection, geom, on: date, rules: ApprovalRules):
    """The zone evaluation in force on ``on`` that holds the polygon (all but the outside tolerance), or None."""
    metres = float(shapely.area(to_metres([geom])[0]))
    for z in records.zones(conn):
        if z.valid_from <= on < z.valid_to and shapely.intersects(z.geom, geom):
            shared = float(shapely.area(to_metres([shapely.intersection(z.geom, geom)])[0]))
            if 1 - shared / metres <= float(rules.outside_share):
                return z
    return None


def _authorise(principal, district: str | None) -> None:
    if principal is not None:
        from shuibao.services.platform.auth import require

        require(principal, "write", district=district)


def _audit_application(conn: Connection, principal, actor: str | None, action: str, application_no: str, before, after) -> None:
    from shuibao.services.platform.auth import audit, writer

    audit(conn, writer(principal, actor), action, "application", application_no, before, after)


def _on(on: date | None, field: str = "on") -> date:
    on = on or date.today()
    if on > date.today() + timedelta(days=1):
        raise InputError(N_("{field}: {on} is in the future", field=field, on=on))
    if on < date(2000, 1, 1):
        raise InputError(N_("{field}: {on} is before 2000-01-01", field=field, on=on))
    return on


def _document(conn: Connection, path: Path | None, at, by: str, field: str = "document") -> int | None:
    """A plan, opinion or revision document stored once by SHA-256 (like evidence files); its id."""
    if path is None:
        return None
    from shuibao.services.supervision.cases import store_evidence

    if not Path(path).is_file():
        raise InputError(N_("{field}: {path} not found", field=field, path=path))
    return store_evidence(conn, [Path(path)], at, by)[0]


# --------------------------------------------------------------------------------------------- steps
def _load(conn: Connection, application_no: str):
    app = records.application(conn, application_no)
    if app is None:
        raise NotFoundError(N_("application {no!r} is not known", no=application_no))
    return app


def _append(conn: Connection, app, step: Step, *, outcome: str | None, on: date, note: str, detail: dict, by: str,
            at, principal, actor: str | None, field: str = "on") -> State:
    """The step's event, the header's new state and the audit row; InputError if the step is out of order or
    dated before the previous step."""
    _authorise(principal, app.district_code)
    after = next_state(app.path, app.state, step, outcome)
    seq = records.last_seq(conn, app.id)
    previous = records.events(conn, [app.id])[app.id]
    if previous and on < previous[-1]["on_date"]:
        raise InputError(N_("{field}: {on} is before the previous step ({step}, {before})", field=field, on=on,
                            step=previous[-1]["step"], before=previous[-1]["on_date"]))
    try:
        with conn.begin_nested():
            records.insert(conn, schema.application_events, application_id=app.id, seq=seq + 1, step=step.value,
                           state=after.value, outcome=outcome, on_date=on, note=note, detail_json=dumps(detail),
                           recorded_at=at, recorded_by=by)
    except IntegrityError:
        raise ConflictError(N_("application {no}: another step was recorded at the same time; reload and retry",
                               no=app.application_no)) from None
    records.set_header(conn, app.id, state=after.value)
    _audit_application(conn, principal, actor, f"application.{step.value}", app.application_no, {"state": app.state},
           {"state": after.value, "outcome": outcome, "on": on, "note": note, **detail})
    return after


def register_application(db: str | None, *, project_code: str, name: str, industry: str, applicant: str,
                         land_take_hm2: float, earthwork_m3: float, polygon, units: Sequence[Unit],
                         document: Path | None = None, on: date | None = None, note: str = "",
                         actor: str | None = None, principal=None, classes: Path | None = None,
                         rules: Path | None = None) -> dict:
    """Register a plan application (报批); returns :func:`show_application`'s view.

    The plan class follows from land take and earthwork (``plan_classes.toml``), the path from the class and
    whether a zone evaluation in force holds the polygon (``approvals.toml``), the district from the polygon.
    Refused, with the field named and nothing stored: no polygon or one outside Chongqing, a land take that
    disagrees with the polygon's area beyond the tolerance, a bad credit code, a known project code.
    """
    table: ClassTable = rules_mod.load_classes(classes)
    rule_set: ApprovalRules = rules_mod.load_rules(rules)
    issues: list = []
    project_code = _text(project_code, "project_code", MAX_NAME, issues, required=True)
    name = _text(name, "name", MAX_NAME, issues, required=True)
    industry = _text(industry, "industry", MAX_NAME, issues, required=True)
    applicant = _text(applicant, "applicant", MAX_NAME, issues, required=True)
    note = _text(note, "note", MAX_TEXT, issues)
    land = _number(land_take_hm2, "land_take_hm2", issues)
    earth = _number(earthwork_m3, "earthwork_m3", issues)
    checked_units = check_units(units, issues)
    on = _on(on)
    raise_issues(issues, N_("application {code}: nothing was registered", code=project_code or "?"))
    geom = _multipolygon(polygon, "polygon")
    plan_class = table.classify(land, earth)
    by, at = _recorder(actor, principal), now()
    with Store(db) as store, store.transaction() as conn:
        store.require_current(conn)
        district, area_m2 = locate(conn, geom, rule_set)
        polygon_hm2 = area_m2 / 1e4
        if abs(polygon_hm2 - land) > float(rule_set.land_take_tolerance) * max(land, 1e-9):
            raise InputError(N_("land_take_hm2: {land:g} hm² differs from the polygon's {polygon:.2f} hm² by more than "
                                "{tolerance:.0%} (tolerances.land_take_relative)", land=land, polygon=polygon_hm2,
                                tolerance=float(rule_set.land_take_tolerance)))
        _authorise(principal, district)
        if records.application_by_code(conn, project_code) is not None:
            raise InputError(N_("project_code: {code!r} already has an application", code=project_code))
        zone = _zone_for(conn, geom, on, rule_set)
        path = rule_set.path_for(plan_class, zone is not None)
        number = records.next_number(conn, on.year)
        doc = _document(conn, document, at, by)
        try:
            with conn.begin_nested():
                app_id = records.insert(
                    conn, schema.applications, application_no=number, project_code=project_code, name=name,
                    industry=industry, applicant=applicant, district_code=district, plan_class=plan_class.value,
                    path=path.value, land_take_hm2=land, earthwork_m3=earth, polygon_area_m2=area_m2,
                    zone_evaluation_id=zone.id if zone else None, document_id=doc, classes_version=table.version,
                    rules_version=rule_set.version, state=State.registered.value, recorded_at=at, recorded_by=by,
                    geom=geom)
        except IntegrityError:
            raise ConflictError(N_("application {no}: registered at the same time by someone else; retry", no=number)) from None
        for u in checked_units:
            records.insert(conn, schema.application_units, application_id=app_id, role=u.role, name=u.name,
                           credit_code=u.credit_code, recorded_at=at, recorded_by=by)
        detail = {"plan_class": plan_class.value, "path": path.value, "district": district,
                  "land_take_hm2": land, "earthwork_m3": earth, "polygon_area_m2": round(area_m2, 1),
                  "zone": zone.code if zone else None, "units": [u.__dict__ for u in checked_units]}
        records.insert(conn, schema.application_events, application_id=app_id, seq=1, step=Step.register.value,
                       state=State.registered.value, outcome=None, on_date=on, note=note, detail_json=dumps(detail),
                       recorded_at=at, recorded_by=by)
        _audit_application(conn, principal, actor, "application.register", number, None, detail)
        return _view(conn, records.application(conn, number), on)


def credit_history(conn: Connection, application_id: int, as_of: date) -> list[dict]:
    """事先告知: each unit's open cases, watch-list and blacklist entries in force, by name and credit code (the
    credit lists name subjects as the cases do: by name, or by credit code where one was recorded)."""
    out = []
    for u in records.rows_of(conn, schema.application_units, application_id):
        subjects = [s for s in (u["name"], u["credit_code"]) if s]
        entries = records.credit_entries_of(conn, subjects, as_of)
        out.append({"role": u["role"], "name": u["name"], "credit_code": u["credit_code"],
                    "open_cases": [c["case_no"] for c in records.open_cases_of(conn, subjects)],
                    "watch_list": [e["rule_id"] for e in entries if e["list_kind"] == "watch_list"],
                    "blacklist": [e["rule_id"] for e in entries if e["list_kind"] == "blacklist"]})
    return out


def preview_credit(db: str | None, application_no: str, *, as_of: date | None = None, principal=None) -> list[dict]:
    """The credit history the officer sees before intake (nothing stored)."""
    with Store(db) as store, store.reading() as conn:
        store.require_current(conn)
        app = _load(conn, application_no)
        _may_read(principal, app.district_code)
        return credit_history(conn, app.id, as_of or date.today())


def _recorder(actor: str | None, principal) -> str:
    """Who records a step: the web caller, else the command line's user."""
    return who(actor) if principal is None else principal.name


def intake(db: str | None, application_no: str, *, on: date | None = None, note: str = "",
           decision_no: str | None = None, conditions: str = "", authority: str | None = None,
           actor: str | None = None, principal=None) -> dict:
    """受理, with the units' credit history recorded in the step (事先告知).  On the 承诺制 path the plan is
    approved at intake (即时办结): ``decision_no`` is then required and the project gets its area."""
    issues: list = []
    note = _text(note, "note", MAX_TEXT, issues)
    conditions = _text(conditions, "conditions", MAX_TEXT, issues)
    raise_issues(issues, N_("application {no}: intake not recorded", no=application_no))
    on = _on(on)
    by, at = _recorder(actor, principal), now()
    with Store(db) as store, store.transaction() as conn:
        store.require_current(conn)
        app = _load(conn, application_no)
        credit = credit_history(conn, app.id, on)
        flagged = [c for c in credit if c["open_cases"] or c["watch_list"] or c["blacklist"]]
        detail: dict = {"credit": credit, "credit_flagged": len(flagged)}
        if app.path == Path_.commitment and app.state == State.registered:
            decision_no = _text(decision_no, "decision_no", MAX_NAME, issues, required=True)
            raise_issues(issues, N_("application {no}: a 承诺制 intake is its decision", no=application_no))
            detail["decision_no"] = decision_no
        elif decision_no:
            raise InputError(N_("decision_no: only a 承诺制 (commitment) intake is decided at intake"))
        _append(conn, app, Step.intake, outcome=None, on=on, note=note, detail=detail, by=by, at=at,
                principal=principal, actor=actor)
        if app.path == Path_.commitment:
            _approve(conn, app, "commitment", decision_no or "", on, conditions, authority, None, by, at)
        return _view(conn, records.application(conn, application_no), on)


def add_unit(db: str | None, application_no: str, unit: Unit, *, actor: str | None = None, principal=None) -> dict:
    """Add a later unit (设计/施工/监理/监测单位) to an application (append-only, audited)."""
    issues: list = []
    (checked,) = check_units([unit], issues, builder_required=False)
    raise_issues(issues, N_("application {no}: unit not added", no=application_no))
    by, at = _recorder(actor, principal), now()
    with Store(db) as store, store.transaction() as conn:
        store.require_current(conn)
        app = _load(conn, application_no)
        _authorise(principal, app.district_code)
        records.insert(conn, schema.application_units, application_id=app.id, role=checked.role, name=checked.name,
                       credit_code=checked.credit_code, recorded_at=at, recorded_by=by)
        _audit_application(conn, principal, actor, "application.unit", application_no, None, checked.__dict__)
        return _view(conn, app, date.today())


def assign_review(db: str | None, application_no: str, *, organisation: str, reviewer_kind: str = "third_party",
                  on: date | None = None, note: str = "", actor: str | None = None, principal=None) -> dict:
    """委托技术评审: to a review organisation (third party) or an expert panel; the review clock starts."""
    issues: list = []
    organisation = _text(organisation, "organisation", MAX_NAME, issues, required=True)
    note = _text(note, "note", MAX_TEXT, issues)
    if reviewer_kind not in REVIEWER_KINDS:
        issues.append(Issue("reviewer_kind", "", N_("{value!r}: expected one of {kinds}", value=reviewer_kind,
                                                     kinds=", ".join(REVIEWER_KINDS))))
    raise_issues(issues, N_("application {no}: review not assigned", no=application_no))
    on = _on(on)
    by, at = _recorder(actor, principal), now()
    with Store(db) as store, store.transaction() as conn:
        store.require_current(conn)
        app = _load(conn, application_no)
        _append(conn, app, Step.assign_review, outcome=None, on=on, note=note,
                detail={"organisation": organisation, "reviewer_kind": reviewer_kind}, by=by, at=at,
                principal=principal, actor=actor)
        records.insert(conn, schema.review_assignments, application_id=app.id, organisation=organisation,
                       reviewer_kind=reviewer_kind, assigned_on=on, recorded_at=at, recorded_by=by)
        return _view(conn, records.application(conn, application_no), on)


def _review_step(db, application_no: str, step: Step, kind: str, *, outcome: str | None, conditions: str,
                 document: Path | None, on: date | None, note: str, actor, principal) -> dict:
    issues: list = []
    conditions = _text(conditions, "conditions", MAX_TEXT, issues)
    note = _text(note, "note", MAX_TEXT, issues)
    if kind == "revision" and document is None:
        issues.append(Issue("document", "", N_("a revision is a new version of the plan document: required")))
    raise_issues(issues, N_("application {no}: {step} not recorded", no=application_no, step=step.value))
    on = _on(on)
    by, at = _recorder(actor, principal), now()
    with Store(db) as store, store.transaction() as conn:
        store.require_current(conn)
        app = _load(conn, application_no)
        assignment = records.latest_assignment(conn, app.id)
        doc = _document(conn, document, at, by)
        version = records.document_versions(conn, app.id) + 1 if doc is not None else None
        _append(conn, app, step, outcome=outcome, on=on, note=note,
                detail={"conditions": conditions, "document_version": version}, by=by, at=at,
                principal=principal, actor=actor)
        records.insert(conn, schema.review_records, application_id=app.id, assignment_id=assignment.id, kind=kind,
                       on_date=on, outcome=outcome, conditions=conditions, document_id=doc, document_version=version,
                       recorded_at=at, recorded_by=by)
        return _view(conn, records.application(conn, application_no), on)


def record_opinion(db: str | None, application_no: str, *, outcome: str, conditions: str = "",
                   document: Path | None = None, on: date | None = None, note: str = "", actor: str | None = None,
                   principal=None) -> dict:
    """A review opinion with its conditions: ``revise`` (the plan goes back for revision) or ``noted``."""
    return _review_step(db, application_no, Step.opinion, "opinion", outcome=outcome, conditions=conditions,
                        document=document, on=on, note=note, actor=actor, principal=principal)


def record_revision(db: str | None, application_no: str, *, document: Path, on: date | None = None, note: str = "",
                    actor: str | None = None, principal=None) -> dict:
    """A revised plan (修改补充): a new, hashed document version; the review resumes."""
    return _review_step(db, application_no, Step.revision, "revision", outcome=None, conditions="",
                        document=document, on=on, note=note, actor=actor, principal=principal)


def conclude_review(db: str | None, application_no: str, *, outcome: str, conditions: str = "",
                    document: Path | None = None, on: date | None = None, note: str = "", actor: str | None = None,
                    principal=None) -> dict:
    """The reviewer's conclusion (``pass`` or ``fail``, with conditions); the review clock stops."""
    return _review_step(db, application_no, Step.conclude_review, "conclusion", outcome=outcome,
                        conditions=conditions, document=document, on=on, note=note, actor=actor, principal=principal)


def extend_limit(db: str | None, application_no: str, *, reason: str, on: date | None = None,
                 actor: str | None = None, principal=None, rules: Path | None = None) -> dict:
    """延长审批期限: the decision limit extended once by ``extension_days`` (令53: 经审批部门负责人批准, the reason told
    to the applicant); refused on a path without an extension or when extended already."""
    issues: list = []
    reason = _text(reason, "reason", MAX_TEXT, issues, required=True)
    raise_issues(issues, N_("application {no}: limit not extended", no=application_no))
    on = _on(on)
    rule_set = rules_mod.load_rules(rules)
    by, at = _recorder(actor, principal), now()
    with Store(db) as store, store.transaction() as conn:
        store.require_current(conn)
        app = _load(conn, application_no)
        if not rule_set.limits[Path_(app.path)].extension_days:
            raise InputError(N_("step: path {path} has no extension of its limit", path=app.path))
        if any(e["step"] == Step.extend for e in records.events(conn, [app.id])[app.id]):
            raise InputError(N_("step: the limit of {no} was extended already (once only)", no=application_no))
        _append(conn, app, Step.extend, outcome=None, on=on, note=reason,
                detail={"extension_days": rule_set.limits[Path_(app.path)].extension_days}, by=by, at=at,
                principal=principal, actor=actor)
        return _view(conn, records.application(conn, application_no), on, rule_set)


def decide(db: str | None, application_no: str, *, outcome: str, decision_no: str, on: date | None = None,
           conditions: str = "", authority: str | None = None, approved_area=None, note: str = "",
           actor: str | None = None, principal=None, rules: Path | None = None) -> dict:
    """批复 (``approve``) or 不予许可 (``refuse``) after the review's conclusion (ordinary path) or on the zone's
    区域评价 (zone path).  An approval's responsibility area (default the application's polygon) becomes the
    project's current area version.  Refused: a decision before its review, or dated before it."""
    issues: list = []
    decision_no = _text(decision_no, "decision_no", MAX_NAME, issues, required=True)
    conditions = _text(conditions, "conditions", MAX_TEXT, issues)
    note = _text(note, "note", MAX_TEXT, issues)
    raise_issues(issues, N_("application {no}: no decision recorded", no=application_no))
    on = _on(on, "decided_on")
    rule_set = rules_mod.load_rules(rules)
    area = None if approved_area is None else _multipolygon(approved_area, "approved_area")
    by, at = _recorder(actor, principal), now()
    with Store(db) as store, store.transaction() as conn:
        store.require_current(conn)
        app = _load(conn, application_no)
        if app.path == Path_.ordinary and app.state in (State.accepted, State.under_review, State.revision_requested):
            raise InputError(N_("decided_on: application {no} has no review conclusion yet (state {state}): a "
                                "decision follows its technical review", no=application_no, state=app.state))
        if area is not None:
            locate(conn, area, rule_set, "approved_area")
        _append(conn, app, Step.decide, outcome=outcome, on=on, note=note,
                detail={"decision_no": decision_no, "conditions": conditions}, by=by, at=at, principal=principal,
                actor=actor, field="decided_on")
        if outcome == "approve":
            _approve(conn, app, "approval", decision_no, on, conditions, authority, area, by, at)
        else:
            _decision_row(conn, app, "approval", decision_no, on, "refused", conditions, authority, None, None, by, at)
        return _view(conn, records.application(conn, application_no), on)


def file_application(db: str | None, application_no: str, *, filing_no: str, on: date | None = None,
                     note: str = "", actor: str | None = None, principal=None) -> dict:
    """备案 (filing, 登记表): the filed responsibility area becomes the project's current area version."""
    issues: list = []
    filing_no = _text(filing_no, "filing_no", MAX_NAME, issues, required=True)
    note = _text(note, "note", MAX_TEXT, issues)
    raise_issues(issues, N_("application {no}: not filed", no=application_no))
    on = _on(on)
    by, at = _recorder(actor, principal), now()
    with Store(db) as store, store.transaction() as conn:
        store.require_current(conn)
        app = _load(conn, application_no)
        _append(conn, app, Step.file, outcome=None, on=on, note=note, detail={"filing_no": filing_no}, by=by, at=at,
                principal=principal, actor=actor)
        _approve(conn, app, "filing", filing_no, on, "", None, None, by, at)
        return _view(conn, records.application(conn, application_no), on)


def _authority(conn: Connection, app, authority: str | None) -> str:
    if authority:
        return authority
    from shuibao.vocabulary import label

    return f"{label('district', app.district_code, 'zh')}水行政主管部门"


def _decision_row(conn, app, kind, number, on, outcome, conditions, authority, area_m2, area_fid, by, at) -> None:
    if records.decision_by_no(conn, number) is not None:
        raise InputError(N_("decision_no: {number!r} is already recorded", number=number))
    records.insert(conn, schema.decisions, application_id=app.id, kind=kind, decision_no=number, decided_on=on,
                   outcome=outcome, conditions=conditions, authority=_authority(conn, app, authority),
                   approved_area_m2=area_m2, area_fid=area_fid, recorded_at=at, recorded_by=by)


def _approve(conn: Connection, app, kind: str, number: str, on: date, conditions: str, authority: str | None, area,
             by: str, at) -> None:
    """The decision row, the project (created or updated) and its new current area version."""
    geom = area if area is not None else app.geom
    area_m2 = float(shapely.area(to_metres([geom])[0]))
    units = records.rows_of(conn, schema.application_units, app.id)
    builder = next((u["name"] for u in units if u["role"] == "builder"), app.applicant)
    values = dict(name=app.name, builder=builder, industry=app.industry, district_codes=app.district_code,
                  approval_number=number, approval_date=on, approval_authority=_authority(conn, app, authority),
                  plan_level=app.plan_class, total_area_hm2=area_m2 / 1e4)
    project = project_records.project_by_code(conn, app.project_code)
    if project is None:
        pid = project_records.insert_projects(conn, [dict(code=app.project_code, status="approved", created_at=at,
                                                          updated_at=at, **values)])[app.project_code]
        project_records.add_event(conn, project_id=pid, event="created", before_json=None,
                                  after_json=dumps({"code": app.project_code, **values}),
                                  note=f"application {app.application_no}", recorded_at=at, recorded_by=by)
    else:
        pid = project.id
        project_records.update_project(conn, pid, updated_at=at, **values)
        project_records.add_event(conn, project_id=pid, event="updated",
                                  before_json=dumps({k: project._mapping[k] for k in values}), after_json=dumps(values),
                                  note=f"application {app.application_no}", recorded_at=at, recorded_by=by)
    current = project_records.current_area_heads(conn).get(pid)
    version = 1
    if current is not None:
        project_records.supersede_area(conn, current.fid, at)
        version = current.version + 1
    project_records.insert_areas(conn, [dict(project_id=pid, version=version, area_kind="responsibility",
                                             area_m2=area_m2, import_id=None, source_row=None, repaired=False,
                                             recorded_at=at, geom=geom)])
    project_records.add_event(conn, project_id=pid, event="area",
                              before_json=None if current is None else dumps({"version": current.version}),
                              after_json=dumps({"version": version, "area_m2": round(area_m2, 2),
                                                "area_kind": "responsibility"}),
                              note=f"{kind} {number} (application {app.application_no})", recorded_at=at,
                              recorded_by=by)
    project_records.refresh_area_extent(conn)
    fid = project_records.current_area_heads(conn)[pid].fid
    _decision_row(conn, app, kind, number, on, "approved", conditions, authority, area_m2, fid, by, at)
    records.set_header(conn, app.id, project_id=pid)


# --------------------------------------------------------------------------------------------- zones, consultations
def record_zone_evaluation(db: str | None, *, code: str, name: str, approval_no: str, approved_on: date,
                           valid_from: date, valid_to: date, polygon, note: str = "", actor: str | None = None,
                           principal=None, rules: Path | None = None) -> dict:
    """A development zone's 区域评价 (区域水土保持方案) with its polygon and validity (服务期)."""
    issues: list = []
    code = _text(code, "code", MAX_NAME, issues, required=True)
    name = _text(name, "name", MAX_NAME, issues, required=True)
    approval_no = _text(approval_no, "approval_no", MAX_NAME, issues, required=True)
    note = _text(note, "note", MAX_TEXT, issues)
    if valid_to <= valid_from:
        issues.append(Issue("valid_to", "", N_("{valid_to} is not after valid_from {valid_from}", valid_to=valid_to,
                                               valid_from=valid_from)))
    raise_issues(issues, N_("zone evaluation {code}: nothing was stored", code=code or "?"))
    geom = _multipolygon(polygon, "polygon")
    rule_set = rules_mod.load_rules(rules)
    by, at = _recorder(actor, principal), now()
    with Store(db) as store, store.transaction() as conn:
        store.require_current(conn)
        district, area_m2 = locate(conn, geom, rule_set)
        _authorise(principal, district)
        if records.zone_by_code(conn, code) is not None:
            raise InputError(N_("code: zone evaluation {code!r} is already recorded", code=code))
        zid = records.insert(conn, schema.zone_evaluations, code=code, name=name, district_code=district,
                             approval_no=approval_no, approved_on=approved_on, valid_from=valid_from,
                             valid_to=valid_to, area_m2=area_m2, note=note, recorded_at=at, recorded_by=by, geom=geom)
        if conn.dialect.name == "sqlite":
            from shuibao.store import gpkg

            gpkg.update_extent(conn, schema.zone_evaluations, tuple(map(float, geom.bounds)))
        from shuibao.services.platform.auth import audit, writer

        audit(conn, writer(principal, actor), "zone_evaluation.record", "zone_evaluation", code, None,
              {"name": name, "approval_no": approval_no, "district": district, "valid_from": valid_from,
               "valid_to": valid_to})
        return {"id": zid, "code": code, "district_code": district, "area_m2": area_m2}


def record_consultation(db: str | None, *, plan_name: str, sector: str, opinion: str, on: date,
                        district: str | None = None, document: Path | None = None, actor: str | None = None,
                        principal=None) -> int:
    """征求意见: the opinion given on a sectoral plan (the plan, the consulting department, the date)."""
    issues: list = []
    plan_name = _text(plan_name, "plan_name", MAX_NAME, issues, required=True)
    sector = _text(sector, "sector", MAX_NAME, issues, required=True)
    opinion = _text(opinion, "opinion", MAX_TEXT, issues, required=True)
    raise_issues(issues, N_("consultation: nothing was stored"))
    on = _on(on)
    by, at = _recorder(actor, principal), now()
    with Store(db) as store, store.transaction() as conn:
        store.require_current(conn)
        code = None
        if district:
            code = district_lookup(conn).get(district)
            if code is None:
                raise InputError(N_("district: {district!r} is not known", district=district))
        if principal is not None and code is None and principal.role != "city_admin":
            raise PermissionDeniedError(N_("a consultation without a district is recorded by city administrators"))
        _authorise(principal, code)
        doc = _document(conn, document, at, by)
        cid = records.insert(conn, schema.consultations, plan_name=plan_name, sector=sector, district_code=code,
                             consulted_on=on, opinion=opinion, document_id=doc, recorded_at=at, recorded_by=by)
        from shuibao.services.platform.auth import audit, writer

        audit(conn, writer(principal, actor), "consultation.record", "consultation", cid, None,
              {"plan_name": plan_name, "sector": sector, "on": on})
        return cid


def list_consultations(db: str | None) -> list[dict]:
    with Store(db) as store, store.reading() as conn:
        store.require_current(conn)
        return records.consultations(conn)


# --------------------------------------------------------------------------------------------- re-check
def draw_recheck(db: str | None, *, year: int, seed: int, ratio: Decimal | float | None = None,
                 actor: str | None = None, principal=None, rules: Path | None = None) -> dict:
    """方案抽查复核: a reproducible sample (seeded; ratio from ``approvals.toml`` unless given) of the plans
    approved in ``year`` (ordinary, 承诺制 and zone paths).  One sample a year: a second is refused."""
    from shuibao.supervision.draws import sample

    rule_set = rules_mod.load_rules(rules)
    share = rule_set.recheck_ratio if ratio is None else Decimal(str(ratio))
    by, at = _recorder(actor, principal), now()
    with Store(db) as store, store.transaction() as conn:
        store.require_current(conn)
        if principal is not None:
            from shuibao.services.platform.auth import require

            require(principal, "admin")
        t = schema.recheck_samples
        from sqlalchemy import select

        existing = conn.execute(select(t.c.id).where(t.c.year == year)).scalar()
        if existing is not None:
            raise InputError(N_("year: {year} was sampled already (sample {id}); record its results", year=year,
                                id=existing))
        population = [a.id for a in records.applications(conn, state=State.approved.value)
                      if (d := records.decision(conn, a.id)) is not None and d.decided_on.year == year]
        selected = sample(population, ratio=float(share), seed=seed, minimum=rule_set.recheck_minimum)
        sid = records.insert(conn, t, year=year, ratio=str(share), seed=seed, population_json=json.dumps(population),
                             selected_json=json.dumps(list(selected)), recorded_at=at, recorded_by=by)
        nos = {a.id: a.application_no for a in records.applications(conn)}
        from shuibao.services.platform.auth import audit, writer

        audit(conn, writer(principal, actor), "recheck.draw", "recheck_sample", sid, None,
              {"year": year, "ratio": str(share), "seed": seed, "population": len(population),
               "selected": [nos[i] for i in selected]})
        return {"sample_id": sid, "year": year, "ratio": str(share), "seed": seed,
                "population": [nos[i] for i in population], "selected": [nos[i] for i in selected]}


def record_recheck(db: str | None, sample_id: int, application_no: str, *, outcome: str, findings: str = "",
                   on: date | None = None, open_case: bool = True, actor: str | None = None,
                   principal=None) -> dict:
    """The re-check of a sampled plan: ``pass`` or ``fail`` with findings; a failure opens a case against the
    plan's compiler (方案编制单位, else the builder) in the same transaction unless ``open_case`` is False."""
    issues: list = []
    findings = _text(findings, "findings", MAX_TEXT, issues, required=outcome == "fail")
    raise_issues(issues, N_("application {no}: re-check not recorded", no=application_no))
    on = _on(on)
    by, at = _recorder(actor, principal), now()
    with Store(db) as store, store.transaction() as conn:
        store.require_current(conn)
        app = _load(conn, application_no)
        s = records.sample(conn, sample_id)
        if s is None:
            raise NotFoundError(N_("re-check sample {id} does not exist", id=sample_id))
        if app.id not in json.loads(s.selected_json):
            raise InputError(N_("application: {no} was not drawn by sample {id}", no=application_no, id=sample_id))
        if records.recheck_result(conn, sample_id, app.id) is not None:
            raise InputError(N_("application: {no} was re-checked in sample {id} already", no=application_no,
                                id=sample_id))
        _append(conn, app, Step.recheck, outcome=outcome, on=on, note=findings, detail={"sample_id": sample_id},
                by=by, at=at, principal=principal, actor=actor)
        case_no = None
        if outcome == "fail" and open_case:
            from shuibao.services.supervision.cases import audit_write, insert_case

            units = records.rows_of(conn, schema.application_units, app.id)
            subject = next((u["name"] for u in units if u["role"] == "compiler"),
                           next((u["name"] for u in units if u["role"] == "builder"), app.applicant))
            case_no = insert_case(conn, source_kind="plan_recheck", source_id=sample_id, patch_fid=None,
                                  project_id=app.project_id, district=app.district_code, subject=subject,
                                  category="other", title=f"方案抽查复核不合格：{app.name}（{application_no}）", on=on,
                                  note=findings, evidence=[], by=by, at=at)
            audit_write(conn, principal, actor, "case.open", case_no, None,
                        {"source": "plan_recheck", "application": application_no, "subject": subject})
        records.insert(conn, schema.recheck_results, sample_id=sample_id, application_id=app.id, on_date=on,
                       outcome=outcome, findings=findings, case_no=case_no, recorded_at=at, recorded_by=by)
        return {"application_no": application_no, "outcome": outcome, "case_no": case_no}


# --------------------------------------------------------------------------------------------- reading
def _may_read(principal, district: str | None) -> None:
    """District officers read the applications of their own district; other users read all."""
    if principal is not None and principal.role == "district_officer" and district != principal.district_code:
        from shuibao.vocabulary import LabelText

        raise PermissionDeniedError(N_("{name} may read the applications of district {own} only", name=principal.name,
                                       own=LabelText("district", principal.district_code or "")))


def _clock(app, events: list[dict], as_of: date, rule_set: ApprovalRules):
    """The application's :class:`~shuibao.supervision.approvals.Clock` (None in a final state)."""
    if app.state in TERMINAL:
        return None
    intake_on = next((e["on_date"] for e in events if e["step"] == Step.intake), None)
    spans: list[tuple[date, date | None]] = []
    for e in events:
        if e["step"] == Step.assign_review:
            spans.append((e["on_date"], None))
        elif e["step"] == Step.conclude_review and spans and spans[-1][1] is None:
            spans[-1] = (spans[-1][0], e["on_date"])
    extended = any(e["step"] == Step.extend for e in events)
    return clock(rule_set.limits[Path_(app.path)], intake_on, spans, as_of, load_holidays(), extended=extended)


def _view(conn: Connection, app, as_of: date, rule_set: ApprovalRules | None = None,
          events: list[dict] | None = None, *, strict: bool = False) -> dict:
    rule_set = rule_set or rules_mod.load_rules()
    events = events if events is not None else records.events(conn, [app.id])[app.id]
    view = {k: v for k, v in app._mapping.items() if k != "geom"}
    try:
        c = _clock(app, events, as_of, rule_set)
        view.update(overdue=bool(c and c.overdue), due_on=c.due_on if c else None,
                    counted_days=c.counted_days if c else None, review_days=c.review_days if c else None,
                    limit_days=c.limit_days if c else None, clock_problem=None)
    except CalendarError as exc:
        if strict:
            raise
        view.update(overdue=None, due_on=None, counted_days=None, review_days=None, limit_days=None,
                    clock_problem=str(exc))
    # the table's steps, less an extension the data does not allow or that was taken already (once only)
    no_extension = (not rule_set.limits[Path_(app.path)].extension_days
                    or any(e["step"] == Step.extend for e in events))
    view["valid_steps"] = [s.value for s in valid_steps(app.path, app.state)
                           if not (s == Step.extend and no_extension)]
    return view


def show_application(db: str | None, application_no: str, *, as_of: date | None = None, principal=None) -> dict:
    """One application with its units, steps, review records, decision and re-checks, and its clock."""
    with Store(db) as store, store.reading() as conn:
        store.require_current(conn)
        app = _load(conn, application_no)
        _may_read(principal, app.district_code)
        view = _view(conn, app, as_of or date.today())
        view["geom"] = app.geom
        view["units"] = records.rows_of(conn, schema.application_units, app.id)
        view["events"] = [{**e, "detail": json.loads(e["detail_json"])} for e in records.events(conn, [app.id])[app.id]]
        view["assignments"] = records.rows_of(conn, schema.review_assignments, app.id)
        view["review"] = records.rows_of(conn, schema.review_records, app.id)
        d = records.decision(conn, app.id)
        view["decision"] = None if d is None else dict(d._mapping)
        view["rechecks"] = records.rows_of(conn, schema.recheck_results, app.id)
        view["zone"] = None if app.zone_evaluation_id is None else records.zone(conn, app.zone_evaluation_id).code
        return view


def list_applications(db: str | None, *, state: str | None = None, district: str | None = None,
                      overdue: bool = False, as_of: date | None = None, principal=None) -> list[dict]:
    """Applications (a district officer: of their district) with their clock on ``as_of``; ``overdue``: only
    those past their time limit (a CalendarError when ``as_of`` lies outside the holiday table's years)."""
    as_of = as_of or date.today()
    rule_set = rules_mod.load_rules()
    with Store(db) as store, store.reading() as conn:
        store.require_current(conn)
        code = None
        if district:
            code = district_lookup(conn).get(district)
            if code is None:
                raise InputError(N_("district: {district!r} is not known", district=district))
        if principal is not None and principal.role == "district_officer":
            if code is not None and code != principal.district_code:
                _may_read(principal, code)
            code = principal.district_code
        apps = records.applications(conn, district=code, state=state)
        events = records.events(conn, [a.id for a in apps])
        rows = [_view(conn, a, as_of, rule_set, events[a.id], strict=overdue) for a in apps]
    return [r for r in rows if r["overdue"]] if overdue else rows


def overdue_counts(db: str | None, *, as_of: date | None = None, principal=None) -> list[dict]:
    """Open and overdue applications per district (the dashboard's count), districts with any open one."""
    rows = list_applications(db, as_of=as_of, principal=principal)
    out: dict[str, dict] = {}
    for r in rows:
        if r["state"] in TERMINAL:
            continue
        c = out.setdefault(r["district_code"], {"district_code": r["district_code"], "open": 0, "overdue": 0})
        c["open"] += 1
        c["overdue"] += bool(r["overdue"])
    return sorted(out.values(), key=lambda c: (-c["overdue"], c["district_code"]))
