"""水土保持补偿费: rate-table checks and fee arithmetic.

The packaged table is Chongqing's draft (one rate derived from approvals, the
other categories not found), so the arithmetic is tested on a table written
here with rates of its own, and the draft's one rate on the two approvals it
was derived from.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from shuibao.errors import InputError, ReferenceDataError
from shuibao.supervision.fees import assess, load_rate_table

TABLE = """
version = "test-2"
status = "official"
source = "test table"

[[entries]]
id = "old-general"
category = "general"
name_zh = "一般性生产建设项目"
basis = "area_m2"
charged = "once"
rate_status = "official"
rate = "1.4"
effective_from = 2015-01-01
effective_to = 2017-07-01
source = "test"

[[entries]]
id = "new-general"
category = "general"
name_zh = "一般性生产建设项目"
basis = "area_m2"
charged = "once"
rate_status = "official"
rate = "1.1"
effective_from = 2017-07-01
source = "test"

[[entries]]
id = "minerals"
category = "mineral_extraction"
name_zh = "矿产资源开采"
basis = "output_t"
charged = "periodic"
rate_status = "official"
rate = 0.5
effective_from = 2015-01-01
effective_to = 2020-01-01
source = "test"

[[entries]]
id = "spoil"
category = "spoil_disposal"
name_zh = "弃土石渣"
basis = "volume_m3"
charged = "periodic"
rate_status = "official"
rate = 1
effective_from = "2015-01-01"
source = "test"

[[exemptions]]
key = "military"
name_zh = "建设军事设施"
source = "test"

