"""信用"两单": each rule triggered and not triggered at its boundary dates, expiry and evidence.

The scenarios run on a rules file written here (the same shape as the packaged
defaults, which are design values users replace); dates are hand-computed.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from shuibao.errors import InputError, ReferenceDataError
from shuibao.supervision.credit import CaseRecord, FeeRecord, ReportRecord, evaluate, load_rules

RULES = """
version = "test-rules-1"
source = "test"

[[rules]]
id = "w_violation"
list = "watch_list"
kind = "confirmed_violations"
validity_days = 365
description_zh = "一年内违法违规"
parameters = { n = 1, window_days = 365, categories = ["unapproved", "out_of_bounds", "relocated"] }

[[rules]]
id = "w_overdue"
list = "watch_list"
kind = "overdue_rectification"
validity_days = 365
description_zh = "逾期未整改"
parameters = { grace_days = 0 }

[[rules]]
id = "w_red"
list = "watch_list"
kind = "red_reports"
validity_days = 365
description_zh = "连续两期红色"
parameters = { n = 2, consecutive = true }

[[rules]]
id = "w_fee"
list = "watch_list"
kind = "unpaid_fees"
validity_days = 365
description_zh = "补偿费逾期90日未缴"
parameters = { days = 90 }

[[rules]]
id = "b_violations"
list = "blacklist"
kind = "confirmed_violations"
validity_days = 1095
description_zh = "两年内两次违法违规"
parameters = { n = 2, window_days = 730, categories = ["unapproved", "out_of_bounds", "relocated"] }

[[rules]]
id = "b_overdue"
list = "blacklist"
kind = "overdue_rectification"
validity_days = 1095
description_zh = "逾期超过180日"
parameters = { grace_days = 180 }

