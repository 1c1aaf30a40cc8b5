"""The colour classes of the district maps — 水土保持率 and the gap to the 2025 target — defined once.

The bulletin's maps (:mod:`shuibao.reports.figures`) and the web map (``web/templates/map.html``, whose
``rateColour``/``gapColour`` read :meth:`ClassScale.as_json` passed by
:func:`shuibao.services.monitoring.run_rasters.district_classes`) colour districts with these objects, so a
district has the same colour on paper and on screen.

Why these classes (numbers from the plan's 附表2 via :func:`shuibao.plan.rates.conservation_rates`):

* **Gap to target** (``target − rate``, percentage points; ≤ 0 means reached).  The plan raises the city from
  its 2020 rate to 72.23 % by 2025, +2.75 pp in five years (about 0.55 pp a year); the median district has
  +2.77 pp to gain, the most demanding +4.35 pp.  So a gap of a few points is most or all of a district's
  five-year task and must read as *behind*, never as green.  Only a reached target (≤ 0) is green;
  0–1 pp (under two years of the plan's average pace) is yellow; 1–3 pp (up to the median district's whole
  five-year increase) orange; 3–5 pp (more than the median five-year increase, up to the largest the plan
  sets) red; > 5 pp (beyond any district's planned increase) dark red.  Right-closed: a gap of exactly 0
  is "reached", as :func:`shuibao.plan.rates.target_direction` counts it.
* **水土保持率** (%): 10-point bands from 50 to 90 over the range of the plan's district rates (53.0 % in
  2020 to 100 %) and targets (56–100 %); the city's 72.23 % target falls in 70–80.  A rate alone does not
  say whether a district reached its own target (targets differ by 44 points), which is what the gap map is
  for; the rate scale is therefore sequential (yellow → green, no red).  Left-closed: 80.00 % is "80–90".

Colours: ColorBrewer 2.0 (C. Brewer, colorbrewer2.org) — rate: YlGn 6-class; gap: RdYlGn, its 7-class green
#1a9850 for "reached", its 7-class #fee08b, #fc8d59, #d73027 and its darkest red #a50026 for the shortfalls.
No data: light grey #dddddd (unverified choice, as the web map has used).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

NO_DATA_COLOUR = "#dddddd"


@dataclass(frozen=True)
class ColourClass:
    """One class: values between ``lo`` and ``hi`` (None: unbounded), which end is closed is the scale's."""

    lo: float | None
    hi: float | None
    colour: str
    label_zh: str
    label_en: str

    def label(self, lang: str = "zh") -> str:
        return self.label_zh if lang == "zh" else self.label_en


@dataclass(frozen=True)
class ClassScale:
    """Ordered classes of one quantity; ``closed`` is "left" (lo ≤ v < hi) or "right" (lo < v ≤ hi)."""

    key: str
    title_zh: str
    title_en: str
    unit: str
    closed: str
    classes: tuple[ColourClass, ...]
    no_data_zh: str = "无数据"
    no_data_en: str = "no data"
    no_data_colour: str = NO_DATA_COLOUR

    def classify(self, value: float | None) -> ColourClass | None:
        """The class of ``value``; None for a missing or non-finite value."""
        if value is None or not math.isfinite(value):
            return None
        for c in self.classes:
            if self.closed == "left":
                inside = (c.lo is None or value >= c.lo) and (c.hi is None or value < c.hi)
            else:
                inside = (c.lo is None or value > c.lo) and (c.hi is None or value <= c.hi)
            if inside:
                return c
        raise ValueError(f"{self.key}: value {value} falls in no class")  # the classes cover the real line

    def colour(self, value: float | None) -> str:
        c = self.classify(value)
        return self.no_data_colour if c is None else c.colour

    def title(self, lang: str = "zh") -> str:
        return self.title_zh if lang == "zh" else self.title_en

    def as_json(self, lang: str = "zh") -> dict:
        """What the web map's colour function reads: the classes (bounds, colour, label) in order."""
        return {"key": self.key, "title": self.title(lang), "unit": self.unit, "closed": self.closed,
                "classes": [{"lo": c.lo, "hi": c.hi, "colour": c.colour, "label": c.label(lang)}
                            for c in self.classes],
                "no_data": {"colour": self.no_data_colour, "label": self.no_data_zh if lang == "zh"
                            else self.no_data_en}}


RATE_CLASSES = ClassScale("rate", "水土保持率", "conservation rate", "%", "left", (
    ColourClass(None, 50.0, "#ffffcc", "< 50%", "< 50%"),
    ColourClass(50.0, 60.0, "#d9f0a3", "50%–60%", "50–60%"),
    ColourClass(60.0, 70.0, "#addd8e", "60%–70%", "60–70%"),
    ColourClass(70.0, 80.0, "#78c679", "70%–80%", "70–80%"),
    ColourClass(80.0, 90.0, "#31a354", "80%–90%", "80–90%"),
    ColourClass(90.0, None, "#006837", "≥ 90%", "≥ 90%"),
))

GAP_CLASSES = ClassScale("gap", "距2025年目标", "gap to the 2025 target", "pp", "right", (
    ColourClass(None, 0.0, "#1a9850", "已达到目标", "target reached"),
    ColourClass(0.0, 1.0, "#fee08b", "差 0–1 个百分点", "0–1 pp short"),
    ColourClass(1.0, 3.0, "#fc8d59", "差 1–3 个百分点", "1–3 pp short"),
    ColourClass(3.0, 5.0, "#d73027", "差 3–5 个百分点", "3–5 pp short"),
    ColourClass(5.0, None, "#a50026", "差 5 个百分点以上", "more than 5 pp short"),
))

__all__ = ["ClassScale", "ColourClass", "GAP_CLASSES", "NO_DATA_COLOUR", "RATE_CLASSES"]
