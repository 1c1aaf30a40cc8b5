"""`shuibao supervise fees …`: 水土保持补偿费 — the rate table, assessments, payments, exemptions (免征), refunds
(退费), and the fee's use: allocations to treatment projects and the summary per year and district."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Optional

import typer

from .common import Format, cli_language, emit_rows, option_date, print_json, title
from shuibao.errors import N_

fees_app = typer.Typer(help="水土保持补偿费: the rate table, assessments, payments, exemptions, refunds, and the "
                            "fee's use by treatment projects.", no_args_is_help=True)

_MONEY = ["amount_yuan", "paid_yuan", "exempted_yuan", "refunded_yuan", "outstanding_yuan", "credit_yuan"]


def _period(period: str) -> str:
    """A period as people read it: 一次性计征 for ``once``, else as given (2025, 2025Q3, …)."""
    from .. import vocabulary
    from .common import current_lang

    return vocabulary.label("fee_charged", period, current_lang())


def _warn(message) -> None:
    typer.echo(message.render(cli_language()), err=True)


def _rate_warning(a: dict) -> None:
    """Say on stderr when the rate used is not an official one (derived from approvals, or another province's)."""
    if a["rate_status"] == "derived":
        _warn(N_("warning: rate {rate} 元 (row {entry} of {path}) is derived from approvals, unverified: {refs}; "
                 "confirm it with the municipal rate document or pass --rates FILE", rate=a["rate"],
                 entry=a["rate_entry"], path=a["rates_path"], refs="; ".join(r.split(";")[0] for r in a["references"])))
    elif a["rate_status"] == "example" or a["example_rates"]:
        _warn(N_("warning: rate {rate} 元 (row {entry} of {path}) is an example from another province, not "
                 "Chongqing's; pass --rates FILE", rate=a["rate"], entry=a["rate_entry"], path=a["rates_path"]))


@fees_app.command("rates")
def fees_rates(rates: Optional[Path] = typer.Option(None, "--rates", help="Replacement rate table TOML."),
               fmt: Format = typer.Option(Format.table, "--format", "-f")):
    """The rate table in use: each category's rate and its status (official, derived, not found), the exemptions."""
    from shuibao.services.supervision.compensation import rate_table

    t = rate_table(rates)
    entries = [{"category": e.category, "basis": e.basis, "charged": e.charged, "rate_status": e.rate_status,
                "rate_yuan": e.rate, "effective_from": e.effective_from, "effective_to": e.effective_to,
                "source": e.source, "references": "; ".join(e.references), "id": e.id} for e in t.entries]
    exemptions = [{"key": x.key, "name": x.name_zh, "verified": x.verified, "source": x.source} for x in t.exemptions]
    if fmt == Format.json:
        print_json({"version": t.version, "status": t.status, "verified": t.verified, "path": str(t.path),
                    "source": t.source, "note": t.note, "entries": entries, "exemptions": exemptions})
        return
    if fmt == Format.table:
        typer.echo(f"{t.path}: {t.version} ({t.status}{'' if t.verified else ', unverified'})")
    emit_rows(title("fees.rates"), ["id", ("category", "fee_category"), ("basis", "fee_basis"),
                                    ("charged", "fee_charged"), ("rate_status", "fee_rate_status"), "rate_yuan",
                                    "effective_from", "effective_to", ("source", "fee_source"),
                                    ("references", "fee_references")], entries, fmt,
              right=["rate_yuan"])
    if fmt == Format.table:
        emit_rows(title("fees.exemptions"), [("key", "fee_exemption"), "name", ("verified", "fee_verified"),
                                                  ("source", "fee_source")], exemptions,
                  fmt)


@fees_app.command("assess")
def fees_assess(ctx: typer.Context, project: str, category: str = typer.Option("general", "--category"),
                quantity: Optional[float] = typer.Option(None, "--quantity",
                                                         help="In the rate's unit; default the disturbed area, m²."),
                period: Optional[str] = typer.Option(None, "--period",
                                                     help="For a category charged per period: 2025, 2025H1, "
                                                          "2025Q3 or 2025-07; a one-time charge has none."),
                on: Optional[str] = typer.Option(None, "--on"),
                exemption: Optional[str] = typer.Option(None, "--exemption", help="An exemption key: all exempt."),
                rates: Optional[Path] = typer.Option(None, "--rates", help="Replacement rate table TOML.")):
    """Assess a project's compensation fee with the rate in force on the date; the same project, period and basis
    twice is refused."""
    from shuibao.services.supervision.compensation import assess_fee

    a = assess_fee(ctx.obj.db, project, category=category, quantity=quantity, period=period,
                   on=option_date(on, "--on") or date.today(), exemption=exemption, rates=rates, actor=ctx.obj.actor)
    typer.echo(f"assessment {a['assessment_id']} ({_period(a['period'])}): {a['billable_quantity']} × {a['rate']} = "
               f"{a['amount_yuan']} 元" + (" (exempt)" if a["exempt"] else ""))
    _rate_warning(a)


@fees_app.command("pay")
def fees_pay(ctx: typer.Context, assessment_id: int, amount: str = typer.Option(..., "--amount", help="元"),
             receipt: str = typer.Option(..., "--receipt"), on: Optional[str] = typer.Option(None, "--on")):
    """Record a payment against an assessment (more than the outstanding amount is refused)."""
    from shuibao.services.supervision.compensation import pay_fee

    pid = pay_fee(ctx.obj.db, assessment_id, paid_on=option_date(on, "--on") or date.today(), amount_yuan=amount,
                  receipt=receipt, actor=ctx.obj.actor)
    typer.echo(f"payment {pid} recorded")


@fees_app.command("exempt")
def fees_exempt(ctx: typer.Context, assessment_id: int,
                rule: str = typer.Option(..., "--rule", help="An exemption key of the rate table (fees rates)."),
                reason: str = typer.Option(..., "--reason", help="Why: the exempt part, the decision."),
                amount: Optional[str] = typer.Option(None, "--amount", help="元; default all that is still due."),
                reference: Optional[str] = typer.Option(None, "--reference", help="The decision's document number."),
                on: Optional[str] = typer.Option(None, "--on"),
                rates: Optional[Path] = typer.Option(None, "--rates", help="Replacement rate table TOML.")):
    """Record an exemption (免征) under a rule of 财综〔2014〕8号 第十一条 as the rate table cites it."""
    from shuibao.services.supervision.compensation import exempt_fee

    r = exempt_fee(ctx.obj.db, assessment_id, on=option_date(on, "--on") or date.today(), rule=rule, reason=reason,
                   amount_yuan=amount, reference=reference, rates=rates, actor=ctx.obj.actor)
    typer.echo(f"exemption {r['adjustment_id']}: {r['amount_yuan']} 元 ({r['rule_source']}); "
               f"outstanding {r['outstanding_yuan']} 元, refundable {r['credit_yuan']} 元")
    if not r["rule_verified"]:
        _warn(N_("warning: the rule {rule} is marked unverified in the rate table ({source})", rule=r["rule"],
                 source=r["rule_source"]))


@fees_app.command("refund")
def fees_refund(ctx: typer.Context, assessment_id: int, amount: str = typer.Option(..., "--amount", help="元"),
                reason: str = typer.Option(..., "--reason", help="Why the fee is refunded (退费原因)."),
                reference: Optional[str] = typer.Option(None, "--reference", help="The decision's document number."),
                on: Optional[str] = typer.Option(None, "--on")):
    """Record a refund (退费) of what was paid beyond the amount due."""
    from shuibao.services.supervision.compensation import refund_fee

    r = refund_fee(ctx.obj.db, assessment_id, on=option_date(on, "--on") or date.today(), amount_yuan=amount,
                   reason=reason, reference=reference, actor=ctx.obj.actor)
    typer.echo(f"refund {r['adjustment_id']}: {r['amount_yuan']} 元; outstanding {r['outstanding_yuan']} 元")


@fees_app.command("list")
def fees_list(ctx: typer.Context, as_of: Optional[str] = typer.Option(None, "--as-of"),
              fmt: Format = typer.Option(Format.table, "--format", "-f")):
    """Assessments with paid, exempted, refunded and outstanding amounts."""
    from shuibao.services.supervision.compensation import fee_ledger

    emit_rows(title("fees.list"), [("assessment_id", "fee_assessment_id"), "project_code", "builder", ("category", "fee_category"),
                                   ("basis", "fee_basis"), ("period", "fee_period"), "due_on", "amount_yuan", "paid_yuan",
                                   "exempted_yuan", "refunded_yuan", "outstanding_yuan", "overdue_days"],
              fee_ledger(ctx.obj.db, option_date(as_of, "--as-of")), fmt, right=[*_MONEY, "overdue_days"])


@fees_app.command("show")
def fees_show(ctx: typer.Context, assessment_id: int, fmt: Format = typer.Option(Format.table, "--format", "-f")):
    """One assessment and its payments, exemptions and refunds, with the outstanding amount after each."""
    from shuibao.services.supervision.compensation import fee_entries

    v = fee_entries(ctx.obj.db, assessment_id)
    if fmt == Format.json:
        print_json(v)
        return
    if fmt == Format.table:
        typer.echo(f"{v['assessment_id']} {v['project_code']} {_period(v['period'])}: {v['amount_yuan']} 元, "
                   f"outstanding {v['outstanding_yuan']} 元")
    emit_rows(title("fees.show", assessment_id=v["assessment_id"]),
              ["on_date", ("kind", "fee_entry_kind"), "amount_yuan", ("reference", "fee_reference"),
               ("rule", "fee_exemption"), "reason", "outstanding_yuan", "credit_yuan", "recorded_by"],
              v["entries"], fmt, right=_MONEY)


@fees_app.command("allocate")
def fees_allocate(ctx: typer.Context, treatment_project: str = typer.Argument(..., help="A treatment project code."),
                  amount: str = typer.Option(..., "--amount", help="元"), on: Optional[str] = typer.Option(None, "--on"),
                  reference: Optional[str] = typer.Option(None, "--reference", help="The funding decision's number."),
                  note: str = typer.Option("", "--note")):
    """Allocate collected fees to a treatment project (专项用于水土流失预防和治理); beyond the district's unallocated
    balance it is refused."""
    from shuibao.services.supervision.compensation import allocate_fee

    r = allocate_fee(ctx.obj.db, treatment_project, on=option_date(on, "--on") or date.today(), amount_yuan=amount,
                     reference=reference, note=note, actor=ctx.obj.actor)
    typer.echo(f"allocation {r['allocation_id']}: {r['amount_yuan']} 元 to {treatment_project}; "
               f"unallocated balance {r['balance_yuan']} 元")


@fees_app.command("allocations")
def fees_allocations(ctx: typer.Context, fmt: Format = typer.Option(Format.table, "--format", "-f")):
    """Allocations of collected fees to treatment projects."""
    from shuibao.services.supervision.compensation import fee_allocations

    emit_rows(title("fees.allocations"), ["allocation_id", "allocated_on", "treatment_project", "treatment_name",
                                          "district_code", "amount_yuan", ("reference", "fee_reference"), "note",
                                          "recorded_by"], fee_allocations(ctx.obj.db), fmt, right=["amount_yuan"])


@fees_app.command("summary")
def fees_summary(ctx: typer.Context, year: Optional[int] = typer.Option(None, "--year"),
                 district: Optional[str] = typer.Option(None, "--district", help="A district code."),
                 fmt: Format = typer.Option(Format.table, "--format", "-f")):
    """The fee's use per year and district: assessed, collected, exempted, refunded, allocated, unallocated."""
    from shuibao.services.supervision.compensation import SUMMARY_FIELDS, fee_use_summary

    emit_rows(title("fees.summary"), ["year", "district_code", *SUMMARY_FIELDS],
              fee_use_summary(ctx.obj.db, year=year, district=district), fmt, right=list(SUMMARY_FIELDS))
