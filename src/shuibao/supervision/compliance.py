"""Compliance analysis (合规性分析): disturbance patches against approved responsibility areas.

For a patch P (area a_P, m²) and the approved areas Z_j it overlaps (positive
area of intersection), with U = ⋃ Z_j:

* outside area   e = a_P − area(P ∩ U)   (``earea``, 超出防治责任范围面积)
* outside share  s = e / a_P
* **out_of_bounds** (疑似超出防治责任范围) if e > ``min_outside_m2`` and s > tol,
  where tol is ``tolerance_share`` (``schematic_tolerance_share`` when the
  project holding most of P has only a schematic outline, 示意性范围);
  otherwise **compliant** (合规).  The project is the one overlapping P most.
* P overlaps no approved area: **relocated** (疑似建设地点变更) if an approved
  project of a matching kind lies within ``search_distance_m`` (the nearest is
  named, all are listed as candidates), else **unapproved** (疑似未批先建).
* A patch whose disturbance type is 非生产建设项目 is **not_project** and not
  overlaid.

An area is approved for P when its project's status is eligible and (if
``approval_must_precede_image``) its plan was approved on or before P's image
date; a later approval is evidence *for* 未批先建, and is recorded as such.
Projects expected to be under way whose areas meet no patch of the period are
project findings (已批在建未见扰动), as are such projects without an area.

Geometries must be in one projected, metre-unit CRS (the platform uses its
Albers equal-area CRS: areas are exact, distances within 0.2 % over Chongqing).
Source of the categories: methods.md §5.3 and methods-verification §6.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from ..errors import ReferenceDataError, raise_issues, N_, Text
from .model import Category, NOT_PROJECT_KIND, ProjectStatus


@dataclass(frozen=True)
class ComplianceRules:
    """The versioned rule set of :mod:`shuibao.supervision.compliance` (see data/compliance_rules.toml)."""

    version: str
    source: str
    verified: bool
    tolerance_share: float
    schematic_tolerance_share: float
    min_outside_m2: float
    search_distance_m: float
    eligible_statuses: frozenset[str]
    approval_must_precede_image: bool
    expect_disturbance_statuses: frozenset[str]
    expect_after_construction_start: bool
    any_project_kinds: frozenset[str]
    groups: tuple[frozenset[str], ...]
    path: str = ""

    def parameters(self) -> dict:
        """The rule set as plain data, stored with every analysis."""
        return {
            "version": self.version, "tolerance_share": self.tolerance_share,
            "schematic_tolerance_share": self.schematic_tolerance_share, "min_outside_m2": self.min_outside_m2,
            "search_distance_m": self.search_distance_m, "eligible_statuses": sorted(self.eligible_statuses),
            "approval_must_precede_image": self.approval_must_precede_image,
            "expect_disturbance_statuses": sorted(self.expect_disturbance_statuses),
            "expect_after_construction_start": self.expect_after_construction_start,
            "any_project_kinds": sorted(self.any_project_kinds), "groups": [sorted(g) for g in self.groups],
        }

    def matches(self, patch_kind: str | None, patch_industry: str | None, project_industry: str | None) -> bool:
        """Whether a patch may belong to a project of ``project_industry`` (the "matching kind" of the rule)."""
        if not patch_industry or (patch_kind or "") in self.any_project_kinds:
            return True
        if patch_industry == project_industry:
            return True
        return any(patch_industry in g and project_industry in g for g in self.groups)


def load_rules(path: Path | str | None = None) -> ComplianceRules:
    """Read a rule file (the shipped one by default); every problem is reported at once."""
    if path is None:
        src = resources.files("shuibao.supervision") / "data" / "compliance_rules.toml"
        name, text = "compliance_rules.toml (shipped)", src.read_text(encoding="utf-8")
    else:
        p = Path(path)
        if not p.is_file():
            raise ReferenceDataError(N_("{p}: compliance rule file not found", p=p))
        name, text = str(p), p.read_text(encoding="utf-8")
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ReferenceDataError(N_("{name}: not valid TOML ({exc})", name=name, exc=exc)) from exc
    problems: list[Text | str] = []
    prm = doc.get("parameters", {})
    match = doc.get("matching", {})

    def number(key: str, lo: float, hi: float) -> float:
        v = prm.get(key)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not lo <= v <= hi:
            problems.append(N_("parameters.{key} = {v!r}: expected a number in [{lo}, {hi}]", key=key, v=v, lo=lo, hi=hi))
            return 0.0
        return float(v)

    def flag(key: str) -> bool:
        v = prm.get(key)
        if not isinstance(v, bool):
            problems.append(N_("parameters.{key} = {v!r}: expected true or false", key=key, v=v))
        return bool(v)

    def statuses(key: str) -> frozenset[str]:
        v = prm.get(key)
        known = {s.value for s in ProjectStatus}
        if not isinstance(v, list) or not all(isinstance(s, str) for s in v) or set(v) - known:
            problems.append(N_("parameters.{key} = {v!r}: expected a list of {known}", key=key, v=v, known=', '.join(sorted(known))))
            return frozenset()
        return frozenset(v)

    for key in ("version", "source"):
        if not isinstance(doc.get(key), str) or not doc.get(key):
            problems.append(N_("{key}: expected a non-empty string", key=key))
    rules: dict[str, Any] = dict(
        tolerance_share=number("tolerance_share", 0, 1),
        schematic_tolerance_share=number("schematic_tolerance_share", 0, 1),
        min_outside_m2=number("min_outside_m2", 0, 1e9), search_distance_m=number("search_distance_m", 0, 1e6),
        eligible_statuses=statuses("eligible_statuses"),
        approval_must_precede_image=flag("approval_must_precede_image"),
        expect_disturbance_statuses=statuses("expect_disturbance_statuses"),
        expect_after_construction_start=flag("expect_after_construction_start"),
    )
    kinds = match.get("any_project_kinds", [])
    groups = match.get("groups", [])
    if not isinstance(kinds, list) or not all(isinstance(k, str) for k in kinds):
        problems.append(N_("matching.any_project_kinds = {kinds!r}: expected a list of strings", kinds=kinds))
        kinds = []
    if not isinstance(groups, list) or not all(isinstance(g, list) and all(isinstance(x, str) for x in g)
                                               for g in groups):
        problems.append(N_("matching.groups = {groups!r}: expected a list of lists of industry names", groups=groups))
        groups = []
    if problems:
        raise_issues(problems, name, error=ReferenceDataError)
    return ComplianceRules(version=doc["version"], source=doc["source"].strip(), verified=bool(doc.get("verified")),
                           any_project_kinds=frozenset(kinds), groups=tuple(frozenset(g) for g in groups),
                           path=name, **rules)


@dataclass(frozen=True)
class ApprovedAreas:
    """Current responsibility areas, one (multi)polygon per project, in a metre CRS."""

    project_ids: np.ndarray  # int64
    geoms: np.ndarray  # shapely, projected
    schematic: np.ndarray  # bool
    industries: Sequence[str | None]
    statuses: Sequence[str]
    approval_dates: Sequence[date | None]


@dataclass(frozen=True)
class Patches:
    """Disturbance patches of one analysis, in the same CRS as the areas."""

    ids: np.ndarray  # int64 (store fids)
    geoms: np.ndarray
    kinds: Sequence[str | None]
    industries: Sequence[str | None]
    image_dates: Sequence[date | None]


@dataclass(frozen=True)
class Finding:
    """The category of one patch with its evidence (areas in m², distances in m)."""

    patch_id: int
    category: Category
    project_id: int | None
    patch_area_m2: float
    overlap_m2: float
    outside_m2: float
    outside_share: float
    distance_m: float | None
    tolerance_share: float | None
    candidates: tuple[dict, ...] = ()
    reason: str = ""


@dataclass(frozen=True)
class ProjectFinding:
    """A project expected to disturb the ground where the period shows nothing (or that has no area)."""

    project_id: int
    finding: str  # "no_disturbance_seen" | "no_area"
    status: str
    reason: str
    evidence: dict = field(default_factory=dict)


def _eligible(areas: ApprovedAreas, rules: ComplianceRules) -> np.ndarray:
    return np.array([s in rules.eligible_statuses for s in areas.statuses], dtype=bool)


def _approved_in_time(areas: ApprovedAreas, j: int, image_date: date | None, rules: ComplianceRules) -> bool:
    approved = areas.approval_dates[j]
    return not (rules.approval_must_precede_image and approved and image_date and approved > image_date)


def classify(patches: Patches, areas: ApprovedAreas, rules: ComplianceRules) -> list[Finding]:
    """One :class:`Finding` per patch, in patch order (see the module docstring for the rules)."""
    n = len(patches.ids)
    p_area = shapely.area(patches.geoms) if n else np.zeros(0)
    tree = shapely.STRtree(areas.geoms)
    eligible = _eligible(areas, rules)
    pi, aj = tree.query(patches.geoms, predicate="intersects") if n and len(areas.geoms) else (np.zeros(0, int),) * 2
    overlap = shapely.area(shapely.intersection(patches.geoms[pi], areas.geoms[aj])) if len(pi) else np.zeros(0)
    by_patch: dict[int, list[tuple[int, float]]] = {}
    for i, j, ov in zip(pi.tolist(), aj.tolist(), overlap.tolist()):
        if ov > 0:
            by_patch.setdefault(i, []).append((j, ov))
    project_ids = areas.project_ids
    findings: list[Finding] = []
    unmatched: list[int] = []
    late: dict[int, list[tuple[int, float]]] = {}  # overlapping areas of plans approved after the image, or ineligible
    for i in range(n):
        if (patches.kinds[i] or "") == NOT_PROJECT_KIND:
            findings.append(Finding(int(patches.ids[i]), Category.not_project, None, float(p_area[i]), 0.0, 0.0,
                                    0.0, None, None, (), "扰动类型为非生产建设项目，不作合规性分析"))
            continue
        hits = [(j, ov) for j, ov in by_patch.get(i, [])
                if eligible[j] and _approved_in_time(areas, j, patches.image_dates[i], rules)]
        other = [(j, ov) for j, ov in by_patch.get(i, []) if (j, ov) not in hits]
        if not hits:
            findings.append(None)  # type: ignore[arg-type]  # filled below
            unmatched.append(i)
            late[i] = other
            continue
        hits.sort(key=lambda t: (-t[1], int(project_ids[t[0]])))
        if len(hits) == 1:
            inside = hits[0][1]
        else:  # areas of several projects may overlap each other: measure P ∩ ⋃Z once
            inside = float(shapely.area(shapely.intersection(patches.geoms[i],
                                                             shapely.union_all(areas.geoms[[j for j, _ in hits]]))))
        outside = max(float(p_area[i]) - inside, 0.0)
        share = outside / float(p_area[i]) if p_area[i] > 0 else 0.0
        best = hits[0][0]
        tol = rules.schematic_tolerance_share if areas.schematic[best] else rules.tolerance_share
        bad = outside > rules.min_outside_m2 and share > tol
        cands = tuple({"project_id": int(project_ids[j]), "overlap_m2": round(ov, 2)} for j, ov in hits)
        reason = (f"超出防治责任范围 {outside:.0f} m²（{share:.1%}），超过容差 {tol:.0%} 且大于 {rules.min_outside_m2:.0f} m²"
                  if bad else f"位于防治责任范围内（范围外 {outside:.0f} m²，{share:.1%}，容差 {tol:.0%}）")
        findings.append(Finding(int(patches.ids[i]), Category.out_of_bounds if bad else Category.compliant,
                                int(project_ids[best]), float(p_area[i]), inside, outside, share, 0.0, tol, cands,
                                reason))
    if unmatched:
        _classify_unmatched(patches, areas, rules, eligible, tree, unmatched, late, p_area, findings)
    return findings


def _classify_unmatched(patches, areas, rules, eligible, tree, rows, late, p_area, findings) -> None:
    """relocated or unapproved, for patches that overlap no approved area."""
    idx = np.asarray(rows, dtype=np.int64)
    pi, aj = tree.query(patches.geoms[idx], predicate="dwithin", distance=rules.search_distance_m)
    dist = shapely.distance(patches.geoms[idx[pi]], areas.geoms[aj]) if len(pi) else np.zeros(0)
    near: dict[int, list[tuple[int, float]]] = {}
    for k, j, d in zip(pi.tolist(), aj.tolist(), dist.tolist()):
        near.setdefault(int(idx[k]), []).append((j, d))
    pids = areas.project_ids
    for i in rows:
        area = float(p_area[i])
        when = patches.image_dates[i]
        ok = [(j, d) for j, d in near.get(i, []) if eligible[j] and _approved_in_time(areas, j, when, rules)]
        matching = sorted(((j, d) for j, d in ok if rules.matches(patches.kinds[i], patches.industries[i],
                                                                  areas.industries[j])),
                          key=lambda t: (t[1], int(pids[t[0]])))
        if matching:
            j, d = matching[0]
            cands: tuple[dict, ...] = tuple({"project_id": int(pids[jj]), "distance_m": round(dd, 1)}
                                            for jj, dd in matching)
            findings[i] = Finding(int(patches.ids[i]), Category.relocated, int(pids[j]), area, 0.0, area, 1.0,
                                  d, None, cands, f"未与任何防治责任范围相交；{d:.0f} m 内有同类已批项目")
            continue
        # evidence for 未批先建: plans approved only after the image, ineligible projects, other-kind neighbours
        overlapping = sorted(late.get(i, []), key=lambda t: -t[1])
        cands = tuple({"project_id": int(pids[j]), "overlap_m2": round(ov, 2), "status": areas.statuses[j],
                       "approved_on": str(areas.approval_dates[j] or "")} for j, ov in overlapping)
        project = int(pids[overlapping[0][0]]) if overlapping else None
        nearest = sorted(ok, key=lambda t: t[1])
        if nearest:
            cands += tuple({"project_id": int(pids[j]), "distance_m": round(d, 1), "kind_matches": False}
                           for j, d in nearest[:5])
        if overlapping:
            j = overlapping[0][0]
            late_plan = eligible[j] and not _approved_in_time(areas, j, when, rules)
            reason = (f"影像日期 {when} 早于项目方案批复 {areas.approval_dates[j]}" if late_plan
                      else f"仅与状态为 {areas.statuses[j]} 的项目范围相交")
        elif nearest:
            reason = f"未与已批防治责任范围相交；{rules.search_distance_m:.0f} m 内仅有不同类项目"
        else:
            reason = f"未与已批防治责任范围相交，{rules.search_distance_m:.0f} m 内无已批项目"
        distance = nearest[0][1] if nearest else None
        findings[i] = Finding(int(patches.ids[i]), Category.unapproved, project, area, 0.0, area, 1.0, distance,
                              None, cands, reason)


def idle_projects(projects: Sequence[dict], patches: Patches, areas: ApprovedAreas,
                  rules: ComplianceRules) -> list[ProjectFinding]:
    """Projects expected to be under way (see the rules) that meet no patch of the period, or have no area.

    ``projects`` are dicts with ``id``, ``status`` and ``construction_start`` (date or None).
    """
    last_image = max((d for d in patches.image_dates if d), default=None)
    expected = []
    for p in projects:
        status = p["status"]
        if status in rules.expect_disturbance_statuses:
            expected.append((p, f"状态为 {status}"))
        elif (rules.expect_after_construction_start and status == ProjectStatus.approved
              and p.get("construction_start") and last_image and p["construction_start"] <= last_image):
            expected.append((p, f"计划开工 {p['construction_start']} 早于本期影像 {last_image}"))
    if not expected:
        return []
    row_of = {int(pid): j for j, pid in enumerate(areas.project_ids.tolist())}
    touched: set[int] = set()
    if len(patches.ids) and len(areas.geoms):
        tree = shapely.STRtree(patches.geoms)
        aj, pi = tree.query(areas.geoms, predicate="intersects")
        shared = shapely.area(shapely.intersection(areas.geoms[aj], patches.geoms[pi])) if len(aj) else []
        touched = {int(areas.project_ids[j]) for j, a in zip(aj.tolist(), list(shared)) if a > 0}  # not edges
    out = []
    for p, why in expected:
        pid = int(p["id"])
        if pid not in row_of:
            out.append(ProjectFinding(pid, "no_area", p["status"], f"{why}，防治责任范围未上图"))
        elif pid not in touched:
            out.append(ProjectFinding(pid, "no_disturbance_seen", p["status"], f"{why}，本期未见扰动图斑",
                                      {"last_image_date": str(last_image) if last_image else None,
                                       "patches_in_period": int(len(patches.ids))}))
    return out


__all__ = ["ApprovedAreas", "ComplianceRules", "Finding", "Patches", "ProjectFinding",
           "classify", "idle_projects", "load_rules"]
