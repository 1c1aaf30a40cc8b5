"""A year of supervision in numbers, from the records (for the bulletin's 生产建设项目监管 section).

Only counts that records support are given; a kind of record the store does not
hold is left out rather than shown as zero.  ``None`` when the store holds no
supervision records at all.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date

from sqlalchemy import Connection

from shuibao.store.repositories import (
    case_ledger,
    compliance as compliance_records,
    patches as patch_records,
    programs as program_records,
    projects as project_records,
)
from shuibao.supervision.model import CATEGORY_ZH, Category
from shuibao.services.supervision.case_views import case_views as _views
from shuibao.services.supervision.programs import credit_lists_on, fee_ledger


def supervision_summary(conn: Connection, year: int) -> list[dict] | None:
    """Rows of (item, value, unit, note) for ``year``; None when nothing is recorded."""
    start, end = date(year, 1, 1), date(year, 12, 31)
    n_projects, n_patches = project_records.project_count(conn), patch_records.patch_count(conn)
    if not n_projects and not n_patches:
        return None
    rows: list[dict] = []

    def add(item: str, value, unit: str, note: str = "") -> None:
        rows.append({"item": item, "value": value, "unit": unit, "note": note})

    if n_projects:
        approved = project_records.approvals_between(conn, start, end)
        add("当年批复水土保持方案", approved[0], "个", f"防治责任范围 {float(approved[1] or 0) / 100:.2f} km²")
        status = project_records.status_counts(conn)
        add("在库生产建设项目", n_projects, "个", f"其中施工 {status.get('under_construction', 0)} 个")
    for period in patch_records.periods_imaged_between(conn, start, end):
        n, area = patch_records.period_total(conn, period)
        add(f"扰动图斑（{period}）", n, "个", f"面积 {float(area or 0) / 1e6:.2f} km²")
        run = compliance_records.latest_run_of_period(conn, period)
        if run is not None:
            counts = json.loads(run.counts_json)
            parts = "，".join(f"{CATEGORY_ZH[c]} {counts[c.value]}" for c in Category if counts.get(c.value))
            add(f"合规性分析（{period}）", run.patches, "个", f"规则 {run.rules_version}：{parts}")
    heads = case_ledger.case_heads(conn, ordered=False)
    if heads:
        views = _views(conn, heads, end, until=end)  # each case as it stood on 31 December
        opened = [v for v in views if start <= v.events[0]["on_date"]]
        closed = [v for v in views if v.state == "closed" and start <= v.effective[-1]["on_date"]]
        still = [v for v in views if v.state != "closed"]
        add("当年立案（台账）", len(opened), "件", f"其中核实违法违规 {sum(v.confirmed for v in opened)} 件")
        add("当年销号", len(closed), "件")
        add("年末未销号", len(still), "件", f"其中逾期 {sum(1 for v in still if v.overdue_days)} 件")
    results = program_records.inspection_results_between(conn, start, end)
    if results:
        add("跟踪检查（双随机一公开）", len(results), "次", f"发现问题 {sum(x.result == 'problems' for x in results)} 次")
    colours = Counter(program_records.report_colours_between(conn, start, end))
    if colours:
        add("监测季报三色评价", sum(colours.values()), "份",
            f"绿 {colours.get('green', 0)}，黄 {colours.get('yellow', 0)}，红 {colours.get('red', 0)}")
    filings = program_records.filings_between(conn, start, end)
    if filings:
        add("设施验收报备", filings, "个")
    ledger = [x for x in fee_ledger(conn, end) if start <= x["assessed_on"] <= end]
    if ledger:
        add("征收水土保持补偿费", round(float(sum(x["paid_yuan"] for x in ledger)) / 1e4, 2), "万元",
            f"核定 {float(sum(x['amount_yuan'] for x in ledger)) / 1e4:.2f} 万元")
    entries = credit_lists_on(conn, end)
    if entries:
        kinds = Counter(e["list_kind"] for e in entries)
        add("信用名单（年末在列）", len(entries), "条",
            f"重点关注名单 {kinds.get('watch_list', 0)}，失信黑名单 {kinds.get('blacklist', 0)}")
    return rows
