"""The plan's reference data: districts, regions and the tables of the plan.

Every table of the Chongqing 14th Five-Year Soil and Water Conservation Plan
(重庆市水土保持“十四五”规划 2021–2025) that the platform relies on is a CSV file
in ``shuibao/plan/data`` whose ``source`` column names the table (附表1, 附表2,
表1, 表2, 专栏1, 专栏3, 专栏4) and row it comes from.  Numbers are kept as
:class:`~decimal.Decimal` exactly as printed, so sums of two-decimal areas are
exact and the audit can tell a rounding difference from a real one.

A maintainer (or a user with a corrected transcription) may point
``SHUIBAO_PLAN_DATA`` at another folder holding files of the same names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from ..datafiles import CsvTable as _Rows
from ..datafiles import plan_data_dir
from ..errors import ReferenceDataError, UnknownUnitError, N_

GRADES = ("slight", "light", "moderate", "intense", "very_intense", "severe")
"""SL 190-2007 water-erosion grades in order: 微度, 轻度, 中度, 强烈, 极强烈, 剧烈."""
LOSS_GRADES = GRADES[1:]
GRADE_LABELS_ZH = dict(zip(GRADES, ("微度", "轻度", "中度", "强烈", "极强烈", "剧烈")))

REGION_KINDS = ("district", "region", "three_gorges", "city")


def data_dir() -> Path:
    """Folder the reference CSVs are read from (``SHUIBAO_PLAN_DATA`` overrides)."""
    return plan_data_dir()


# --------------------------------------------------------------------------- records
@dataclass(frozen=True)
class Region:
    """One of the three regions of the plan's layout (一区两群)."""

    code: str
    seq: int
    name: str
    name_en: str


@dataclass(frozen=True)
class District:
    """A unit of 附表1: one of 38 county-level divisions, or 万盛经开区 (a management unit)."""

    seq: int
    code: str
    name: str
    full_name: str
    name_en: str
    adcode: str | None
    kind: str
    region: str
    three_gorges: bool
    parent_code: str | None
    former_names: tuple[str, ...]
    source: str

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((self.name, self.full_name)))

    @property
    def stem(self) -> str:
        """The name without its 区/县 suffix, as the plan's text writes it (忠县 stays 忠县)."""
        name = self.name.removesuffix("经开区")
        return name if len(name) <= 2 else name.removesuffix("区").removesuffix("县")


@dataclass(frozen=True)
class ErosionRow:
    """One row of 附表1 (重庆市水土流失现状表, 2020): areas in km², shares in %.

    ``pct`` of 微度 and of the total loss are shares of the unit's total area; the
    shares of the five loss grades are shares of the unit's loss area, as printed.
    Empty cells (渝中区 has only 微度) are ``None``.
    """

    source: str
    seq: int | None
    label: str
    row_kind: str
    total_km2: Decimal
    area_km2: dict[str, Decimal | None]
    pct: dict[str, Decimal | None]
    loss_km2: Decimal | None
    loss_pct: Decimal | None

    def area(self, grade: str) -> Decimal:
        """Area of a grade, empty cells read as zero."""
        return self.area_km2[grade] or Decimal(0)

    @property
    def loss_or_zero(self) -> Decimal:
        return self.loss_km2 if self.loss_km2 is not None else Decimal(0)


@dataclass(frozen=True)
class TargetRow:
    """One row of 附表2 (“十四五”分区县水土保持目标): 2020 rate and 2025 target, %."""

    source: str
    seq: int | None
    region_label: str
    label: str
    row_kind: str
    rate_2020_pct: Decimal
    target_2025_pct: Decimal


@dataclass(frozen=True)
class LandUseRow:
    """One row of 表2 (不同土地利用水土流失面积分布情况表, 2020), km²."""

    source: str
    seq: int | None
    label: str
    row_kind: str
    loss_km2: Decimal
    area_km2: dict[str, Decimal]


@dataclass(frozen=True)
class Indicator:
    """One indicator of 专栏1 (“十四五”水土保持目标主要指标值)."""

    source: str
    key: str
    label: str
    status_2020: Decimal | None
    target_2025: Decimal
    unit: str
    comparison: str
    attribute: str


@dataclass(frozen=True)
class GovernanceItem:
    """One quantity of 专栏3 (水土流失综合治理重点项目)."""

    source: str
    item: str
    key: str
    label: str
    quantity: Decimal
    unit: str
    counts_toward_new_treatment: bool


