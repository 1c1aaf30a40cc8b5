"""Depression filling by tiles (pure numpy + numba): the plain Priority-Flood, exactly, in cache-sized pieces.

The global Priority-Flood (:func:`shuibao.core.hydrology.fill_depressions`) visits
cells in order of elevation all over the grid, so on a province-size grid nearly
every step misses the cache.  Barnes (2016) splits the work:

1. **Tiles.** Each tile is flooded on its own as if its perimeter drained: every
   valid cell on the tile's perimeter is a seed with a label of its own, and
   cells on the grid edge or beside nodata — the true outlets — share the label
   *outside* (0).  A cell takes the label of the seed whose flood reaches it and
   the tile-filled elevation ``z_t``.  Where two labels meet, the lower of the
   ``max(z_t(a), z_t(b))`` over their touching cells ``a, b`` is their spill
   elevation.
2. **Graph.** Labels are nodes; the spills inside tiles and
   ``max(z(a), z(b))`` between touching perimeter cells of neighbouring tiles are
   edge weights.  The water level of a label is its minimax distance from
   *outside*: ``W(v) = min over paths of the largest weight on the path``
   (a Dijkstra with ``max`` in place of ``+``).
3. **Finish.** ``z_filled = max(z_t, W(label))`` for every cell.

The result equals the global plain Priority-Flood cell for cell (tested against
it on random grids and tile sizes).  Tiles are independent, so they run on
worker threads (the kernels release the GIL).  There is no ε here: flats and
filled depressions stay level, and :func:`shuibao.core.hydrology.flow_direction_d8`
with ``resolve_flats=True`` gives them directions.

Reference
---------
Barnes, R. (2016). Parallel priority-flood depression filling for trillion cell
digital elevation models on desktops or clusters. Computers & Geosciences 96:
56–68. doi:10.1016/j.cageo.2016.07.001
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numba as nb
import numpy as np

from .flood_kernels import DCOL, DROW, LOW32, doubled, flood_into, heap_key, heap_pop, next_cell, on_edge, sift_up

OUTSIDE = 0
DEFAULT_TILE = 1024  # 4 MiB of float32 per tile: the tile's flood stays in the cache


@nb.njit(cache=True, nogil=True)
def _compact_edges(ea, eb, ew, n):
    """Keep the lowest weight per node pair (a < b) among the first n edges, in place; returns their number."""
    if n == 0:
        return 0
    order = np.argsort(ea[:n] * (eb[:n].max() + 1) + eb[:n], kind="mergesort")
    a = ea[:n][order]
    b = eb[:n][order]
    w = ew[:n][order]
    m = 0
    for t in range(n):
        if m > 0 and a[t] == ea[m - 1] and b[t] == eb[m - 1]:
            if w[t] < ew[m - 1]:
                ew[m - 1] = w[t]
            continue
        ea[m] = a[t]
        eb[m] = b[t]
        ew[m] = w[t]
        m += 1
    return m


@nb.njit(cache=True, nogil=True)
def _fill_tile(z, ok, out, lab, r0, r1, c0, c1):
    """Flood tile [r0, r1) × [c0, c1) from its perimeter; writes ``out`` and ``lab`` there.

    Returns the number of perimeter labels and the label pairs that meet with their spill elevation.
    The tile is copied into a padded local grid (a ring of nodata saves the bounds checks) where one
    int32 per cell says open (-1), nodata (-2) or the label that reached it.
    """
    nrows, ncols = z.shape
    okf = ok.ravel()
    h = r1 - r0
    w = c1 - c0
    pw = w + 2
    state = np.full((h + 2) * pw, -2, np.int32)
    zt = np.empty((h + 2) * pw, np.float32)
    step = np.empty(8, np.int64)
    for k in range(8):
        step[k] = DROW[k] * pw + DCOL[k]
    heap = np.empty(max(64, 4 * (h + w)), np.uint64)
    size = 0
    labels = 0
    for r in range(r0, r1):
        for c in range(c0, c1):
            if not ok[r, c]:
                continue
            i = (r - r0 + 1) * pw + (c - c0 + 1)
            zt[i] = z[r, c]
            state[i] = -1
            perimeter = r == r0 or r == r1 - 1 or c == c0 or c == c1 - 1
            if perimeter:
                labels += 1  # numbered in raster order whether or not the cell is a true outlet
            outlet = on_edge(okf, r, c, nrows, ncols)
            if not (outlet or perimeter):
                continue
            state[i] = OUTSIDE if outlet else labels
            if size == heap.shape[0]:
                heap = doubled(heap)
            sift_up(heap, size, heap_key(zt[i], i))
            size += 1
    pit = np.empty(256, np.int64)
    pit_head = 0
    pit_tail = 0
    # edges where two floods meet; the buffers grow only between passes of the flood loop (growing
    # them inside it slowed every step of the loop 2×), so a pass stops while 8 free slots remain
    ea = np.empty(1 << 12, np.int64)
    eb = np.empty(1 << 12, np.int64)
    ew = np.empty(1 << 12, np.float32)
    ne = 0
    while size > 0 or pit_head < pit_tail:
        if ne > ea.shape[0] - 8:
            ne = _compact_edges(ea, eb, ew, ne)
            if ne > ea.shape[0] // 2:
                ea = doubled(ea)
                eb = doubled(eb)
                ew = doubled(ew)
        cap = ea.shape[0] - 8
        while (size > 0 or pit_head < pit_tail) and ne <= cap:
            i, size, pit_head, pit_tail = next_cell(heap, size, pit, pit_head, pit_tail)
            zi = zt[i]
            li = state[i]
            for d in range(8):
                j = i + step[d]
                lj = state[j]
                if lj == -2:
                    continue
                if lj >= 0:
                    if lj != li:  # two floods meet: a spill between their labels
                        ea[ne] = min(li, lj)
                        eb[ne] = max(li, lj)
                        ew[ne] = max(zi, zt[j])
                        ne += 1
                    continue
                state[j] = li
                pit, pit_head, pit_tail, heap, size = flood_into(zt, j, zi, pit, pit_head, pit_tail, heap, size)
    for r in range(r0, r1):
        for c in range(c0, c1):
            i = (r - r0 + 1) * pw + (c - c0 + 1)
            if state[i] >= 0:
                out[r, c] = zt[i]
                lab[r, c] = state[i]
    ne = _compact_edges(ea, eb, ew, ne)
    return labels, ea[:ne].copy(), eb[:ne].copy(), ew[:ne].copy()


@nb.njit(cache=True)
def _node(lab, base, r, c, tile):
    """Global node of the label at (r, c): 0 for outside, else the tile's base plus the label."""
    t = (r // tile) * ((lab.shape[1] + tile - 1) // tile) + c // tile
    l = lab[r, c]
    return 0 if l == OUTSIDE else base[t] + l


@nb.njit(cache=True, nogil=True)
def _water_levels(z, ok, lab, base, tile, ea_tiles, eb_tiles, ew_tiles, nodes):
    """Edges between tiles, then the minimax level of every node from outside (Dijkstra with max)."""
    nrows, ncols = z.shape
    seams_h = len(range(tile - 1, nrows - 1, tile))
    seams_v = len(range(tile - 1, ncols - 1, tile))
    ne = ea_tiles.shape[0]
    cap = ne + 3 * (seams_h * ncols + seams_v * nrows)
    ea = np.empty(cap, np.int64)
    eb = np.empty(cap, np.int64)
    ew = np.empty(cap, np.float32)
    ea[:ne] = ea_tiles
    eb[:ne] = eb_tiles
    ew[:ne] = ew_tiles
    # cells across each horizontal tile seam (straight and diagonal), then each vertical seam
    for r in range(tile - 1, nrows - 1, tile):
        for c in range(ncols):
            if not ok[r, c]:
                continue
            a = _node(lab, base, r, c, tile)
            for cc in range(max(c - 1, 0), min(c + 2, ncols)):
                if ok[r + 1, cc]:
                    b = _node(lab, base, r + 1, cc, tile)
                    if a != b:
                        ea[ne] = min(a, b)
                        eb[ne] = max(a, b)
                        ew[ne] = max(z[r, c], z[r + 1, cc])
                        ne += 1
    for c in range(tile - 1, ncols - 1, tile):
        for r in range(nrows):
            if not ok[r, c]:
                continue
            a = _node(lab, base, r, c, tile)
            for rr in range(max(r - 1, 0), min(r + 2, nrows)):
                if ok[rr, c + 1]:
                    b = _node(lab, base, rr, c + 1, tile)
                    if a != b:
                        ea[ne] = min(a, b)
                        eb[ne] = max(a, b)
                        ew[ne] = max(z[r, c], z[rr, c + 1])
                        ne += 1
    # adjacency lists (CSR), both directions
    deg = np.zeros(nodes + 1, np.int64)
    for t in range(ne):
        deg[ea[t] + 1] += 1
        deg[eb[t] + 1] += 1
    for v in range(nodes):
        deg[v + 1] += deg[v]
    fill_at = deg[:-1].copy()
    nbr = np.empty(2 * ne, np.int64)
    wt = np.empty(2 * ne, np.float32)
    for t in range(ne):
        a, b = ea[t], eb[t]
        nbr[fill_at[a]] = b
        wt[fill_at[a]] = ew[t]
        fill_at[a] += 1
        nbr[fill_at[b]] = a
        wt[fill_at[b]] = ew[t]
        fill_at[b] += 1
    level = np.full(nodes, np.float32(np.inf))
    level[OUTSIDE] = -np.float32(np.inf)
    done = np.zeros(nodes, np.bool_)
    heap = np.empty(1024, np.uint64)
    heap[0] = heap_key(level[OUTSIDE], OUTSIDE)
    size = 1
    while size > 0:
        u = np.int64(heap[0] & LOW32)
        size = heap_pop(heap, size)
        if done[u]:
            continue  # a stale entry: u was reached lower before
        done[u] = True
        for e in range(deg[u], deg[u + 1]):
            v = nbr[e]
            cand = max(level[u], wt[e])
            if cand < level[v]:
                level[v] = cand
                if size == heap.shape[0]:
                    heap = doubled(heap)
                sift_up(heap, size, heap_key(cand, v))
                size += 1
    return level


@nb.njit(cache=True, nogil=True)
def _raise_tile(ok, out, lab, level, base_t, r0, r1, c0, c1):
    for r in range(r0, r1):
        for c in range(c0, c1):
            if ok[r, c] and lab[r, c] != OUTSIDE:
                w = level[base_t + lab[r, c]]
                if w > out[r, c]:
                    out[r, c] = w


def fill_depressions_tiled(dem: np.ndarray, valid: np.ndarray | None = None, tile: int = DEFAULT_TILE,
                           workers: int = 1) -> np.ndarray:
    """Fill every depression to its spill elevation (plain Priority-Flood, no ε), tile by tile.

    Parameters
    ----------
    dem : float array (m); converted to float32.
    valid : bool array, ``True`` where ``dem`` has data (default: finite cells).
    tile : tile side in cells (at most 16,383: labels are uint16 per tile).
    workers : threads flooding tiles at the same time.

    Returns
    -------
    float32 array: every valid cell raised to the lowest level at which water
    standing on it could leave the grid (the edge or nodata); invalid cells
    unchanged.  Equal to the plain global Priority-Flood (Barnes et al. 2014,
    Algorithm 2) cell for cell.
    """
    z = np.ascontiguousarray(dem, dtype=np.float32)
    if valid is None:
        valid = np.isfinite(z)
    ok = np.ascontiguousarray(valid, dtype=np.bool_)
    if not 2 <= tile <= 16383:
        raise ValueError(f"tile must be 2…16383 cells, got {tile}")
    nrows, ncols = z.shape
    out = z.copy()
    if out.size == 0:
        return out
    lab = np.zeros(z.shape, np.uint16)
    windows = [(r0, min(r0 + tile, nrows), c0, min(c0 + tile, ncols))
               for r0 in range(0, nrows, tile) for c0 in range(0, ncols, tile)]

    def flood(win):
        return _fill_tile(z, ok, out, lab, *win)

    if workers > 1 and len(windows) > 1:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fill-tile") as pool:
            results = list(pool.map(flood, windows))
    else:
        results = [flood(win) for win in windows]
    base = np.zeros(len(windows), np.int64)
    offset = 0
    ea, eb, ew = [], [], []
    for t, (labels, a, b, w) in enumerate(results):
        base[t] = offset
        # tile-local labels 1…labels become nodes offset+1…offset+labels; outside stays node 0
        ea.append(np.where(a == OUTSIDE, 0, a + offset))
        eb.append(np.where(b == OUTSIDE, 0, b + offset))
        ew.append(w)
        offset += labels
    nodes = offset + 1
    level = _water_levels(z, ok, lab, base, tile, np.concatenate(ea), np.concatenate(eb), np.concatenate(ew),
                          nodes)

    def finish(t):
        _raise_tile(ok, out, lab, level, base[t], *windows[t])

    if workers > 1 and len(windows) > 1:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fill-tile") as pool:
            list(pool.map(finish, range(len(windows))))
    else:
        for t in range(len(windows)):
            finish(t)
    return out
