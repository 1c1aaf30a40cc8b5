"""方案审批 services on both backends: each path to its end, bad input refused with nothing stored, time limits,
credit history at intake, the re-check sample, and the approved area used by the compliance analysis."""

from __future__ import annotations

from datetime import date

import pytest
import shapely
from sqlalchemy import func, select

from shuibao.errors import InputError, PermissionDeniedError
from shuibao.services.platform.auth import Principal
from shuibao.services.supervision import approvals as svc
from shuibao.services.supervision.approvals import Unit
from shuibao.store import Store, schema

from .approvals_helpers import BUILDER, CHENGDU, COMPILER, hm2, square


@pytest.fixture
def adb(db_url):
    """An initialised store with the district polygons (the district is derived from them)."""
    from shuibao.services.platform.database import init

    init(db_url, boundaries=True)
    return db_url


def _count(db, table) -> int:
    with Store(db) as store, store.reading() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar())


def register(db, code, size, earth=0, *, on=date(2026, 9, 21), dx=0.0, units=(BUILDER, COMPILER), **kw):
    geom = square(size, dx=dx)
    return svc.register_application(db, project_code=code, name=f"项目{code}", industry="房地产", applicant="申请人",
                                    land_take_hm2=round(hm2(geom), 4), earthwork_m3=earth, polygon=geom,
                                    units=list(units), on=on, actor="officer", **kw)


def test_ordinary_path_with_review_and_decision_then_compliance_uses_the_area(adb, tmp_path):
    plan = tmp_path / "plan.pdf"
    plan.write_bytes(b"%PDF plan v1")
    a = register(adb, "P-ORD", 6, document=plan)
    assert (a["plan_class"], a["path"], a["state"], a["district_code"]) == ("report", "ordinary", "registered",
                                                                             "yuzhong")
    no = a["application_no"]
    assert a["valid_steps"] == ["intake"]
    a = svc.intake(adb, no, on=date(2026, 9, 21), actor="officer")
    assert a["state"] == "accepted" and a["valid_steps"] == ["assign_review", "extend"]
    svc.assign_review(adb, no, organisation="重庆某技术评审中心", on=date(2026, 9, 22), actor="officer")
    a = svc.record_opinion(adb, no, outcome="revise", conditions="补充表土剥离措施", on=date(2026, 9, 23))
    assert a["state"] == "revision_requested"
    v2 = tmp_path / "plan-v2.pdf"
    v2.write_bytes(b"%PDF plan v2")
    svc.record_revision(adb, no, document=v2, on=date(2026, 9, 24))
    svc.conclude_review(adb, no, outcome="pass", conditions="按评审意见落实", on=date(2026, 9, 24))
    approved = square(8)  # the decision approves a larger responsibility area than applied for
    a = svc.decide(adb, no, outcome="approve", decision_no="渝中水许可〔2026〕1号", on=date(2026, 9, 28),
                   conditions="落实弃渣场防护", approved_area=approved)
    assert a["state"] == "approved" and a["project_id"] is not None
    view = svc.show_application(adb, no)
    assert [e["step"] for e in view["events"]] == ["register", "intake", "assign_review", "opinion", "revision",
                                                   "conclude_review", "decide"]
    assert [r["document_version"] for r in view["review"]] == [None, 1, None]
    assert view["decision"]["decision_no"] == "渝中水许可〔2026〕1号"
    assert view["decision"]["approved_area_m2"] == pytest.approx(hm2(approved) * 1e4)
    with Store(adb) as store, store.reading() as conn:
        from shuibao.services.supervision.projects import current_areas

        area = next(p for p in current_areas(conn) if p["code"] == "P-ORD")
        assert shapely.equals_exact(shapely.normalize(area["geom"]),
                                    shapely.normalize(shapely.MultiPolygon([approved])), 1e-9)
        assert area["approval_date"] == date(2026, 9, 28) and area["status"] == "approved"
        docs = conn.execute(select(func.count()).select_from(schema.evidence_files)).scalar()
        assert docs == 2  # the plan and its revision, each stored once by SHA-256
    # a disturbance patch inside the approved area (but outside the applied polygon) is compliant
    _compliance_on(adb, tmp_path, approved, applied=square(6))


def _compliance_on(db, tmp_path, approved, applied):
    import json

    from shuibao.services.supervision.compliance import run_compliance
    from shuibao.services.supervision.patches import import_patches

    a0, b0, a1, b1 = approved.bounds
    inside_approved_only = shapely.box(a1 - (a1 - a0) * 0.05, b0 + (b1 - b0) * 0.4, a1 - (a1 - a0) * 0.01,
                                       b0 + (b1 - b0) * 0.6)
    assert not applied.intersects(inside_approved_only) and approved.contains(inside_approved_only)
    f = tmp_path / "patches.geojson"
    f.write_text(json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {"patch_id": "T1", "period": "2026Q4", "image_date": "2026-10-20"},
        "geometry": shapely.geometry.mapping(inside_approved_only)}]}), encoding="utf-8")
    import_patches(db, f, actor="t")
    result = run_compliance(db, period="2026Q4", actor="t")
    from shuibao.services.supervision.compliance import findings

    rows, _ = findings(db, analysis=result.analysis_id)
    assert [(r["patch_id"], r["category"], r["project_code"]) for r in rows] == [("T1", "compliant", "P-ORD")]


