"""Quality control of one station's daily series of one variable (rain_mm, runoff_mm, sediment_kg).

:func:`check_series` is pure (numpy): it judges every record and lists the calendar days
inside the series' span that have no record.  Nothing is dropped: every record keeps its
value and gets exactly one flag, the first of this order that applies:

1. ``duplicate``  a second (third, …) record of a date already seen; the first record of the date
                  is kept and judged by the rules below, the later ones are flagged whatever they say;
2. ``missing``    the record has no value (empty cell, NaN);
3. ``negative``   value < 0;
4. ``impossible`` value > ``max_value``, the physical maximum of one day (rain: 1000 mm);
5. ``spike``      value > ``spike_factor`` × S **and** value > ``spike_min``, where S is the
                  ``quantile`` (99th) percentile of the wet days (value > ``wet_min``) that passed
                  rules 1–4 and are at most ``spike_min`` — the candidates are left out of their own
                  yardstick, so several spikes cannot hide each other.  With fewer than
                  ``min_wet_days`` such days S is unknown and every value above ``spike_min`` is a spike;
6. ``ok``.

Days without any record between the first and the last date are ``gap`` rows (value None).
The rules are data (``stations/data/qc_rules.toml``, :func:`load_qc_rules`); the shipped
thresholds are platform defaults, not a standard's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError, Issues, ReferenceDataError, N_
from ..datafiles import header, read_toml

FLAG_ORDER = ("duplicate", "missing", "negative", "impossible", "spike", "ok")
"""Flags of a record, in the order they are tested (the first that applies wins)."""
GAP = "gap"
FLAGS = (*FLAG_ORDER, GAP)

_NUMBERS = ("max_value", "spike_factor", "spike_min", "quantile", "wet_min", "min_completeness")
_FIELDS = {"unit", "min_wet_days", *_NUMBERS}


@dataclass(frozen=True)
class QcRule:
    """QC parameters of one variable (see the module docstring for what each does)."""

    variable: str
    unit: str
    max_value: float
    spike_factor: float
    spike_min: float
    quantile: float = 99.0
    wet_min: float = 0.0
    min_wet_days: int = 30
    min_completeness: float = 0.9


@dataclass(frozen=True)
class QcRules:
    version: str
    source: str
    verified: bool
    note: str
    rules: dict[str, QcRule]
    path: Path

    def rule(self, variable: str) -> QcRule:
        try:
            return self.rules[variable]
        except KeyError:
            raise InputError(N_("variable {variable!r} has no QC rule in {path}; "
                             "known: {rules}", variable=variable, path=self.path, rules=', '.join(sorted(self.rules)))) from None


def load_qc_rules(path: Path | str | None = None) -> QcRules:
    """The shipped rules or the user's file of the same shape; every problem reported at once."""
    p, doc = read_toml(path, "qc_rules.toml", "shuibao.stations")
    problems = Issues()
    version, source, verified, note = header(doc, problems)
    variables = doc.get("variables")
    if not isinstance(variables, dict) or not variables:
        problems.add("", "variables", N_("expected [variables.<name>] tables"))
        variables = {}
    rules: dict[str, QcRule] = {}
    for name, item in variables.items():
        where = f"variables.{name}"
        if not isinstance(item, dict):
            problems.add("", where, N_("expected a table"))
            continue
        for k in item:
            if k not in _FIELDS:
                problems.add("", f"{where}.{k}", N_("unknown field"))
        before = len(problems)
        if not isinstance(item.get("unit"), str) or not item["unit"].strip():
            problems.add("", f"{where}.unit", N_("required, a non-empty string"))
        for key in ("max_value", "spike_factor", "spike_min"):
            if key not in item:
                problems.add("", f"{where}.{key}", N_("required"))
        for key in _NUMBERS:
            v = item.get(key)
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v)
                                  or v < 0):
                problems.add("", f"{where}.{key}", N_("{v!r} is not a finite number ≥ 0", v=v))
        q, c = item.get("quantile", 99.0), item.get("min_completeness", 0.9)
        if isinstance(q, (int, float)) and not 0 < q <= 100:
            problems.add("", f"{where}.quantile", N_("{q!r} is not a percentile in (0, 100]", q=q))
        if isinstance(c, (int, float)) and not 0 <= c <= 1:
            problems.add("", f"{where}.min_completeness", N_("{c!r} is not a share in [0, 1]", c=c))
        n = item.get("min_wet_days", 30)
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            problems.add("", f"{where}.min_wet_days", N_("{n!r} is not a whole number ≥ 1", n=n))
        if len(problems) == before:
            rules[name] = QcRule(name, item["unit"].strip(), **{k: float(item[k]) for k in _NUMBERS if k in item},
                                 min_wet_days=n)
    problems.raise_if_any(str(p), error=ReferenceDataError)
    return QcRules(version, source, verified, note, rules, p)


