"""The annual bulletin (水土保持公报) as data: every number read from stored runs, nothing invented.

:func:`bulletin_data` gathers what :mod:`shuibao.reports.render` lays out: the city's
area by grade and 水土保持率 against the previous run and the 2025 target, the regions
(一区两群) and the Three Gorges area, the tables in the layout of 附表1 and 表2, and the
run's provenance.  Sections whose records the platform does not hold yet (governance,
supervision, stations) carry ``rows=None`` and a sentence saying so — never zeros.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..monitoring.units import GRADES, GRADES_ZH, LOSS
from .monitoring_runs import compare_runs, get_run

LEVEL_ZH = {"city": "全市", "region": "区域", "three_gorges": "三峡库区", "district": "区县", "outside": "区县边界外"}
DIRECTION_ZH = {"reached": "已达目标", "toward": "向目标靠近", "away": "偏离目标", "unchanged": "持平", "n/a": "—"}


@dataclass(frozen=True)
class Section:
    """A part of the bulletin fed by records the platform may not have yet."""

    key: str
    title: str
    rows: list[dict] | None  # None: no records of this kind exist
    absent: str = ""  # what the bulletin says when rows is None


@dataclass
class Bulletin:
    run: dict  # info of the run reported on
    previous: dict | None  # info of the run compared with, if any
    city: dict
    regions: list[dict]
    three_gorges: dict | None
    districts: list[dict]
    outside: dict | None
    landuse: list[dict]
    changes: dict[tuple[str, str], dict] = field(default_factory=dict)  # (level, code) → change row
    sections: list[Section] = field(default_factory=list)
    provenance: dict = field(default_factory=dict)
    grades: tuple = tuple(zip(GRADES, GRADES_ZH))
    loss_grades: tuple = LOSS

    @property
    def synthetic(self) -> bool:
        return bool(self.run["synthetic"] or (self.previous and self.previous["synthetic"]))


def _with_shares(row: dict) -> dict:
    """Shares as 附表1 gives them: 微度 of the land area, each loss grade of the soil-loss area."""
    out = dict(row)
    total, loss = row["total_km2"], row["loss_km2"]
    out["slight_pct"] = row["slight_km2"] / total * 100 if total else None
    for g in LOSS:
        out[f"{g}_pct"] = row[f"{g}_km2"] / loss * 100 if loss else None
    out["loss_pct"] = loss / total * 100 if total else None
    return out


def _not_recorded() -> list[Section]:
    # The supervision, governance and station modules (issues 6 and 7) have no tables yet.
    return [
        Section("governance", "综合治理进展（对照规划专栏3）", None,
                "平台中尚无综合治理项目记录，本节暂缺；治理项目入库后自动生成。"),
        Section("supervision", "生产建设项目监管", None,
                "平台中尚无水土保持方案审批、扰动图斑、违法案件或补偿费记录，本节暂缺。"),
        Section("stations", "监测站点", None, "平台中尚无监测站点及观测记录，本节暂缺。"),
    ]


def bulletin_data(db: str | None, run_ref: str, compare_ref: str | None = None) -> Bulletin:
    """Everything the bulletin shows, from the stored run ``run_ref`` (and ``compare_ref`` before it)."""
    run = get_run(db, run_ref)
    units = [_with_shares(u) for u in run["units"]]
    by_level: dict[str, list[dict]] = {}
    for u in units:
        by_level.setdefault(u["level"], []).append(u)
    landuse = [_with_shares(r) for r in run["landuse"]]
    previous = None
    changes: dict[tuple[str, str], dict] = {}
    if compare_ref is not None:
        cmp = compare_runs(db, compare_ref, run_ref)
        previous = cmp["a"].__dict__
        for row in cmp["units"]:
            changes[(row["level"], row["code"])] = {**row, "direction_zh": DIRECTION_ZH[row["toward_target"]]}
    prov = run["provenance"]
    return Bulletin(
        run=run["info"].__dict__, previous=previous, city=by_level["city"][0], regions=by_level.get("region", []),
        three_gorges=(by_level.get("three_gorges") or [None])[0], districts=by_level.get("district", []),
        outside=(by_level.get("outside") or [None])[0], landuse=landuse, changes=changes,
        sections=_not_recorded(),
        provenance={"software": prov.get("software", {}), "inputs": prov.get("inputs", {}),
                    "parameters": prov.get("parameters", {}), "grid": prov.get("grid", {}),
                    "districts": prov.get("districts")},
    )
