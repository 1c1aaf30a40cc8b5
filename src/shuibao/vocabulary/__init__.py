"""One vocabulary: every code the platform stores, with its Chinese and English label.

The labels live in one table, ``data/labels.csv`` (``group, code, zh, en, unit, values, source``); its groups
are described in ``data/groups.csv`` (what each code set is and where the domain defines it).  Districts,
regions and land-use classes are not copied there: their names come from the plan's reference data
(``plan/data/districts.csv``, ``regions.csv``, ``landuse_classes.csv``), which holds the Chinese name and the
English name of each.  The English names of districts and regions are the Hanyu Pinyin of the name without its
administrative suffix, spelt by GB/T 16159-2012 (《汉语拼音正词法基本规则》, e.g. the apostrophe of Nan'an), as
the Ministry of Civil Affairs' 行政区划 lists romanise them.

``label(group, code, lang)`` is the one lookup.  An unknown code comes back as given (a page must still show
the record); :func:`has_label` says whether a label exists, and the tests check that every code the domain
defines has both.  ``field`` rows describe record fields (a project's columns, the keys of an audit row's
before/after): their ``unit`` is shown after the value and ``values`` names the group that labels the value.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from importlib import resources
from pathlib import Path

from ..errors import Text

LANGS = ("zh", "en")
PLAN_GROUPS = ("district", "region", "landuse")
"""Groups whose labels come from the plan's reference data rather than ``labels.csv``."""