[[exemptions]]
key = "public_welfare"
name_zh = "公益性工程"
"""


@pytest.fixture
def write(tmp_path):
    def w(text: str):
        path = tmp_path / "rates.toml"
        path.write_text(text, encoding="utf-8")
        return path
    return w


@pytest.fixture
def table(write):
    return load_rate_table(write(TABLE))


def test_default_table_cites_its_source_or_says_unverified():
    t = load_rate_table()
    assert t.path.name == "fee_rates.toml" and t.version.startswith("chongqing") and t.status == "draft"
    assert t.verified is False and not t.is_example and "not found" in t.note
    assert "财综〔2014〕8号" in t.source and "Chongqing rate document: not found" in t.source
    assert set(t.categories) == {"general", "mining_construction", "oil_gas_extraction", "mineral_extraction",
                                 "excavation", "spoil_disposal"}
    for e in t.entries:  # no row claims to be the official standard; each says what it rests on
        assert e.rate_status in ("derived", "not_found") and e.source
        if e.rate_status == "not_found":
            assert e.rate is None and e.effective_from is None and e.source.startswith("NOT FOUND")
        else:
            assert "DERIVED FROM APPROVALS, UNVERIFIED" in e.source and e.references
    (general,) = [e for e in t.entries if e.has_rate]
    assert (general.id, general.category, general.basis, general.rate) == ("cq-general", "general", "area_m2",
                                                                           Decimal("1.4"))
    assert any("永水许可〔2023〕154号" in r for r in general.references)
    assert any("G4223" in r for r in general.references)
    # the evidence, by hand: 12.096 万元 for 8.64 hm², 107.142 万元 for 76.53 hm²
    assert Decimal("120960") / Decimal("86400") == Decimal("1071420") / Decimal("765300") == Decimal("1.4")
    verified = {x.key: x for x in t.exemptions}
    assert [k for k, x in verified.items() if x.verified] == ["public_welfare", "farmer_housing"]
    for x in t.exemptions:
        assert "财综〔2014〕8号 第十一条" in x.source
        assert ("http" in x.source) if x.verified else ("UNVERIFIED" in x.source)


def test_default_table_reproduces_the_approvals_it_was_derived_from():
    t = load_rate_table()
    assert assess(t, "general", 86400, on_date=date(2023, 12, 7)).amount == Decimal("120960.00")
    assert assess(t, "general", 765300, on_date=date(2023, 12, 7)).amount == Decimal("1071420.00")
    a = assess(t, "general", Decimal("10.075"), on_date=date(2026, 1, 1))
    assert a.amount == Decimal("14.11")  # 10.075 × 1.4 = 14.105 → half up (half-even would give 14.10)
    assert a.rate_status == "derived" and a.charged == "once"
    assert assess(t, "general", Decimal("0.5"), on_date=date(2026, 1, 1)).amount == Decimal("1.40")  # 不足1平方米按1


@pytest.mark.parametrize("category, row", [("mining_construction", "cq-mining-construction"),
                                           ("mineral_extraction", "cq-mineral-extraction"),
                                           ("oil_gas_extraction", "cq-oil-gas-extraction"),
                                           ("excavation", "cq-excavation"), ("spoil_disposal", "cq-spoil")])
def test_default_table_refuses_a_category_without_a_rate(category, row):
    t = load_rate_table()
    with pytest.raises(InputError) as err:
        assess(t, category, 100, on_date=date(2026, 1, 1))
    msg = str(err.value)
    assert f"row {row} of {t.path}" in msg and "has no rate" in msg and "--rates FILE" in msg


def test_the_guangxi_table_is_kept_as_a_marked_example():
    from pathlib import Path

    t = load_rate_table(Path(__file__).parents[2] / "docs" / "examples" / "fee_rates.example-guangxi-2017.toml")
    assert t.is_example and all(e.rate_status == "example" and e.has_rate for e in t.entries)
    assert assess(t, "general", 1000, on_date=date(2024, 1, 1)).amount == Decimal("1100.00")  # 1000 m² × 1.1


def test_official_table_is_not_example(table):
    assert not table.is_example and table.version == "test-2"


def test_area_fee(table):
    a = assess(table, "general", 2500, on_date=date(2024, 5, 1))
    assert a.amount == Decimal("2750.00")
    assert (a.basis, a.unit, a.rate, a.entry_id, a.table_version) == ("area_m2", "m²", Decimal("1.1"), "new-general",
                                                                       "test-2")
    assert a.quantity == a.billable_quantity == Decimal(2500)
    assert not a.exempt and a.exemption_key is None


@pytest.mark.parametrize("quantity, billable, amount", [
    (0.4, "1", "1.10"), (Decimal("0.999"), "1", "1.10"), (1, "1", "1.10"), (1.5, "1.5", "1.65"), (0, "0", "0.00"),
])
def test_area_under_one_square_metre_counts_as_one(table, quantity, billable, amount):
    a = assess(table, "general", quantity, on_date=date(2024, 5, 1))
    assert a.billable_quantity == Decimal(billable) and a.amount == Decimal(amount)


def test_one_square_metre_rule_is_for_area_only(table):
    a = assess(table, "spoil_disposal", 0.4, on_date=date(2024, 5, 1))
    assert a.billable_quantity == Decimal("0.4") and a.amount == Decimal("0.40")


@pytest.mark.parametrize("quantity, amount", [
    ("10.15", "11.17"),  # 11.165 → half up (half-even would give 11.16)
    ("10.05", "11.06"),  # 11.055
    ("12345.675", "13580.24"),  # 13580.2425
])
def test_amount_rounds_half_up_to_the_fen(table, quantity, amount):
    assert assess(table, "general", Decimal(quantity), on_date=date(2024, 5, 1)).amount == Decimal(amount)


def test_output_basis_half_up(table):
    a = assess(table, "mineral_extraction", Decimal("0.01"), on_date=date(2019, 1, 1))
    assert a.amount == Decimal("0.01")  # 0.005 元 → 0.01
    assert assess(table, "mineral_extraction", 3000, on_date=date(2019, 1, 1)).amount == Decimal("1500.00")


def test_int_float_decimal_quantities_agree(table):
    amounts = {assess(table, "general", q, on_date=date(2024, 5, 1)).amount for q in (12, 12.0, Decimal("12"))}
    assert amounts == {Decimal("13.20")}


@pytest.mark.parametrize("day, entry, rate", [
    (date(2015, 1, 1), "old-general", "1.4"),  # effective_from is inclusive
    (date(2017, 6, 30), "old-general", "1.4"),
    (date(2017, 7, 1), "new-general", "1.1"),  # effective_to is exclusive
    (date(2099, 1, 1), "new-general", "1.1"),
])
def test_entry_in_force_on_the_date(table, day, entry, rate):
    a = assess(table, "general", 100, on_date=day)
    assert (a.entry_id, a.rate, a.on_date) == (entry, Decimal(rate), day)


def test_no_entry_in_force(table):
    with pytest.raises(InputError) as err:
        assess(table, "general", 100, on_date=date(2014, 12, 31))
    assert "'general'" in str(err.value) and "2014-12-31" in str(err.value)
    assert "2015-01-01 to 2017-07-01; 2017-07-01 to open end" in str(err.value)
    with pytest.raises(InputError, match=r"'mineral_extraction'.*2020-01-01.*2015-01-01 to 2020-01-01"):
        assess(table, "mineral_extraction", 100, on_date=date(2020, 1, 1))


def test_exemption(table):
    a = assess(table, "general", 5000, on_date=date(2024, 5, 1), exemption="military")
    assert a.exempt and a.amount == Decimal("0.00")
    assert (a.exemption_key, a.exemption_name_zh) == ("military", "建设军事设施")
    assert a.billable_quantity == Decimal(5000) and a.rate == Decimal("1.1")


def test_unknown_category_and_exemption_list_valid_keys(table):
    with pytest.raises(InputError) as err:
        assess(table, "golf", 1, on_date=date(2024, 5, 1), exemption="friend")
    msg = str(err.value)
    assert "'golf' is unknown; valid: general, mineral_extraction, spoil_disposal" in msg
    assert "'friend' is unknown; valid: military, public_welfare" in msg


@pytest.mark.parametrize("quantity", [-1, -0.01, float("nan"), float("inf"), Decimal("-Infinity"), True, "12", None])
def test_bad_quantity(table, quantity):
    with pytest.raises(InputError, match="quantity"):
        assess(table, "general", quantity, on_date=date(2024, 5, 1))


def test_bad_date(table):
    with pytest.raises(InputError, match="on_date"):
        assess(table, "general", 1, on_date="2024-05-01")


def test_loader_refuses_overlapping_periods(write):
    text = TABLE.replace("effective_to = 2017-07-01\n", "effective_to = 2017-07-02\n")
    pattern = r"rates\.toml: 1 problem\(s\):\n  - category general: entries old-general .* new-general .* overlap"
    with pytest.raises(ReferenceDataError, match=pattern):
        load_rate_table(write(text))
    open_ended = TABLE.replace("effective_to = 2017-07-01\n", "")
    with pytest.raises(ReferenceDataError, match="overlap"):
        load_rate_table(write(open_ended))


def test_loader_reports_every_problem(write):
    text = (TABLE.replace('basis = "output_t"', 'basis = "output_kg"')
            .replace('rate = "1.4"', 'rate = "-1"')
            .replace('id = "spoil"', 'id = "minerals"')
            .replace('status = "official"', 'status = "maybe"')
            .replace("effective_to = 2020-01-01", "effective_to = 2014-01-01"))
    with pytest.raises(ReferenceDataError) as err:
        load_rate_table(write(text))
    msg = str(err.value)
    for part in ("rates.toml", "status: 'maybe'", "entries #1 (old-general), rate", "entries #3 (minerals), basis",
                 "entries #3 (minerals): effective_to 2014-01-01 must be after effective_from 2015-01-01",
                 "duplicate id 'minerals'"):
        assert part in msg


def test_loader_refuses_mixed_bases_and_unverified_without_note(write):
    text = TABLE.replace('basis = "area_m2"\ncharged = "once"\nrate_status = "official"\nrate = "1.1"',
                         'basis = "volume_m3"\ncharged = "once"\nrate_status = "official"\nrate = "1.1"')
    text = text.replace('source = "test table"', 'source = "test table"\nverified = false')
    with pytest.raises(ReferenceDataError) as err:
        load_rate_table(write(text))
    assert "category general: entries use different bases" in str(err.value)
    assert "note: required when verified = false" in str(err.value)


def test_loader_checks_the_rate_status_rules(write):
    not_found_with_rate = TABLE.replace('rate_status = "official"\nrate = "1.4"', 'rate_status = "not_found"\nrate = "1.4"')
    with pytest.raises(ReferenceDataError) as err:
        load_rate_table(write(not_found_with_rate))
    assert "entries #1 (old-general), rate: a row whose rate is not found has no rate" in str(err.value)
    assert "a row marked not_found must be the category's only row" not in str(err.value)  # the row was refused
    derived = TABLE.replace('rate_status = "official"\nrate = "1.4"', 'rate_status = "derived"\nrate = "1.4"')
    with pytest.raises(ReferenceDataError, match=r"old-general\), references: required for a derived rate"):
        load_rate_table(write(derived))
    lonely = TABLE.replace('rate_status = "official"\nrate = "1.4"\neffective_from = 2015-01-01\neffective_to = 2017-07-01',
                           'rate_status = "not_found"')
    with pytest.raises(ReferenceDataError, match="category general: a row marked not_found must be the category's only"):
        load_rate_table(write(lonely))
    with pytest.raises(ReferenceDataError, match=r"charged: 'twice' is not one of once, periodic"):
        load_rate_table(write(TABLE.replace('charged = "periodic"', 'charged = "twice"', 1)))


@pytest.mark.parametrize("charged, given, period", [("once", None, "once"), ("once", "once", "once"),
                                                    ("periodic", "2025", "2025"), ("periodic", " 2025Q3 ", "2025Q3"),
                                                    ("periodic", "2025H1", "2025H1"),
                                                    ("periodic", "2025-07", "2025-07")])
def test_assessment_period(charged, given, period):
    from shuibao.supervision.fees import assessment_period

    assert assessment_period(charged, given) == period


@pytest.mark.parametrize("charged, given", [("once", "2025"), ("periodic", None), ("periodic", "2025Q5"),
                                            ("periodic", "2025-13"), ("periodic", "25")])
def test_assessment_period_refused(charged, given):
    from shuibao.supervision.fees import assessment_period

    with pytest.raises(InputError, match="period"):
        assessment_period(charged, given)


def test_balance_and_entry_limits():
    from shuibao.supervision.fees import Balance, check_entry, money

    # assessed 1,000.00; exempted 300.00; paid 800.00; refunded 50.00 → due 700.00, net paid 750.00
    b = Balance(Decimal("1000.00"), Decimal("800.00"), Decimal("300.00"), Decimal("50.00"))
    assert (b.due, b.net_paid, b.outstanding, b.credit) == (Decimal("700.00"), Decimal("750.00"), Decimal("0.00"),
                                                           Decimal("50.00"))
    check_entry(b, "refund", Decimal("50.00"))
    with pytest.raises(InputError, match=r"refund 50.01 元 exceeds the credit 50.00 元"):
        check_entry(b, "refund", Decimal("50.01"))
    with pytest.raises(InputError, match=r"payment 0.01 元 exceeds the outstanding 0.00 元"):
        check_entry(b, "payment", Decimal("0.01"))
    check_entry(b, "exemption", Decimal("700.00"))
    with pytest.raises(InputError, match=r"exemption 700.01 元 exceeds what is left to exempt, 700.00 元"):
        check_entry(b, "exemption", Decimal("700.01"))
    assert money("12.345") == Decimal("12.35") and money("12.344") == Decimal("12.34") and money(7) == Decimal("7.00")
    for bad in ("NaN", "abc", "-1", "0", "0.004", "Infinity", True):
        with pytest.raises(InputError, match="amount"):
            money(bad)
