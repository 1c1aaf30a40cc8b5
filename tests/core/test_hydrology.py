"""Fill, D8 and accumulation: properties, analytic cases, a reference D8 and agreement with pyflwdir."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from shuibao.core import hydrology as h

CODES = {(0, 1): 1, (1, 1): 2, (1, 0): 4, (1, -1): 8, (0, -1): 16, (-1, -1): 32, (-1, 0): 64, (-1, 1): 128}
OFFSET = {v: k for k, v in CODES.items()}

dems = arrays(np.float32, st.tuples(st.integers(3, 14), st.integers(3, 14)),
              elements=st.floats(0, 100, width=32))


def interior_pits(z, valid):
    """Valid cells, not next to the edge or nodata, with no strictly lower neighbour."""
    pits = 0
    rows, cols = z.shape
    for r in range(rows):
        for c in range(cols):
            if not valid[r, c]:
                continue
            nbrs = [(r + dr, c + dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1) if dr or dc]
            if any(not (0 <= rr < rows and 0 <= cc < cols) or not valid[rr, cc] for rr, cc in nbrs):
                continue
            if not any(z[rr, cc] < z[r, c] for rr, cc in nbrs):
                pits += 1
    return pits


@settings(max_examples=150, deadline=None)
@given(dems, st.data())
def test_fill_never_lowers_and_leaves_no_interior_pit(z, data):
    valid = data.draw(arrays(np.bool_, z.shape, elements=st.booleans()).map(lambda m: m | (np.arange(m.size)
                                                                                            .reshape(m.shape) % 5 != 0)))
    f = h.fill_depressions(z, valid)
    assert np.all(f[valid] >= z[valid])
    assert interior_pits(f, valid) == 0
    assert np.array_equal(f[~valid], z[~valid])


@settings(max_examples=150, deadline=None)
@given(dems)
def test_accumulation_conserves_cells(z):
    valid = np.ones(z.shape, bool)
    f = h.fill_depressions(z, valid)
    d = h.flow_direction_d8(f, valid, 10.0)
    acc = h.flow_accumulation_d8(d, valid)
    assert acc[h.outlets(d, valid)].sum() == valid.sum()
    assert np.all(acc >= 1)
    mfd = h.flow_accumulation_mfd(f, valid, 10.0)
    assert mfd[h.outlets(d, valid)].sum() == pytest.approx(valid.sum(), rel=1e-9)


def test_fill_raises_a_pit_to_its_spill_level():
    z = np.full((5, 5), 10.0, np.float32)
    z[2, 2] = 1.0
    z[0, 2] = z[1, 2] = 5.0  # a notch in the ring of 10 m leads to the edge at 5 m
    f = h.fill_depressions(z, np.ones(z.shape, bool))
    assert 5.0 < f[2, 2] < 5.0 + 1e-3  # raised to just above the spill path
    assert f[0, 2] == 5.0


def reference_d8(z, valid, dx, dy):
    """Straightforward steepest descent, written independently of the kernel."""
    out = np.zeros(z.shape, np.uint8)
    rows, cols = z.shape
    for r in range(rows):
        for c in range(cols):
            if not valid[r, c]:
                continue
            best, code = 0.0, 0
            for (dr, dc), k in CODES.items():
                rr, cc = r + dr, c + dc
                if 0 <= rr < rows and 0 <= cc < cols and valid[rr, cc]:
                    dist = math.hypot(dx * dc, dy * dr)
                    g = (float(z[r, c]) - float(z[rr, cc])) / dist
                    if g > best:
                        best, code = g, k
            out[r, c] = code
    return out


@pytest.mark.parametrize("seed", range(5))
def test_d8_equals_reference_on_tie_free_dems(seed):
    rng = np.random.default_rng(seed)
    z = rng.random((30, 40)).astype(np.float32) * 100  # continuous random values: no exact ties
    valid = rng.random(z.shape) > 0.05
    assert np.array_equal(h.flow_direction_d8(z, valid, 30.0, 20.0), reference_d8(z, valid, 30.0, 20.0))


def test_d8_tie_break_is_esri_order():
    z = np.array([[5, 5, 5], [5, 9, 5], [5, 5, 5]], np.float32)  # all cardinals tie, diagonals less steep
    d = h.flow_direction_d8(z, np.ones(z.shape, bool), 1.0)
    assert d[1, 1] == 1  # E comes first


def cone(n=41, dx=10.0):
    r, c = np.mgrid[0:n, 0:n]
    centre = n // 2
    return (1000 - np.hypot(r - centre, c - centre) * dx * 0.3).astype(np.float32)


def tie_cells(z, valid, dx):
    """Cells whose steepest descent is shared by two directions (the ESRI-order tie-break decides)."""
    out = np.zeros(z.shape, bool)
    rows, cols = z.shape
    for r in range(rows):
        for c in range(cols):
            if not valid[r, c]:
                continue
            g = sorted((float(z[r, c]) - float(z[r + dr, c + dc])) / (dx * math.hypot(dr, dc))
                       for (dr, dc) in CODES if 0 <= r + dr < rows and 0 <= c + dc < cols and valid[r + dr, c + dc])
            out[r, c] = len(g) > 1 and g[-1] > 0 and g[-1] == g[-2]
    return out


def downstream_of(mask, d, valid):
    """Cells reached by following D8 from any cell of ``mask`` (the mask included)."""
    hit = mask.copy()
    rows, cols = d.shape
    for r, c in zip(*np.nonzero(mask)):
        while d[r, c]:
            dr, dc = OFFSET[int(d[r, c])]
            r, c = r + dr, c + dc
            if not (0 <= r < rows and 0 <= c < cols) or not valid[r, c]:
                break
            hit[r, c] = True
    return hit


def test_cone_accumulation_is_symmetric():
    z = cone()
    r, c = np.mgrid[0:41, 0:41]
    valid = np.hypot(r - 20, c - 20) <= 19.5  # a round cone: no square edge to break the symmetry
    d = h.flow_direction_d8(h.fill_depressions(z, valid), valid, 10.0)
    acc = h.flow_accumulation_d8(d, valid)
    assert acc[20, 20] == 1  # the summit drains nothing but itself
    assert np.nansum(acc[h.outlets(d, valid)]) == valid.sum()
    # Exact ties (the summit, rim cells on the axes) are broken in ESRI order, which no grid symmetry
    # preserves; everywhere their choice does not reach, the 8 symmetries of the cone hold exactly.
    tainted = downstream_of(tie_cells(z, valid, 10.0), d, valid)
    for t in (lambda a: a[::-1, :], lambda a: a[:, ::-1], lambda a: a.T, lambda a: a[::-1, ::-1].T):
        clean = valid & ~tainted & ~t(tainted)
        assert np.array_equal(acc[clean], t(acc)[clean])
    assert (valid & ~tainted).sum() > 0.8 * valid.sum()
    mfd = h.flow_accumulation_mfd(z, valid, 10.0)  # MFD splits ties evenly: fully symmetric
    assert np.allclose(mfd, mfd[::-1, :], equal_nan=True) and np.allclose(mfd, mfd.T, equal_nan=True)


def test_v_valley_channel():
    rows, cols, dx = 50, 41, 10.0
    r, c = np.mgrid[0:rows, 0:cols]
    z = (np.abs(c - cols // 2) * dx * 0.2 + (rows - r) * dx * 0.05).astype(np.float32)
    valid = np.ones(z.shape, bool)
    d = h.flow_direction_d8(h.fill_depressions(z, valid), valid, dx)
    acc = h.flow_accumulation_d8(d, valid)
    # the valley floor collects its side slopes: each floor cell drains all cells upstream of it
    floor = acc[:, cols // 2]
    assert np.all(np.diff(floor) > 0)
    assert floor[-1] == acc[h.outlets(d, valid)].max()
    assert np.all(d[:-1, cols // 2] == 4)  # flows south along the floor
    channel = acc * dx * dx >= 20 * dx * dx
    assert channel[:, cols // 2].sum() > 0 and not channel[:, :cols // 2 - 1].any()


def test_accumulation_equals_pyflwdir_given_our_directions(jacksboro):
    pyflwdir = pytest.importorskip("pyflwdir")
    valid = np.ones(jacksboro.shape, bool)
    d = h.flow_direction_d8(h.fill_depressions(jacksboro, valid), valid, 75.0, 92.0)
    ours = h.flow_accumulation_d8(d, valid)
    flw = pyflwdir.from_array(d, ftype="d8", check_ftype=True)
    theirs = flw.upstream_area(unit="cell")
    assert np.array_equal(ours, theirs.astype(np.float64))


def test_cycle_is_refused():
    d = np.array([[1, 16]], np.uint8)  # two cells pointing at each other
    with pytest.raises(ValueError, match="cycle"):
        h.flow_accumulation_d8(d, np.ones(d.shape, bool))


def test_weighted_accumulation_is_area():
    z = cone(11)
    valid = np.ones(z.shape, bool)
    d = h.flow_direction_d8(h.fill_depressions(z, valid), valid, 10.0)
    assert np.allclose(h.flow_accumulation_d8(d, valid, 100.0), h.flow_accumulation_d8(d, valid) * 100.0)


def test_mfd_spreads_over_lower_neighbours():
    z = np.array([[3, 3, 3], [3, 4, 3], [3, 3, 3]], np.float32)
    valid = np.ones(z.shape, bool)
    acc = h.flow_accumulation_mfd(z, valid, 1.0, method="quinn")
    # the centre splits its one cell over 4 cardinal (weight 0.5·1) and 4 diagonal (0.354·1/√2) neighbours
    wc, wd = 0.5 * 1.0, 0.354 * (1 / math.sqrt(2))
    total = 4 * wc + 4 * wd
    assert acc[1, 1] == 1
    assert acc[0, 1] == pytest.approx(1 + wc / total)
    assert acc[0, 0] == pytest.approx(1 + wd / total)
    freeman = h.flow_accumulation_mfd(z, valid, 1.0, method="freeman")
    wf = (1 / math.sqrt(2)) ** 1.1
    assert freeman[0, 0] == pytest.approx(1 + wf / (4 + 4 * wf))
