"""The plan's indicators (专栏1, 专栏3, 专栏4) against what the platform's records show.

Each row is one planned quantity with its 2025 target and, where the platform holds records that
measure it, the value and the record it comes from (a monitoring run for 水土保持率).  Where no
records exist yet — governance projects, stations: issues 6 and 7 — the row says so; it never shows
a zero for an unrecorded quantity.
"""

from __future__ import annotations

from ..errors import InputError
from ..plan.reference import load_reference
from .monitoring_runs import get_run

NO_RECORDS = "尚无记录"
COLUMNS = ["source", "item", "key", "label", "status_2020", "target_2025", "unit", "value", "status", "evidence"]


def _rate(db: str | None, run_ref: str) -> tuple[float | None, str]:
    try:
        run = get_run(db, run_ref)
    except InputError as exc:
        return None, str(exc)
    info = run["info"]
    city = next(u for u in run["units"] if u["level"] == "city")
    syn = "，合成数据 SYNTHETIC" if info.synthetic else ""
    return city["rate_pct"], f"监测运行 #{info.id}（{info.year}年{syn}）"


def plan_progress(db: str | None, run_ref: str = "latest") -> list[dict]:
    """One row per indicator of 专栏1, item of 专栏3 and planned station group of 专栏4."""
    ref = load_reference()
    rate, evidence = _rate(db, run_ref)
    rows = []
    for ind in ref.indicators:
        row = {"source": ind.source, "item": "", "key": ind.key, "label": ind.label,
               "status_2020": None if ind.status_2020 is None else float(ind.status_2020),
               "target_2025": float(ind.target_2025), "unit": ind.unit, "value": None, "status": NO_RECORDS,
               "evidence": "平台中尚无相应记录"}
        if ind.key == "conservation_rate":
            row["evidence"] = evidence
            if rate is not None:
                row["value"] = round(rate, 2)
                gap = float(ind.target_2025) - rate
                row["status"] = "已达到" if gap <= 0 else f"未达到（差 {gap:.2f} 个百分点）"
        rows.append(row)
    for g in ref.governance:
        rows.append({"source": g.source, "item": g.item, "key": g.key, "label": g.label, "status_2020": None,
                     "target_2025": float(g.quantity), "unit": g.unit, "value": None, "status": NO_RECORDS,
                     "evidence": "平台中尚无综合治理项目记录"})
    by_kind: dict[tuple[str, str], list] = {}
    for st in ref.stations:
        by_kind.setdefault((st.item, st.kind), []).append(st)
    for (item, kind), stations in by_kind.items():
        rows.append({"source": "专栏4", "item": item, "key": kind,
                     "label": "新建监测站点：" + "、".join(s.label for s in stations), "status_2020": None,
                     "target_2025": float(sum(s.count for s in stations)), "unit": "个", "value": None,
                     "status": NO_RECORDS, "evidence": "平台中尚无监测站点记录"})
    return rows
