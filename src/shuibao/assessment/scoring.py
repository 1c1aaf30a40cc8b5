"""The indicator tree (data/assessment.toml) and its scoring, pure.

Every leaf has a value v ∈ [0, 1] per district computed from records (``None`` where the district has
no records of that kind).  Its score is ``points · v`` (0 where ``v < zero_below``).  With
``missing = "exclude"`` the total is ``100 · Σ score / Σ points`` over the leaves with a value; with
``"zero"`` a missing leaf scores 0.  The total's grade is the first band whose ``min`` it reaches.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import Issues, ReferenceDataError, N_
from ..datafiles import header, read_toml

LEAVES = ("rate_progress", "treatment_completion", "approval_coverage", "case_closure", "inspections_done",
          "fee_collection", "report_not_red", "station_completeness")
"""The leaf kinds the platform can compute from its records."""


@dataclass(frozen=True)
class Indicator:
    key: str
    block: str
    name_zh: str
    points: float
    zero_below: float = 0.0


@dataclass(frozen=True)
class Scheme:
    version: str
    indicators: tuple[Indicator, ...]
    grades: tuple[tuple[str, float], ...]  # (name, min), descending
    missing: str
    path: Path

    def as_dict(self) -> dict:
        return {"version": self.version, "missing": self.missing, "grades": [list(g) for g in self.grades],
                "indicators": [i.__dict__ for i in self.indicators]}


def load_scheme(path: Path | str | None = None) -> Scheme:
    p, doc = read_toml(path, "assessment.toml", "shuibao.assessment")
    problems = Issues()
    version, *_ = header(doc, problems)
    inds = []
    for n, item in enumerate(doc.get("indicators") or [], start=1):
        key = item.get("key") if isinstance(item, dict) else None
        if key not in LEAVES:
            problems.add("", f"indicators #{n}", N_("key {key!r} is not one the platform computes ({LEAVES})", key=key, LEAVES=', '.join(LEAVES)))
            continue
        pts, zb = item.get("points"), item.get("zero_below", 0.0)
        if isinstance(pts, bool) or not isinstance(pts, (int, float)) or pts <= 0:
            problems.add("", f"indicators #{n} ({key})", N_("points must be > 0"))
            continue
        if isinstance(zb, bool) or not isinstance(zb, (int, float)) or not 0 <= zb <= 1:
            problems.add("", f"indicators #{n} ({key})", N_("zero_below must be in [0, 1]"))
            continue
        inds.append(Indicator(key, str(item.get("block", "")), str(item.get("name_zh", key)), float(pts), float(zb)))
    if inds and abs(sum(i.points for i in inds) - 100) > 1e-9:
        problems.add("", "indicators", N_("points add up to {sum:g}, expected 100", sum=sum(i.points for i in inds)))
    keys = [i.key for i in inds]
    for k in sorted({k for k in keys if keys.count(k) > 1}):
        problems.add("", f"indicator {k!r}", N_("appears twice"))
    grades = sorted(((str(g.get("name_zh")), float(g.get("min", 0))) for g in doc.get("grades") or []),
                    key=lambda g: -g[1])
    if not grades or grades[-1][1] > 0:
        problems.add("", "grades", N_("the bands must reach down to min = 0"))
    missing = doc.get("missing", "exclude")
    if missing not in ("exclude", "zero"):
        problems.add("", f"missing = {missing!r}", N_("expected 'exclude' or 'zero'"))
    problems.raise_if_any(str(p), error=ReferenceDataError)
    return Scheme(version, tuple(inds), tuple(grades), missing, p)


def score_district(scheme: Scheme, values: dict[str, float | None]) -> dict:
    """Leaf scores, the total (0–100) and its grade for one district."""
    leaves, earned, available = [], 0.0, 0.0
    for ind in scheme.indicators:
        v = values.get(ind.key)
        if v is None:
            s = 0.0
            if scheme.missing == "zero":
                available += ind.points
        else:
            v = min(max(float(v), 0.0), 1.0)
            s = 0.0 if v < ind.zero_below else ind.points * v
            earned += s
            available += ind.points
        leaves.append({"indicator": ind.key, "value": v, "score": round(s, 4), "max_score": ind.points})
    total = round(100.0 * earned / available, 4) if available else 0.0
    grade = next(name for name, lo in scheme.grades if total >= lo)
    return {"leaves": leaves, "total": total, "grade": grade, "points_with_data": available}