# --------------------------------------------------------------------------- the check
@dataclass(frozen=True)
class QcResult:
    """Flags of the records (input order) and the gap days of the series."""

    dates: np.ndarray  # datetime64[D], one per record, input order
    values: np.ndarray  # float64, NaN = missing
    flags: np.ndarray  # str, one per record
    notes: list[str]  # one per record ('' for ok)
    gaps: np.ndarray  # datetime64[D]: days inside the span with no record
    scale: float  # S of the spike rule (NaN when unknown)

    def counts(self) -> dict[str, int]:
        """Records per flag, plus the gap days."""
        out = {f: int(np.count_nonzero(self.flags == f)) for f in FLAG_ORDER}
        out[GAP] = int(len(self.gaps))
        return out

    def rows(self) -> list[dict]:
        """Records and gap days in date order: date, value (None if missing/gap), flag, note, index (None for gaps)."""
        out = [{"date": d.item(), "value": None if np.isnan(v) else float(v), "flag": str(f), "note": n, "index": i}
               for i, (d, v, f, n) in enumerate(zip(self.dates, self.values, self.flags, self.notes))]
        out += [{"date": d.item(), "value": None, "flag": GAP, "note": "no record for this day", "index": None}
                for d in self.gaps]
        out.sort(key=lambda r: (r["date"], r["index"] is None, r["index"] or 0))
        return out


def as_days(dates) -> np.ndarray:
    """numpy datetime64[D] from datetime64 values, python dates or ISO strings."""
    return np.asarray(dates, dtype="datetime64[D]").reshape(-1)


def gap_days(recorded, start=None, end=None) -> np.ndarray:
    """Calendar days in [start, end] (default: the first and last recorded day) without a record."""
    rec = np.unique(as_days(recorded))
    if start is None and end is None and not len(rec):
        return np.zeros(0, "datetime64[D]")
    lo = np.datetime64(start, "D") if start is not None else rec.min()
    hi = np.datetime64(end, "D") if end is not None else rec.max()
    if hi < lo:
        return np.zeros(0, "datetime64[D]")
    span = np.arange(lo, hi + np.timedelta64(1, "D"), dtype="datetime64[D]")
    return span[~np.isin(span, rec)]


def _fmt(v: float) -> str:
    return f"{v:g}"


def check_series(dates, values, rule: QcRule, *, scale_values=None) -> QcResult:
    """Flag every record of one station's daily series of ``rule.variable``.

    ``values``: floats, NaN (or None) where the record has no value.  ``scale_values``: more
    values of the same station and variable (e.g. ones already stored and judged ok) that join the
    wet days from which the spike scale S is taken; they get no flag here.
    """
    d = as_days(dates)
    v = np.array([np.nan if x is None else x for x in np.asarray(values, dtype=object).reshape(-1)], dtype=np.float64)
    if d.shape != v.shape:
        raise ValueError(f"check_series: {len(d)} dates but {len(v)} values")
    n = len(v)
    flags = np.full(n, "ok", dtype=object)
    notes = [""] * n
    unit = rule.unit
    first: dict = {}
    for row, day in enumerate(d.tolist()):
        if day in first:
            flags[row] = "duplicate"
            notes[row] = f"second record of {day}: the first record (#{first[day] + 1}) is kept"
        else:
            first[day] = row
    free = flags == "ok"
    for i in np.flatnonzero(free & np.isnan(v)):
        flags[i], notes[i] = "missing", "no value"
    free = flags == "ok"
    for i in np.flatnonzero(free & (v < 0)):
        flags[i], notes[i] = "negative", f"{_fmt(v[i])} {unit} < 0"
    free = flags == "ok"
    for i in np.flatnonzero(free & (v > rule.max_value)):
        flags[i], notes[i] = "impossible", f"{_fmt(v[i])} {unit} > {_fmt(rule.max_value)} {unit} (physical maximum)"
    free = flags == "ok"
    extra = np.asarray([] if scale_values is None else scale_values, dtype=np.float64).reshape(-1)
    extra = extra[np.isfinite(extra) & (extra >= 0) & (extra <= rule.max_value)]
    pool = np.concatenate([v[free], extra])
    wet = pool[(pool > rule.wet_min) & (pool <= rule.spike_min)]
    scale = float(np.percentile(wet, rule.quantile)) if len(wet) >= rule.min_wet_days else float("nan")
    limit = rule.spike_min if math.isnan(scale) else max(rule.spike_min, rule.spike_factor * scale)
    for i in np.flatnonzero(free & (v > limit)):
        flags[i] = "spike"
        notes[i] = (f"{_fmt(v[i])} {unit} > {_fmt(rule.spike_min)} {unit} with too few wet days "
                    f"({len(wet)} < {rule.min_wet_days}) to know the series' scale" if math.isnan(scale) else
                    f"{_fmt(v[i])} {unit} > {_fmt(rule.spike_factor)} × P{_fmt(rule.quantile)} of wet days "
                    f"({scale:.1f} {unit}) and > {_fmt(rule.spike_min)} {unit}")
    return QcResult(d, v, flags.astype(str), notes, gap_days(d), scale)