@dataclass(frozen=True)
class PlannedStation:
    """One new monitoring station of 专栏4-01."""

    source: str
    item: str
    district_code: str
    label: str
    kind: str
    count: int


@dataclass(frozen=True)
class Table1Row:
    """One row of 表1 (“十三五”规划任务完成情况): target and actual as printed."""

    source: str
    seq: int
    key: str
    indicator: str
    target: str
    actual: str
    unit: str


@dataclass(frozen=True)
class LandUseClass:
    """A first-level land-use class of the dynamic-monitoring scheme used by 表2 (GB/T 21010-2017)."""

    code: int
    name: str
    name_en: str
    gb_codes: tuple[str, ...]
    erodible: bool


@dataclass(frozen=True)
class NarrativeMention:
    """A place name printed in the plan's text, with the region its section is about."""

    source: str
    mention: str
    expected_region: str | None
    context: str


@dataclass(frozen=True)
class ColumnItem:
    """A numbered item of a box (专栏2–4), kept to check the numbering."""

    source: str
    item: str
    title: str


@dataclass(frozen=True)
class NarrativeFigure:
    """A number printed in the plan's text, with the expression that re-derives it from the tables."""

    source: str
    quote: str
    stated: Decimal
    relation: str
    expression: str


@dataclass(frozen=True)
class PlanReference:
    """All reference data of the plan, loaded and validated once."""

    regions: tuple[Region, ...]
    districts: tuple[District, ...]
    schedule1: tuple[ErosionRow, ...]
    schedule2: tuple[TargetRow, ...]
    table2: tuple[LandUseRow, ...]
    indicators: tuple[Indicator, ...]
    governance: tuple[GovernanceItem, ...]
    stations: tuple[PlannedStation, ...]
    narrative: tuple[NarrativeFigure, ...]
    column_items: tuple[ColumnItem, ...]
    table1: tuple[Table1Row, ...]
    landuse_classes: tuple[LandUseClass, ...]
    mentions: tuple[NarrativeMention, ...]
    _by_name: dict[str, District] = field(default_factory=dict, repr=False, compare=False)

    # ---- lookups
    def district(self, key: str) -> District:
        """Find a district by code, adcode, Chinese name (short, full, without 区/县, or former) or English name."""
        k = key.strip()
        hit = self._by_name.get(k) or self._by_name.get(k.lower())
        if hit is None:
            raise UnknownUnitError(
                N_("unknown district {key!r}: expected one of the plan's 39 units by name (e.g. 涪陵区), "
                "code (e.g. fuling) or adcode (e.g. 500102); see `shuibao plan districts`", key=key)
            )
        return hit

    def region(self, code: str) -> Region:
        for r in self.regions:
            if code in (r.code, r.name):
                return r
        raise UnknownUnitError(N_("unknown region {code!r}: expected one of {value1}", code=code, value1=', '.join(r.code for r in self.regions)))

    def members(self, region_code: str) -> tuple[District, ...]:
        return tuple(d for d in self.districts if d.region == region_code)

    def three_gorges_members(self) -> tuple[District, ...]:
        return tuple(d for d in self.districts if d.three_gorges)

    def erosion_row(self, label: str) -> ErosionRow:
        for row in self.schedule1:
            if row.label == label:
                return row
        raise UnknownUnitError(N_("附表1 has no row labelled {label!r}", label=label))

    def erosion_of(self, district: District) -> ErosionRow:
        for row in self.schedule1:
            if row.row_kind == "district" and row.seq == district.seq:
                return row
        raise UnknownUnitError(N_("附表1 has no row {seq} for {name}", seq=district.seq, name=district.name))

    def target_of(self, district: District) -> TargetRow:
        for row in self.schedule2:
            if row.row_kind == "district" and row.seq == district.seq:
                return row
        raise UnknownUnitError(N_("附表2 has no row {seq} for {name}", seq=district.seq, name=district.name))


def _int(text: str) -> int | None:
    return int(text) if text else None


def _load_erosion(rows: _Rows) -> tuple[ErosionRow, ...]:
    out = []
    for i in range(len(rows)):
        area = {g: rows.number(i, f"{g}_km2", optional=g != "slight") for g in GRADES}
        pct = {g: rows.number(i, f"{g}_pct", optional=g != "slight") for g in GRADES}
        out.append(ErosionRow(
            source=rows.text(i, "source"), seq=_int(rows.text(i, "seq", optional=True)),
            label=rows.text(i, "label"), row_kind=rows.text(i, "row_kind", choices=REGION_KINDS),
            total_km2=rows.number(i, "total_km2"), area_km2=area, pct=pct,
            loss_km2=rows.number(i, "loss_km2", optional=True), loss_pct=rows.number(i, "loss_pct", optional=True),
        ))
    return tuple(out)


