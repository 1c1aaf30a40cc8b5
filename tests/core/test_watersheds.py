"""Small watersheds: links split at confluences, slopes join the channel they drain to."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from shuibao.core import hydrology as h
from shuibao.core.watersheds import small_watersheds

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
