"""Patch labelling (shuibao.core.labelling): known masks, 4- against 8-connectivity, the minimum size, and a
property test against scipy.ndimage.label."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import ndimage

from shuibao.core import labelling
from shuibao.core.labelling import append_labels, label_patches, patch_sizes, row_blocks

# two diagonal cells top left, an L of 4 cells, a single cell bottom right
MASK = np.array([
    [1, 0, 0, 0, 0],
    [0, 1, 0, 1, 0],
    [0, 0, 0, 1, 0],
    [0, 0, 0, 1, 1],
    [0, 0, 0, 0, 0],
    [0, 0, 0, 0, 1],
], dtype=bool)


def test_known_mask_8_connected():
    p = label_patches(MASK, 8)
    assert p.labels.dtype == np.int32
    assert (p.n, p.dropped, p.dropped_cells) == (3, 0, 0)
    expected = np.array([
        [1, 0, 0, 0, 0],
        [0, 1, 0, 2, 0],
        [0, 0, 0, 2, 0],
        [0, 0, 0, 2, 2],
        [0, 0, 0, 0, 0],
        [0, 0, 0, 0, 3],
    ])
    np.testing.assert_array_equal(p.labels, expected)
    np.testing.assert_array_equal(patch_sizes(p.labels, p.n), [23, 2, 4, 1])


def test_known_mask_4_connected_splits_the_diagonal():
    p = label_patches(MASK, 4)
    assert p.n == 4  # the two corner-touching cells are two patches
    assert p.labels[0, 0] == 1 and p.labels[1, 1] == 2 and p.labels[1, 3] == 3 and p.labels[5, 4] == 4


def test_small_patches_are_dropped_and_the_rest_renumbered_in_scan_order():
    p = label_patches(MASK, 8, min_cells=2)
    assert (p.n, p.dropped, p.dropped_cells) == (2, 1, 1)
    assert p.labels[5, 4] == 0 and p.labels[0, 0] == 1 and p.labels[3, 4] == 2
    p = label_patches(MASK, 4, min_cells=2)
    assert (p.n, p.dropped, p.dropped_cells) == (1, 3, 3)
    np.testing.assert_array_equal(np.flatnonzero(p.labels.ravel()), np.flatnonzero((p.labels > 0).ravel()))
    assert set(np.unique(p.labels)) == {0, 1} and int((p.labels == 1).sum()) == 4


def test_empty_mask_and_min_cells_zero():
    p = label_patches(np.zeros((3, 4), bool))
    assert (p.n, p.dropped, p.dropped_cells) == (0, 0, 0) and not p.labels.any()
    assert label_patches(MASK, 8, min_cells=0).n == 3  # 0 counts as 1: every patch has a cell


def test_bad_connectivity_is_refused():
    with pytest.raises(ValueError, match="4 or 8"):
        label_patches(MASK, 6)


def test_append_labels_numbers_after_the_offset():
    a = label_patches(MASK & (np.arange(5) < 2), 8)
    b = label_patches(MASK & (np.arange(5) >= 2), 8)
    merged = a.labels.copy()
    append_labels(merged, b.labels.copy(), a.n)
    np.testing.assert_array_equal(merged, np.where(b.labels > 0, b.labels + a.n, a.labels))


def test_row_blocks_cover_every_row_once():
    rows = [r for s in row_blocks((10, 3), block_cells=7) for r in range(s.start, s.stop)]
    assert rows == list(range(10))
    assert [s.stop - s.start for s in row_blocks((5, 100), block_cells=7)] == [1] * 5  # at least one row


masks = arrays(bool, st.tuples(st.integers(1, 24), st.integers(1, 24)), elements=st.booleans())


@settings(max_examples=150, deadline=None)
@given(masks, st.sampled_from((4, 8)), st.integers(0, 6), st.integers(1, 50))
def test_matches_scipy_label(mask, connectivity, min_cells, block_cells):
    structure = ndimage.generate_binary_structure(2, 2 if connectivity == 8 else 1)
    ref, n = ndimage.label(mask, structure=structure)
    sizes = np.bincount(ref.ravel(), minlength=n + 1)
    keep = sizes >= max(min_cells, 1)
    keep[0] = False
    lut = np.where(keep, np.cumsum(keep), 0)
    old = labelling.BLOCK_CELLS
    labelling.BLOCK_CELLS = block_cells  # small blocks: several per grid
    try:
        p = label_patches(mask, connectivity, min_cells)
    finally:
        labelling.BLOCK_CELLS = old
    np.testing.assert_array_equal(p.labels, lut[ref])
    assert p.n == int(keep.sum()) and p.dropped == n - p.n
    assert p.dropped_cells == int(sizes[1:][~keep[1:]].sum())
