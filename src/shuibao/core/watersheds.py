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

from .hydrology import D8_CODES, DCOL, DROW, receiver


@nb.njit(cache=True)
def _links(fdir, valid, channel, stack):
    nrows, ncols = fdir.shape
    n = nrows * ncols
    ok = valid.ravel()
    ch = channel.ravel()
    label = np.zeros(n, np.int32)
    # channel donors of each channel cell: 0 makes a head, 1 continues the donor's link, 2+ a confluence
    donors = np.zeros(n, np.uint8)
    for i in range(n):
        if ok[i] and ch[i]:
            r = i // ncols
            d = receiver(fdir, r, i - r * ncols, nrows, ncols)
            if d >= 0 and ok[d] and ch[d]:
                donors[d] += 1
    remaining = donors.copy()
    next_label = 0
    # the channel network alone, heads first (Kahn chain walks: a cell is labelled once all its donors are)
    for start in range(n):
        if not ok[start] or not ch[start] or donors[start] != 0:
            continue
        next_label += 1
        label[start] = next_label
        i = start
        while True:
            r = i // ncols
            d = receiver(fdir, r, i - r * ncols, nrows, ncols)
            if d < 0 or not ok[d] or not ch[d]:
                break
            remaining[d] -= 1
            if remaining[d] != 0:
                break
            if donors[d] == 1:
                label[d] = label[i]
            else:
                next_label += 1
                label[d] = next_label
            i = d
    # every other cell takes the label of the first channel cell downstream: searched upstream from each
    # channel cell, then from each outlet not on a channel (a unit of its own); ``stack`` holds one slot
    # per valid cell, as each is pushed at most once
    for phase in range(2):
        for start in range(n):
            if not ok[start]:
                continue
            if phase == 0:
                if not ch[start]:
                    continue
            else:
                if label[start] != 0:
                    continue
                r = start // ncols
                d = receiver(fdir, r, start - r * ncols, nrows, ncols)
                if d >= 0 and ok[d]:
                    continue  # not an outlet: it is reached from the outlet below it
                next_label += 1
                label[start] = next_label
            stack[0] = start
            top = 1
            while top > 0:
                top -= 1
                i = stack[top]
                r = i // ncols
                c = i - r * ncols
                for k in range(8):
                    rr = r + DROW[k]
                    cc = c + DCOL[k]
                    if rr < 0 or cc < 0 or rr >= nrows or cc >= ncols:
                        continue
                    j = rr * ncols + cc
                    if ok[j] and label[j] == 0 and fdir[rr, cc] == D8_CODES[(k + 4) % 8]:  # j drains into i
                        label[j] = label[i]
                        stack[top] = j
                        top += 1
    return label.reshape(nrows, ncols), next_label


def small_watersheds(fdir: np.ndarray, valid: np.ndarray, accumulation_cells: np.ndarray,
                     threshold_cells: float) -> tuple[np.ndarray, int]:
    """Label every valid cell with its small watershed (see the module docstring); returns (labels, count)."""
    if threshold_cells <= 0:
        raise ValueError("the channel threshold must be positive")
    valid = np.ascontiguousarray(valid, np.bool_)
    with np.errstate(invalid="ignore"):  # NaN (nodata) compares False: no channel there
        channel = valid & (np.asarray(accumulation_cells) >= threshold_cells)
    # int32 indices where they fit: 4 bytes a valid cell instead of 8
    stack = np.empty(max(1, int(np.count_nonzero(valid))), np.int32 if valid.size < 2**31 else np.int64)
    return _links(np.ascontiguousarray(fdir, np.uint8), valid, np.ascontiguousarray(channel), stack)


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
    if labels.size and labels.min() < 0:
        raise ValueError("unit labels must be ≥ 0 (0 = no unit)")
    n = int(labels.max(initial=0))
    if n == 0 or min_cells <= 1:
        return labels, n
    size, pairs = _sizes_and_borders(labels, n)
    keys, shared = np.unique(pairs, return_counts=True)
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
def _sizes_and_borders(labels, n):
    """Cells per label, and a key ``a·(n+1)+b`` per cell edge between labels a ≠ b > 0 (both directions)."""
    rows, cols = labels.shape
    size = np.zeros(n + 1, np.int64)
    edges = 0
    for r in range(rows):
        for c in range(cols):
            a = labels[r, c]
            if a > 0:
                size[a] += 1
                if c + 1 < cols and labels[r, c + 1] > 0 and labels[r, c + 1] != a:
                    edges += 1
                if r + 1 < rows and labels[r + 1, c] > 0 and labels[r + 1, c] != a:
                    edges += 1
    keys = np.empty(2 * edges, np.int64)
    k = 0
    for r in range(rows):
        for c in range(cols):
            a = np.int64(labels[r, c])
            if a <= 0:
                continue
            for rr, cc in ((r, c + 1), (r + 1, c)):
                if rr < rows and cc < cols:
                    b = np.int64(labels[rr, cc])
                    if b > 0 and b != a:
                        keys[k] = a * (n + 1) + b
                        keys[k + 1] = b * (n + 1) + a
                        k += 2
    return size, keys


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