[[rules]]
id = "b_red_window"
list = "blacklist"
kind = "red_reports"
validity_days = 100
description_zh = "一年内三期红色"
parameters = { n = 3, window_days = 365 }
"""


@pytest.fixture
def rules(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text(RULES, encoding="utf-8")
    return load_rules(path)


def case(case_id, subject="甲公司", category=None, confirmed=None, deadline=None, rectified=None, closed=None):
    return CaseRecord(case_id, subject, 1, category, confirmed, deadline, rectified, closed)


def listed(rules, as_of, cases=(), reports=(), fees=(), rule=None):
    entries = evaluate(rules, cases, reports, fees, as_of=as_of)
    return [e for e in entries if rule is None or e.rule_id == rule]


def test_packaged_rules_load():
    r = load_rules()
    assert [x.id for x in r.rules] == ["watch_confirmed_violation", "watch_overdue_rectification",
                                       "watch_consecutive_red", "watch_unpaid_fee", "black_repeat_violations",
                                       "black_long_overdue_rectification"]
    assert r.verified is False and r.note
    assert {x.list_kind for x in r.rules} == {"watch_list", "blacklist"}


# ---- confirmed_violations -------------------------------------------------------------------------

def test_one_violation_lists_on_its_confirmation_date_and_expires(rules):
    cases = [case(12, category="unapproved", confirmed=date(2024, 3, 1))]
    assert listed(rules, date(2024, 2, 29), cases, rule="w_violation") == []
    [e] = listed(rules, date(2024, 3, 1), cases, rule="w_violation")
    assert (e.list_kind, e.subject, e.valid_from, e.valid_to) == ("watch_list", "甲公司", date(2024, 3, 1),
                                                                  date(2025, 3, 1))
    assert e.evidence == (("case", 12),) and e.rules_version == "test-rules-1"
    assert "一年内违法违规" in e.reason_zh and "案件12" in e.reason_zh
    assert len(listed(rules, date(2025, 2, 28), cases, rule="w_violation")) == 1
    assert listed(rules, date(2025, 3, 1), cases, rule="w_violation") == []  # valid_to is exclusive


def test_other_categories_and_unconfirmed_cases_do_not_count(rules):
    cases = [case(1, category="compliant", confirmed=date(2024, 3, 1)), case(2, category="unapproved"),
             case(3, category=None, confirmed=date(2024, 3, 1))]
    assert listed(rules, date(2024, 6, 1), cases) == []


def test_two_violations_within_the_window_blacklist(rules):
    # 2023-01-11 → 2025-01-09 is 729 days (< 730): blacklisted from the second confirmation
    cases = [case(12, category="unapproved", confirmed=date(2023, 1, 11)),
             case(15, category="relocated", confirmed=date(2025, 1, 9))]
    assert listed(rules, date(2025, 1, 8), cases, rule="b_violations") == []
    [e] = listed(rules, date(2025, 1, 9), cases, rule="b_violations")
    assert (e.valid_from, e.valid_to) == (date(2025, 1, 9), date(2028, 1, 9))
    assert e.evidence == (("case", 12), ("case", 15))
    assert len(listed(rules, date(2028, 1, 8), cases, rule="b_violations")) == 1
    assert listed(rules, date(2028, 1, 9), cases, rule="b_violations") == []


def test_two_violations_a_full_window_apart_do_not_blacklist(rules):
    # 2023-01-10 → 2025-01-09 is exactly 730 days: outside a 730-day window
    cases = [case(12, category="unapproved", confirmed=date(2023, 1, 10)),
             case(15, category="out_of_bounds", confirmed=date(2025, 1, 9))]
    assert listed(rules, date(2025, 6, 1), cases, rule="b_violations") == []


def test_future_confirmation_does_not_count(rules):
    cases = [case(12, category="unapproved", confirmed=date(2024, 1, 1)),
             case(15, category="unapproved", confirmed=date(2024, 9, 1))]
    assert listed(rules, date(2024, 8, 31), cases, rule="b_violations") == []
    assert len(listed(rules, date(2024, 9, 1), cases, rule="b_violations")) == 1


def test_a_new_violation_renews_the_listing(rules):
    cases = [case(12, category="unapproved", confirmed=date(2024, 3, 1)),
             case(15, category="relocated", confirmed=date(2024, 12, 1))]
    [e] = listed(rules, date(2025, 1, 15), cases, rule="w_violation")  # both triggers active: the later one runs
    assert (e.valid_from, e.valid_to) == (date(2024, 12, 1), date(2025, 12, 1))
    assert e.evidence == (("case", 12), ("case", 15))
    [e] = listed(rules, date(2025, 6, 1), cases, rule="w_violation")
    assert (e.valid_from, e.valid_to) == (date(2024, 12, 1), date(2025, 12, 1))


# ---- overdue_rectification ------------------------------------------------------------------------

def test_overdue_by_one_day_watch_lists(rules):
    cases = [case(20, deadline=date(2024, 6, 30))]
    assert listed(rules, date(2024, 6, 30), cases, rule="w_overdue") == []  # the deadline day itself is in time
    [e] = listed(rules, date(2024, 7, 1), cases, rule="w_overdue")
    assert (e.valid_from, e.valid_to, e.evidence) == (date(2024, 7, 1), date(2025, 7, 1), (("case", 20),))


@pytest.mark.parametrize("rectified, closed, expected", [
    (date(2024, 6, 30), None, False),  # on time
    (date(2024, 7, 1), None, True),  # a day late: listed although rectified since
    (None, date(2024, 6, 1), False),  # closed (e.g. dismissed) before the deadline
    (date(2024, 8, 1), None, True),
    (date(2025, 1, 1), None, True),  # rectified after as_of: not yet rectified on as_of
])
def test_overdue_with_rectification(rules, rectified, closed, expected):
    cases = [case(20, deadline=date(2024, 6, 30), rectified=rectified, closed=closed)]
    assert bool(listed(rules, date(2024, 9, 1), cases, rule="w_overdue")) is expected


def test_long_overdue_blacklists_after_grace(rules):
    # deadline 2024-01-31 + 180 days grace + 1 = 2024-07-30
    cases = [case(21, deadline=date(2024, 1, 31))]
    assert listed(rules, date(2024, 7, 29), cases, rule="b_overdue") == []
    [e] = listed(rules, date(2024, 7, 30), cases, rule="b_overdue")
    assert (e.list_kind, e.valid_from, e.valid_to) == ("blacklist", date(2024, 7, 30), date(2027, 7, 30))
    rectified_in_grace = [case(21, deadline=date(2024, 1, 31), rectified=date(2024, 7, 29))]
    assert listed(rules, date(2024, 8, 1), rectified_in_grace, rule="b_overdue") == []
    assert len(listed(rules, date(2024, 8, 1), rectified_in_grace, rule="w_overdue")) == 1


def test_case_confirmed_after_as_of_is_ignored(rules):
    cases = [case(22, category="unapproved", confirmed=date(2024, 9, 2), deadline=date(2024, 1, 1))]
    assert listed(rules, date(2024, 9, 1), cases) == []


# ---- red_reports ----------------------------------------------------------------------------------

def report(rid, period_end, colour, project=5, subject="乙公司"):
    return ReportRecord(rid, subject, project, period_end, colour)


def test_two_consecutive_red_reports(rules):
    reports = [report(1, date(2024, 3, 31), "red"), report(2, date(2024, 6, 30), "yellow"),
               report(3, date(2024, 9, 30), "red"), report(4, date(2024, 12, 31), "red")]
    assert listed(rules, date(2024, 12, 30), reports=reports, rule="w_red") == []
    [e] = listed(rules, date(2024, 12, 31), reports=reports, rule="w_red")
    assert (e.valid_from, e.valid_to, e.evidence) == (date(2024, 12, 31), date(2025, 12, 31),
                                                      (("report", 3), ("report", 4)))
    assert "季报3、季报4" in e.reason_zh


def test_red_reports_of_different_projects_are_not_consecutive(rules):
    reports = [report(1, date(2024, 9, 30), "red", project=5), report(2, date(2024, 12, 31), "red", project=6)]
    assert listed(rules, date(2025, 1, 1), reports=reports, rule="w_red") == []


def test_red_reports_in_window(rules):
    # three reds of the subject's projects within 365 days: listed from the third for 100 days
    reports = [report(1, date(2024, 3, 31), "red", project=5), report(2, date(2024, 6, 30), "red", project=6),
               report(3, date(2024, 9, 30), "green", project=5), report(4, date(2025, 3, 30), "red", project=7)]
    [e] = listed(rules, date(2025, 3, 30), reports=reports, rule="b_red_window")
    assert (e.valid_from, e.valid_to) == (date(2025, 3, 30), date(2025, 7, 8))
    assert e.evidence == (("report", 1), ("report", 2), ("report", 4))
    late = reports[:3] + [report(4, date(2025, 3, 31), "red", project=7)]  # 365 days after the first
    assert listed(rules, date(2025, 3, 31), reports=late, rule="b_red_window") == []


# ---- unpaid_fees ----------------------------------------------------------------------------------

def test_unpaid_fee_after_90_days(rules):
    fees = [FeeRecord(7, "丙公司", 9, date(2024, 1, 1), Decimal("1100.00"))]
    assert listed(rules, date(2024, 3, 30), fees=fees) == []  # 2024-01-01 + 90 days = 2024-03-31
    [e] = listed(rules, date(2024, 3, 31), fees=fees)
    assert (e.rule_id, e.valid_from, e.valid_to, e.evidence) == ("w_fee", date(2024, 3, 31), date(2025, 3, 31),
                                                                 (("fee", 7),))
    paid = [FeeRecord(7, "丙公司", 9, date(2024, 1, 1), Decimal("0"))]
    assert listed(rules, date(2024, 6, 1), fees=paid) == []


# ---- together -------------------------------------------------------------------------------------

def test_order_and_both_lists(rules):
    cases = [case(1, "乙", "unapproved", date(2024, 1, 5)), case(2, "乙", "relocated", date(2024, 2, 5)),
             case(3, "甲", "out_of_bounds", date(2024, 3, 5))]
    fees = [FeeRecord(9, "甲", 1, date(2023, 12, 1), Decimal("5"))]
    entries = evaluate(rules, cases, [], fees, as_of=date(2024, 6, 1))
    assert [(e.list_kind, e.subject, e.rule_id) for e in entries] == [
        ("blacklist", "乙", "b_violations"), ("watch_list", "乙", "w_violation"),
        ("watch_list", "甲", "w_fee"), ("watch_list", "甲", "w_violation")]
    assert entries[0].evidence == (("case", 1), ("case", 2))
    assert evaluate(rules, cases[::-1], [], fees, as_of=date(2024, 6, 1)) == entries


def test_bad_records_reported_together(rules):
    with pytest.raises(InputError) as err:
        evaluate(rules, [case(1), case(1, deadline="2024-01-01")],
                 [report(1, date(2024, 3, 31), "purple"), report(2, date(2024, 3, 31), "red")],
                 [FeeRecord(3, "", 1, date(2024, 1, 1), Decimal("-1"))], as_of=datetime(2024, 6, 1))
    msg = str(err.value)
    for part in ("as_of: expected a date", "duplicate case id 1", "case 1, deadline: expected a date",
                 "report 1, colour: 'purple'", "reports 1, 2: same project 5", "fee 3: subject is empty",
                 "fee 3, outstanding"):
        assert part in msg


def test_loader_reports_every_problem(tmp_path):
    text = RULES.replace('list = "blacklist"\nkind = "overdue_rectification"', 'list = "greylist"\nkind = "x"')
    text = text.replace("{ n = 2, consecutive = true }", "{ n = 2, consecutive = true, window_days = 30 }")
    text = text.replace("{ days = 90 }", "{ dayz = 90 }")
    text = text.replace('id = "b_red_window"', 'id = "w_fee"')
    path = tmp_path / "bad_rules.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ReferenceDataError) as err:
        load_rules(path)
    msg = str(err.value)
    for part in ("bad_rules.toml", "rules #6 (b_overdue), list: 'greylist'", "rules #6 (b_overdue), kind: 'x'",
                 "rules #3 (w_red), parameters.window_days: has no meaning with consecutive = true",
                 "rules #4 (w_fee), parameters.dayz: not a parameter", "rules #4 (w_fee), parameters.days: required",
                 "duplicate id 'w_fee'"):
        assert part in msg