@dataclass(frozen=True)
class Entry:
    group: str
    code: str
    zh: str
    en: str
    unit: str = ""
    values: str = ""  # for a field: the group that labels its values
    source: str = ""

    def text(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


@dataclass(frozen=True)
class Group:
    name: str
    zh: str
    en: str
    defined_in: str
    description: str


def data_dir() -> Path:
    return Path(str(resources.files("shuibao.vocabulary") / "data"))


def _read(name: str) -> list[dict[str, str]]:
    with open(data_dir() / name, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@lru_cache(maxsize=1)
def groups() -> dict[str, Group]:
    """Every group of the vocabulary, documented (``data/groups.csv``)."""
    return {r["group"]: Group(r["group"], r["zh"], r["en"], r["defined_in"], r["description"])
            for r in _read("groups.csv")}


@lru_cache(maxsize=1)
def _plan_entries() -> dict[str, dict[str, Entry]]:
    from shuibao.plan.reference import load_reference

    ref = load_reference()
    out: dict[str, dict[str, Entry]] = {"district": {}, "region": {}, "landuse": {}}
    for d in ref.districts:
        out["district"][d.code] = Entry("district", d.code, d.name, d.name_en, source="plan/data/districts.csv")
    for r in ref.regions:
        out["region"][r.code] = Entry("region", r.code, r.name, r.name_en, source="plan/data/regions.csv")
    for c in ref.landuse_classes:
        out["landuse"][str(c.code)] = Entry("landuse", str(c.code), c.name, c.name_en, source="plan/data/landuse_classes.csv")
    return out


@lru_cache(maxsize=1)
def entries() -> dict[str, dict[str, Entry]]:
    """group → code → entry: ``labels.csv`` and the plan's districts, regions and land-use classes."""
    out: dict[str, dict[str, Entry]] = {g: {} for g in groups()}
    for r in _read("labels.csv"):
        out.setdefault(r["group"], {})[r["code"]] = Entry(r["group"], r["code"], r["zh"], r["en"], r["unit"],
                                                           r["values"], r["source"])
    for g, codes in _plan_entries().items():
        out[g].update(codes)
    return out


@lru_cache(maxsize=1)
def _district_aliases() -> dict[str, str]:
    """A district's name, full name and 6-digit code → its code (records made from files may hold any)."""
    from shuibao.plan.reference import load_reference

    out: dict[str, str] = {}
    for d in load_reference().districts:
        for key in (d.name, d.full_name, str(d.adcode or "")):
            if key:
                out[key] = d.code
    return out


def lang_of(value: str | None) -> str:
    """``en`` for English (``en``, ``en-GB``…), otherwise ``zh``, the default."""
    return "en" if (value or "").lower().startswith("en") else "zh"


def entry(group: str, code) -> Entry | None:
    if code is None:
        return None
    key = str(code)
    codes = entries().get(group, {})
    if key not in codes and group == "district":
        key = _district_aliases().get(key, key)
    return codes.get(key)


def has_label(group: str, code) -> bool:
    e = entry(group, code)
    return e is not None and bool(e.zh) and bool(e.en)


def label(group: str, code, lang: str = "zh") -> str:
    """The label of ``code`` in ``group`` in ``lang`` (``zh`` default, ``en``); "" for None; an unknown code as
    given, so a record still shows (the vocabulary tests catch a code without a label)."""
    if code is None:
        return ""
    e = entry(group, code)
    return str(code) if e is None else e.text(lang_of(lang))


@dataclass(frozen=True, eq=False)
class LabelText(Text):
    """A stored code as a message field (``N_("... {role} ...", role=LabelText("role", code))``): it renders as
    the code's label in the message's language, so a Chinese message never shows an English label or a code."""

    group: str
    code: object

    def render(self, lang: str = "en") -> str:
        return label(self.group, self.code, lang)

    def transform(self, fn) -> LabelText:
        return self


@dataclass(frozen=True, eq=False)
class LabelsText(Text):
    """Several codes of one group as a message field: their labels joined the language's way (``、`` or ``, ``;
    ``或`` / ``or`` before the last with ``alternatives``)."""

    group: str
    codes: tuple
    alternatives: bool = False

    def render(self, lang: str = "en") -> str:
        names = [label(self.group, c, lang) for c in self.codes]
        if self.alternatives and len(names) > 1:
            last = ("或" if lang != "en" else " or ") + names[-1]
            return ("、" if lang != "en" else ", ").join(names[:-1]) + last
        return ("、" if lang != "en" else ", ").join(names)

    def transform(self, fn) -> LabelsText:
        return self


def labels(group: str, lang: str = "zh") -> dict[str, str]:
    """code → label of one group."""
    return {c: e.text(lang_of(lang)) for c, e in entries().get(group, {}).items()}


def unit(group: str, code, lang: str = "zh") -> str:
    """The unit of a field (``m²``); a unit written ``元|yuan`` has a word for each language."""
    e = entry(group, code)
    return _unit_text(e.unit, lang) if e else ""


def _unit_text(text: str, lang: str) -> str:
    zh, _, en = text.partition("|")
    return en if en and lang_of(lang) == "en" else zh


def table(lang: str = "zh") -> dict:
    """The whole vocabulary in one language, for the browser: ``{"labels": {group: {code: label}},
    "units": {group: {code: unit}}, "values": {field: group}}``."""
    lang = lang_of(lang)
    all_ = entries()
    return {"lang": lang,
            "labels": {g: {c: e.text(lang) for c, e in codes.items()} for g, codes in all_.items()},
            "units": {g: {c: _unit_text(e.unit, lang) for c, e in codes.items() if e.unit}
                      for g, codes in all_.items()},
            "values": {c: e.values for c, e in all_.get("field", {}).items() if e.values}}


# groups searched for a value whose field names no group (a count's keys, a list's entries); web/static/app.js
# ANY_GROUPS is the same list
ANY_GROUPS = ("compliance", "qc_flag", "warning_level", "case_state", "case_step", "case_outcome", "credit_list",
              "credit_rule", "credit_evidence", "traffic_light", "project_status", "measure_kind", "measure",
              "treatment_status", "station_kind", "role", "district", "region", "unit_level", "erosion_grade",
              "assessment_grade", "fee_category", "fee_basis", "case_source", "row_status", "assessment_indicator",
              "audit_action", "object_kind", "field")


def label_any(code, lang: str = "zh") -> str:
    """The label of a code whose group is not known, from the first group of :data:`ANY_GROUPS` that has it."""
    for g in ANY_GROUPS:
        e = entries()[g].get(str(code))
        if e is not None:
            return e.text(lang_of(lang))
    return str(code)


def value_text(field: str, value, lang: str = "zh") -> str:
    """One value of a record for people: codes as labels, numbers with separators, lists joined, no repr."""
    lang = lang_of(lang)
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return label("boolean", "true" if value else "false", lang)
    if isinstance(value, dict):
        return record_text(value, lang, keys=label_any)
    if isinstance(value, (list, tuple)):
        sep = "、" if lang == "zh" else ", "
        return sep.join(" · ".join(value_text("", y, lang) for y in x) if isinstance(x, (list, tuple))
                        else value_text(field, x, lang) for x in value)
    if isinstance(value, float):
        return number(value, 0 if value.is_integer() else 2)
    if isinstance(value, int):
        return str(value)
    f = entry("field", field)
    if f is not None and f.values and has_label(f.values, value):
        return label(f.values, value, lang)
    text = str(value)
    if len(text) >= 16 and text[4:5] == "-" and text[10:11] == "T":
        return moment(text)
    return label_any(text, lang) if text.replace("_", "").replace(".", "").isalpha() and text.islower() else text


def record_text(record: dict | None, lang: str = "zh", *, keys=None) -> str:
    """A record (evidence, an audit row's before/after) as one line: ``label: value (unit)；…``, never a repr."""
    if not record:
        return ""
    lang = lang_of(lang)
    keys = keys or (lambda k, lg: label("field", k, lg))
    parts = []
    for k, v in record.items():
        u = unit("field", k, lang)
        parts.append(f"{keys(k, lang)}: {value_text(k, v, lang)}{' ' + u if u and v is not None else ''}")
    return ("；" if lang == "zh" else "; ").join(parts)


# ------------------------------------------------------------------------------------------------ formatting
def number(value, digits: int = 2) -> str:
    """A number for people: thousands separators, ``digits`` decimals; "" for None or NaN."""
    if value is None or value == "":
        return ""
    x = float(value)
    if math.isnan(x):
        return ""
    return f"{x:,.{digits}f}"


def day(value) -> str:
    """A date for people, ``YYYY-MM-DD``, from a date, a datetime or an ISO text (a timestamp loses its time)."""
    if value is None or value == "":
        return ""
    if isinstance(value, (date, datetime)):
        return value.strftime("%Y-%m-%d")
    return str(value)[:10]


def moment(value) -> str:
    """A time for people, ``YYYY-MM-DD HH:MM`` (no seconds, no microseconds, no 'T')."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    text = str(value).replace("T", " ")
    return text[:16]
