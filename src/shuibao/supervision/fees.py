"""水土保持补偿费 (compensation fee) from a dated, versioned rate table.

National basis: 财综〔2014〕8号 (collection and use; 第十一条 exemptions) and 发改价格〔2014〕886号
(standards), reduced by 发改价格〔2017〕1186号; each province sets its rates.  Chongqing's rate document was
not found (research notes issue 19 §3.2), so the packaged ``data/fee_rates.toml`` is a draft: the
general-project rate 1.4 元/m² derived from two approvals (``rate_status = "derived"``, unverified) and
every other category ``rate_status = "not_found"`` with no rate; assessing such a category is refused with
the row and the file named.  An authority passes its own table (``load_rate_table(path)``).

For one charge::

    billable = max(quantity, 1)  if basis == "area_m2" and 0 < quantity < 1   (不足1平方米的按1平方米计)
             = quantity          otherwise
    amount   = round_half_up(billable × rate, 0.01 元);   amount = 0 when exempt

where ``rate`` is that of the category's entry in force on the charge date
(``effective_from ≤ date < effective_to``; no ``effective_from``: start unknown, any date).  Bases:
``area_m2`` (occupied or disturbed land, m²), ``volume_m3`` (m³ of earth, sand, stone or spoil),
``output_t`` (tonnes mined), ``well_area_m2_year`` (well-site area × years of extraction, m²·a).  A
category is charged ``once`` (one assessment per project and basis, period ``once``) or ``periodic`` (one
per project, basis and period: ``2025``, ``2025H1``, ``2025Q3`` or ``2025-07``).  Exemptions (免征,
财综〔2014〕8号 第十一条, each marked verified or not) are data in the same file.

The ledger of an assessment (:func:`balance`)::

    due         = assessed − exempted
    outstanding = due − (paid − refunded)          (never below 0: overpayment is refused)
    credit      = (paid − refunded) − due          (> 0 only after an exemption granted once paid: refundable)
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from numbers import Real
from pathlib import Path
from typing import cast

from ..errors import InputError, ReferenceDataError, raise_issues, N_, Text
from ..datafiles import header as _header, read_toml as _read_toml

BASES = {"area_m2": "m²", "volume_m3": "m³", "output_t": "t", "well_area_m2_year": "m²·a"}
STATUSES = ("example", "draft", "official")
RATE_STATUSES = ("official", "derived", "example", "not_found")
"""official: read in the rate document; derived: computed from published approvals (unverified); example: another
province's value; not_found: no rate known, a bureau must fill it in (assessing the category is refused)."""
CHARGED = ("once", "periodic")
ONCE = "once"
CENT = Decimal("0.01")
_KEY = re.compile(r"^[a-z][a-z0-9_]*$")
_PERIOD = re.compile(r"^(19|20)\d\d(H[12]|Q[1-4]|-(0[1-9]|1[0-2]))?$")
_TOP_KEYS = {"version", "status", "source", "verified", "note", "entries", "exemptions"}
_ENTRY_KEYS = {"id", "category", "name_zh", "basis", "charged", "rate_status", "rate", "effective_from",
               "effective_to", "source", "references"}


@dataclass(frozen=True)
class RateEntry:
    id: str
    category: str
    name_zh: str
    basis: str
    rate: Decimal | None  # 元 per unit of basis; None when rate_status is not_found
    effective_from: date | None  # inclusive; None = start not known
    effective_to: date | None  # exclusive; None = until replaced
    source: str
    charged: str = ONCE  # once | periodic
    rate_status: str = "official"
    references: tuple[str, ...] = ()

    @property
    def has_rate(self) -> bool:
        return self.rate is not None

    def in_force(self, day: date) -> bool:
        return (self.has_rate and (self.effective_from is None or self.effective_from <= day)
                and (self.effective_to is None or day < self.effective_to))

    def period(self) -> str:
        return f"{self.effective_from or 'start unknown'} to {self.effective_to or 'open end'}"


