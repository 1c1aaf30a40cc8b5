"""The tiled plain fill equals a global Priority-Flood and pyflwdir; resolved flats drain without cycles."""

from __future__ import annotations

import heapq

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from shuibao.core import hydrology as h
from shuibao.core.tiled_fill import fill_depressions_tiled

NEIGHBOURS = [(dr, dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1) if dr or dc]


def reference_fill(z, valid):
    """Plain Priority-Flood (Barnes et al. 2014, Algorithm 1) with heapq, written independently of the kernels."""
    rows, cols = z.shape
    out = z.astype(np.float32).copy()
    closed = ~valid.copy()
    queue = []
    for r in range(rows):
        for c in range(cols):
            if valid[r, c] and any(not (0 <= r + dr < rows and 0 <= c + dc < cols) or not valid[r + dr, c + dc]
                                   for dr, dc in NEIGHBOURS):
                closed[r, c] = True
                heapq.heappush(queue, (float(out[r, c]), r, c))
    while queue:
        level, r, c = heapq.heappop(queue)
        for dr, dc in NEIGHBOURS:
            rr, cc = r + dr, c + dc
            if 0 <= rr < rows and 0 <= cc < cols and not closed[rr, cc]:
                closed[rr, cc] = True
                out[rr, cc] = max(out[rr, cc], np.float32(level))
                heapq.heappush(queue, (float(out[rr, cc]), rr, cc))
    return out


grids = arrays(np.float32, st.tuples(st.integers(2, 30), st.integers(2, 30)),
               elements=st.floats(0, 50, width=32) | st.sampled_from([10.0, 20.0]))  # plateaus too


@settings(max_examples=200, deadline=None)
@given(grids, st.integers(2, 9), st.integers(1, 2), st.data())
def test_tiled_fill_equals_the_global_priority_flood(z, tile, workers, data):
    valid = data.draw(arrays(np.bool_, z.shape, elements=st.booleans()).map(
        lambda m: m | (np.arange(m.size).reshape(m.shape) % 3 != 0)))
    filled = fill_depressions_tiled(z, valid, tile=tile, workers=workers)
    assert np.array_equal(filled[valid], reference_fill(z, valid)[valid])
    assert np.array_equal(filled[~valid], z[~valid])


def test_a_depression_across_four_tiles_fills_to_its_notch():
    z = np.full((12, 12), 10.0, np.float32)
    z[2:10, 2:10] = 1.0  # a basin spanning the corner where four 6×6 tiles meet
    z[0:2, 8] = 4.0  # its lowest way out, a notch in the northern rim
    z[1, 8] = 4.0
    filled = fill_depressions_tiled(z, np.ones(z.shape, bool), tile=6)
    assert np.all(filled[2:10, 2:10] == 4.0)
    assert filled[0, 8] == 4.0 and filled[5, 0] == 10.0


def test_tiled_fill_equals_pyflwdir_on_a_real_dem(jacksboro):
    pyflwdir = pytest.importorskip("pyflwdir")
    theirs, _ = pyflwdir.dem.fill_depressions(jacksboro.astype(np.float32))
    ours = fill_depressions_tiled(jacksboro, np.ones(jacksboro.shape, bool), tile=64, workers=2)
    assert (ours > jacksboro).sum() > 100  # the case has depressions to fill
    assert np.array_equal(ours, theirs)


def flat_distance(filled, valid, d):
    """Steps from each cell along its D8 path until the path leaves the cell's elevation."""
    rows, cols = d.shape
    offset = {1 << k: (h.DROW[k], h.DCOL[k]) for k in range(8)}
    steps = np.zeros(d.shape, int)
    for r, c in zip(*np.nonzero(valid)):
        rr, cc, n = r, c, 0
        while d[rr, cc] and filled[rr, cc] == filled[r, c]:
            dr, dc = offset[int(d[rr, cc])]
            rr, cc, n = rr + dr, cc + dc, n + 1
            if not (0 <= rr < rows and 0 <= cc < cols) or not valid[rr, cc]:
                break
        steps[r, c] = n
    return steps


def test_a_filled_basin_drains_to_its_notch_by_the_shortest_way():
    z = np.full((15, 15), 10.0, np.float32)
    z[1:14, 1:14] = 2.0  # a level basin floor, below its rim
    z[7, 0] = 5.0  # the rim's lowest cell, on the western edge
    valid = np.ones(z.shape, bool)
    filled = fill_depressions_tiled(z, valid, tile=4)
    assert np.all(filled[1:14, 1:14] == 5.0)
    d = h.flow_direction_d8(filled, valid, 10.0, resolve_flats=True)
    acc = h.flow_accumulation_d8(d, valid)  # raises on a cycle
    assert acc[7, 0] == z.size  # the rim drains into the basin, the basin through the notch
    r, c = np.mgrid[1:14, 1:14]
    # each floor cell reaches the notch in its 8-connected (Chebyshev) distance: a shortest path
    assert np.array_equal(flat_distance(filled, valid, d)[1:14, 1:14], np.maximum(np.abs(r - 7), c))
    assert d[7, 0] == 0  # the notch is an outlet on the edge


@settings(max_examples=150, deadline=None)
@given(grids, st.data())
def test_resolved_flats_leave_no_interior_cell_without_a_direction(z, data):
    valid = data.draw(arrays(np.bool_, z.shape, elements=st.booleans()).map(
        lambda m: m | (np.arange(m.size).reshape(m.shape) % 4 != 0)))
    filled = fill_depressions_tiled(z, valid, tile=5)
    d = h.flow_direction_d8(filled, valid, 10.0, resolve_flats=True)
    acc = h.flow_accumulation_d8(d, valid)  # raises on a cycle
    out = h.outlets(d, valid)
    assert acc[out].sum() == valid.sum()
    rows, cols = z.shape
    for r, c in zip(*np.nonzero(out & (d == 0))):  # a cell without a direction lies on the edge or by nodata
        assert any(not (0 <= r + dr < rows and 0 <= c + dc < cols) or not valid[r + dr, c + dc]
                   for dr, dc in NEIGHBOURS)
    # no cell flows uphill, and a cell with a lower neighbour keeps its steepest descent
    plain = h.flow_direction_d8(filled, valid, 10.0)
    assert np.array_equal(d[plain != 0], plain[plain != 0])
    for r, c in zip(*np.nonzero(valid & (d != 0))):
        k = int(np.log2(d[r, c]))
        rr, cc = r + h.DROW[k], c + h.DCOL[k]
        assert not (0 <= rr < rows and 0 <= cc < cols) or filled[rr, cc] <= filled[r, c]


def test_resolving_flats_changes_nothing_on_an_epsilon_fill():
    rng = np.random.default_rng(7)
    z = np.round(rng.random((40, 50)) * 5).astype(np.float32)
    valid = rng.random(z.shape) > 0.05
    eps = h.fill_depressions(z, valid)
    assert np.array_equal(h.flow_direction_d8(eps, valid, 30.0, resolve_flats=True),
                          h.flow_direction_d8(eps, valid, 30.0))


def test_bad_tile_size_is_refused():
    with pytest.raises(ValueError, match="tile"):
        fill_depressions_tiled(np.zeros((4, 4), np.float32), tile=1)


def test_an_empty_grid_fills_to_an_empty_grid():
    assert fill_depressions_tiled(np.zeros((0, 5), np.float32)).shape == (0, 5)
