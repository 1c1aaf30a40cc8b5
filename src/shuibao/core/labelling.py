"""Connected-component labelling: a boolean mask turned into numbered patches (图斑); pure numpy/scipy.

Two cells of the mask belong to one patch when a path of mask cells joins them, each step to one of the
4 edge neighbours (``connectivity`` 4) or one of the 8 edge-or-corner neighbours (``connectivity`` 8;
Rosenfeld & Pfaltz 1966).  Patches are numbered 1…n in raster scan order of each patch's first cell
(row by row, left to right), the order of :func:`scipy.ndimage.label`; 0 is background.  Patches of fewer
than ``min_cells`` cells are removed (a minimum mapping unit: min_cells = ⌈minimum area / cell area⌉) and
the rest renumbered 1…n' in the same order.

Labels are int32.  Sizes are counted and labels renumbered in row blocks of about :data:`BLOCK_CELLS`
cells, so no int64 copy of the grid is made.

Rosenfeld, A., Pfaltz, J. L. (1966). Sequential operations in digital picture processing.
Journal of the ACM 13(4): 471–494. doi:10.1145/321356.321357
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

CONNECTIVITIES = (4, 8)
BLOCK_CELLS = 1 << 22  # cells per row block (~4 M: 32 MB of int64 counts at a time)


@dataclass(frozen=True)
class Patches:
    """Labels of the kept patches (int32, 1…n, 0 none), how many were kept, dropped, and the cells dropped."""

    labels: np.ndarray
    n: int
    dropped: int
    dropped_cells: int


def structure(connectivity: int) -> np.ndarray:
    """The 3×3 neighbourhood of :func:`scipy.ndimage.label`: the cross (4) or the full square (8)."""
    if connectivity not in CONNECTIVITIES:
        raise ValueError(f"connectivity must be 4 or 8, got {connectivity}")
    return ndimage.generate_binary_structure(2, 2 if connectivity == 8 else 1)


def row_blocks(shape: tuple[int, ...], block_cells: int | None = None) -> Iterator[slice]:
    """Row slices covering a grid of ``shape`` with about ``block_cells`` (:data:`BLOCK_CELLS`) cells each
    (at least one row)."""
    step = max(1, (BLOCK_CELLS if block_cells is None else block_cells) // max(shape[1], 1))
    for r0 in range(0, shape[0], step):
        yield slice(r0, min(r0 + step, shape[0]))


def patch_sizes(labels: np.ndarray, n: int) -> np.ndarray:
    """Cells per label 0…n (int64; index 0: the background), counted in row blocks."""
    sizes = np.zeros(n + 1, np.int64)
    for rows in row_blocks(labels.shape):
        sizes += np.bincount(labels[rows].ravel(), minlength=n + 1)
    return sizes


def label_patches(mask: np.ndarray, connectivity: int = 8, min_cells: int = 1) -> Patches:
    """The patches of ``mask`` (2-D bool), those of fewer than ``min_cells`` cells removed (see the module)."""
    labels, n = ndimage.label(mask, structure=structure(connectivity), output=np.int32)
    if n == 0:
        return Patches(labels, 0, 0, 0)
    sizes = patch_sizes(labels, n)
    keep = sizes >= max(int(min_cells), 1)
    keep[0] = False
    kept = int(keep.sum())
    if kept == n:
        return Patches(labels, n, 0, 0)
    lut = np.where(keep, np.cumsum(keep), 0).astype(np.int32)  # keeps the scan order, numbers 1…n'
    for rows in row_blocks(labels.shape):
        labels[rows] = lut[labels[rows]]
    return Patches(labels, kept, n - kept, int(sizes[1:][~keep[1:]].sum()))


def append_labels(labels: np.ndarray, other: np.ndarray, offset: int) -> None:
    """Add the patches of ``other`` to ``labels`` in place, numbered after ``offset`` (1 → offset + 1 …).

    The two label grids must not share a cell (disjoint masks); ``other`` is modified (its labels shifted).
    """
    for rows in row_blocks(labels.shape):
        block = other[rows]
        np.add(block, np.int32(offset), out=block, where=block > 0)
        labels[rows] += block


__all__ = ["BLOCK_CELLS", "CONNECTIVITIES", "Patches", "append_labels", "label_patches", "patch_sizes",
           "row_blocks", "structure"]
