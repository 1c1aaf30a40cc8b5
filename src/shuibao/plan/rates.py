"""水土保持率 (soil and water conservation rate) per district and aggregate, against the 2025 targets.

    rate = A_slight / A_total × 100 %                      (methods.md §4)

where A_slight is the 微度 area (soil loss below the tolerance, 500 t/(km²·a)
in Chongqing) and A_total the land area.  Aggregates over districts are
area-weighted, as the plan's own region averages and its 72.23 % city target are:

    rate_G   = Σ A_slight,i / Σ A_total,i
    target_G = Σ (target_i · A_total,i) / Σ A_total,i

The gap is ``target − rate`` in percentage points and ``gap/100 · A_total`` in
km², the area that must move from 轻度 or worse into 微度 by 2025; for an
aggregate that is the sum of its districts' km² gaps.

District rates come from 附表1's 微度 area.  附表2 prints a different 2020 rate
for two units (綦江区, 万盛经开区); ``shuibao plan audit`` reports those.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from .reference import District, PlanReference

LEVELS = ("district", "region", "three_gorges", "city")
CSV_COLUMNS = ("unit", "level", "total_km2", "slight_km2", "rate_2020_pct", "target_2025_pct", "gap_pp", "gap_km2")


@dataclass(frozen=True)
class RateRow:
    """Conservation rate of one unit (district, region, Three Gorges area or city)."""

    unit: str
    code: str
    level: str
    total_km2: Decimal
    slight_km2: Decimal
    rate_2020_pct: Decimal
    target_2025_pct: Decimal
    gap_pp: Decimal
    gap_km2: Decimal
    members: int = 1

    def rounded(self) -> dict[str, str | int]:
        """The row as the CLI prints it: areas and percentages to 2 decimals, half-up."""
        q = Decimal("0.01")

        def r(v: Decimal) -> str:
            return str(v.quantize(q, rounding=ROUND_HALF_UP))

        return {
            "unit": self.unit, "level": self.level, "total_km2": r(self.total_km2),
            "slight_km2": r(self.slight_km2), "rate_2020_pct": r(self.rate_2020_pct),
            "target_2025_pct": r(self.target_2025_pct), "gap_pp": r(self.gap_pp), "gap_km2": r(self.gap_km2),
        }


def aggregate(ref: PlanReference, unit: str, code: str, level: str, members: Iterable[District]) -> RateRow:
    """The plan's 2020 rate and 2025 target of a set of districts (targets weighted by 附表1 areas)."""
    members = tuple(members)
    total = sum((ref.erosion_of(d).total_km2 for d in members), Decimal(0))
    slight = sum((ref.erosion_of(d).area("slight") for d in members), Decimal(0))
    target_area = sum((ref.target_of(d).target_2025_pct * ref.erosion_of(d).total_km2 for d in members), Decimal(0))
    rate = slight / total * 100
    target = target_area / total
    return RateRow(unit, code, level, total, slight, rate, target, target - rate,
                   target_area / 100 - slight, len(members))


def conservation_rates(ref: PlanReference) -> list[RateRow]:
    """Every district, then the three regions, the Three Gorges Reservoir Area and the city."""
    rows = [aggregate(ref, d.name, d.code, "district", [d]) for d in ref.districts]
    rows += [aggregate(ref, r.name, r.code, "region", ref.members(r.code)) for r in ref.regions]
    rows.append(aggregate(ref, "三峡库区", "three_gorges", "three_gorges", ref.three_gorges_members()))
    rows.append(aggregate(ref, "全市", "city", "city", ref.districts))
    return rows


def target_direction(gap_a: float | None, gap_b: float | None) -> str:
    """How a unit moved against its 2025 target between two years, from its gaps (target − rate, in percentage
    points): reached (no gap in B), toward (the gap shrank), away (it grew), unchanged, or n/a without both."""
    if gap_b is None or gap_a is None:
        return "n/a"
    if gap_b <= 0:
        return "reached"
    if gap_b < gap_a - 1e-9:
        return "toward"
    if gap_b > gap_a + 1e-9:
        return "away"
    return "unchanged"
