"""Small watersheds (小流域) from a D8 network: one unit per channel link and the slopes draining to it.

With channel cells those whose contributing area reaches a threshold:

* a **link** is a run of channel cells from a channel head or a confluence down to
  the next confluence; a channel cell continues its donor's link when exactly one
  channel cell drains into it, and starts a new link otherwise (0 donors: a head;
  2 or more: a confluence);
* every other cell belongs to the link of the first channel cell downstream of it;
  cells that reach an outlet without meeting a channel form one unit per outlet.

Labels are 1…N (0 = invalid).  The threshold sets the size: the plan's 4,208 units
over 82,370 km² average about 20 km², which a threshold of a few km² gives.

Reference: Strahler, A. N. (1957). Quantitative analysis of watershed geomorphology. Trans.
AGU 38(6): 913–920 (links and their catchments, as used by TauDEM/ArcGIS "stream link").
"""

from __future__ import annotations

import numba as nb
import numpy as np

from .hydrology import DONE, _indegree_d8, _receiver


@nb.njit(cache=True)
def _links(fdir, valid, channel):
    nrows, ncols = fdir.shape
    n = nrows * ncols
    ok = valid.ravel()
    ch = channel.ravel()
    label = np.zeros(n, np.int32)
    donors = np.zeros(n, np.uint8)  # channel donors of each cell
    first = np.full(n, -1, np.int64)  # label of the (first) channel donor
    indeg = _indegree_d8(fdir, valid)
    next_label = 0
    # channel cells, upstream first (Kahn chain walks over the whole network)
    for start in range(n):
        if not ok[start] or indeg[start] != 0:
            continue
        i = start
        while True:
            indeg[i] = DONE
            if ch[i]:
                if donors[i] == 1:
                    label[i] = first[i]
                else:
                    next_label += 1
                    label[i] = next_label
            r = i // ncols
            d = _receiver(fdir, r, i - r * ncols, nrows, ncols)
            if d < 0 or not ok[d]:
                break
            if ch[i] and ch[d]:
                donors[d] += 1
                first[d] = label[i]
            indeg[d] -= 1
            if indeg[d] != 0:
                break
            i = d
    # every other cell: the label found downstream (path compression keeps this linear)
    path = np.empty(1024, np.int64)
    for start in range(n):
        if not ok[start] or label[start] != 0:
            continue
        top = 0
        i = start
        found = 0
        while True:
            if top == path.shape[0]:
                path = np.concatenate((path, np.empty(top, np.int64)))
            path[top] = i
            top += 1
            r = i // ncols
            d = _receiver(fdir, r, i - r * ncols, nrows, ncols)
            if d < 0 or not ok[d]:
                next_label += 1  # an outlet reached without a channel: a unit of its own
                found = next_label
                break
            if label[d] != 0:
                found = label[d]
                break
            i = d
        for t in range(top):
            label[path[t]] = found
    return label.reshape(nrows, ncols), next_label


def small_watersheds(fdir: np.ndarray, valid: np.ndarray, accumulation_cells: np.ndarray,
                     threshold_cells: float) -> tuple[np.ndarray, int]:
    """Label every valid cell with its small watershed (see the module docstring); returns (labels, count)."""
    if threshold_cells <= 0:
        raise ValueError("the channel threshold must be positive")
    valid = np.ascontiguousarray(valid, np.bool_)
    channel = valid & (np.nan_to_num(accumulation_cells, nan=0.0) >= threshold_cells)
    return _links(np.ascontiguousarray(fdir, np.uint8), valid, np.ascontiguousarray(channel))


def merge_small_units(labels: np.ndarray, min_cells: int) -> tuple[np.ndarray, int]:
    """Merge units of fewer than ``min_cells`` cells into the neighbour they share the longest border with.

    Stream links leave slivers: the strips along the study-area edge that drain out
    without meeting a channel, and the catchments of very short links between two
    confluences.  A sliver joins the neighbouring unit with which it shares the most
    cell edges (4-neighbourhood; a unit that has taken slivers borders what they
    bordered; ties go to the lower label); the smallest are merged first, and a unit that has
    grown past the minimum by taking slivers is kept.  Units without a neighbour
    (islands) stay.  Labels are then renumbered 1…M in raster order, so the result is
    deterministic.  Returns (labels, M).
    """
    labels = np.ascontiguousarray(labels, np.int32)
    n = int(labels.max(initial=0))
    if n == 0 or min_cells <= 1:
        return labels, n
    size = np.bincount(labels.ravel(), minlength=n + 1).astype(np.int64)
    pairs = []
    for a, b in ((labels[:, :-1], labels[:, 1:]), (labels[:-1, :], labels[1:, :])):
        diff = (a != b) & (a > 0) & (b > 0)
        x, y = a[diff].astype(np.int64), b[diff].astype(np.int64)
        pairs.append(np.concatenate([x * (n + 1) + y, y * (n + 1) + x]))  # both directions
    keys, shared = np.unique(np.concatenate(pairs), return_counts=True)
    # shared border per neighbour, kept per current unit: a merged unit borders what its parts bordered
    border: list[dict[int, int]] = [{} for _ in range(n + 1)]
    for a, b, count in zip((keys // (n + 1)).tolist(), (keys % (n + 1)).tolist(), shared.tolist()):
        border[a][b] = count
    parent = np.arange(n + 1)

    def find(u: int) -> int:
        while parent[u] != u:
            parent[u] = parent[parent[u]]
            u = parent[u]
        return u

    original = size.copy()  # the order and the stop use the sizes before merging; size[] grows as units join
    for u in np.argsort(original[1:], kind="stable") + 1:  # smallest first
        if original[u] >= min_cells:
            break
        ru = find(int(u))
        if size[ru] >= min_cells:
            continue
        totals: dict[int, int] = {}
        for v, count in border[ru].items():
            rv = find(v)
            if rv != ru:
                totals[rv] = totals.get(rv, 0) + count
        if not totals:
            continue  # an island: nobody to join
        best = min(totals, key=lambda v: (-totals[v], v))  # longest border; ties to the lowest label
        parent[ru] = best
        size[best] += size[ru]
        merged = border[best]
        for v, count in border[ru].items():
            merged[v] = merged.get(v, 0) + count
        border[ru] = {}
    roots = np.array([find(u) for u in range(n + 1)], np.int32)
    return _renumber(labels, roots)


@nb.njit(cache=True)
def _renumber(labels, roots):
    """Map each label to its root, numbering the roots 1…M in raster order of first appearance."""
    new = np.zeros(roots.shape[0], np.int32)
    out = np.empty_like(labels)
    flat = labels.ravel()
    o = out.ravel()
    m = 0
    for i in range(flat.shape[0]):
        u = flat[i]
        if u == 0:
            o[i] = 0
            continue
        root = roots[u]
        if new[root] == 0:
            m += 1
            new[root] = m
        o[i] = new[root]
    return out, m
