"""Small watersheds: links split at confluences, slopes join the channel they drain to."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from shuibao.core import hydrology as h
from shuibao.core.watersheds import merge_small_units, small_watersheds

OFFSET = {1: (0, 1), 2: (1, 1), 4: (1, 0), 8: (1, -1), 16: (0, -1), 32: (-1, -1), 64: (-1, 0), 128: (-1, 1)}


def receiver(d, r, c):
    if not d[r, c]:
        return None
    dr, dc = OFFSET[int(d[r, c])]
    rr, cc = r + dr, c + dc
    return (rr, cc) if 0 <= rr < d.shape[0] and 0 <= cc < d.shape[1] else None


def route(z):
    valid = np.ones(z.shape, bool)
    f = h.fill_depressions(z, valid)
    d = h.flow_direction_d8(f, valid, 10.0)
    return d, valid, h.flow_accumulation_d8(d, valid)


def y_valley(rows=60, cols=61):
    """Two valleys meeting at mid-height: a confluence of two channels, then one trunk."""
    r, c = np.mgrid[0:rows, 0:cols].astype(float)
    centre = cols // 2
    upper = r < rows // 2
    arm = np.where(c < centre, centre - 15, centre + 15)
    lateral = np.where(upper, np.abs(c - arm), np.abs(c - centre))
    return (lateral * 3.0 + (rows - r) * 1.0).astype(np.float32)


def check_rules(d, valid, channel, labels):
    rows, cols = d.shape
    donors = {}
    for r in range(rows):
        for c in range(cols):
            t = receiver(d, r, c)
            if t and channel[r, c] and channel[t]:
                donors.setdefault(t, []).append((r, c))
    for r in range(rows):
        for c in range(cols):
            t = receiver(d, r, c)
            if t is None:
                continue
            if not channel[r, c]:
                assert labels[r, c] == labels[t]  # slopes take the unit of the cell they drain to
            elif channel[t]:
                same = labels[r, c] == labels[t]
                assert same == (len(donors[t]) == 1)  # a link ends exactly at a confluence


def test_y_valley_links_start_at_heads_and_confluences():
    d, valid, acc = route(y_valley())
    labels, count = small_watersheds(d, valid, acc, 40)
    channel = acc >= 40
    assert labels.min() >= 1 and labels.max() == count
    check_rules(d, valid, channel, labels)
    # graph identity: one link per channel head (no channel donor) and per confluence (two or more)
    donors = np.zeros(d.shape, int)
    for r, c in zip(*np.nonzero(channel)):
        t = receiver(d, r, c)
        if t and channel[t]:
            donors[t] += 1
    starts = np.count_nonzero(channel & (donors != 1))
    assert len(np.unique(labels[channel])) == starts
    trunk = labels[35:, 30]  # below the confluence the valley floor is one link down to the outlet
    assert channel[35:, 30].all() and len(np.unique(trunk)) == 1
    assert np.bincount(labels.ravel())[1:].sum() == valid.sum()


@settings(max_examples=60, deadline=None)
@given(arrays(np.float32, st.tuples(st.integers(3, 25), st.integers(3, 25)), elements=st.floats(0, 100, width=32)),
       st.integers(2, 30))
def test_rules_hold_on_random_terrain(z, threshold):
    d, valid, acc = route(z)
    labels, count = small_watersheds(d, valid, acc, threshold)
    assert labels.min() >= 1 and set(np.unique(labels)) == set(range(1, count + 1))
    check_rules(d, valid, acc >= threshold, labels)


def test_larger_threshold_gives_fewer_larger_units():
    d, valid, acc = route(y_valley(80, 81))
    counts = [small_watersheds(d, valid, acc, t)[1] for t in (20, 60, 200)]
    assert counts[0] > counts[1] > counts[2]


def test_threshold_must_be_positive():
    with pytest.raises(ValueError):
        small_watersheds(np.zeros((2, 2), np.uint8), np.ones((2, 2), bool), np.ones((2, 2)), 0)


def _neighbours(labels: np.ndarray, u: int) -> set[int]:
    m = labels == u
    out = set()
    for a, b in ((labels[:, :-1], labels[:, 1:]), (labels[:-1, :], labels[1:, :])):
        for x, y in ((a, b), (b, a)):
            sel = (x == u) & (y != u) & (y > 0)
            out |= set(np.unique(y[sel]).tolist())
    assert m.any()
    return out


@settings(max_examples=200, deadline=None)
@given(arrays(np.int32, (12, 15), elements=st.integers(0, 9)), st.integers(2, 25))
@example(np.pad(np.array([[1, 3, 2, 2, 2, 2, 0, 1]], np.int32), ((0, 11), (0, 7))), 4)  # CI found it: a merged
# unit must look for neighbours along all its parts, not only the border of its first
def test_merging_small_units_keeps_cells_and_leaves_no_mergeable_sliver(raw, min_cells):
    from shuibao.core.watersheds import merge_small_units

    merged, n = merge_small_units(raw, min_cells)
    assert ((merged > 0) == (raw > 0)).all()  # no cell gains or loses a unit
    assert n == len(np.unique(merged[merged > 0]))
    assert sorted(np.unique(merged[merged > 0]).tolist()) == list(range(1, n + 1))
    for u in np.unique(raw[raw > 0]):  # each original unit goes whole into one new unit
        assert len(np.unique(merged[raw == u])) == 1
    sizes = np.bincount(merged.ravel(), minlength=n + 1)
    for u in range(1, n + 1):
        if sizes[u] < min_cells:  # a unit left small has nobody to join
            assert not _neighbours(merged, u)


def test_a_unit_grown_by_merging_does_not_stop_the_smaller_ones_after_it():
    """Regression: the loop stopped at the first unit whose *grown* size passed the minimum."""
    from shuibao.core.watersheds import merge_small_units

    merged, n = merge_small_units(np.array([[3, 1, 2]], np.int32), 2)
    assert n == 1 and (merged == 1).all()


def test_a_sliver_joins_the_neighbour_with_the_longest_border():
    from shuibao.core.watersheds import merge_small_units

    labels = np.array([[1, 1, 1, 2, 2],
                       [1, 1, 3, 2, 2],
                       [1, 1, 3, 2, 2],
                       [1, 1, 3, 2, 2]], np.int32)
    # unit 3 (3 cells) touches unit 1 on 3 edges + 1 corner-free edge above, and unit 2 on 3 edges
    labels[0, 2] = 2  # now 3 shares 3 edges with 1, 4 with 2
    merged, n = merge_small_units(labels, 4)
    assert n == 2
    assert (merged[1:, 2] == merged[0, 3]).all()


def test_negative_labels_are_refused_by_the_merge():
    with pytest.raises(ValueError, match="≥ 0"):
        merge_small_units(np.array([[1, -1, 2], [2, 2, 2]], np.int32), 2)
