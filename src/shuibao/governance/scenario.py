"""The scenario arithmetic (情景分析): planned measures applied to a run's CSLE factors on the cells under the
selected patches; pure (arrays and records in, arrays and records out).

Where a patch is built, its measure replaces factors of the CSLE (:mod:`shuibao.governance.measures`): B
becomes the measure's ``b``, E the E of its ``e_code``, T its ``t``; a factor the measure does not name keeps
the run's value.  A = R·K·B·T·E·L·S is recomputed in the engine's order and dtype (:func:`soil_loss`) and
graded with the run's tolerance and bounds (:func:`grade`).  A cell under several patches takes the one giving
the lowest A′ (a tie to the patch selected first); with ``never_worse`` only patches that lower A compete and a
cell none of them lowers keeps its baseline (:func:`apply_measures`).  The run's integer cell counts per zone
are then adjusted by the changed cells alone (:func:`adjust_counts`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from shuibao.core import csle
from shuibao.governance.measures import Measure


def layers(geoms_grid: list) -> list[list[int]]:
    """Patches in groups none of whose members touch another: one burn per group gives each its own cells."""
    tree = shapely.STRtree(geoms_grid)
    layer_of = [-1] * len(geoms_grid)
    groups: list[list[int]] = []
    for i, g in enumerate(geoms_grid):
        if g is None or g.is_empty:
            continue
        used = {layer_of[j] for j in tree.query(g, predicate="intersects").tolist() if j != i and layer_of[j] >= 0}
        k = 0
        while k in used:
            k += 1
        if k == len(groups):
            groups.append([])
        groups[k].append(i)
        layer_of[i] = k
    return groups


def measure_factors(measures: list[Measure], e_codes: np.ndarray, e_values: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per patch (its measure): the B, E and T it sets (NaN where the measure leaves the factor alone); E from
    the E table (``e_codes`` → ``e_values``)."""
    b, e, t = (np.full(len(measures), np.nan) for _ in range(3))
    for i, m in enumerate(measures):
        if m.b is not None:
            b[i] = m.b
        if m.e_code is not None:
            e[i] = float(csle.lookup(np.array([m.e_code]), e_codes, e_values)[0])
        if m.t is not None:
            t[i] = m.t
    return b, e, t


def grade(a: np.ndarray, tolerance: float, bounds: tuple[float, ...]) -> np.ndarray:
    """SL 190 grades with the run's tolerance and bounds (as a 1-row grid: the engine's compiled signature)."""
    return csle.grade(a.reshape(1, -1), tolerance, bounds).reshape(-1)


def replace_factor(base: np.ndarray, new: np.ndarray) -> np.ndarray:
    """The measure's value where it names one, else the run's; float32 like the engine's factor arrays."""
    return np.where(np.isnan(new), base, new).astype(np.float32)


def soil_loss(factors: dict[str, np.ndarray], dtype, order: tuple[str, ...]) -> np.ndarray:
    """A in t/(km²·a) as the engine computes it: the factors multiplied in the engine's ``order`` (R·K·B·T·E·L·S,
    :data:`shuibao.monitoring.blocks.FACTORS`), in the run's soil-loss dtype, ×100."""
    a = np.array(factors[order[0]], dtype=dtype, copy=True)
    for name in order[1:]:
        np.multiply(a, factors[name], out=a, casting="unsafe")
    np.multiply(a, 100.0, out=a)
    return a


def bit_equal(a: np.ndarray, b: np.ndarray) -> bool:
    """The same floats bit for bit (NaN included)."""
    return np.array_equal(a.view(np.uint32 if a.dtype == np.float32 else np.uint64),
                          b.view(np.uint32 if b.dtype == np.float32 else np.uint64))


@dataclass
class Applied:
    """The scenario on the cells under the patches (``uniq``: their flat indices, ascending)."""

    new_a: np.ndarray  # soil loss per cell of ``uniq``
    win: np.ndarray  # the patch whose measure a cell takes; -1: none (the baseline)
    raises: np.ndarray  # per patch: cells where its measure would raise soil loss


