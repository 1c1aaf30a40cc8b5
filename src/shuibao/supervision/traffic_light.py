"""绿黄红三色评价 (traffic-light evaluation) of a project's quarterly monitoring report (监测季报).

Source: 水利部办公厅 办水保〔2020〕161号.  The report is scored on 15 indicators
whose points sum to 100 (names and points verified, methods.md §5.4)::

    total = Σ_i s_i,   0 ≤ s_i ≤ points_i

and coloured by thresholds held in the data file (defaults, NOT verified [R])::

    绿 green   if total ≥ green   (80)
    黄 yellow  if yellow ≤ total < green   (60)
    红 red     if total < yellow

Optionally, an indicator listed in ``red_if_zero`` that scores 0 forces red
whatever the total (no such rule in the shipped file; several provinces add
one, e.g. serious 乱弃渣土).  Sums and comparisons are done in decimal
arithmetic on the scores as written (``Decimal(str(score))``), so 79.9 stays
below 80 and a column of 0.1-point scores adds up exactly.

The scheme is ``shuibao/supervision/data/traffic_light.toml``; pass
``load_scheme(path)`` a file with the same keys to use another authority's
scheme.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from numbers import Real
from pathlib import Path
from typing import TypeGuard

from ..errors import InputError, ReferenceDataError, raise_issues, N_, Text
from ..datafiles import header as _header, read_toml as _read_toml

COLOURS_ZH = {"green": "绿", "yellow": "黄", "red": "红"}
_KEY = re.compile(r"^[a-z][a-z0-9_]*$")
_TOP_KEYS = {"version", "source", "verified", "note", "red_if_zero", "thresholds", "indicators"}


@dataclass(frozen=True)
class Indicator:
    key: str
    name_zh: str
    points: float


@dataclass(frozen=True)
class Scheme:
    """A versioned indicator table with colour thresholds (see the module docstring)."""

    version: str
    source: str
    verified: bool
    note: str
    indicators: tuple[Indicator, ...]
    green: float
    yellow: float
    red_if_zero: tuple[str, ...]
    path: Path

    def indicator(self, key_or_name: str) -> Indicator | None:
        """The indicator with this English key or Chinese name, or None."""
        for ind in self.indicators:
            if key_or_name in (ind.key, ind.name_zh):
                return ind
        return None


@dataclass(frozen=True)
class Evaluation:
    total: float
    colour: str  # 'green' | 'yellow' | 'red'
    colour_zh: str  # '绿' | '黄' | '红'
    scheme_version: str
    reasons: tuple[str, ...]


def _is_number(value: object) -> TypeGuard[float | Decimal]:
    if isinstance(value, Decimal):
        return value.is_finite()
    return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)


def _fmt(value: Decimal) -> str:
    return format(value.normalize(), "f")


def load_scheme(path: Path | str | None = None) -> Scheme:
    """Read and check a traffic-light scheme; every problem is reported in one ReferenceDataError."""
    p, doc = _read_toml(path, "traffic_light.toml")
    problems: list[Text | str] = []
    version, source, verified, note = _header(doc, problems)
    problems += [N_("{k}: unknown key (expected one of {TOP_KEYS})", k=k, TOP_KEYS=', '.join(sorted(_TOP_KEYS)))
                 for k in doc if k not in _TOP_KEYS]

    indicators: list[Indicator] = []
    raw = doc.get("indicators")
    if not isinstance(raw, list) or not raw:
        problems.append(N_("indicators: required, a list of [[indicators]] tables with key, name_zh, points"))
        raw = []
    for n, item in enumerate(raw, start=1):
        where = f"indicators #{n}"
        if not isinstance(item, dict):
            problems.append(N_("{where}: expected a table with key, name_zh, points", where=where))
            continue
        key, name, points = item.get("key"), item.get("name_zh"), item.get("points")
        where = f"indicators #{n} ({key})" if isinstance(key, str) else where
        bad = [k for k in item if k not in ("key", "name_zh", "points")]
        if bad:
            problems.append(N_("{where}: unknown field(s) {bad}", where=where, bad=', '.join(bad)))
        if not isinstance(key, str) or not _KEY.match(key):
            problems.append(N_("{where}, key: expected a lower-case identifier such as 'soil_loss', found {key!r}", where=where, key=key))
        if not isinstance(name, str) or not name.strip():
            problems.append(N_("{where}, name_zh: required, the indicator's Chinese name", where=where))
        if not _is_number(points) or points <= 0:
            problems.append(N_("{where}, points: expected a positive number, found {points!r}", where=where, points=points))
        if isinstance(key, str) and isinstance(name, str) and _is_number(points) and points > 0:
            indicators.append(Indicator(key, name.strip(), float(points)))
    for attr in ("key", "name_zh"):
        values = [getattr(i, attr) for i in indicators]
        dupes = sorted({v for v in values if values.count(v) > 1})
        if dupes:
            problems.append(N_("indicators: duplicate {attr}(s) {dupes}", attr=attr, dupes=', '.join(dupes)))
    total = sum((Decimal(str(i.points)) for i in indicators), Decimal(0))
    if indicators and len(indicators) == len(raw) and total != 100:
        problems.append(N_("indicators: points sum to {fmt}, expected 100", fmt=_fmt(total)))

    th = doc.get("thresholds")
    green = yellow = math.nan
    if not isinstance(th, dict):
        problems.append(N_("thresholds: required, a [thresholds] table with green and yellow"))
    else:
        for k in th:
            if k not in ("green", "yellow", "verified", "note"):
                problems.append(N_("thresholds, {k}: unknown field (expected green, yellow, verified, note)", k=k))
        g, y = th.get("green"), th.get("yellow")
        for name, value in (("green", g), ("yellow", y)):
            if not _is_number(value):
                problems.append(N_("thresholds, {name}: expected a number, found {value!r}", name=name, value=value))
        if _is_number(g) and _is_number(y):
            green, yellow = float(g), float(y)
            if not 0 < yellow < green <= 100:
                problems.append(N_("thresholds: expected 0 < yellow < green ≤ 100, found yellow {y}, green {g}", y=y, g=g))

    red = doc.get("red_if_zero", [])
    if not isinstance(red, list) or not all(isinstance(k, str) for k in red):
        problems.append(N_("red_if_zero: expected a list of indicator keys, found {red!r}", red=red))
        red = []
    known = {i.key for i in indicators}
    problems += [N_("red_if_zero: {k!r} is not an indicator key", k=k) for k in red if known and k not in known]
    if problems:
        raise_issues(problems, str(p), error=ReferenceDataError)
    return Scheme(version, source, verified, note, tuple(indicators), green, yellow, tuple(red), p)


def evaluate(scheme: Scheme, scores: Mapping[str, float]) -> Evaluation:
    """Score one quarterly report; ``scores`` maps indicator key or Chinese name to points.

    Every indicator must be scored once, with a number in [0, points].  All
    problems (unknown, missing or doubly given indicator, non-number, out of
    range) are reported together in one InputError.
    """
    if not isinstance(scores, Mapping):
        raise InputError(N_("scores: expected a mapping of indicator → points, found {name}", name=type(scores).__name__))
    problems: list[Text | str] = []
    given: dict[str, Decimal] = {}
    for label, value in scores.items():
        ind = scheme.indicator(label) if isinstance(label, str) else None
        if ind is None:
            keys = ", ".join(i.key for i in scheme.indicators)
            problems.append(N_("{label!r}: unknown indicator (expected a key or Chinese name: {keys})", label=label, keys=keys))
            continue
        if ind.key in given:
            problems.append(N_("{key} ({name_zh}): given twice (by key and by name)", key=ind.key, name_zh=ind.name_zh))
            continue
        if not _is_number(value):
            problems.append(N_("{key} ({name_zh}): {value!r} is not a number", key=ind.key, name_zh=ind.name_zh, value=value))
            given[ind.key] = Decimal(0)
            continue
        score = Decimal(str(value))
        if score < 0 or score > Decimal(str(ind.points)):
            problems.append(N_("{key} ({name_zh}): {value} is outside [0, {points:g}]", key=ind.key, name_zh=ind.name_zh, value=value, points=ind.points))
        given[ind.key] = score
    missing = [f"{i.key} ({i.name_zh})" for i in scheme.indicators if i.key not in given]
    if missing:
        problems.append(N_("missing indicator(s): {missing}", missing=', '.join(missing)))
    if problems:
        raise_issues(problems, N_("monitoring-report scores"))

    total = sum(given.values(), Decimal(0))
    shown = _fmt(total)
    green, yellow = Decimal(str(scheme.green)), Decimal(str(scheme.yellow))
    if total >= green:
        colour, reasons = "green", [f"total {shown} ≥ green threshold {scheme.green:g}"]
    elif total >= yellow:
        colour, reasons = "yellow", [f"yellow threshold {scheme.yellow:g} ≤ total {shown} "
                                     f"< green threshold {scheme.green:g}"]
    else:
        colour, reasons = "red", [f"total {shown} < yellow threshold {scheme.yellow:g}"]
    for key in scheme.red_if_zero:
        if given[key] == 0:
            colour = "red"
            indicator = scheme.indicator(key)
            assert indicator is not None  # load_scheme checks that red_if_zero names indicators
            reasons.append(f"{key} ({indicator.name_zh}) scored 0: red by the scheme's red_if_zero rule")
    return Evaluation(float(total), colour, COLOURS_ZH[colour], scheme.version, tuple(reasons))