def test_commitment_is_approved_at_intake(adb):
    a = register(adb, "P-COM", 1)
    assert (a["plan_class"], a["path"]) == ("form", "commitment")
    with pytest.raises(InputError, match="decision_no: required"):
        svc.intake(adb, a["application_no"], on=date(2026, 9, 21))
    a = svc.intake(adb, a["application_no"], on=date(2026, 9, 21), decision_no="渝中水承诺〔2026〕1号")
    assert a["state"] == "approved" and a["project_id"] is not None and a["valid_steps"] == ["recheck"]


def _zone(db, size=40, code="Z1"):
    return svc.record_zone_evaluation(db, code=code, name="某经济技术开发区", approval_no="渝水许可〔2022〕90号",
                                      approved_on=date(2022, 9, 1), valid_from=date(2022, 9, 1),
                                      valid_to=date(2027, 9, 1), polygon=square(size), actor="city")


def test_zone_and_filing_paths_inside_an_assessed_zone(adb):
    z = _zone(adb)
    assert z["district_code"] == "yuzhong"
    big = register(adb, "P-ZONE", 6)
    assert big["path"] == "zone"
    svc.intake(adb, big["application_no"], on=date(2026, 9, 21))
    a = svc.decide(adb, big["application_no"], outcome="approve", decision_no="Z-1", on=date(2026, 9, 22))
    assert a["state"] == "approved" and svc.show_application(adb, big["application_no"])["zone"] == "Z1"
    small = register(adb, "P-FILE", 1, dx=0.0)
    assert small["path"] == "filing"
    svc.intake(adb, small["application_no"], on=date(2026, 9, 21))
    a = svc.file_application(adb, small["application_no"], filing_no="备2026-1", on=date(2026, 9, 21))
    assert a["state"] == "filed" and a["project_id"] is not None
    outside_zone = register(adb, "P-OUT", 6, dx=0.02)  # east of the zone: ordinary
    assert outside_zone["path"] == "ordinary"


def test_not_required_is_recorded_and_closed(adb):
    a = register(adb, "P-NR", 0.3, earth=500)
    assert (a["plan_class"], a["path"]) == ("not_required", "not_required")
    a = svc.intake(adb, a["application_no"], on=date(2026, 9, 21))
    assert a["state"] == "closed_not_required" and a["project_id"] is None and a["valid_steps"] == []


@pytest.mark.parametrize("change, field", [
    ({"polygon": None}, "polygon: required"),
    ({"polygon": square(6, at=CHENGDU)}, "polygon: 100.0% of the polygon lies outside Chongqing"),
    ({"land_take_hm2": 12}, "land_take_hm2: 12 hm² differs from the polygon's"),
    ({"units": [Unit("builder", "甲公司", "91350100M0001TGQXM")]}, "units[1].credit_code"),
    ({"units": [COMPILER]}, "the builder (建设单位, role builder) is required"),
    ({"earthwork_m3": "lots"}, "earthwork_m3"),
])
def test_bad_registrations_are_refused_naming_the_field_and_store_nothing(adb, change, field):
    geom = square(6)
    args = dict(project_code="BAD", name="坏", industry="房地产", applicant="甲", land_take_hm2=round(hm2(geom), 4),
                earthwork_m3=0, polygon=geom, units=[BUILDER], on=date(2026, 9, 21))
    args.update(change)
    with pytest.raises(InputError) as err:
        svc.register_application(adb, **args)
    assert field in str(err.value)
    assert _count(adb, schema.applications) == 0 and _count(adb, schema.application_events) == 0
    assert _count(adb, schema.application_units) == 0


def test_a_polygon_straddling_the_city_border_is_refused(adb):
    from shuibao.store.repositories.reference import boundary_geoms

    with Store(adb) as store, store.reading() as conn:
        city = shapely.union_all(list(boundary_geoms(conn)))
    # a box half inside the city's bounding box yet outside the polygons: near the western border
    x0, y0, x1, y1 = city.bounds
    probe = shapely.box(x0 + 0.01, (y0 + y1) / 2, x0 + 0.03, (y0 + y1) / 2 + 0.02)
    share = 1 - probe.intersection(city).area / probe.area
    geom = probe
    with pytest.raises(InputError, match="polygon: .* lies outside"):
        svc.register_application(adb, project_code="B", name="边", industry="交通", applicant="甲",
                                 land_take_hm2=round(hm2(geom), 2), earthwork_m3=0, polygon=geom, units=[BUILDER])
    assert share > 0.01 and _count(adb, schema.applications) == 0