@lru_cache(maxsize=4)
def _load(folder: Path) -> PlanReference:
    r = _Rows("regions.csv", ("code", "seq", "name", "name_en", "source"), folder)
    regions = tuple(
        Region(r.text(i, "code"), int(r.number(i, "seq")), r.text(i, "name"), r.text(i, "name_en"))
        for i in range(len(r))
    )
    region_codes = tuple(x.code for x in regions)

    d = _Rows("districts.csv", ("seq", "code", "name", "full_name", "name_en", "adcode", "kind",
                                "region", "three_gorges", "parent_code", "former_names", "source"), folder)
    districts = []
    for i in range(len(d)):
        adcode = d.text(i, "adcode", optional=True) or None
        if adcode is not None and not (len(adcode) == 6 and adcode.isdigit()):
            raise ReferenceDataError(N_("{path}, row {row}, column adcode: {adcode!r} is not a 6-digit code", path=d.path, row=i + 2, adcode=adcode))
        districts.append(District(
            seq=int(d.number(i, "seq")), code=d.text(i, "code"), name=d.text(i, "name"),
            full_name=d.text(i, "full_name"), name_en=d.text(i, "name_en"), adcode=adcode,
            kind=d.text(i, "kind", choices=("district", "county", "autonomous_county", "management_area")),
            region=d.text(i, "region", choices=region_codes),
            three_gorges=d.text(i, "three_gorges", choices=("0", "1")) == "1",
            parent_code=d.text(i, "parent_code", optional=True) or None,
            former_names=tuple(n for n in d.text(i, "former_names", optional=True).split("|") if n),
            source=d.text(i, "source"),
        ))
    codes = [x.code for x in districts]
    dupes = sorted({c for c in codes if codes.count(c) > 1})
    if dupes:
        raise ReferenceDataError(N_("{path}: duplicate district code(s) {dupes}", path=d.path, dupes=', '.join(dupes)))
    for x in districts:
        if x.parent_code and x.parent_code not in codes:
            raise ReferenceDataError(N_("{path}: {name} has unknown parent_code {parent_code!r}", path=d.path, name=x.name, parent_code=x.parent_code))

    schedule1 = _load_erosion(_Rows("schedule1_erosion_2020.csv", ("source", "seq", "label", "row_kind",
                                                                   "total_km2", "slight_km2", "loss_km2"), folder))
    t = _Rows("schedule2_targets.csv", ("source", "seq", "region_label", "label", "row_kind",
                                        "rate_2020_pct", "target_2025_pct"), folder)
    schedule2 = tuple(TargetRow(
        source=t.text(i, "source"), seq=_int(t.text(i, "seq", optional=True)),
        region_label=t.text(i, "region_label", optional=True), label=t.text(i, "label"),
        row_kind=t.text(i, "row_kind", choices=REGION_KINDS),
        rate_2020_pct=t.number(i, "rate_2020_pct"), target_2025_pct=t.number(i, "target_2025_pct"),
    ) for i in range(len(t)))

    lu = _Rows("table2_landuse_2020.csv", ("source", "seq", "label", "row_kind", "loss_km2"), folder)
    table2 = tuple(LandUseRow(
        source=lu.text(i, "source"), seq=_int(lu.text(i, "seq", optional=True)), label=lu.text(i, "label"),
        row_kind=lu.text(i, "row_kind", choices=("class", "total")), loss_km2=lu.number(i, "loss_km2"),
        area_km2={g: lu.number(i, f"{g}_km2") for g in LOSS_GRADES},
    ) for i in range(len(lu)))

    ind = _Rows("column1_indicators.csv", ("source", "key", "label", "status_2020", "target_2025",
                                           "unit", "comparison", "attribute"), folder)
    indicators = tuple(Indicator(
        source=ind.text(i, "source"), key=ind.text(i, "key"), label=ind.text(i, "label"),
        status_2020=ind.number(i, "status_2020", optional=True), target_2025=ind.number(i, "target_2025"),
        unit=ind.text(i, "unit"), comparison=ind.text(i, "comparison", choices=("=", ">", "<")),
        attribute=ind.text(i, "attribute"),
    ) for i in range(len(ind)))

    g = _Rows("column3_governance.csv", ("source", "item", "key", "label", "quantity", "unit",
                                         "counts_toward_new_treatment"), folder)
    governance = tuple(GovernanceItem(
        source=g.text(i, "source"), item=g.text(i, "item", optional=True), key=g.text(i, "key"),
        label=g.text(i, "label"), quantity=g.number(i, "quantity"), unit=g.text(i, "unit"),
        counts_toward_new_treatment=g.text(i, "counts_toward_new_treatment", choices=("0", "1")) == "1",
    ) for i in range(len(g)))

    s = _Rows("column4_stations.csv", ("source", "item", "district_code", "label", "kind", "count"), folder)
    stations = []
    for i in range(len(s)):
        code = s.text(i, "district_code")
        if code not in codes:
            raise ReferenceDataError(N_("{path}, row {row}, column district_code: unknown district {code!r}", path=s.path, row=i + 2, code=code))
        stations.append(PlannedStation(s.text(i, "source"), s.text(i, "item"), code, s.text(i, "label"),
                                       s.text(i, "kind"), int(s.number(i, "count"))))

    n = _Rows("narrative_figures.csv", ("source", "quote", "stated", "relation", "expression"), folder)
    narrative = tuple(NarrativeFigure(
        n.text(i, "source"), n.text(i, "quote"), n.number(i, "stated"),
        n.text(i, "relation", choices=("eq", "lt", "gt")), n.text(i, "expression"),
    ) for i in range(len(n)))

    c = _Rows("column_items.csv", ("source", "item", "title"), folder)
    column_items = tuple(ColumnItem(c.text(i, "source"), c.text(i, "item"), c.text(i, "title")) for i in range(len(c)))

    t1 = _Rows("table1_13th_plan.csv", ("source", "seq", "key", "indicator", "target", "actual", "unit"), folder)
    table1 = tuple(Table1Row(t1.text(i, "source"), int(t1.number(i, "seq")), t1.text(i, "key"),
                             t1.text(i, "indicator"), t1.text(i, "target"), t1.text(i, "actual"),
                             t1.text(i, "unit", optional=True)) for i in range(len(t1)))
    lc = _Rows("landuse_classes.csv", ("code", "name", "name_en", "gb_t_21010_2017", "erodible", "source"), folder)
    landuse_classes = tuple(LandUseClass(
        int(lc.number(i, "code")), lc.text(i, "name"), lc.text(i, "name_en"),
        tuple(lc.text(i, "gb_t_21010_2017").split("|")), lc.text(i, "erodible", choices=("0", "1")) == "1",
    ) for i in range(len(lc)))
    nm = _Rows("narrative_names.csv", ("source", "mention", "expected_region", "context"), folder)
    mentions = tuple(NarrativeMention(
        nm.text(i, "source"), nm.text(i, "mention"),
        nm.text(i, "expected_region", choices=region_codes, optional=True) or None, nm.text(i, "context"),
    ) for i in range(len(nm)))

    by_name: dict[str, District] = {}
    for x in districts:
        for key in (x.code, x.name, x.full_name, x.name_en.lower(), x.adcode, x.stem):
            if key:
                by_name.setdefault(key, x)
    for x in districts:  # former names last, so a current name always wins
        for key in x.former_names:
            by_name.setdefault(key, x)
    ref = PlanReference(tuple(regions), tuple(districts), schedule1, schedule2, table2, indicators,
                        governance, tuple(stations), narrative, column_items, table1, landuse_classes,
                        mentions, by_name)
    _check_structure(ref, d.path)
    return ref


def _check_structure(ref: PlanReference, districts_path: Path) -> None:
    """Structural problems that make the data unusable (as opposed to audit findings)."""
    s1_seqs = {row.seq for row in ref.schedule1 if row.row_kind == "district"}
    s2_seqs = {row.seq for row in ref.schedule2 if row.row_kind == "district"}
    for x in ref.districts:
        if x.seq not in s1_seqs:
            raise ReferenceDataError(N_("{districts_path}: {name} (seq {seq}) has no row in 附表1", districts_path=districts_path, name=x.name, seq=x.seq))
        if x.seq not in s2_seqs:
            raise ReferenceDataError(N_("{districts_path}: {name} (seq {seq}) has no row in 附表2", districts_path=districts_path, name=x.name, seq=x.seq))


def load_reference(folder: Path | str | None = None) -> PlanReference:
    """Load (and cache) the plan's reference data; raises :class:`ReferenceDataError` on a malformed file."""
    return _load(Path(folder) if folder is not None else data_dir())
