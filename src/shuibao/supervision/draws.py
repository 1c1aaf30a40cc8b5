"""双随机一公开 (random inspection): draw projects at random, then assign inspectors at random.

Reproducible: the draw depends only on the seed, the parameters and the *set*
of projects and inspectors (both are sorted by id first, so input order does
not matter).  Random numbers come from ``numpy.random.Generator(PCG64(seed))``
in this order:

1. ``rng.choice(N, n, replace=False)`` picks n of the N projects (sorted by id),
   ``n = count`` or ``n = max(1, ⌈ratio·N⌉)`` (computed in decimal arithmetic, so
   0.3 × 10 is 3, not 4);
2. ``rng.permutation(M)`` ranks the M inspectors (sorted by id); the rank breaks ties.

Projects are staffed most-constrained first (fewest eligible inspectors, then
draw order).  Each gets ``per_project`` distinct inspectors, none based in any
of the project's districts (回避), chosen as the least-loaded eligible
inspectors (ties by rank) below ``max_load``.  When every eligible inspector is
full, an augmenting path moves an inspector from another project that can be
re-staffed (a bipartite b-matching step), so a draw fails only when no
assignment satisfying the constraints exists; the InputError names each
project that cannot be staffed and why.

``population_digest`` = sha256 of the UTF-8 JSON text
``{"inspectors":[sorted ids],"projects":[sorted ids]}`` (no spaces), so a
published draw can be re-checked against the population it was drawn from.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, cast

import numpy as np

from ..errors import raise_issues, N_, Text


@dataclass(frozen=True)
class DrawProject:
    id: int
    name: str
    district_codes: frozenset[str]


@dataclass(frozen=True)
class Inspector:
    id: str
    name: str
    district_code: str


@dataclass(frozen=True)
class Assignment:
    project_id: int
    inspector_ids: tuple[str, ...]  # sorted


@dataclass(frozen=True)
class Draw:
    seed: int
    population_digest: str
    assignments: tuple[Assignment, ...]  # by project id
    parameters: dict[str, Any] = field(hash=False)


def _n_from_ratio(ratio: float, n: int) -> int:
    return max(1, math.ceil(Decimal(str(ratio)) * n)) if n > 0 else 0


def _check_ratio(ratio, what: str = "ratio") -> str | None:
    if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or not 0 < ratio <= 1:
        return f"{what}: expected a number in (0, 1], found {ratio!r}"
    return None


def _check_seed(seed) -> str | None:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        return f"seed: expected a non-negative integer, found {seed!r}"
    return None


def _dupes(ids) -> list:
    ids = list(ids)
    return sorted({i for i in ids if ids.count(i) > 1}, key=str)


def population_digest(project_ids, inspector_ids) -> str:
    text = json.dumps({"inspectors": sorted(inspector_ids), "projects": sorted(project_ids)},
                      separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def draw_inspections(projects: Sequence[DrawProject], inspectors: Sequence[Inspector], *, seed: int,
                     count: int | None = None, ratio: float | None = None, per_project: int = 2,
                     max_load: int | None = None) -> Draw:
    """Draw ``count`` (or ``ratio`` of the) projects and assign ``per_project`` inspectors to each."""
    problems: list[Text | str] = [p for p in (_check_seed(seed),) if p]
    for p in projects:
        if isinstance(p.id, bool) or not isinstance(p.id, int):
            problems.append(N_("project {id!r}: id must be an integer", id=p.id))
        if not isinstance(p.district_codes, (set, frozenset)) or not all(isinstance(c, str) for c in p.district_codes):
            problems.append(N_("project {id!r}: district_codes must be a frozenset of district code strings", id=p.id))
    problems += [N_("inspector {id!r}: id and district_code must be strings", id=i.id) for i in inspectors
                 if not isinstance(i.id, str) or not isinstance(i.district_code, str)]
    raise_issues(problems, N_("random inspection draw"))
    projects = sorted(projects, key=lambda p: p.id)
    inspectors = sorted(inspectors, key=lambda i: i.id)
    n_total = len(projects)
    if (count is None) == (ratio is None):
        problems.append(N_("give exactly one of count and ratio"))
    elif count is not None and (isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= n_total):
        problems.append(N_("count: expected an integer in [0, {n_total}] (the number of projects), found {count!r}", n_total=n_total, count=count))
    elif ratio is not None and _check_ratio(ratio):
        problems.append(cast(str, _check_ratio(ratio)))  # the message just tested
    for name, value in (("per_project", per_project), ("max_load", max_load)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            problems.append(N_("{name}: expected a positive integer, found {value!r}", name=name, value=value))
    for what, ids in (("project", [p.id for p in projects]), ("inspector", [i.id for i in inspectors])):
        if _dupes(ids):
            problems.append(N_("duplicate {what} id(s): {map}", what=what, map=', '.join(map(str, _dupes(ids)))))
    raise_issues(problems, N_("random inspection draw"))

    n = count if count is not None else _n_from_ratio(cast(float, ratio), n_total)  # exactly one is given
    rng = np.random.Generator(np.random.PCG64(int(seed)))
    picked = [int(i) for i in rng.choice(n_total, size=n, replace=False)] if n else []
    rank = [int(r) for r in np.argsort(rng.permutation(len(inspectors)))] if inspectors else []
    eligible = {j: [k for k in range(len(inspectors)) if inspectors[k].district_code not in projects[j].district_codes]
                for j in picked}
    short = [j for j in picked if len(eligible[j]) < per_project]
    if short:
        raise_issues([f"cannot staff project {projects[j].id} {projects[j].name!r}: {len(eligible[j])} inspector(s) "
                      f"are based outside its district(s) {', '.join(sorted(projects[j].district_codes))}, "
                      f"{per_project} needed" for j in short], N_("random inspection draw"))

    cap = max_load if max_load is not None else math.inf
    load = [0] * len(inspectors)
    team: dict[int, list[int]] = {j: [] for j in picked}
    position = {j: i for i, j in enumerate(picked)}
    order = sorted(picked, key=lambda j: (len(eligible[j]), position[j]))
    failed: list[int] = []
    for j in order:
        for _ in range(per_project):
            free = [k for k in eligible[j] if k not in team[j] and load[k] < cap]
            if free:
                k = min(free, key=lambda k: (load[k], rank[k]))
                team[j].append(k)
                load[k] += 1
            elif not _augment(j, team, eligible, load, rank, cap):
                failed.append(j)
                break
    if failed:
        raise_issues([f"cannot staff project {projects[j].id} {projects[j].name!r}: its {len(eligible[j])} eligible "
                      f"inspector(s) cannot take it without exceeding max_load {max_load} ({n} projects × "
                      f"{per_project} inspectors needed, {len(inspectors)} inspectors)"
                      for j in sorted(failed, key=lambda j: projects[j].id)], N_("random inspection draw"))

    assignments = tuple(sorted(
        (Assignment(projects[j].id, tuple(sorted(inspectors[k].id for k in team[j]))) for j in picked),
        key=lambda a: a.project_id))
    parameters = {"count": n, "ratio": ratio, "per_project": per_project, "max_load": max_load,
                  "population_projects": n_total, "population_inspectors": len(inspectors),
                  "generator": "numpy.random.Generator(PCG64(seed))", "numpy": np.__version__}
    return Draw(int(seed), population_digest([p.id for p in projects], [i.id for i in inspectors]),
                assignments, parameters)


def _augment(start: int, team: dict[int, list[int]], eligible: dict[int, list[int]], load: list[int],
             rank: list[int], cap: float) -> bool:
    """Give project ``start`` one more inspector by moving inspectors along a shortest augmenting path.

    Path: start ← k1 (taken from project j1) , j1 ← k2 (taken from j2) , … , jm ← k (who has spare capacity).
    Returns False when no such path exists (maximum assignment reached).
    """
    parent: dict[int, tuple[int, int] | None] = {start: None}  # project → (inspector it receives, from project)
    queue = deque([start])
    while queue:
        j = queue.popleft()
        for k in sorted((k for k in eligible[j] if k not in team[j]), key=lambda k: (load[k], rank[k])):
            if load[k] < cap:  # end of the path: k takes one more project
                team[j].append(k)
                load[k] += 1
                while parent[j] is not None:
                    k_prev, j_prev = cast(tuple[int, int], parent[j])[0], j
                    j = cast(tuple[int, int], parent[j])[1]
                    team[j_prev].remove(k_prev)
                    team[j].append(k_prev)
                return True
            for other in team:
                if k in team[other] and other not in parent:
                    parent[other] = (k, j)  # k moves from `other` to j; `other` then needs someone
                    queue.append(other)
    return False


def sample(ids: Sequence[int], *, ratio: float, seed: int, minimum: int = 1) -> tuple[int, ...]:
    """A reproducible random sample for 核查 (verification of acceptance filings).

    ``k = min(N, max(minimum, ⌈ratio·N⌉))`` of the N distinct ids (decimal
    arithmetic for the ceiling), chosen by ``Generator(PCG64(seed)).choice`` from
    the ids sorted ascending; returned sorted.  Input order does not matter.
    """
    problems: list[Text | str] = [p for p in (_check_ratio(ratio), _check_seed(seed)) if p]
    if isinstance(minimum, bool) or not isinstance(minimum, int) or minimum < 0:
        problems.append(N_("minimum: expected a non-negative integer, found {minimum!r}", minimum=minimum))
    if _dupes(ids):
        problems.append(N_("duplicate id(s): {map}", map=', '.join(map(str, _dupes(ids)))))
    raise_issues(problems, N_("verification sample"))
    population = sorted(ids)
    k = min(len(population), max(minimum, math.ceil(Decimal(str(ratio)) * len(population))))
    if k == 0:
        return ()
    rng = np.random.Generator(np.random.PCG64(int(seed)))
    return tuple(sorted(population[int(i)] for i in rng.choice(len(population), size=k, replace=False)))