def test_a_decision_before_its_review_and_steps_out_of_order_are_refused(adb):
    a = register(adb, "P-X", 6)
    no = a["application_no"]
    with pytest.raises(InputError, match="step: assign_review is not allowed on path ordinary in state registered"):
        svc.assign_review(adb, no, organisation="中心", on=date(2026, 9, 21))
    svc.intake(adb, no, on=date(2026, 9, 21))
    with pytest.raises(InputError, match="decided_on: application .* has no review conclusion yet"):
        svc.decide(adb, no, outcome="approve", decision_no="D-1", on=date(2026, 9, 22))
    svc.assign_review(adb, no, organisation="中心", on=date(2026, 9, 22))
    with pytest.raises(InputError, match="decided_on: application .* has no review conclusion yet"):
        svc.decide(adb, no, outcome="approve", decision_no="D-1", on=date(2026, 9, 22))
    svc.conclude_review(adb, no, outcome="pass", on=date(2026, 9, 25))
    with pytest.raises(InputError, match="decided_on: 2026-09-24 is before the previous step"):
        svc.decide(adb, no, outcome="approve", decision_no="D-1", on=date(2026, 9, 24))
    assert _count(adb, schema.decisions) == 0 and _count(adb, schema.projects) == 0
    assert [e["step"] for e in svc.show_application(adb, no)["events"]] == ["register", "intake", "assign_review",
                                                                           "conclude_review"]


def test_overdue_applications_are_listed_and_counted_per_district(adb):
    a = register(adb, "P-LATE", 6, on=date(2026, 9, 21))
    svc.intake(adb, a["application_no"], on=date(2026, 9, 21))
    b = register(adb, "P-SOON", 6, on=date(2026, 10, 9), dx=0.004)
    svc.intake(adb, b["application_no"], on=date(2026, 10, 9))
    assert [r["application_no"] for r in svc.list_applications(adb, overdue=True, as_of=date(2026, 10, 12))] == []
    late = svc.list_applications(adb, overdue=True, as_of=date(2026, 10, 13))
    assert [r["application_no"] for r in late] == [a["application_no"]]
    assert late[0]["due_on"] == date(2026, 10, 12)
    assert svc.overdue_counts(adb, as_of=date(2026, 10, 13)) == [{"district_code": "yuzhong", "open": 2,
                                                                  "overdue": 1}]
    svc.extend_limit(adb, a["application_no"], reason="需现场核查", on=date(2026, 10, 12))
    assert svc.list_applications(adb, overdue=True, as_of=date(2026, 10, 13)) == []
    with pytest.raises(InputError, match="extended already"):
        svc.extend_limit(adb, a["application_no"], reason="again", on=date(2026, 10, 13))
    late = svc.list_applications(adb, overdue=True, as_of=date(2026, 10, 27))
    assert [(r["due_on"], r["limit_days"]) for r in late if r["application_no"] == a["application_no"]] == [
        (date(2026, 10, 26), 20)]
    from shuibao.supervision.workdays import CalendarError

    with pytest.raises(CalendarError):
        svc.list_applications(adb, overdue=True, as_of=date(2027, 1, 5))


def test_credit_history_is_recorded_at_intake(adb):
    from shuibao.services.supervision.cases import open_case

    case_no = open_case(adb, title="未批先建", category="other", on=date(2026, 9, 1), district="yuzhong",
                        subject=BUILDER.name, actor="t")
    with Store(adb) as store, store.transaction() as conn:
        from datetime import UTC, datetime

        conn.execute(schema.credit_entries.insert().values(
            list_kind="watch_list", subject=BUILDER.credit_code, rule_id="r1", rules_version="t",
            valid_from=date(2026, 1, 1), valid_to=date(2027, 1, 1), evidence_json="[]", reason="test",
            recorded_at=datetime.now(UTC), recorded_by="t"))
    a = register(adb, "P-CR", 6)
    assert svc.preview_credit(adb, a["application_no"], as_of=date(2026, 9, 21))[0]["open_cases"] == [case_no]
    svc.intake(adb, a["application_no"], on=date(2026, 9, 21))
    credit = svc.show_application(adb, a["application_no"])["events"][1]["detail"]["credit"]
    assert credit == [{"role": "builder", "name": BUILDER.name, "credit_code": BUILDER.credit_code,
                       "open_cases": [case_no], "watch_list": ["r1"], "blacklist": []},
                      {"role": "compiler", "name": COMPILER.name, "credit_code": None, "open_cases": [],
                       "watch_list": [], "blacklist": []}]


