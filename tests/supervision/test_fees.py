"""水土保持补偿费: rate-table checks and fee arithmetic.

The packaged table is an example (Guangxi's rates, Chongqing's are unknown), so
the arithmetic is tested on a table written here with rates of its own.
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
rate = "1.4"
effective_from = 2015-01-01
effective_to = 2017-07-01
source = "test"

[[entries]]
id = "new-general"
category = "general"
name_zh = "一般性生产建设项目"
basis = "area_m2"
rate = "1.1"
effective_from = 2017-07-01
source = "test"

[[entries]]
id = "minerals"
category = "mineral_extraction"
name_zh = "矿产资源开采"
basis = "output_t"
rate = 0.5
effective_from = 2015-01-01
effective_to = 2020-01-01
source = "test"

[[entries]]
id = "spoil"
category = "spoil_disposal"
name_zh = "弃土石渣"
basis = "volume_m3"
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


def test_packaged_table_is_a_marked_example():
    t = load_rate_table()
    assert t.is_example and t.status == "example" and t.verified is False
    assert "Chongqing" in t.note
    assert set(t.categories) == {"general", "mining_construction", "oil_gas_extraction", "mineral_extraction",
                                 "excavation", "spoil_disposal"}
    assert {e.basis for e in t.entries} == {"area_m2", "volume_m3", "output_t", "well_area_m2_year"}
    assert [x.key for x in t.exemptions] == ["public_welfare", "farmer_housing", "farmland_water",
                                             "affordable_housing_municipal_eco", "military", "swc_governance",
                                             "other_by_law"]
    a = assess(t, "general", 1000, on_date=date(2024, 1, 1))
    assert a.is_example and a.amount == (1000 * t.entry_for("general", date(2024, 1, 1)).rate).quantize(Decimal("0.01"))


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
    text = TABLE.replace('basis = "area_m2"\nrate = "1.1"', 'basis = "volume_m3"\nrate = "1.1"')
    text = text.replace('source = "test table"', 'source = "test table"\nverified = false')
    with pytest.raises(ReferenceDataError) as err:
        load_rate_table(write(text))
    assert "category general: entries use different bases" in str(err.value)
    assert "note: required when verified = false" in str(err.value)
