"""The plan's indicators (专栏1, 专栏3, 专栏4) against what the platform's records show.

Each row is one planned quantity with its 2025 target and, where the platform holds records that
measure it, the value and the record it comes from (a monitoring run for 水土保持率).  Where no
records exist yet the row says so; it never shows a zero for an unrecorded quantity.  Treatment
quantities (专栏3 and 专栏1's new treatment area) come from the treatment patches.
"""

from __future__ import annotations

from typing import Any

from shuibao.errors import InputError
from shuibao.plan.reference import load_reference
from shuibao.services.monitoring.runs import get_run

NO_RECORDS = "尚无记录"
COLUMNS = ["source", "item", "key", "label", "status_2020", "target_2025", "unit", "value", "status", "evidence"]


def _rate(db: str | None, run_ref: str) -> tuple[dict | None, str]:
    """The city unit of the run (its rate, target and gap, as the dashboard shows them) and where it comes from."""
    try:
        run = get_run(db, run_ref)
    except InputError as exc:
        return None, str(exc)
    info = run["info"]
    city = next(u for u in run["units"] if u["level"] == "city")
    syn = "，合成数据 SYNTHETIC" if info.synthetic else ""
    return city, f"监测运行 #{info.id}（{info.year}年{syn}）"


def _city_rate_row(row: dict, ref, city: dict | None, evidence: str) -> None:
    """专栏1 prints the city's 水土保持率 rounded (69.5 % in 2020, 72.2 % for 2025); 附表1/附表2 give it to two decimals (69.48 %,
    72.23 %, the area-weighted district targets).  The platform shows one value for one target everywhere (the
    dashboard, ``monitor show``, scenarios, this table): the two-decimal one, with its gap from the same run."""
    from shuibao.plan.rates import aggregate

    plan_city = aggregate(ref, "全市", "city", "city", ref.districts)
    row["status_2020"] = round(float(plan_city.rate_2020_pct), 2)
    row["target_2025"] = round(float(plan_city.target_2025_pct), 2)
    row["evidence"] = evidence + "；目标为附表2 区县目标按土地面积加权（专栏1 取整为 72.2%）"
    if city is not None and city.get("rate_pct") is not None:
        row["value"] = round(city["rate_pct"], 2)
        gap = city["gap_pp"] if city.get("gap_pp") is not None else row["target_2025"] - city["rate_pct"]
        row["status"] = "已达到" if gap <= 0 else f"未达到（差 {gap:.2f} 个百分点）"


def _planned_stations(db: str | None) -> dict[str, dict]:
    """Registered stations of each 专栏4 item: how many, how many operating."""
    from collections import defaultdict

    from shuibao.store import Store
    from shuibao.store.repositories.stations import planned_station_status

    out: dict[str, dict] = defaultdict(lambda: {"registered": 0, "operating": 0})
    with Store(db) as store, store.reading() as conn:
        for plan_item, status in planned_station_status(conn):
            out[plan_item]["registered"] += 1
            out[plan_item]["operating"] += status == "operating"
    return dict(out)


def _treatment(db: str | None) -> dict | None:
    """Progress of the treatment patches up to 2025, or None when none is recorded."""
    from shuibao.services.governance.treatment import progress

    p = progress(db, year=2025)
    return p if p["patches"] else None


def _fill(row: dict, value: float, treatment: dict) -> None:
    row["value"] = round(value, 2) if row["unit"] == "km2" else value
    gap = row["target_2025"] - value
    row["status"] = "已完成" if gap <= 0 else f"完成 {value / row['target_2025'] * 100:.1f}%（差 {gap:.2f} {row['unit']}）"
    row["evidence"] = f"治理图斑 {treatment['patches']} 个（完工或已验收、2021—2025 年实施的计入）"


def plan_progress(db: str | None, run_ref: str = "latest") -> list[dict]:
    """One row per indicator of 专栏1, item of 专栏3 and planned station group of 专栏4."""
    ref = load_reference()
    city, evidence = _rate(db, run_ref)
    rows = []
    for ind in ref.indicators:
        row: dict[str, Any] = {"source": ind.source, "item": "", "key": ind.key, "label": ind.label,
               "status_2020": None if ind.status_2020 is None else float(ind.status_2020),
               "target_2025": float(ind.target_2025), "unit": ind.unit, "value": None, "status": NO_RECORDS,
               "evidence": "平台中尚无相应记录"}
        if ind.key == "conservation_rate":
            _city_rate_row(row, ref, city, evidence)
        rows.append(row)
    treatment = _treatment(db)
    if treatment is not None:  # 专栏1's new treatment area is the done area of the types that count toward it
        from shuibao.governance.progress import new_treatment_km2

        kinds = {k["key"]: k for k in treatment["by_kind"]}
        for row in rows:
            if row["key"] == "new_treatment_area":
                _fill(row, new_treatment_km2(treatment["by_kind"]), treatment)
            elif row["key"] == "key_treatment_area" and kinds["small_watershed"]["patches"]:
                # 重点治理 is the small-watershed treatment of the national key projects (专栏3-01, same 1,500 km²)
                _fill(row, kinds["small_watershed"]["done"], treatment)
            elif row["key"] in kinds and kinds[row["key"]]["patches"]:
                _fill(row, kinds[row["key"]]["done"], treatment)
    for g in ref.governance:
        row = {"source": g.source, "item": g.item, "key": g.key, "label": g.label, "status_2020": None,
               "target_2025": float(g.quantity), "unit": g.unit, "value": None, "status": NO_RECORDS,
               "evidence": "平台中尚无综合治理项目记录"}
        done = next((k for k in treatment["by_kind"] if k["key"] == g.key), None) if treatment else None
        if done is not None and done["patches"]:
            assert treatment is not None  # done comes from it
            _fill(row, done["done"], treatment)
        rows.append(row)
    by_kind: dict[tuple[str, str], list] = {}
    for st in ref.stations:
        by_kind.setdefault((st.item, st.kind), []).append(st)
    built = _planned_stations(db)
    for (item, kind), stations in by_kind.items():
        row = {"source": "专栏4", "item": item, "key": kind,
               "label": "新建监测站点：" + "、".join(s.label for s in stations), "status_2020": None,
               "target_2025": float(sum(s.count for s in stations)), "unit": "个", "value": None,
               "status": NO_RECORDS, "evidence": "平台中尚无监测站点记录"}
        mine = built.get(f"专栏4-{item}")
        if mine:  # the plan's stations are registered (`shuibao stations plan`); those operating count as built
            row["value"] = float(mine["operating"])
            gap = row["target_2025"] - row["value"]
            row["status"] = "已完成" if gap <= 0 else f"已建成 {mine['operating']:g} 个（差 {gap:g} 个）"
            row["evidence"] = f"站点登记：规划站点 {mine['registered']} 个，运行 {mine['operating']} 个"
        rows.append(row)
    return rows
