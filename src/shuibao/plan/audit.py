"""Audit of the plan's tables: re-derive every total, sub-total and share, cross-check tables.

The audit is a set of *rules over the data*, not a list of known errors: each
rule recomputes a printed number from the other printed numbers it depends on
and compares.  Tolerance comes from :mod:`shuibao.plan.interval`: a stated value
is ``inconsistent`` only when no rounding of the printed inputs can produce it;
when it differs from the straightforward recomputation but some rounding can,
it is a ``rounding`` difference.  Name and numbering problems are
``inconsistent`` too; explanations the audit can offer are ``note``.

Rules (``rule`` field of each check):

=============================  ==============================================================
schedule1.grade_sum            附表1: the five loss grades add up to the row's 合计
schedule1.area_sum             附表1: 微度 + 合计 = 总面积
schedule1.share_of_total       附表1: 微度 and 合计 shares of 总面积
schedule1.share_of_loss        附表1: each loss grade's share of 合计
schedule1.aggregate            附表1: region / 三峡库区 / 全市 rows = sums of their members
schedule1.city_vs_regions      附表1: 全市 row = sum of the three region rows
schedule1.names                附表1 names = the official names in districts.csv
schedule2.names                附表2 names are official names (short or full) of the same unit
schedule2.region               附表2 region labels = the regions of 附表1's layout
schedule2.rate_vs_schedule1    附表2 2020 rate = 附表1 微度 share of the same unit
schedule2.parent_combined      a unit and its parent (万盛经开区 in 綦江区) taken together
schedule2.aggregate            附表2 region / 三峡库区 / 全市 rows = area-weighted means
schedule2.target_range         2025 target ≥ 2020 rate and ≤ 100 %
table2.row_sum                 表2: each land-use row's grades add up to its 小计
table2.total                   表2: 合计 = sum of the land-use rows, per column
table2.vs_schedule1            表2 合计 = 附表1 全市, per grade
table2.classes                 表2 rows are the land-use classes (GB/T 21010-2017) in their order
numbering                      序号 of 附表1, 附表2, 表2 and the items of 专栏2–4 run without gaps
narrative                      numbers printed in the text, re-derived from the tables
narrative.names                place names in the text are current names, in the right region
=============================  ==============================================================
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from decimal import Decimal

from .interval import Interval, round_like
from .narrative import NarrativeEvaluator, PrintedSum, printed_sum
from .reference import GRADE_LABELS_ZH, GRADES, LOSS_GRADES, District, ErosionRow, PlanReference

STATUSES = ("ok", "rounding", "inconsistent", "note")


@dataclass(frozen=True)
class Check:
    """The outcome of one rule applied to one cell (or one name, or one sequence)."""

    rule: str
    table: str
    row: str
    column: str
    stated: str
    derived: str
    status: str
    detail: str = ""

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass(frozen=True)
class AuditReport:
    checks: tuple[Check, ...]

    @property
    def findings(self) -> tuple[Check, ...]:
        """Everything that is not ``ok`` and not a mere ``rounding`` difference."""
        return tuple(c for c in self.checks if c.status in ("inconsistent", "note"))

    def count(self, status: str) -> int:
        return sum(1 for c in self.checks if c.status == status)

    def summary(self) -> dict[str, int]:
        return {"checks": len(self.checks), **{s: self.count(s) for s in STATUSES}}


def _fmt(value: Decimal, like: Decimal | None = None, extra: int = 2) -> str:
    if like is None:
        return f"{value:.4f}".rstrip("0").rstrip(".")
    exponent = like.as_tuple().exponent
    assert isinstance(exponent, int)
    return f"{value:.{max(-exponent, 0) + extra}f}"


def compare(rule: str, table: str, row: str, column: str, stated: Decimal | None,
            exact: Decimal, interval: Interval, detail: str = "") -> Check:
    """Compare a printed value with its recomputation (exact value and range from printed inputs)."""
    if stated is None:
        stated = Decimal(0)
        detail = (detail + "; " if detail else "") + "cell is empty (read as 0)"
    if round_like(exact, stated) == stated:
        status = "ok"
    elif Interval.printed(stated).meets(interval):
        status = "rounding"
    else:
        status = "inconsistent"
    return Check(rule, table, row, column, str(stated), _fmt(exact, stated), status, detail)


def _ratio_pct(num: PrintedSum, den: PrintedSum) -> tuple[Decimal, Interval]:
    return num.exact / den.exact * 100, num.interval / den.interval * Interval.exact(100)


# --------------------------------------------------------------------------- 附表1
def _schedule1_row_checks(row: ErosionRow) -> Iterator[Check]:
    t, label = "附表1", row.label
    if row.loss_km2 is not None or any(row.area_km2[g] is not None for g in LOSS_GRADES):
        grades = printed_sum(row.area_km2[g] for g in LOSS_GRADES)
        yield compare("schedule1.grade_sum", t, label, "合计 面积", row.loss_km2, grades.exact, grades.interval,
                      "轻度+中度+强烈+极强烈+剧烈")
    area = printed_sum([row.area_km2["slight"], row.loss_km2])
    yield compare("schedule1.area_sum", t, label, "总面积", row.total_km2, area.exact, area.interval,
                  "微度 + 水土流失合计")
    total = printed_sum([row.total_km2])
    for name, value, pct in (("微度", row.area_km2["slight"], row.pct["slight"]), ("合计", row.loss_km2, row.loss_pct)):
        if value is None and pct is None:
            continue
        exact, iv = _ratio_pct(printed_sum([value]), total)
        yield compare("schedule1.share_of_total", t, label, f"{name} 占总面积比（%）", pct, exact, iv)
    if row.loss_km2:
        loss = printed_sum([row.loss_km2])
        for g in LOSS_GRADES:
            exact, iv = _ratio_pct(printed_sum([row.area_km2[g]]), loss)
            yield compare("schedule1.share_of_loss", t, label, f"{GRADE_LABELS_ZH[g]} 占侵蚀面积比（%）",
                          row.pct[g], exact, iv)


_AREA_COLUMNS = (("total", "总面积"),) + tuple((g, f"{GRADE_LABELS_ZH[g]} 面积") for g in GRADES) + (("loss", "合计 面积"),)


def _area_of(row: ErosionRow, column: str) -> Decimal | None:
    if column == "total":
        return row.total_km2
    if column == "loss":
        return row.loss_km2
    return row.area_km2[column]


def _aggregate_checks(rule: str, aggregate: ErosionRow, members: Iterable[ErosionRow], what: str) -> Iterator[Check]:
    members = list(members)
    for column, heading in _AREA_COLUMNS:
        s = printed_sum(_area_of(m, column) for m in members)
        yield compare(rule, "附表1", aggregate.label, heading, _area_of(aggregate, column), s.exact, s.interval,
                      f"sum of {len(members)} {what}")


def _schedule1_checks(ref: PlanReference) -> Iterator[Check]:
    for row in ref.schedule1:
        yield from _schedule1_row_checks(row)
    for x in ref.districts:
        row = ref.erosion_of(x)
        status = "ok" if row.label == x.name else "inconsistent"
        yield Check("schedule1.names", "附表1", str(x.seq), "区县", row.label, x.name, status)
    for region in ref.regions:
        agg = ref.erosion_row(region.name)
        yield from _aggregate_checks("schedule1.aggregate", agg, (ref.erosion_of(d) for d in ref.members(region.code)),
                                     f"{region.name} districts")
    tgr = [r for r in ref.schedule1 if r.row_kind == "three_gorges"]
    for agg in tgr:
        yield from _aggregate_checks("schedule1.aggregate", agg,
                                     (ref.erosion_of(d) for d in ref.three_gorges_members()),
                                     "Three Gorges Reservoir Area districts (districts.csv three_gorges=1)")
    for agg in (r for r in ref.schedule1 if r.row_kind == "city"):
        yield from _aggregate_checks("schedule1.aggregate", agg, (ref.erosion_of(d) for d in ref.districts),
                                     "units")
        yield from _aggregate_checks("schedule1.city_vs_regions", agg,
                                     (ref.erosion_row(r.name) for r in ref.regions), "region rows")


# --------------------------------------------------------------------------- 附表2
def _name_check(x: District, written: str, other_names: dict[str, District]) -> Check:
    if written == x.name:
        return Check("schedule2.names", "附表2", str(x.seq), "区县", written, x.name, "ok")
    if written == x.full_name:
        return Check("schedule2.names", "附表2", str(x.seq), "区县", written, x.name, "note",
                     f"full official name; 附表1 writes the short name {x.name}")
    stem = x.name.rstrip("区县")
    if written.rstrip("区县") == stem:
        kind = {"district": "区 (district)", "county": "县 (county)"}.get(x.kind, x.kind)
        return Check("schedule2.names", "附表2", str(x.seq), "区县", written, x.name, "inconsistent",
                     f"{x.name} is a {kind}, adcode {x.adcode}; the suffix is wrong")
    other = other_names.get(written)
    hint = f"; {written} is the name of row {other.seq}" if other else ""
    return Check("schedule2.names", "附表2", str(x.seq), "区县", written, x.name, "inconsistent",
                 f"not a name of the unit in row {x.seq} of 附表1{hint}")


def _weighted(ref: PlanReference, members: Iterable[District], attr: str) -> tuple[Decimal, Interval]:
    area, weighted = PrintedSum(), Interval.exact(0)
    exact = Decimal(0)
    for d in members:
        total = ref.erosion_of(d).total_km2
        value = getattr(ref.target_of(d), attr)
        area.add(total)
        exact += total * value
        weighted = weighted + Interval.printed(total) * Interval.printed(value)
    return exact / area.exact, weighted / area.interval


def _schedule2_checks(ref: PlanReference) -> Iterator[Check]:
    names = {n: d for d in ref.districts for n in d.names}
    region_names = {r.code: r.name for r in ref.regions}
    for x in ref.districts:
        row = ref.target_of(x)
        yield _name_check(x, row.label, names)
        expected_region = region_names[x.region]
        yield Check("schedule2.region", "附表2", str(x.seq), "分区", row.region_label, expected_region,
                    "ok" if row.region_label == expected_region else "inconsistent")
        s1 = ref.erosion_of(x)
        yield compare("schedule2.rate_vs_schedule1", "附表2", x.name, "水土保持率现状值（%）", row.rate_2020_pct,
                      s1.pct["slight"] or Decimal(0), Interval.printed(s1.pct["slight"] or Decimal(0)),
                      f"附表1 微度 占总面积比 = {s1.pct['slight']}")
        lo_ok = row.target_2025_pct >= row.rate_2020_pct and row.target_2025_pct <= 100
        yield Check("schedule2.target_range", "附表2", x.name, "水土保持率目标值（%）", str(row.target_2025_pct),
                    f"[{row.rate_2020_pct}, 100]", "ok" if lo_ok else "inconsistent")
    yield from _parent_checks(ref)
    groups: list[tuple[str, tuple[District, ...], str]] = [
        (r.name, ref.members(r.code), "region") for r in ref.regions
    ] + [("三峡库区", ref.three_gorges_members(), "three_gorges"), ("全市", ref.districts, "city")]
    for label, members, kind in groups:
        rows = [r for r in ref.schedule2 if r.row_kind == kind and (kind != "region" or r.region_label == label)]
        for row in rows:
            row_name = label if row.label == label else f"{label} {row.label}"
            slight = printed_sum(ref.erosion_of(d).area_km2["slight"] for d in members)
            total = printed_sum(ref.erosion_of(d).total_km2 for d in members)
            exact, iv = _ratio_pct(slight, total)
            yield compare("schedule2.aggregate", "附表2", row_name, "水土保持率现状值（%）",
                          row.rate_2020_pct, exact, iv, "area-weighted: Σ 微度 / Σ 总面积 (附表1)")
            exact, iv = _weighted(ref, members, "target_2025_pct")
            yield compare("schedule2.aggregate", "附表2", row_name, "水土保持率目标值（%）",
                          row.target_2025_pct, exact, iv, "area-weighted: Σ(目标 × 总面积) / Σ 总面积")


def _parent_checks(ref: PlanReference) -> Iterator[Check]:
    """Where a unit and its parent disagree with 附表1 singly, test them together."""
    for child in (d for d in ref.districts if d.parent_code):
        parent = next(d for d in ref.districts if d.code == child.parent_code)
        pair = (parent, child)
        singly = [ref.target_of(d).rate_2020_pct != ref.erosion_of(d).pct["slight"] for d in pair]
        if not any(singly):
            continue
        slight = printed_sum(ref.erosion_of(d).area_km2["slight"] for d in pair)
        total = printed_sum(ref.erosion_of(d).total_km2 for d in pair)
        exact_s1, _ = _ratio_pct(slight, total)
        exact_s2, iv_s2 = _weighted(ref, pair, "rate_2020_pct")
        agree = Interval.printed(round_like(exact_s1, Decimal("0.01"))).meets(iv_s2)
        detail = (f"{parent.name}+{child.name}: 附表1 combined 微度 share {_fmt(exact_s1)} %, 附表2 area-weighted "
                  f"{_fmt(exact_s2)} %")
        detail += (" — they agree, so 附表2 redistributes the pair's 微度 area between the two units"
                   if agree else " — they disagree as well")
        yield Check("schedule2.parent_combined", "附表2", f"{parent.name}+{child.name}", "水土保持率现状值（%）",
                    _fmt(exact_s2), _fmt(exact_s1), "note" if agree else "inconsistent", detail)


# --------------------------------------------------------------------------- 表2
def _table2_checks(ref: PlanReference) -> Iterator[Check]:
    classes = [r for r in ref.table2 if r.row_kind == "class"]
    for row in ref.table2:
        s = printed_sum(row.area_km2[g] for g in LOSS_GRADES)
        yield compare("table2.row_sum", "表2", row.label, "小计", row.loss_km2, s.exact, s.interval,
                      "轻度+中度+强烈+极强烈+剧烈")
    city = next((r for r in ref.schedule1 if r.row_kind == "city"), None)
    for total in (r for r in ref.table2 if r.row_kind == "total"):
        columns = [("loss", "小计")] + [(g, GRADE_LABELS_ZH[g]) for g in LOSS_GRADES]
        for column, heading in columns:
            def cell(r, column=column):
                return r.loss_km2 if column == "loss" else r.area_km2[column]
            s = printed_sum(cell(r) for r in classes)
            yield compare("table2.total", "表2", total.label, heading, cell(total), s.exact, s.interval,
                          f"sum of {len(classes)} land-use rows")
            if city is not None:
                v = _area_of(city, column)
                yield compare("table2.vs_schedule1", "表2", total.label, heading, cell(total), v or Decimal(0),
                              Interval.printed(v or Decimal(0)), "附表1 全市")


# --------------------------------------------------------------------------- numbering
def _gaps(numbers: list[int]) -> list[int]:
    present = set(numbers)
    return [n for n in range(min(present), max(present) + 1) if n not in present] if present else []


def _numbering_checks(ref: PlanReference) -> Iterator[Check]:
    sequences = {
        "附表1": [r.seq for r in ref.schedule1 if r.seq is not None],
        "附表2": [r.seq for r in ref.schedule2 if r.seq is not None],
        "表2": [r.seq for r in ref.table2 if r.seq is not None],
    }
    for box in sorted({c.source for c in ref.column_items}):
        sequences[box] = [int(c.item) for c in ref.column_items if c.source == box]
    for table, numbers in sequences.items():
        gaps = _gaps(numbers)
        dupes = sorted({n for n in numbers if numbers.count(n) > 1})
        flaws = [f"missing {', '.join(map(str, gaps))}"] if gaps else []
        flaws += [f"repeated {', '.join(map(str, dupes))}"] if dupes else []
        yield Check("numbering", table, "序号", "序号", f"{min(numbers)}–{max(numbers)} ({len(numbers)} items)",
                    f"{min(numbers)}–{max(numbers)} without gaps", "inconsistent" if flaws else "ok",
                    "; ".join(flaws))


def _narrative_checks(ref: PlanReference) -> Iterator[Check]:
    ev = NarrativeEvaluator(ref)
    for fig in ref.narrative:
        exact, iv = ev.evaluate(fig.expression)
        if fig.relation == "eq":
            yield compare("narrative", fig.source, fig.quote, "text", fig.stated, exact, iv, fig.expression)
        else:
            holds = fig.stated < iv.lo if fig.relation == "lt" else fig.stated > iv.hi
            sign = "<" if fig.relation == "lt" else ">"
            yield Check("narrative", fig.source, fig.quote, "text", f"{fig.stated} {sign} derived", _fmt(exact),
                        "ok" if holds else "inconsistent", fig.expression)


def _mention_checks(ref: PlanReference) -> Iterator[Check]:
    """Place names in the text must be current names, in the region the section is about."""
    region_names = {r.name: r for r in ref.regions}
    for m in ref.mentions:
        hits = [d for d in ref.districts if m.mention in (d.name, d.full_name, d.stem)]
        if m.mention in region_names:
            region = region_names[m.mention]
            ok = m.expected_region in (None, region.code)
            yield Check("narrative.names", m.source, m.context, "name", m.mention, region.name,
                        "ok" if ok else "inconsistent")
            continue
        if hits:
            d = hits[0]
            ok = m.expected_region in (None, d.region)
            detail = "" if ok else f"{d.name} belongs to {ref.region(d.region).name}"
            yield Check("narrative.names", m.source, m.context, "name", m.mention, d.name,
                        "ok" if ok else "inconsistent", detail)
            continue
        renamed = [d for d in ref.districts if m.mention in d.former_names]
        truncated = [r for r in ref.regions if r.name.startswith(m.mention)]
        if renamed:
            d = renamed[0]
            detail = f"former name; the unit is now {d.name} (adcode {d.adcode})"
            yield Check("narrative.names", m.source, m.context, "name", m.mention, d.name, "inconsistent", detail)
        elif truncated:
            r = truncated[0]
            yield Check("narrative.names", m.source, m.context, "name", m.mention, r.name, "inconsistent",
                        "incomplete region name")
        else:
            yield Check("narrative.names", m.source, m.context, "name", m.mention, "", "inconsistent",
                        "not the name of any unit or region of the plan")


def _landuse_checks(ref: PlanReference) -> Iterator[Check]:
    """表2's rows must be the classes of the monitoring land-use scheme, in its order."""
    classes = {c.code: c for c in ref.landuse_classes}
    for row in (r for r in ref.table2 if r.row_kind == "class"):
        cls = classes.get(row.seq) if row.seq is not None else None
        expected = cls.name if cls else "(no class with this number)"
        yield Check("table2.classes", "表2", str(row.seq), "土地利用类型", row.label, expected,
                    "ok" if cls and cls.name == row.label else "inconsistent",
                    "" if cls and cls.name == row.label else "名称与 GB/T 21010-2017 一级类不一致")
    present = {r.seq for r in ref.table2}
    for code, cls in classes.items():
        if code not in present:
            yield Check("table2.classes", "表2", str(code), "土地利用类型", "(no row)", cls.name,
                        "note" if not cls.erodible else "inconsistent",
                        "class without erosion, so the row is left out; this explains the gap in 序号"
                        if not cls.erodible else "an erodible class has no row")


RULE_SETS: tuple[Callable[[PlanReference], Iterator[Check]], ...] = (
    _schedule1_checks, _schedule2_checks, _table2_checks, _landuse_checks, _numbering_checks,
    _narrative_checks, _mention_checks,
)


def audit(ref: PlanReference) -> AuditReport:
    """Run every rule over the reference data."""
    return AuditReport(tuple(c for rules in RULE_SETS for c in rules(ref)))
