"""How close the demo's first year comes to the plan's 2020 picture (附表1, 表2), with the bounds of issue 16.

The synthetic city is meant to look like Chongqing, run with the shipped (sourced or marked) tables, not tuned
ones.  This compares one stored run with the 2020 monitoring result printed in the plan:

* 水土保持率 of the city within ± 2 pp and of each region (一区两群) within ± 4 pp of 附表1;
* the loss area's shares by grade (轻度 … 剧烈) within ± 6 pp of the city row of 附表1, and 剧烈 under 1.5 %;
* 林地 and 耕地 the two land-use classes with the largest loss area, as in 表2.

A row that is out of bounds is a finding to record (docs/validation.md), never a reason to change a table.
"""

from __future__ import annotations

from dataclasses import dataclass

from shuibao.plan.reference import load_reference
from shuibao.services.monitoring.runs import get_run

LOSS_GRADES = (("light", "轻度"), ("moderate", "中度"), ("intense", "强烈"), ("very_intense", "极强烈"),
               ("severe", "剧烈"))
RATE_CITY_PP = 2.0
RATE_REGION_PP = 4.0
GRADE_SHARE_PP = 6.0
SEVERE_MAX_PCT = 1.5


@dataclass(frozen=True)
class CheckRow:
    """One figure: the plan's 2020 value, the demo's, the allowed gap and whether it holds."""

    label: str
    plan_2020: float | str
    demo: float | str
    bound: str
    holds: bool


def _rate(row) -> float:
    return 100.0 - float(row.loss_pct)


def compare_with_2020(db: str | None, run_ref: str) -> list[CheckRow]:
    """The bounds of issue 16 item 5 for one stored run (its city, regions, grades and land-use classes)."""
    ref = load_reference()
    run = get_run(db, run_ref)
    units = {(u["level"], u["name"]): u for u in run["units"]}
    rows: list[CheckRow] = []
    city = units[("city", "全市")]
    plan_city = ref.erosion_row("全市")
    rows.append(CheckRow("全市 水土保持率 %", round(_rate(plan_city), 2), round(city["rate_pct"], 2),
                         f"± {RATE_CITY_PP:g} pp", abs(city["rate_pct"] - _rate(plan_city)) <= RATE_CITY_PP))
    for region in ref.regions:
        plan = ref.erosion_row(region.name)
        got = units.get(("region", region.name))
        value = got["rate_pct"] if got else float("nan")
        rows.append(CheckRow(f"{region.name} 水土保持率 %", round(_rate(plan), 2), round(value, 2),
                             f"± {RATE_REGION_PP:g} pp", abs(value - _rate(plan)) <= RATE_REGION_PP))
    loss = city["loss_km2"] or 0.0
    for key, zh in LOSS_GRADES:
        share = 100.0 * (city[f"{key}_km2"] or 0.0) / loss if loss else float("nan")
        want = float(plan_city.pct[key])
        holds = abs(share - want) <= GRADE_SHARE_PP and (key != "severe" or share < SEVERE_MAX_PCT)
        bound = f"± {GRADE_SHARE_PP:g} pp" + (f", < {SEVERE_MAX_PCT:g} %" if key == "severe" else "")
        rows.append(CheckRow(f"{zh} share of the loss area %", round(want, 2), round(share, 2), bound, holds))
    by_loss = sorted(run["landuse"], key=lambda r: -(r["loss_km2"] or 0.0))
    top = [r["name"] for r in by_loss[:2]]
    plan_top = [r.label for r in sorted((r for r in ref.table2 if r.row_kind == "class"),
                                        key=lambda r: -float(r.loss_km2))[:2]]
    rows.append(CheckRow("two largest loss classes", "、".join(plan_top), "、".join(top), "the same two",
                         sorted(top) == sorted(plan_top)))
    return rows
