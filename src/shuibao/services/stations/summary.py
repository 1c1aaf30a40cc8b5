"""A year of stations and warnings in numbers (the bulletin's 监测站点 section), from the records.

``None`` when no station is registered; otherwise only what the records support.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

from shuibao.store import Store
from shuibao.store.repositories import stations as station_rows, warnings as warning_rows
from shuibao.services.stations.records import KIND_ZH, annual_summary


def stations_summary(db: str | None, year: int) -> list[dict] | None:
    with Store(db) as store, store.reading() as conn:
        registry = station_rows.registry(conn)
        if not registry:
            return None
        warnings = warning_rows.warnings_between(conn, date(year, 1, 1), date(year, 12, 31))
        hits = warning_rows.hits_by_kind(conn, [x.id for x in warnings]) if warnings else []
    rows: list[dict] = []

    def add(item: str, value, unit: str, note: str = "") -> None:
        rows.append({"item": item, "value": value, "unit": unit, "note": note})

    operating = Counter(k for k, st, _ in registry if st == "operating")
    add("运行监测站点", sum(operating.values()), "个",
        "，".join(f"{KIND_ZH.get(k, k)} {n}" for k, n in sorted(operating.items())))
    planned = [p for _, st, p in registry if p]
    if planned:
        built = sum(1 for _, st, p in registry if p and st == "operating")
        add("规划新建站点（专栏4）", len(planned), "个", f"已建成运行 {built} 个")
    summary = annual_summary(db, year)
    if summary:
        complete = [r for r in summary if r["complete"]]
        wettest = max((r for r in summary if r["max_daily"] is not None), key=lambda r: r["max_daily"], default=None)
        add("年度降雨观测站", len(summary), "个", f"观测完整（≥90%）{len(complete)} 个")
        if wettest:
            add("最大日降雨量", round(wettest["max_daily"], 1), "mm", f"{wettest['station']} {wettest['name']}")
        add("日降雨 ≥ 50 mm 站日数", sum(r["days_ge_50"] or 0 for r in summary), "站日")
        rs = [r["r"] for r in complete if r["r"] is not None]
        if rs:
            add("降雨侵蚀力 R（观测完整站点平均）", round(sum(rs) / len(rs), 1), "MJ·mm/(hm²·h·a)",
                f"范围 {min(rs):.0f}–{max(rs):.0f}，半月模型")
    if warnings:
        kinds = dict(hits)
        add("暴雨预警", len(warnings), "次", f"涉及在建项目 {kinds.get('project', 0)}、未销号案件 "
                                       f"{kinds.get('case', 0)}、高强度侵蚀小流域 {kinds.get('erosion_area', 0)}")
    return rows