def test_district_officers_act_only_in_their_district(adb):
    other = Principal("wang", "district_officer", "shapingba")
    own = Principal("li", "district_officer", "yuzhong")
    geom = square(6)
    args = dict(project_code="P-AUTH", name="项目", industry="房地产", applicant="甲", land_take_hm2=round(hm2(geom), 4),
                earthwork_m3=0, polygon=geom, units=[BUILDER], on=date(2026, 9, 21))
    with pytest.raises(PermissionDeniedError):
        svc.register_application(adb, principal=other, **args)
    assert _count(adb, schema.applications) == 0
    a = svc.register_application(adb, principal=own, **args)
    with pytest.raises(PermissionDeniedError):
        svc.intake(adb, a["application_no"], on=date(2026, 9, 21), principal=other)
    assert svc.list_applications(adb, principal=other) == []
    assert len(svc.list_applications(adb, principal=Principal("city", "city_admin"))) == 1
    svc.intake(adb, a["application_no"], on=date(2026, 9, 21), principal=own)
    with Store(adb) as store, store.reading() as conn:
        t = schema.audit_log
        rows = conn.execute(select(t.c.actor, t.c.action).where(t.c.object_kind == "application")
                            .order_by(t.c.id)).all()
    assert [tuple(r) for r in rows] == [("li", "application.register"), ("li", "application.intake")]


def test_the_recheck_sample_is_reproducible_and_a_failure_opens_a_case(adb):
    nos = []
    for i in range(6):
        a = register(adb, f"P-R{i}", 1, dx=0.003 * i)
        svc.intake(adb, a["application_no"], on=date(2026, 9, 21), decision_no=f"C-{i}")
        nos.append(a["application_no"])
    s = svc.draw_recheck(adb, year=2026, seed=7, ratio=0.34)
    assert sorted(s["population"]) == sorted(nos) and len(s["selected"]) == 3  # ⌈0.34 × 6⌉
    with pytest.raises(InputError, match="year: 2026 was sampled already"):
        svc.draw_recheck(adb, year=2026, seed=7, ratio=0.34)
    from shuibao.supervision.draws import sample

    with Store(adb) as store, store.reading() as conn:
        ids = {a.application_no: a.id for a in conn.execute(select(schema.applications))}
    expected = {n for n, i in ids.items() if i in sample(list(ids.values()), ratio=0.34, seed=7)}
    assert set(s["selected"]) == expected
    not_drawn = next(n for n in nos if n not in s["selected"])
    with pytest.raises(InputError, match="was not drawn"):
        svc.record_recheck(adb, s["sample_id"], not_drawn, outcome="pass")
    r = svc.record_recheck(adb, s["sample_id"], s["selected"][0], outcome="fail", findings="防治责任范围不合理",
                           on=date(2026, 11, 2))
    assert r["case_no"]
    with Store(adb) as store, store.reading() as conn:
        case = conn.execute(select(schema.cases).where(schema.cases.c.case_no == r["case_no"])).one()
    assert (case.subject, case.source_kind, case.district_code) == (COMPILER.name, "plan_recheck", "yuzhong")
    assert svc.record_recheck(adb, s["sample_id"], s["selected"][1], outcome="pass")["case_no"] is None


def test_consultations_are_recorded(adb):
    cid = svc.record_consultation(adb, plan_name="渝中区国土空间规划", sector="规划和自然资源局", opinion="同意，补充水土保持篇章",
                                  on=date(2026, 9, 1), district="渝中区")
    assert [(c["id"], c["district_code"]) for c in svc.list_consultations(adb)] == [(cid, "yuzhong")]
    with pytest.raises(InputError, match="opinion"):
        svc.record_consultation(adb, plan_name="x", sector="y", opinion=" ", on=date(2026, 9, 1))


def test_command_line_steps_are_audited_as_the_operating_system_user(adb):
    a = register(adb, "P-AUD", 1)
    svc.intake(adb, a["application_no"], on=date(2026, 9, 21), decision_no="C-AUD", actor="张工")
    with Store(adb) as store, store.reading() as conn:
        t = schema.audit_log
        rows = conn.execute(select(t.c.actor, t.c.role, t.c.action, t.c.object_id).where(
            t.c.object_kind == "application").order_by(t.c.id)).all()
        events = conn.execute(select(schema.project_events.c.event).join(
            schema.projects, schema.projects.c.id == schema.project_events.c.project_id).where(
            schema.projects.c.code == "P-AUD").order_by(schema.project_events.c.id)).scalars().all()
    assert [tuple(r) for r in rows] == [("officer", "command_line", "application.register", a["application_no"]),
                                        ("张工", "command_line", "application.intake", a["application_no"])]
    assert events == ["created", "area"]  # the project's own history records the approval and its area