def apply_measures(cells: list[np.ndarray], uniq: np.ndarray, base_f: dict[str, np.ndarray], base_a: np.ndarray,
                   factors: tuple[np.ndarray, np.ndarray, np.ndarray], never_worse: bool,
                   order: tuple[str, ...]) -> Applied:
    """Each cell's soil loss under the patches over it (``cells``: per patch its flat cell indices; ``base_f``
    and ``base_a``: the run's factors and soil loss on ``uniq``; ``factors``: per patch B, E, T or NaN;
    ``order``: the engine's factor order, :func:`soil_loss`)."""
    owner = np.concatenate([np.full(c.size, i, np.int64) for i, c in enumerate(cells)])
    pair_cell = np.concatenate(cells)
    pos = np.searchsorted(uniq, pair_cell)
    mb, me, mt = factors
    pair_f = {n: base_f[n][pos] for n in order}
    pair_f["b_factor"] = replace_factor(pair_f["b_factor"], mb[owner])
    pair_f["e_factor"] = replace_factor(pair_f["e_factor"], me[owner])
    pair_f["t_factor"] = replace_factor(pair_f["t_factor"], mt[owner])
    pair_a = soil_loss(pair_f, base_a.dtype, order)
    pair_base = base_a[pos]
    # per cell the lowest A′ of the patches over it (a tie to the patch selected first); with never_worse
    # only the patches that lower the cell's soil loss compete, and a cell none of them lowers keeps its baseline
    compete = np.flatnonzero(pair_a < pair_base) if never_worse else np.arange(pair_a.size)
    by_cell = compete[np.lexsort((owner[compete], pair_a[compete], pair_cell[compete]))]
    first = by_cell[np.r_[True, pair_cell[by_cell][1:] != pair_cell[by_cell][:-1]]] if by_cell.size else by_cell
    new_a = base_a.copy()
    new_a[pos[first]] = pair_a[first]
    win = np.full(uniq.size, -1, np.int64)
    win[pos[first]] = owner[first]
    raises = np.bincount(owner[pair_a > pair_base], minlength=len(cells))
    return Applied(new_a, win, raises)


def adjust_counts(zone_grade: np.ndarray, zone_loss: np.ndarray, zone: np.ndarray, changed: np.ndarray,
                  base_g: np.ndarray, new_g: np.ndarray, base_a: np.ndarray, new_a: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """The run's cells per (zone, grade) and Σ modulus per zone with the ``changed`` cells moved: their baseline
    grade and soil loss out, their new ones in."""
    zg = zone_grade.copy()
    zl = zone_loss.copy()
    z, ch = zone[changed], changed
    np.subtract.at(zg, (z, base_g[ch].astype(np.int64)), 1)
    np.add.at(zg, (z, new_g[ch].astype(np.int64)), 1)
    np.subtract.at(zl, z, base_a[ch].astype(np.float64))
    np.add.at(zl, z, new_a[ch].astype(np.float64))
    return zg, zl


def patch_rows(patches: list[dict], measures: list[Measure], e: np.ndarray, applied: Applied,
               changed: np.ndarray, increased: np.ndarray, covered: list[int], cell_km2: float) -> list[dict]:
    """One row per selected patch: its measure and factors, and the cells it covers, decides, changes, raises."""
    rows = []
    for i, (p, m) in enumerate(zip(patches, measures)):
        mine = applied.win == i
        rows.append({
            "seq": i + 1, "patch_code": p["patch_code"], "measure": m.key, "measure_zh": m.name_zh,
            "status": p["status"], "year": p["year"], "kind": p["kind"], "district_code": p["district_code"],
            "b": m.b, "e_code": m.e_code, "e": None if np.isnan(e[i]) else float(e[i]), "t": m.t,
            "cells": covered[i], "cells_applied": int(mine.sum()), "cells_changed": int((mine & changed).sum()),
            "cells_raising": int(applied.raises[i]), "cells_increased": int((mine & increased).sum()),
            "area_km2": covered[i] * cell_km2,
        })
    return rows


__all__ = ["Applied", "adjust_counts", "apply_measures", "bit_equal", "grade", "layers", "measure_factors",
           "patch_rows", "replace_factor", "soil_loss"]
