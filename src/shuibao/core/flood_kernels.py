"""Numba kernels shared by the Priority-Flood fills (:mod:`shuibao.core.hydrology`, :mod:`shuibao.core.tiled_fill`):
the D8 neighbour offsets, the (elevation, index) min-heap, the FIFO of cells raised inside depressions and flats,
and the test for outlet cells.

Barnes, R., Lehman, C., Mulla, D. (2014). Priority-flood: an optimal depression-filling and watershed-labeling
algorithm for digital elevation models. Computers & Geosciences 62: 117–127. doi:10.1016/j.cageo.2013.04.024

All helpers are ``inline="always"``: the fills' inner loops compile as if written out in place.  Helpers that
return arrays (growth) are called only on the rare path where a buffer is full.
"""

from __future__ import annotations

import numba as nb
import numpy as np

# ESRI D8 neighbour order E, SE, S, SW, W, NW, N, NE (codes 1, 2, 4 … 128)
DROW = np.array([0, 1, 1, 1, 0, -1, -1, -1], dtype=np.int64)
DCOL = np.array([1, 1, 0, -1, -1, -1, 0, 1], dtype=np.int64)
LOW32 = np.uint64(0xFFFFFFFF)  # the index half of a heap key


@nb.njit(cache=True, inline="always")
def heap_key(z, i):
    """One uint64 ordering cells by (elevation, index): the float32's order-preserving bits, then the index.

    A single integer comparison per heap step instead of two (elevation, then index on ties);
    the order, and so the result, is the same.  Needs fewer than 2³² cells.
    """
    b = np.uint64(np.float32(z).view(np.uint32))
    if b & np.uint64(0x80000000):
        b = ~b & np.uint64(0xFFFFFFFF)  # negative floats: reverse their order
    else:
        b = b | np.uint64(0x80000000)
    return (b << np.uint64(32)) | np.uint64(i)


@nb.njit(cache=True, inline="always")
def on_edge(ok, r, c, nrows, ncols):
    """Whether valid cell (r, c) of the flat mask ``ok`` lies on the grid edge or beside nodata: an outlet."""
    if r == 0 or c == 0 or r == nrows - 1 or c == ncols - 1:
        return True
    for k in range(8):
        if not ok[(r + DROW[k]) * ncols + c + DCOL[k]]:
            return True
    return False


@nb.njit(cache=True, inline="always")
def sift_up(heap, k, key):
    """Insert ``key`` at slot k of a binary min-heap."""
    while k > 0:
        p = (k - 1) >> 1
        if key < heap[p]:
            heap[k] = heap[p]
            k = p
        else:
            break
    heap[k] = key


@nb.njit(cache=True, inline="always")
def heap_pop(heap, size):
    """Remove the top of a binary min-heap of ``size`` keys; returns the new size."""
    size -= 1
    last = heap[size]
    k = 0
    while True:
        ch = 2 * k + 1
        if ch >= size:
            break
        if ch + 1 < size and heap[ch + 1] < heap[ch]:
            ch += 1
        if heap[ch] < last:
            heap[k] = heap[ch]
            k = ch
        else:
            break
    if size > 0:
        heap[k] = last
    return size


@nb.njit(cache=True, inline="always")
def next_cell(heap, size, pit, pit_head, pit_tail):
    """The next cell to flood: the oldest raised cell of the FIFO ``pit`` while it holds one, else the heap's
    lowest; returns it with the heap's size and the FIFO's head and tail (reset to 0 when it empties)."""
    if pit_head < pit_tail:
        i = pit[pit_head]
        pit_head += 1
        if pit_head == pit_tail:
            pit_head = 0
            pit_tail = 0
    else:
        i = np.int64(heap[0] & LOW32)
        size = heap_pop(heap, size)
    return i, size, pit_head, pit_tail


@nb.njit(cache=True, inline="always")
def fifo_grown(pit, pit_head, pit_tail):
    """A full FIFO moved to the front of one twice its size; returns it, its head (0) and its tail."""
    grown = np.empty(pit.shape[0] * 2, np.int64)
    grown[: pit_tail - pit_head] = pit[pit_head:pit_tail]
    pit_tail -= pit_head
    return grown, 0, pit_tail


@nb.njit(cache=True, inline="always")
def doubled(a):
    """``a`` followed by as many uninitialised slots (a full buffer grown)."""
    return np.concatenate((a, np.empty(a.shape[0], a.dtype)))


@nb.njit(cache=True, inline="always")
def flood_into(z, j, level, pit, pit_head, pit_tail, heap, size):
    """Reach cell ``j`` from a cell at ``level``: a cell at or below it is raised to ``level`` and queued in
    the FIFO ``pit`` (flooded next, in order — the pit queue of Barnes et al. 2014's Priority-Flood), a higher
    one goes on the heap by its own elevation.  Returns the (possibly grown) FIFO with its head and tail and
    the (possibly grown) heap with its size."""
    if z[j] <= level:
        z[j] = level
        if pit_tail == pit.shape[0]:
            pit, pit_head, pit_tail = fifo_grown(pit, pit_head, pit_tail)
        pit[pit_tail] = j
        pit_tail += 1
    else:
        if size == heap.shape[0]:
            heap = doubled(heap)
        sift_up(heap, size, heap_key(z[j], j))
        size += 1
    return pit, pit_head, pit_tail, heap, size
