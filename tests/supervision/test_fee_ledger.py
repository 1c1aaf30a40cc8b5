"""补偿费 on the store, both backends: one assessment per project, period and basis (service check and the unique
index), payments, exemptions and refunds as append-only entries with the outstanding amount, the fee's use by
treatment projects, and the CLI's exit codes.  Expected amounts are worked out by hand in the comments."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text

from shuibao.cli.main import run
from shuibao.errors import InputError, StoreError
from shuibao.services.supervision import compensation
from shuibao.services.supervision import projects as project_service
from shuibao.store import Store, schema
from shuibao.store.repositories import programs as records, treatment
from tests.helpers import project_row, square, write_layer

# P1, P2: 1.0 hm² declared, no disturbed area → 10,000 m² × 1.4 元/m² (default table, derived) = 14,000.00 元
FEE = Decimal("14000.00")

PERIODIC = """
version = "test-periodic"
status = "official"
source = "test table"

[[entries]]
id = "minerals"
category = "mineral_extraction"
name_zh = "矿产资源开采"
basis = "output_t"
charged = "periodic"
rate_status = "official"
rate = "0.5"
effective_from = 2015-01-01
source = "test"
"""


@pytest.fixture
def fdb(sdb, tmp_path):
    """Two projects in 渝北区 and a treatment project there."""
    project_service.import_projects(sdb, write_layer(tmp_path / "p.gpkg", [project_row("P1"), project_row("P2")],
                                                     [square(0, 0, 100), square(500, 0, 100)]))
    with Store(sdb) as store, store.transaction() as conn:
        district = conn.execute(select(schema.projects.c.district_codes).where(schema.projects.c.code == "P1")).scalar()
        treatment.insert_project(conn, code="T1", name="渝北区小流域治理", kind="small_watershed",
                                 district_code=district, funding_source="补偿费", created_at=datetime.now(UTC))
        treatment.insert_project(conn, code="T0", name="无区县项目", kind="small_watershed", district_code=None,
                                 funding_source=None, created_at=datetime.now(UTC))
    return sdb


def _count(db, table, where=None) -> int:
    with Store(db) as store, store.reading() as conn:
        q = select(func.count()).select_from(table)
        return int(conn.execute(q if where is None else q.where(where)).scalar())


def _audits(db, action: str) -> int:
    return _count(db, schema.audit_log, schema.audit_log.c.action == action)


# ------------------------------------------------------------------------------------------- duplicates
def test_a_duplicate_assessment_is_refused_naming_the_existing_one(fdb):
    a = compensation.assess_fee(fdb, "P1", on=date(2025, 8, 1))
    assert Decimal(a["amount_yuan"]) == FEE and a["period"] == "once" and a["rate_status"] == "derived"
    with pytest.raises(InputError) as err:
        compensation.assess_fee(fdb, "P1", on=date(2025, 9, 1))  # another day, same project, period and basis
    msg = str(err.value)
    assert f"assessment {a['assessment_id']} of 2025-08-01, 14000.00 元" in msg and "already assessed" in msg
    assert _count(fdb, schema.fee_assessments) == 1 and _audits(fdb, "fee.assess") == 1  # nothing stored
    with pytest.raises(InputError, match="charged once per project"):
        compensation.assess_fee(fdb, "P1", on=date(2025, 9, 1), period="2025")
    assert compensation.assess_fee(fdb, "P2", on=date(2025, 9, 1))["amount_yuan"] == "14000.00"  # other project


def test_a_periodic_category_is_assessed_once_per_period(fdb, tmp_path):
    rates = tmp_path / "rates.toml"
    rates.write_text(PERIODIC, encoding="utf-8")
    kw = dict(category="mineral_extraction", quantity=3001, rates=rates)
    with pytest.raises(InputError, match="give --period"):
        compensation.assess_fee(fdb, "P1", on=date(2025, 12, 31), **kw)
    a = compensation.assess_fee(fdb, "P1", on=date(2025, 12, 31), period="2025", **kw)
    assert a["amount_yuan"] == "1500.50"  # 3001 t × 0.5 元/t
    with pytest.raises(InputError, match=rf"period 2025, basis output_t is already assessed: assessment "
                                         rf"{a['assessment_id']} of 2025-12-31, 1500.50 元"):
        compensation.assess_fee(fdb, "P1", on=date(2026, 1, 5), period="2025", **kw)
    b = compensation.assess_fee(fdb, "P1", on=date(2026, 12, 31), period="2026", **kw)
    assert b["assessment_id"] != a["assessment_id"]
    # the area charge is another basis: not a duplicate of the output charges
    assert compensation.assess_fee(fdb, "P1", on=date(2026, 1, 1))["basis"] == "area_m2"


def test_the_database_refuses_a_duplicate_key(fdb):
    """The unique index uq_fee_assessments_period, without the service's check."""
    compensation.assess_fee(fdb, "P1", on=date(2025, 8, 1))
    with Store(fdb) as store, store.reading() as conn:
        row = conn.execute(select(schema.fee_assessments)).one()._asdict()
    row.pop("id")
    with pytest.raises(StoreError) as err:
        with Store(fdb) as store, store.transaction() as conn:
            records.insert_fee_assessment(conn, **dict(row, assessed_on=date(2025, 9, 1)))
    assert "unique" in str(err.value).lower() or "duplicate" in str(err.value).lower()
    assert _count(fdb, schema.fee_assessments) == 1