@dataclass(frozen=True)
class Exemption:
    key: str
    name_zh: str
    source: str
    verified: bool = False


@dataclass(frozen=True)
class RateTable:
    version: str
    status: str  # 'example' | 'draft' | 'official'
    source: str
    verified: bool
    note: str
    entries: tuple[RateEntry, ...]
    exemptions: tuple[Exemption, ...]
    path: Path

    @property
    def is_example(self) -> bool:
        """True for a stand-in table (the packaged one): amounts from it are not Chongqing's fees."""
        return self.status == "example"

    @property
    def categories(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(e.category for e in self.entries))

    def entry_for(self, category: str, on_date: date) -> RateEntry:
        """The category's entry in force on ``on_date``; InputError if none is (naming the row to fill in when
        the category's rate is not found)."""
        entries = [e for e in self.entries if e.category == category]
        if not entries:
            raise InputError(N_("fee category {category!r} is unknown; valid: {categories}", category=category, categories=', '.join(self.categories)))
        missing = [e for e in entries if not e.has_rate]
        if missing:
            raise InputError(N_("fee category {category!r} ({name_zh}) has no rate: row {id} of {path} is marked "
                                "not found; a bureau must fill in its rate, effective_from and source "
                                "(rate_status = \"official\"), or pass its own table with --rates FILE",
                                category=category, name_zh=missing[0].name_zh, id=missing[0].id, path=self.path))
        for e in entries:
            if e.in_force(on_date):
                return e
        covered = "; ".join(e.period() for e in sorted(entries, key=lambda e: e.effective_from or date.min))
        raise InputError(N_("fee category {category!r}: no rate in force on {on_date} in table {version} "
                         "(the table covers {covered}, end dates exclusive)", category=category, on_date=on_date, version=self.version, covered=covered))


@dataclass(frozen=True)
class Assessment:
    category: str
    name_zh: str
    basis: str
    unit: str
    quantity: Decimal
    billable_quantity: Decimal
    rate: Decimal
    amount: Decimal  # 元, to 0.01, ROUND_HALF_UP; 0.00 when exempt
    on_date: date
    entry_id: str
    table_version: str
    is_example: bool
    exempt: bool
    exemption_key: str | None
    exemption_name_zh: str | None
    charged: str = ONCE
    rate_status: str = "official"
    exemption_verified: bool | None = None
    exemption_source: str | None = None


