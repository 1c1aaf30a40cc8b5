"""Hydrological conditioning and routing on a regular grid (pure numpy + numba).

Arrays are 2-D, C-ordered; ``valid`` marks cells with data.  Cell ``(r, c)`` has
flat index ``r * ncols + c``.  Neighbour order and direction codes follow the
ESRI D8 convention so other tools can read our rasters:

    32 64 128          NW N NE
    16  0   1          W  .  E
     8  4   2          SW S SE

Code 0 marks an outlet (a cell on the grid edge or beside nodata with no lower
valid neighbour) or, on an unconditioned DEM, a pit.

References
----------
Barnes, R., Lehman, C., Mulla, D. (2014). Priority-flood: an optimal depression-filling
and watershed-labeling algorithm for digital elevation models. Computers & Geosciences
62: 117–127. doi:10.1016/j.cageo.2013.04.024  (Algorithm 3, Priority-Flood+ε)

O'Callaghan, J. F., Mark, D. M. (1984). The extraction of drainage networks from digital
elevation data. Computer Vision, Graphics and Image Processing 28: 323–344.  (D8)

Quinn, P., Beven, K., Chevallier, P., Planchon, O. (1991). The prediction of hillslope flow
paths for distributed hydrological modelling using digital terrain models. Hydrological
Processes 5: 59–79. doi:10.1002/hyp.3360050106  (MFD, contour-length weights)

Freeman, T. G. (1991). Calculating catchment area with divergent flow based on a regular
grid. Computers & Geosciences 17: 413–422. doi:10.1016/0098-3004(91)90048-I  (MFD, p = 1.1)

Kahn, A. B. (1962). Topological sorting of large networks. Comm. ACM 5: 558–562.  (order of accumulation)
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from .flood_kernels import DCOL, DROW, doubled, flood_into, heap_key, next_cell, on_edge, sift_up

D8_CODES = np.array([1, 2, 4, 8, 16, 32, 64, 128], dtype=np.uint8)
DIAGONAL = np.array([False, True, False, True, False, True, False, True])


# --------------------------------------------------------------------------- fill
@nb.njit(cache=True, nogil=True)  # nogil: the CSLE run computes its factors while the fill runs
def _fill(dem, valid):
    nrows, ncols = dem.shape
    n = nrows * ncols
    z = dem.ravel().copy()
    ok = valid.ravel()
    closed = np.zeros(n, np.bool_)
    # binary min-heap of (elevation, index) keys; growth stays here: helpers that return arrays cost refcounting
    heap = np.empty(max(1024, 4 * (nrows + ncols)), np.uint64)
    size = 0
    pit = np.empty(1024, np.int64)  # FIFO of cells raised inside depressions and flats
    pit_head = 0
    pit_tail = 0
    for r in range(nrows):
        for c in range(ncols):
            i = r * ncols + c
            if not ok[i]:
                continue
            if not on_edge(ok, r, c, nrows, ncols):
                continue
            closed[i] = True
            if size == heap.shape[0]:
                heap = doubled(heap)
            sift_up(heap, size, heap_key(z[i], i))
            size += 1
    inf32 = np.float32(np.inf)
    while size > 0 or pit_head < pit_tail:
        i, size, pit_head, pit_tail = next_cell(heap, size, pit, pit_head, pit_tail)
        r = i // ncols
        c = i - r * ncols
        zi_up = np.nextafter(z[i], inf32)
        for d in range(8):
            rr = r + DROW[d]
            cc = c + DCOL[d]
            if rr < 0 or cc < 0 or rr >= nrows or cc >= ncols:
                continue
            j = rr * ncols + cc
            if closed[j] or not ok[j]:
                continue
            closed[j] = True
            pit, pit_head, pit_tail, heap, size = flood_into(z, j, zi_up, pit, pit_head, pit_tail, heap, size)
    return z.reshape(nrows, ncols)


def fill_depressions(dem: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
    """Fill every depression so that every valid cell drains to the grid edge or to nodata.

    Priority-Flood+ε (Barnes et al. 2014, Algorithm 3): cells are flooded inward from
    the edge in order of elevation; a cell reached from a higher or equal
    neighbour is raised to the next representable float32 above it, so flats and
    filled pits keep a strictly decreasing path to an outlet.  The result never
    lies below the input, and every valid cell that is not an outlet has a
    strictly lower neighbour (so D8 assigns every interior cell a direction).

    Parameters
    ----------
    dem : float array (m); converted to float32.
    valid : bool array, ``True`` where ``dem`` has data (default: finite cells).

    Returns
    -------
    float32 array, the conditioned DEM (invalid cells unchanged).
    """
    dem32 = np.ascontiguousarray(dem, dtype=np.float32)
    if dem32.size >= 2**32:
        raise ValueError("fill_depressions handles fewer than 2³² cells; tile larger grids")
    if valid is None:
        valid = np.isfinite(dem32)
    return _fill(dem32, np.ascontiguousarray(valid, dtype=np.bool_))


# --------------------------------------------------------------------------- D8
@nb.njit(cache=True, parallel=True)
def _d8(z, valid, dx, dy):
    nrows, ncols = z.shape
    out = np.zeros((nrows, ncols), np.uint8)
    dist = np.empty(8)
    diag = math.hypot(dx, dy)
    for k in range(8):
        if DROW[k] == 0:
            dist[k] = dx
        elif DCOL[k] == 0:
            dist[k] = dy
        else:
            dist[k] = diag
    for r in nb.prange(nrows):
        for c in range(ncols):
            if not valid[r, c]:
                continue
            zc = np.float64(z[r, c])
            best = 0.0
            code = 0
            for k in range(8):
                rr = r + DROW[k]
                cc = c + DCOL[k]
                if rr < 0 or cc < 0 or rr >= nrows or cc >= ncols or not valid[rr, cc]:
                    continue
                g = (zc - np.float64(z[rr, cc])) / dist[k]
                if g > best:  # strict: the first direction in ESRI order wins a tie
                    best = g
                    code = D8_CODES[k]
            out[r, c] = code
    return out


EDGE_MARK = np.uint8(255)  # a temporary code for outlets while flats are resolved (codes are powers of two)


@nb.njit(cache=True)
def _resolve_flats(z, valid, fdir):
    """Give every interior cell without a lower neighbour the direction of its nearest drain across its flat.

    A breadth-first search over equal elevations from the cells that already drain (a direction,
    or an outlet on the edge or beside nodata): each flat cell points to the neighbour through which
    the search reached it.  Returns the number of cells left without a direction (pits of an
    unconditioned DEM).
    """
    nrows, ncols = z.shape
    zf = z.ravel()
    ok = valid.ravel()
    fd = fdir.ravel()
    todo = 0
    for r in range(nrows):
        for c in range(ncols):
            i = r * ncols + c
            if not ok[i] or fd[i] != 0:
                continue
            if on_edge(ok, r, c, nrows, ncols):
                fd[i] = EDGE_MARK
            else:
                todo += 1
    queue = np.empty(todo, np.int64)
    codes = np.empty(todo, np.uint8)
    tail = 0
    if todo:
        # first ring: flat cells beside a cell that drains (all found before any is given a direction)
        for r in range(nrows):
            for c in range(ncols):
                i = r * ncols + c
                if not ok[i] or fd[i] != 0:
                    continue
                for k in range(8):
                    rr = r + DROW[k]
                    cc = c + DCOL[k]
                    j = rr * ncols + cc
                    if 0 <= rr < nrows and 0 <= cc < ncols and ok[j] and fd[j] != 0 and zf[j] == zf[i]:
                        queue[tail] = i
                        codes[tail] = D8_CODES[k]
                        tail += 1
                        break
        for t in range(tail):
            fd[queue[t]] = codes[t]
        head = 0
        while head < tail:
            i = queue[head]
            head += 1
            r = i // ncols
            c = i - r * ncols
            for k in range(8):
                rr = r + DROW[k]
                cc = c + DCOL[k]
                j = rr * ncols + cc
                if 0 <= rr < nrows and 0 <= cc < ncols and ok[j] and fd[j] == 0 and zf[j] == zf[i]:
                    fd[j] = D8_CODES[(k + 4) % 8]  # back towards i
                    queue[tail] = j
                    tail += 1
    for i in range(fd.shape[0]):
        if fd[i] == EDGE_MARK:
            fd[i] = 0
    return todo - tail


def flow_direction_d8(z: np.ndarray, valid: np.ndarray, dx: float, dy: float | None = None,
                      resolve_flats: bool = False) -> np.ndarray:
    """D8 flow direction by steepest descent (O'Callaghan & Mark 1984).

    For each valid cell the direction ``k`` maximising the gradient
    ``(z_c − z_k) / d_k`` over valid neighbours, with ``d_k`` the cell width,
    the cell height or the diagonal ``√(dx² + dy²)``, and only positive
    gradients considered.  **Tie-break:** the first direction in ESRI code order
    (E, SE, S, SW, W, NW, N, NE) wins.  Cells with no lower valid neighbour get
    0 (outlet, or a pit on an unconditioned DEM).  Returns uint8 ESRI codes.

    ``resolve_flats=True`` (for a DEM filled without ε, :func:`shuibao.core.tiled_fill.fill_depressions_tiled`):
    interior cells without a lower neighbour then drain across their flat to the nearest
    cell that drains, by a breadth-first search over equal elevations (the "towards
    lower terrain" half of Garbrecht & Martz 1997, as ArcGIS and TauDEM do). A cell beside a draining
    cell points to the first such neighbour in ESRI order; farther in, to the neighbour through which
    the search reached it first.  Cells on the edge or beside nodata stay outlets.  On a DEM
    filled with ε there are no such cells and nothing changes.

    Garbrecht, J., Martz, L. W. (1997). The assignment of drainage direction over flat surfaces in raster
    digital elevation models. Journal of Hydrology 193: 204–213. doi:10.1016/S0022-1694(96)03138-1
    """
    dy = dx if dy is None else dy
    z32 = np.ascontiguousarray(z, dtype=np.float32)
    ok = np.ascontiguousarray(valid, dtype=np.bool_)
    fdir = _d8(z32, ok, float(dx), float(dy))
    if resolve_flats:
        _resolve_flats(z32, ok, fdir)
    return fdir


# direction index k of each ESRI code (-1: not a single direction), so a walk step is one lookup
CODE_TO_K = np.full(256, -1, np.int64)
for _k in range(8):
    CODE_TO_K[1 << _k] = _k


@nb.njit(cache=True, inline="always")
def receiver(fdir, r, c, nrows, ncols):
    """Flat index of the cell that (r, c) drains to by its D8 code ``fdir[r, c]``; -1 for an outlet (code 0),
    an unknown code or a receiver off the grid.  The caller checks the receiver is valid."""
    k = CODE_TO_K[fdir[r, c]]
    if k < 0:
        return -1
    rr = r + DROW[k]
    cc = c + DCOL[k]
    if rr < 0 or cc < 0 or rr >= nrows or cc >= ncols:
        return -1
    return rr * ncols + cc


DONE = np.uint8(255)  # indegree marker of a processed cell (a cell has at most 8 inflows)


@nb.njit(cache=True)
def indegree_d8(fdir, valid):
    """Number of valid D8 donors of each cell (flat, uint8: at most 8), the start of Kahn's topological order."""
    nrows, ncols = fdir.shape
    ok = valid.ravel()
    indeg = np.zeros(nrows * ncols, np.uint8)
    for r in range(nrows):
        for c in range(ncols):
            if ok[r * ncols + c]:
                d = receiver(fdir, r, c, nrows, ncols)
                if d >= 0 and ok[d]:
                    indeg[d] += 1
    return indeg


@nb.njit(cache=True)
def _accumulate_d8(fdir, valid, weight_flat, full):
    """Kahn's algorithm as chain walks: start at cells without inflow, walk down while complete."""
    nrows, ncols = fdir.shape
    ok = valid.ravel()
    indeg = indegree_d8(fdir, valid)
    acc = np.zeros(nrows * ncols, np.float64)
    done = 0
    for start in range(nrows * ncols):
        if not ok[start] or indeg[start] != 0:
            continue
        i = start
        while True:
            acc[i] += weight_flat[i if full else 0]
            indeg[i] = DONE  # so the outer scan does not start here again
            done += 1
            r = i // ncols
            d = receiver(fdir, r, i - r * ncols, nrows, ncols)
            if d < 0 or not ok[d]:
                break
            acc[d] += acc[i]
            indeg[d] -= 1
            if indeg[d] != 0:
                break
            i = d
    return acc, done


def flow_accumulation_d8(fdir: np.ndarray, valid: np.ndarray, weight: np.ndarray | float = 1.0) -> np.ndarray:
    """Upstream total of ``weight`` along D8 directions, **including the cell itself**.

    With ``weight=1`` the result is the number of cells draining through each
    cell (the outlet cells' totals add up to the number of valid cells); with
    the cell area it is the contributing area.  Invalid cells are NaN.  Raises
    ``ValueError`` if the directions contain a cycle.
    """
    valid = np.ascontiguousarray(valid, dtype=np.bool_)
    w = np.asarray(weight, dtype=np.float64)
    full = w.ndim > 0
    # a scalar weight stays one value: broadcasting it would allocate 8 bytes a cell
    w = np.ascontiguousarray(np.broadcast_to(w, fdir.shape)).ravel() if full else w.reshape(1)
    acc, done = _accumulate_d8(np.ascontiguousarray(fdir, dtype=np.uint8), valid, w, full)
    if done != int(valid.sum()):
        raise ValueError("flow directions contain a cycle: not every valid cell drains to an outlet")
    acc = acc.reshape(fdir.shape)
    acc[~valid] = np.nan
    return acc


def outlets(fdir: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Valid cells whose flow leaves the valid grid (code 0, off the edge, or into nodata)."""
    valid = np.ascontiguousarray(valid, dtype=np.bool_)
    return _outlets(np.ascontiguousarray(fdir, dtype=np.uint8), valid)


@nb.njit(cache=True)
def _outlets(fdir, valid):
    nrows, ncols = fdir.shape
    ok = valid.ravel()
    out = np.zeros((nrows, ncols), np.bool_)
    for r in range(nrows):
        for c in range(ncols):
            if ok[r * ncols + c]:
                d = receiver(fdir, r, c, nrows, ncols)
                out[r, c] = d < 0 or not ok[d]
    return out


# --------------------------------------------------------------------------- MFD
@nb.njit(cache=True)
def _mfd_weights(z, valid, r, c, dist, contour, exponent, w):
    nrows, ncols = z.shape
    zc = np.float64(z[r, c])
    total = 0.0
    for k in range(8):
        w[k] = 0.0
        rr = r + DROW[k]
        cc = c + DCOL[k]
        if rr < 0 or cc < 0 or rr >= nrows or cc >= ncols or not valid[rr, cc]:
            continue
        drop = zc - np.float64(z[rr, cc])
        if drop > 0.0:
            g = drop / dist[k]
            w[k] = (g if exponent == 1.0 else g ** exponent) * contour[k]  # pow is slow: skip it for Quinn
            total += w[k]
    return total


@nb.njit(cache=True)
def _accumulate_mfd(z, valid, weight_flat, dx, dy, exponent, quinn):
    nrows, ncols = z.shape
    n = nrows * ncols
    diag = math.hypot(dx, dy)
    dist = np.empty(8)
    contour = np.empty(8)
    for k in range(8):
        dist[k] = diag if (DROW[k] != 0 and DCOL[k] != 0) else (dx if DROW[k] == 0 else dy)
        # Quinn et al. (1991): effective contour length 0.5 (cardinal) and 0.354 (diagonal) cell widths
        contour[k] = (0.354 if (DROW[k] != 0 and DCOL[k] != 0) else 0.5) if quinn else 1.0
    indeg = np.zeros(n, np.uint8)
    w = np.empty(8)
    for r in range(nrows):
        for c in range(ncols):
            if not valid[r, c]:
                continue
            _mfd_weights(z, valid, r, c, dist, contour, exponent, w)
            for k in range(8):
                if w[k] > 0.0:
                    indeg[(r + DROW[k]) * ncols + c + DCOL[k]] += 1
    ok = valid.ravel()
    acc = np.zeros(n, np.float64)
    stack = np.empty(n, np.int64)
    top = 0
    for i in range(n):
        if ok[i] and indeg[i] == 0:
            stack[top] = i
            top += 1
    done = 0
    while top > 0:
        top -= 1
        i = stack[top]
        done += 1
        acc[i] += weight_flat[i]
        r = i // ncols
        c = i - r * ncols
        total = _mfd_weights(z, valid, r, c, dist, contour, exponent, w)
        if total <= 0.0:
            continue
        for k in range(8):
            if w[k] > 0.0:
                j = (r + DROW[k]) * ncols + c + DCOL[k]
                acc[j] += acc[i] * w[k] / total
                indeg[j] -= 1
                if indeg[j] == 0:
                    stack[top] = j
                    top += 1
    return acc, done


def flow_accumulation_mfd(z: np.ndarray, valid: np.ndarray, dx: float, dy: float | None = None,
                          weight: np.ndarray | float = 1.0, *, method: str = "quinn") -> np.ndarray:
    """Multiple-flow-direction accumulation, including the cell itself.

    Each cell passes its accumulated total to all strictly lower neighbours in
    proportion to ``w_k = (tan β_k)^p · L_k``: Quinn et al. (1991) with p = 1 and
    contour lengths L = 0.5 (cardinal) and 0.354 (diagonal); Freeman (1991) with
    p = 1.1 and L = 1.  Needs a conditioned DEM (every interior cell has a lower
    neighbour), e.g. from :func:`fill_depressions`.  Weights are recomputed from
    the DEM rather than stored, to keep memory at the DEM plus one float64 array.
    """
    if method not in ("quinn", "freeman"):
        raise ValueError(f"MFD method must be 'quinn' or 'freeman', not {method!r}")
    dy = dx if dy is None else dy
    valid = np.ascontiguousarray(valid, dtype=np.bool_)
    w = np.broadcast_to(np.asarray(weight, dtype=np.float64), z.shape)
    acc, done = _accumulate_mfd(np.ascontiguousarray(z, dtype=np.float32), valid, np.ascontiguousarray(w).ravel(),
                                float(dx), float(dy), 1.0 if method == "quinn" else 1.1, method == "quinn")
    if done != int(valid.sum()):
        raise ValueError("MFD routing found a cycle; condition the DEM first")
    acc = acc.reshape(z.shape)
    acc[~valid] = np.nan
    return acc