def test_a_racing_duplicate_is_refused_by_the_index_with_the_same_message(fdb, monkeypatch):
    """Two writers check at once and neither sees the other's row: the index refuses the second, and the service
    names the first as the check would have."""
    first = compensation.assess_fee(fdb, "P1", on=date(2025, 8, 1))
    real = compensation.rows.assessment_by_key
    calls = []

    def unseen_once(conn, *args):
        calls.append(args)
        return None if len(calls) == 1 else real(conn, *args)

    monkeypatch.setattr(compensation.rows, "assessment_by_key", unseen_once)
    with pytest.raises(InputError, match=rf"already assessed: assessment {first['assessment_id']} of 2025-08-01"):
        compensation.assess_fee(fdb, "P1", on=date(2025, 9, 1))
    assert len(calls) == 2 and _count(fdb, schema.fee_assessments) == 1 and _audits(fdb, "fee.assess") == 1


# ------------------------------------------------------------------------------------------- the ledger
def test_payments_exemptions_and_refunds(fdb):
    aid = compensation.assess_fee(fdb, "P1", on=date(2025, 8, 1))["assessment_id"]
    compensation.pay_fee(fdb, aid, paid_on=date(2025, 8, 10), amount_yuan="5000", receipt="R-1")
    # outstanding 14,000.00 − 5,000.00 = 9,000.00: one fen more is an overpayment, refused and not stored
    with pytest.raises(InputError, match=r"payment 9000.01 元 exceeds the outstanding 9000.00 元"):
        compensation.pay_fee(fdb, aid, paid_on=date(2025, 8, 11), amount_yuan="9000.01", receipt="R-2")
    assert _count(fdb, schema.fee_payments) == 1 and _audits(fdb, "fee.pay") == 1

    # 免征 of the hospital part, 4,000.00 → outstanding 9,000.00 − 4,000.00 = 5,000.00
    r = compensation.exempt_fee(fdb, aid, on=date(2025, 8, 20), rule="public_welfare", amount_yuan="4000",
                                reason="医院部分占地免征", reference="渝北水免〔2025〕1号")
    assert (r["outstanding_yuan"], r["credit_yuan"], r["rule_verified"]) == ("5000.00", "0.00", True)
    assert "财综〔2014〕8号 第十一条（一）" in r["rule_source"]
    compensation.pay_fee(fdb, aid, paid_on=date(2025, 9, 1), amount_yuan="5000.00", receipt="R-3")
    # a further exemption once all is paid: 1,000.005 rounds half up to 1,000.01, all of it refundable
    r = compensation.exempt_fee(fdb, aid, on=date(2025, 9, 15), rule="military", amount_yuan="1000.005",
                                reason="军事设施部分")
    assert (r["amount_yuan"], r["outstanding_yuan"], r["credit_yuan"]) == ("1000.01", "0.00", "1000.01")
    assert r["rule_verified"] is False  # (五) is marked unverified in the default table
    with pytest.raises(InputError, match=r"refund 1000.02 元 exceeds the credit 1000.01 元"):
        compensation.refund_fee(fdb, aid, on=date(2025, 9, 20), amount_yuan="1000.02", reason="免征后退还")
    with pytest.raises(InputError, match="reason: required"):
        compensation.refund_fee(fdb, aid, on=date(2025, 9, 20), amount_yuan="1", reason="  ")
    with pytest.raises(InputError, match="exemption 'friend' is unknown"):
        compensation.exempt_fee(fdb, aid, on=date(2025, 9, 20), rule="friend", reason="x")
    r = compensation.refund_fee(fdb, aid, on=date(2025, 9, 25), amount_yuan="1000.01", reason="免征后退还多缴部分")
    assert (r["outstanding_yuan"], r["credit_yuan"]) == ("0.00", "0.00")

    v = compensation.fee_entries(fdb, aid)
    # assessed 14,000.00; paid 10,000.00; exempted 5,000.01; refunded 1,000.01 → due 8,999.99 = net paid 8,999.99
    assert (v["amount_yuan"], v["paid_yuan"], v["exempted_yuan"], v["refunded_yuan"], v["outstanding_yuan"]) == (
        Decimal("14000.00"), Decimal("10000.00"), Decimal("5000.01"), Decimal("1000.01"), Decimal("0.00"))
    assert [(e["kind"], e["amount_yuan"], e["outstanding_yuan"], e["credit_yuan"]) for e in v["entries"]] == [
        ("payment", Decimal("5000.00"), Decimal("9000.00"), Decimal("0.00")),
        ("exemption", Decimal("4000.00"), Decimal("5000.00"), Decimal("0.00")),
        ("payment", Decimal("5000.00"), Decimal("0.00"), Decimal("0.00")),
        ("exemption", Decimal("1000.01"), Decimal("0.00"), Decimal("1000.01")),
        ("refund", Decimal("1000.01"), Decimal("0.00"), Decimal("0.00"))]
    assert v["entries"][1]["rule"] == "public_welfare" and v["entries"][1]["reference"] == "渝北水免〔2025〕1号"
    (row,) = compensation.fee_ledger(fdb, as_of=date(2025, 12, 31))
    assert (row["outstanding_yuan"], row["overdue_days"]) == (Decimal("0.00"), 0)
    # as of 2025-08-15 only the first payment counts: 14,000.00 − 5,000.00 = 9,000.00, due 2025-08-31 (30 days
    # after the assessment), so not overdue yet
    (early,) = compensation.fee_ledger(fdb, as_of=date(2025, 8, 15))
    assert (early["outstanding_yuan"], early["overdue_days"]) == (Decimal("9000.00"), 0)
    assert _audits(fdb, "fee.exempt") == 2 and _audits(fdb, "fee.refund") == 1 and _audits(fdb, "fee.pay") == 2
    # nothing is left to exempt: all due was paid or exempted
    with pytest.raises(InputError, match="exceeds what is left to exempt, 8999.99 元"):
        compensation.exempt_fee(fdb, aid, on=date(2025, 10, 1), rule="military", amount_yuan="9000", reason="x")


