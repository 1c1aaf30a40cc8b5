"""The case ledger: every transition, every refusal, deadlines and overdue days, and history that cannot be
rewritten (both backends)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import delete, func, select, update

from shuibao.errors import InputError, StoreError
from shuibao.services.supervision import cases
from shuibao.store import Store, schema
from shuibao.supervision.cases import Step, State, apply_step, load_case_rules, overdue_days

RULES = load_case_rules()
D0 = date(2025, 7, 1)


@pytest.fixture
def case(sdb):
    return sdb, cases.open_case(sdb, title="测试案件", category="unapproved", on=D0, district="yubei",
                                subject="某公司", note="遥感发现")


def test_open_sets_the_verification_deadline(case):
    db, no = case
    v = cases.get_case(db, no, as_of=D0)
    assert (v.state, v.deadline, v.overdue_days) == ("open", date(2025, 7, 31), 0)
    assert cases.get_case(db, no, as_of=date(2025, 8, 3)).overdue_days == 3


def test_confirmed_path_to_closure(case, tmp_path):
    db, no = case
    photo = tmp_path / "after.jpg"
    photo.write_bytes(b"\xff\xd8 rectified site")
    cases.add_step(db, no, "verify", on=date(2025, 7, 10), outcome="confirmed", note="现场确认",
                   subject="真实建设单位", category="out_of_bounds")
    v = cases.add_step(db, no, "order_rectification", on=date(2025, 7, 11), deadline=date(2025, 9, 30), note="整改")
    assert (v.state, v.deadline) == ("rectification_ordered", date(2025, 9, 30))
    v = cases.add_step(db, no, "extend_deadline", on=date(2025, 9, 1), deadline=date(2025, 10, 31), note="延期")
    assert (v.state, v.deadline) == ("rectification_ordered", date(2025, 10, 31))
    cases.add_step(db, no, "rectify", on=date(2025, 10, 20), evidence=[photo])
    cases.add_step(db, no, "review", on=date(2025, 10, 25), outcome="failed", note="植被未恢复")
    v = cases.add_step(db, no, "order_rectification", on=date(2025, 10, 26), note="再次整改")
    assert v.deadline == date(2025, 12, 25)  # the default 60 days
    cases.add_step(db, no, "rectify", on=date(2025, 12, 1), evidence=[photo])  # the same photo is stored once
    cases.add_step(db, no, "review", on=date(2025, 12, 5), outcome="passed", note="通过")
    v = cases.add_step(db, no, "close", on=date(2025, 12, 6), note="销号")
    assert [e["step"] for e in v.events] == ["open", "verify", "order_rectification", "extend_deadline", "rectify",
                                             "review", "order_rectification", "rectify", "review", "close"]
    assert (v.state, v.deadline, v.subject, v.category, v.confirmed) == ("closed", None, "真实建设单位",
                                                                          "out_of_bounds", True)
    assert cases.list_cases(db, as_of=date(2026, 6, 1))[0]["category_zh"] == "超出防治责任范围"
    with Store(db) as store, store.reading() as conn:
        assert conn.execute(select(func.count()).select_from(schema.evidence_files)).scalar() == 1
    name, media, content = cases.evidence_content(db, v.events[4]["evidence"][0]["sha256"])
    assert (name, media, content) == ("after.jpg", "image/jpeg", b"\xff\xd8 rectified site")
    with pytest.raises(InputError, match="closed"):
        cases.add_step(db, no, "note", on=date(2025, 12, 7), note="x")


def test_dismissed_case_closes_without_rectification(case):
    db, no = case
    v = cases.add_step(db, no, "verify", on=date(2025, 7, 5), outcome="not_confirmed", note="农户自建，不属于项目")
    assert (v.state, v.deadline) == ("dismissed", date(2025, 7, 20))
    assert cases.add_step(db, no, "close", on=date(2025, 7, 6)).state == "closed"
    assert cases.list_cases(db, state="closed")[0]["category_zh"] == "疑似未批先建"


@pytest.mark.parametrize("step, kw, message", [
    ("close", {}, "a case in state Awaiting verification cannot take the step Closure"),
    ("rectify", {}, "needs evidence"),
    ("verify", {"outcome": "maybe"}, "Field verification needs its outcome: Confirmed or Not confirmed"),
    ("verify", {"outcome": "confirmed"}, "needs a note or evidence"),
    ("verify", {"outcome": "confirmed", "note": "x", "deadline": date(2025, 9, 1)},
     "only Rectification order or Deadline extension set a deadline"),
    ("extend_deadline", {"deadline": date(2025, 9, 1)}, "only a rectification deadline"),
    ("note", {}, "needs text or evidence"),
    ("fly", {}, "expected one of"),
])
def test_refused_steps_add_nothing(case, step, kw, message):
    db, no = case
    with pytest.raises(InputError, match=message):
        cases.add_step(db, no, step, on=date(2025, 7, 2), **kw)
    assert len(cases.get_case(db, no).events) == 1


def test_a_refused_step_speaks_the_form_s_words_in_chinese(case):
    """The state machine's refusal names states, steps and outcomes by their labels (the words of the case
    form), never by their codes or a command-line option."""
    from shuibao.errors import render_error

    db, no = case
    with pytest.raises(InputError) as close:
        cases.add_step(db, no, "close", on=date(2025, 7, 2))
    assert render_error(close.value, "zh") == (f"案件 {no}：处于“待核查”状态的案件不能办理“销号”；"
                                               "可办理的环节：备注、现场核查")
    with pytest.raises(InputError) as verify:
        cases.add_step(db, no, "verify", on=date(2025, 7, 2), outcome="maybe")
    assert render_error(verify.value, "zh").endswith("现场核查须填写结论：属实或不属实")


def test_a_step_dated_before_the_last_one_is_refused(case):
    db, no = case
    with pytest.raises(InputError, match="before the case's last event"):
        cases.add_step(db, no, "note", on=date(2025, 6, 1), note="x")


def test_history_cannot_be_updated_or_deleted(case):
    db, _ = case
    with Store(db) as store:
        for stmt in (update(schema.case_events).values(note="rewritten"), delete(schema.case_events)):
            with pytest.raises(StoreError, match="append-only"):
                with store.transaction() as conn:
                    conn.execute(stmt)
        for stmt in (update(schema.cases).values(subject="别人"), delete(schema.cases)):
            with pytest.raises(StoreError, match="append-only"):
                with store.transaction() as conn:
                    conn.execute(stmt)
        if store.backend == "postgresql":
            with pytest.raises(StoreError, match="append-only"):
                with store.transaction() as conn:
                    conn.exec_driver_sql("TRUNCATE case_events CASCADE")
        with store.reading() as conn:
            assert conn.execute(select(schema.case_events.c.note)).scalar() == "遥感发现"
            assert conn.execute(select(schema.cases.c.subject)).scalar() == "某公司"


def test_overdue_only_lists_cases_past_their_deadline(sdb):
    a = cases.open_case(sdb, title="a", category="other", on=date(2025, 1, 1), district="yubei")
    b = cases.open_case(sdb, title="b", category="other", on=date(2025, 3, 1), district="yubei")
    late = cases.list_cases(sdb, overdue=True, as_of=date(2025, 3, 15))
    assert [r["case_no"] for r in late] == [a] and late[0]["overdue_days"] == 43
    assert b not in [r["case_no"] for r in late]


def test_unknown_category_and_case_are_refused(sdb):
    with pytest.raises(InputError, match="case category"):
        cases.open_case(sdb, title="x", category="weird", on=D0, district="yubei")
    with pytest.raises(InputError, match="does not exist"):
        cases.add_step(sdb, "SB2099-00001", "note", on=D0, note="x")


def test_state_machine_without_a_database():
    t = apply_step(State.open, Step.verify, on=D0, last_on=D0, current_deadline=None, rules=RULES,
                   outcome="confirmed", note="n")
    assert (t.state, t.deadline) == (State.confirmed, date(2025, 7, 16))
    with pytest.raises(ValueError, match="must be after"):
        apply_step(State.confirmed, Step.order_rectification, on=D0, last_on=D0, current_deadline=None, rules=RULES,
                   deadline=D0)
    assert overdue_days(State.closed, date(2020, 1, 1), D0) == 0
    assert overdue_days(State.rectified, date(2025, 6, 30), D0) == 1