def _decimal(value) -> Decimal | None:
    """A finite Decimal from an int, float, Decimal or decimal string, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    try:
        d = Decimal(str(value)) if isinstance(value, (Real, str)) else value if isinstance(value, Decimal) else None
    except InvalidOperation:
        return None
    return d if d is not None and d.is_finite() else None


def _date(value) -> date | None:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _entry(n: int, item, problems: list[Text | str]) -> RateEntry | None:
    where = f"entries #{n}" + (f" ({item.get('id')})" if isinstance(item, dict) and item.get("id") else "")
    if not isinstance(item, dict):
        problems.append(N_("{where}: expected a table", where=where))
        return None
    before = len(problems)
    problems += [N_("{where}, {k}: unknown field", where=where, k=k) for k in item if k not in _ENTRY_KEYS]
    for k in ("id", "name_zh", "source"):
        if not isinstance(item.get(k), str) or not item[k].strip():
            problems.append(N_("{where}, {k}: required, a non-empty string", where=where, k=k))
    category, basis = item.get("category"), item.get("basis")
    if not isinstance(category, str) or not _KEY.match(category):
        problems.append(N_("{where}, category: expected a lower-case key such as 'general', found {category!r}", where=where, category=category))
    if basis not in BASES:
        problems.append(N_("{where}, basis: {basis!r} is not one of {BASES}", where=where, basis=basis, BASES=', '.join(BASES)))
    charged, status = item.get("charged"), item.get("rate_status")
    if charged not in CHARGED:
        problems.append(N_("{where}, charged: {charged!r} is not one of {choices}", where=where, charged=charged,
                           choices=", ".join(CHARGED)))
    if status not in RATE_STATUSES:
        problems.append(N_("{where}, rate_status: {status!r} is not one of {choices}", where=where, status=status,
                           choices=", ".join(RATE_STATUSES)))
    refs = item.get("references", [])
    if not isinstance(refs, list) or not all(isinstance(r, str) and r.strip() for r in refs):
        problems.append(N_("{where}, references: expected a list of non-empty strings (文号, address)", where=where))
        refs = []
    rate = start = end = None
    if status == "not_found":
        problems += [N_("{where}, {k}: a row whose rate is not found has no {k}; set rate_status = \"official\" "
                        "when filling it in", where=where, k=k)
                     for k in ("rate", "effective_from", "effective_to") if k in item]
    else:
        rate = _decimal(item.get("rate"))
        if rate is None or rate < 0:
            problems.append(N_("{where}, rate: expected a non-negative number of 元 such as \"1.1\", "
                            "found {get!r}", where=where, get=item.get('rate')))
        start, end = _date(item.get("effective_from")), _date(item.get("effective_to"))
        if "effective_from" in item and start is None:
            problems.append(N_("{where}, effective_from: expected a date such as 2017-07-01, "
                            "found {get!r}", where=where, get=item.get('effective_from')))
        if "effective_to" in item and end is None:
            problems.append(N_("{where}, effective_to: expected a date such as 2020-01-01, "
                            "found {get!r}", where=where, get=item.get('effective_to')))
        if start is not None and end is not None and end <= start:
            problems.append(N_("{where}: effective_to {end} must be after effective_from {start}", where=where, end=end, start=start))
        if status == "derived" and not refs:
            problems.append(N_("{where}, references: required for a derived rate (the approvals it is derived from)",
                               where=where))
    if len(problems) > before:
        return None
    # each field was checked above (a problem returned None)
    return RateEntry(item["id"].strip(), cast(str, category), item["name_zh"].strip(), cast(str, basis),
                     rate, start, end, item["source"].strip(), cast(str, charged), cast(str, status),
                     tuple(r.strip() for r in refs))


def load_rate_table(path: Path | str | None = None) -> RateTable:
    """Read and check a fee-rate table; every problem is reported in one ReferenceDataError."""
    p, doc = _read_toml(path, "fee_rates.toml")
    problems: list[Text | str] = []
    version, source, verified, note = _header(doc, problems)
    problems += [N_("{k}: unknown key (expected one of {TOP_KEYS})", k=k, TOP_KEYS=', '.join(sorted(_TOP_KEYS)))
                 for k in doc if k not in _TOP_KEYS]
    status = doc.get("status")
    if status not in STATUSES:
        problems.append(N_("status: {status!r} is not one of {STATUSES}", status=status, STATUSES=', '.join(STATUSES)))
    raw = doc.get("entries")
    if not isinstance(raw, list) or not raw:
        problems.append(N_("entries: required, a list of [[entries]] tables"))
        raw = []
    entries = [e for e in (_entry(n, item, problems) for n, item in enumerate(raw, start=1)) if e is not None]
    ids = [item["id"].strip() for item in raw if isinstance(item, dict) and isinstance(item.get("id"), str)]
    problems += [N_("entries: duplicate id {i!r}", i=i) for i in sorted({i for i in ids if ids.count(i) > 1})]
    for category in dict.fromkeys(e.category for e in entries):
        mine = sorted((e for e in entries if e.category == category), key=lambda e: e.effective_from or date.min)
        bases = sorted({e.basis for e in mine})
        if len(bases) > 1:
            problems.append(N_("category {category}: entries use different bases ({bases})", category=category, bases=', '.join(bases)))
        if len({e.charged for e in mine}) > 1:
            problems.append(N_("category {category}: entries differ in charged (once or periodic)", category=category))
        if len(mine) > 1 and any(not e.has_rate for e in mine):
            problems.append(N_("category {category}: a row marked not_found must be the category's only row; "
                               "replace it when filling in the rate", category=category))
            continue
        for a, b in zip(mine, mine[1:]):
            if a.effective_to is None or b.effective_from is None or a.effective_to > b.effective_from:
                problems.append(N_("category {category}: entries {id} ({a}) and {id2} ({b}) "
                                "overlap; end the earlier one (effective_to) on or before the later one starts", category=category, id=a.id, a=a.period(), id2=b.id, b=b.period()))

    exemptions: list[Exemption] = []
    raw_ex = doc.get("exemptions", [])
    if not isinstance(raw_ex, list):
        problems.append(N_("exemptions: expected a list of [[exemptions]] tables"))
        raw_ex = []
    for n, item in enumerate(raw_ex, start=1):
        key = item.get("key") if isinstance(item, dict) else None
        where = f"exemptions #{n}" + (f" ({key})" if isinstance(key, str) else "")
        if not isinstance(item, dict):
            problems.append(N_("{where}: expected a table with key, name_zh, source", where=where))
            continue
        problems += [N_("{where}, {k}: unknown field", where=where, k=k) for k in item
                     if k not in ("key", "name_zh", "source", "verified")]
        name, src, checked = item.get("name_zh"), item.get("source", ""), item.get("verified", False)
        if not isinstance(checked, bool):
            problems.append(N_("{where}, verified: expected true or false, found {checked!r}", where=where, checked=checked))
            checked = False
        ok = isinstance(key, str) and bool(_KEY.match(key))
        if not ok:
            problems.append(N_("{where}, key: expected a lower-case key such as 'military', found {key!r}", where=where, key=key))
        if not isinstance(name, str) or not name.strip():
            problems.append(N_("{where}, name_zh: required, a non-empty string", where=where))
            ok = False
        if not isinstance(src, str):
            problems.append(N_("{where}, source: expected a string", where=where))
            ok = False
        if ok:
            exemptions.append(Exemption(cast(str, key), cast(str, name).strip(), src.strip(), checked))  # ok: both str
    keys = [x.key for x in exemptions]
    problems += [N_("exemptions: duplicate key {k!r}", k=k) for k in sorted({k for k in keys if keys.count(k) > 1})]
    if problems:
        raise_issues(problems, str(p), error=ReferenceDataError)
    return RateTable(version, cast(str, status), source, verified, note, tuple(entries), tuple(exemptions), p)


def assess(table: RateTable, category: str, quantity, *, on_date: date,
           exemption: str | None = None) -> Assessment:
    """The fee for ``quantity`` (in the category's basis unit) charged on ``on_date``."""
    problems: list[Text | str] = []
    if category not in table.categories:
        problems.append(N_("fee category {category!r} is unknown; valid: {categories}", category=category, categories=', '.join(table.categories)))
    ex = None
    if exemption is not None:
        ex = next((x for x in table.exemptions if x.key == exemption), None)
        if ex is None:
            valid = ", ".join(x.key for x in table.exemptions) or "none in this table"
            problems.append(N_("exemption {exemption!r} is unknown; valid: {valid}", exemption=exemption, valid=valid))
    q = _decimal(quantity) if not isinstance(quantity, str) else None
    if q is None:
        problems.append(N_("quantity: expected a finite number, found {quantity!r}", quantity=quantity))
    elif q < 0:
        problems.append(N_("quantity: {quantity} is negative", quantity=quantity))
    if isinstance(on_date, datetime):
        on_date = on_date.date()
    if not isinstance(on_date, date):
        problems.append(N_("on_date: expected a date, found {on_date!r}", on_date=on_date))
    if problems:
        raise_issues(problems, N_("fee assessment"))
    assert q is not None  # a missing quantity was a problem raised above
    entry = table.entry_for(category, on_date)
    rate = cast(Decimal, entry.rate)  # entry_for returns a row with a rate
    billable = Decimal(1) if entry.basis == "area_m2" and 0 < q < 1 else q
    amount = Decimal(0) if ex is not None else billable * rate
    return Assessment(category, entry.name_zh, entry.basis, BASES[entry.basis], q, billable, rate,
                      amount.quantize(CENT, rounding=ROUND_HALF_UP), on_date, entry.id, table.version,
                      table.is_example, ex is not None, ex.key if ex else None, ex.name_zh if ex else None,
                      entry.charged, entry.rate_status, ex.verified if ex else None, ex.source if ex else None)


def assessment_period(charged: str, period: str | None) -> str:
    """The period an assessment covers: ``once`` for a one-time charge, else a given year, half, quarter or month
    (the key, with project and basis, of the duplicate check)."""
    text = (period or "").strip()
    if charged == ONCE:
        if text and text != ONCE:
            raise InputError(N_("period {period!r}: this category is charged once per project (一次性计征); "
                                "leave --period out", period=period))
        return ONCE
    if not _PERIOD.match(text):
        raise InputError(N_("period: this category is charged per period; give --period as a year, half, quarter "
                            "or month such as 2025, 2025H1, 2025Q3 or 2025-07 (found {period!r})", period=period))
    return text


@dataclass(frozen=True)
class Balance:
    """An assessment's ledger in 元: see the module docstring."""
    assessed: Decimal
    paid: Decimal
    exempted: Decimal
    refunded: Decimal

    @property
    def due(self) -> Decimal:
        return self.assessed - self.exempted

    @property
    def net_paid(self) -> Decimal:
        return self.paid - self.refunded

    @property
    def outstanding(self) -> Decimal:
        return max(self.due - self.net_paid, Decimal(0)).quantize(CENT)

    @property
    def credit(self) -> Decimal:
        return max(self.net_paid - self.due, Decimal(0)).quantize(CENT)


def money(value) -> Decimal:
    """A positive amount of 元 from a decimal string or number, half-up to the fen; InputError otherwise."""
    d: Decimal | None
    try:
        d = None if isinstance(value, bool) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        d = None
    if d is None or not d.is_finite():
        raise InputError(N_("amount {value!r} is not a number of 元", value=value))
    d = d.quantize(CENT, rounding=ROUND_HALF_UP)
    if d <= 0:
        raise InputError(N_("amount {value} must be positive", value=d))
    return d


def check_entry(b: Balance, kind: str, amount: Decimal) -> None:
    """Refuse a payment beyond the outstanding amount, an exemption beyond what is still due, and a refund beyond
    the credit (what was paid beyond the amount due)."""
    if kind == "payment" and amount > b.outstanding:
        raise InputError(N_("payment {amount} 元 exceeds the outstanding {outstanding} 元 (assessed {assessed}, "
                            "exempted {exempted}, paid {paid}, refunded {refunded}); overpayment is refused",
                            amount=amount, outstanding=b.outstanding, assessed=b.assessed, exempted=b.exempted,
                            paid=b.paid, refunded=b.refunded))
    if kind == "exemption" and amount > b.due:
        raise InputError(N_("exemption {amount} 元 exceeds what is left to exempt, {due} 元 (assessed {assessed} "
                            "less exempted {exempted})", amount=amount, due=b.due,
                            assessed=b.assessed, exempted=b.exempted))
    if kind == "refund" and amount > b.credit:
        raise InputError(N_("refund {amount} 元 exceeds the credit {credit} 元 (paid {paid} − refunded {refunded} − "
                            "due {due}); a refund returns only what was paid beyond the amount due", amount=amount,
                            credit=b.credit, paid=b.paid, refunded=b.refunded, due=b.due))
