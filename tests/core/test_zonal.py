"""Zonal tables: one pass, exact identities with raster totals and across levels."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from shuibao.core.zonal import crosstab, present_codes, roll_up

shapes = st.tuples(st.integers(1, 30), st.integers(1, 30))


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_zone_totals_equal_raster_totals(data):
    shape = data.draw(shapes)
    zones = data.draw(arrays(np.int32, shape, elements=st.integers(0, 5)))
    grades = data.draw(arrays(np.uint8, shape, elements=st.integers(0, 6)))
    t = crosstab(zones, grades, 6, 7)
    assert t.sum() == zones.size  # every cell exactly once
    for g in range(7):
        assert t[:, g].sum() == np.count_nonzero(grades == g)
    for z in range(6):
        assert t[z].sum() == np.count_nonzero(zones == z)


def test_weighted_areas_and_hand_example():
    zones = np.array([[1, 1, 2], [2, 0, 2]])
    grades = np.array([[1, 2, 2], [6, 3, 2]], np.uint8)
    area = np.array([[0.5, 0.5, 1.0], [1.0, 2.0, 1.0]])
    t = crosstab(zones, grades, 3, 7, weight=area)
    assert t[1, 1] == 0.5 and t[1, 2] == 0.5
    assert t[2, 2] == 2.0 and t[2, 6] == 1.0
    assert t[0, 3] == 2.0
    assert t.sum() == area.sum()


def test_out_of_range_labels_are_not_counted():
    t = crosstab(np.array([-1, 0, 1, 9]), np.array([0, 1, 1, 1]), 2, 2)
    assert t.tolist() == [[0, 1], [0, 1]]


def test_roll_up_districts_to_regions_and_city():
    # 4 districts (rows 1..4, row 0 = outside), two regions, one city
    table = np.arange(5 * 3, dtype=float).reshape(5, 3)
    regions = roll_up(table, np.array([-1, 0, 0, 1, 1]), 2)
    city = roll_up(regions, np.array([0, 0]), 1)
    assert regions[0].tolist() == (table[1] + table[2]).tolist()
    assert city[0].tolist() == table[1:].sum(axis=0).tolist()
    with pytest.raises(ValueError):
        roll_up(table, np.array([0, 1]), 2)


def test_shape_mismatch_is_refused():
    with pytest.raises(ValueError, match="differ in shape"):
        crosstab(np.zeros((2, 2), int), np.zeros((2, 3), int))


@settings(max_examples=100, deadline=None)
@given(st.sampled_from([np.uint8, np.int8, np.uint16, np.int16, np.int32, np.int64, np.float32]), st.data())
def test_present_codes_equal_numpy_unique(dtype, data):
    shape = data.draw(st.tuples(st.integers(1, 20), st.integers(1, 20)))
    info = np.iinfo(dtype) if np.issubdtype(dtype, np.integer) else None
    lo, hi = (max(int(info.min), -300), min(int(info.max), 300)) if info else (-300, 300)
    values = data.draw(arrays(dtype, shape, elements=st.integers(lo, hi).map(dtype)))
    mask = data.draw(arrays(np.bool_, shape))
    got = present_codes(values, mask)
    assert got.dtype == values.dtype
    assert np.array_equal(got, np.unique(values[mask]))


def test_present_codes_of_a_wide_range_fall_back_to_unique():
    values = np.array([[3, 2**40, 3]], np.int64)
    assert present_codes(values, np.ones(values.shape, bool)).tolist() == [3, 2**40]
    with pytest.raises(ValueError, match="shape"):
        present_codes(values, np.ones((2, 2), bool))


def test_present_codes_at_the_ends_of_int64():
    low = np.iinfo(np.int64).min
    present_codes(np.array([1, 2]), np.array([True, True]))  # the int64 kernel exists already
    assert present_codes(np.array([low, 5]), np.array([True, True])).tolist() == [low, 5]