def test_ledger_entries_are_append_only(fdb):
    aid = compensation.assess_fee(fdb, "P1", on=date(2025, 8, 1))["assessment_id"]
    compensation.exempt_fee(fdb, aid, on=date(2025, 8, 2), rule="public_welfare", reason="学校", amount_yuan="1")
    for statement in ("UPDATE fee_adjustments SET amount_fen = 0", "DELETE FROM fee_adjustments"):
        with pytest.raises(StoreError):
            with Store(fdb) as store, store.transaction() as conn:
                conn.execute(text(statement))
    assert _count(fdb, schema.fee_adjustments) == 1


def test_the_whole_fee_exempt_by_default(fdb):
    aid = compensation.assess_fee(fdb, "P1", on=date(2025, 8, 1))["assessment_id"]
    r = compensation.exempt_fee(fdb, aid, on=date(2025, 8, 2), rule="farmer_housing", reason="自建住房")
    assert (r["amount_yuan"], r["outstanding_yuan"]) == ("14000.00", "0.00")
    with pytest.raises(InputError, match="nothing is due to exempt"):
        compensation.exempt_fee(fdb, aid, on=date(2025, 8, 3), rule="farmer_housing", reason="again")


# ------------------------------------------------------------------------------------------- the fee's use
def test_allocations_and_the_use_summary(fdb):
    a1 = compensation.assess_fee(fdb, "P1", on=date(2025, 3, 1))["assessment_id"]
    a2 = compensation.assess_fee(fdb, "P2", on=date(2025, 3, 1))["assessment_id"]
    compensation.pay_fee(fdb, a1, paid_on=date(2025, 3, 20), amount_yuan="14000", receipt="R-1")
    compensation.pay_fee(fdb, a2, paid_on=date(2025, 4, 1), amount_yuan="6000", receipt="R-2")
    compensation.exempt_fee(fdb, a2, on=date(2025, 5, 1), rule="public_welfare", amount_yuan="3000", reason="学校")
    # collected by 2025-04-01: 14,000 + 6,000 = 20,000.00
    with pytest.raises(InputError, match=r"exceeds the unallocated balance of district Yubei on 2025-03-31: 14000.00 元"):
        compensation.allocate_fee(fdb, "T1", on=date(2025, 3, 31), amount_yuan="14000.01")  # P2 not paid yet
    r = compensation.allocate_fee(fdb, "T1", on=date(2025, 6, 1), amount_yuan="12000", reference="渝北财〔2025〕9号")
    assert r["balance_yuan"] == "8000.00"  # 20,000 − 12,000
    with pytest.raises(InputError, match=r"8000.00 元"):
        compensation.allocate_fee(fdb, "T1", on=date(2025, 7, 1), amount_yuan="8000.01")
    with pytest.raises(InputError, match="no district recorded"):
        compensation.allocate_fee(fdb, "T0", on=date(2025, 7, 1), amount_yuan="1")
    with pytest.raises(InputError, match="treatment project 'T9' is not known"):
        compensation.allocate_fee(fdb, "T9", on=date(2025, 7, 1), amount_yuan="1")
    assert _count(fdb, schema.fee_allocations) == 1 and _audits(fdb, "fee.allocate") == 1
    compensation.allocate_fee(fdb, "T1", on=date(2026, 2, 1), amount_yuan="5000")  # next year: 8,000 − 5,000
    district = r["district"]
    rows = compensation.fee_use_summary(fdb)
    zero = Decimal("0.00")
    assert [(x["year"], x["district_code"], x["assessed_yuan"], x["collected_yuan"], x["exempted_yuan"],
             x["refunded_yuan"], x["allocated_yuan"], x["unallocated_yuan"]) for x in rows] == [
        (2025, district, Decimal("28000.00"), Decimal("20000.00"), Decimal("3000.00"), zero, Decimal("12000.00"),
         Decimal("8000.00")),
        (2026, district, zero, zero, zero, zero, Decimal("5000.00"), Decimal("3000.00"))]
    assert compensation.fee_use_summary(fdb, year=2026) == rows[1:]
    assert compensation.fee_use_summary(fdb, district="500000") == []
    assert [x["treatment_project"] for x in compensation.fee_allocations(fdb)] == ["T1", "T1"]


# ------------------------------------------------------------------------------------------- CLI
def _run(capsys, *args):
    code = run(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_exit_codes_and_labelled_tables(fdb, capsys):
    base = ("--db", fdb, "supervise", "--actor", "收费员")
    code, out, err = _run(capsys, *base, "fees", "assess", "P1", "--on", "2025-08-01")
    assert code == 0 and "14000.00 元" in out and "derived from approvals, unverified" in err, err
    code, out, err = _run(capsys, *base, "fees", "assess", "P1", "--on", "2025-09-01")
    assert code == 2 and "already assessed: assessment 1 of 2025-08-01, 14000.00 元" in err, err
    code, out, err = _run(capsys, *base, "fees", "assess", "P2", "--category", "excavation", "--quantity", "5")
    assert code == 2 and "row cq-excavation of" in err and "fee_rates.toml" in err
    code, out, err = _run(capsys, *base, "fees", "pay", "1", "--amount", "14000.01", "--receipt", "R-1")
    assert code == 2 and "overpayment is refused" in err
    code, out, err = _run(capsys, *base, "fees", "pay", "1", "--amount", "14000", "--receipt", "R-1",
                          "--on", "2025-08-02")
    assert code == 0, err
    code, out, err = _run(capsys, *base, "fees", "exempt", "1", "--rule", "military", "--reason", "军事设施部分",
                          "--amount", "100", "--on", "2025-08-03")
    assert code == 0 and "unverified" in err
    code, out, err = _run(capsys, *base, "fees", "refund", "1", "--amount", "100.01", "--reason", "退还")
    assert code == 2 and "exceeds the credit 100.00 元" in err
    code, out, err = _run(capsys, *base, "fees", "refund", "1", "--amount", "100", "--reason", "退还",
                          "--on", "2025-08-04")
    assert code == 0 and "outstanding 0.00 元" in out
    code, out, err = _run(capsys, *base, "fees", "allocate", "T1", "--amount", "99999", "--on", "2025-12-31")
    assert code == 2 and "exceeds the unallocated balance" in err
    code, out, err = _run(capsys, *base, "fees", "allocate", "T1", "--amount", "10000", "--on", "2025-12-31")
    assert code == 0 and "unallocated balance 3900.00 元" in out  # 14,000 − 100 − 10,000
    code, out, _ = _run(capsys, "--lang", "zh", *base, "fees", "show", "1")
    assert code == 0 and "免征" in out and "退费" in out and "军事设施" in out  # kinds and the rule by their labels
    code, out, _ = _run(capsys, "--lang", "zh", *base, "fees", "summary")
    assert code == 0 and "安排使用" in out and "未安排结余" in out and "3,900.00" in out
    code, out, _ = _run(capsys, "--lang", "zh", *base, "fees", "rates")
    assert code == 0 and "由批复推算（未核实）" in out and "未找到（待填报）" in out
    code, out, _ = _run(capsys, *base, "fees", "summary", "--format", "csv")
    assert code == 0 and out.lstrip("\ufeff").splitlines()[0] == ("year,district_code,assessed_yuan,collected_yuan,exempted_yuan,"
                                                 "refunded_yuan,allocated_yuan,unallocated_yuan")


# ------------------------------------------------------------------------------------------- migration 10
def test_migration_10_gives_older_assessments_a_period_without_guessing(db_url):
    """A store at version 8 with two area assessments of one project and a volume one: the first area row keeps
    "once", the others become "legacy-<id>", and the unique index then holds."""
    from shuibao.store.migrations import MIGRATIONS

    before = max(m.version for m in MIGRATIONS if m.version < 10)
    with Store(db_url, create=True) as store:
        store.upgrade(to=before)
    now = datetime.now(UTC)
    with Store(db_url) as store, store.transaction() as conn:
        conn.execute(text(
            "INSERT INTO projects (id, code, name, builder, industry, district_codes, approval_number, approval_date, "
            "approval_authority, plan_level, total_area_hm2, status, created_at, updated_at) VALUES (1, 'P1', 'n', "
            "'b', '公路', 'yubei', 'a', :d, 'x', 'city', 1.0, 'approved', :t, :t)"), {"d": date(2024, 1, 1), "t": now})
        for aid, basis in ((1, "area_m2"), (2, "area_m2"), (3, "volume_m3")):
            conn.execute(text(
                "INSERT INTO fee_assessments (id, project_id, assessed_on, due_on, category, basis, quantity, "
                "billable_quantity, rate_fen, amount_fen, rates_version, rate_entry, recorded_at, recorded_by) "
                "VALUES (:i, 1, :d, :d, 'general', :b, 1, 1, 110, 110, 'v', 'e', :t, 'me')"),
                {"i": aid, "b": basis, "d": date(2025, 1, aid), "t": now})
    with Store(db_url) as store:
        assert "0010" in [a.split()[0] for a in store.upgrade()]
    with Store(db_url) as store, store.reading() as conn:
        got = conn.execute(select(schema.fee_assessments.c.id, schema.fee_assessments.c.period)
                           .order_by(schema.fee_assessments.c.id)).all()
    assert [tuple(r) for r in got] == [(1, "once"), (2, "legacy-2"), (3, "legacy-3")]
    with pytest.raises(StoreError):
        with Store(db_url) as store, store.transaction() as conn:
            conn.execute(text("UPDATE fee_assessments SET period = 'once' WHERE id = 2"))
