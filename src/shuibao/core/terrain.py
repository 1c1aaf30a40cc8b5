"""Slope and aspect by Horn's 3×3 method (pure numpy + numba).

With the neighbourhood ::

    a b c
    d e f
    g h i

    dz/dx = ((c + 2f + i) − (a + 2d + g)) / (8 Δx)
    dz/dy = ((g + 2h + i) − (a + 2b + c)) / (8 Δy)      (y pointing south, rows increasing)
    slope θ = atan √((dz/dx)² + (dz/dy)²)               degrees
    aspect = direction the slope faces, degrees clockwise from north (0 = N, 90 = E),
             −1 on flat cells

A neighbour that is off the grid or nodata is extrapolated linearly through the
centre from the opposite neighbour (``2·e − opposite``); a diagonal neighbour
whose opposite is missing too (grid corners) is ``side₁ + side₂ − e``; anything
still missing takes the centre's elevation.  Planes therefore keep their exact
slope up to the edges and corners.

Reference: Horn, B. K. P. (1981). Hill shading and the reflectance map. Proceedings of
the IEEE 69(1): 14–47. doi:10.1109/PROC.1981.11918
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np


@nb.njit(cache=True, parallel=True)
def _horn(z, valid, dx, dy, want_aspect):
    nrows, ncols = z.shape
    slope = np.full((nrows, ncols), np.nan, np.float32)
    aspect = np.full((nrows, ncols) if want_aspect else (1, 1), np.nan, np.float32)
    for r in nb.prange(nrows):
        w = np.empty(9)  # per row: rows run in parallel
        have = np.empty(9, np.bool_)
        done = np.empty(9, np.bool_)
        for c in range(ncols):
            if not valid[r, c]:
                continue
            ze = np.float64(z[r, c])
            k = 0
            for rr in range(r - 1, r + 2):
                for cc in range(c - 1, c + 2):
                    have[k] = 0 <= rr < nrows and 0 <= cc < ncols and valid[rr, cc]
                    w[k] = z[rr, cc] if have[k] else ze
                    k += 1
            for k in range(9):
                if not have[k] and have[8 - k]:  # extrapolate through the centre from the opposite neighbour
                    w[k] = 2.0 * ze - w[8 - k]
                    done[k] = True
                else:
                    done[k] = have[k]
            for k, a, b in ((0, 1, 3), (2, 1, 5), (6, 3, 7), (8, 5, 7)):
                if not done[k] and done[a] and done[b]:  # corner of a grid corner: N + E − centre, etc.
                    w[k] = w[a] + w[b] - ze
                    done[k] = True
            dzdx = ((w[2] + 2 * w[5] + w[8]) - (w[0] + 2 * w[3] + w[6])) / (8.0 * dx)
            dzdy = ((w[6] + 2 * w[7] + w[8]) - (w[0] + 2 * w[1] + w[2])) / (8.0 * dy)
            slope[r, c] = math.degrees(math.atan(math.sqrt(dzdx * dzdx + dzdy * dzdy)))
            if want_aspect:
                if dzdx == 0.0 and dzdy == 0.0:
                    aspect[r, c] = -1.0
                else:
                    # downslope vector (east, north) = (−dz/dx, +dz/dy) since rows run south
                    aspect[r, c] = math.degrees(math.atan2(-dzdx, dzdy)) % 360.0
    return slope, aspect


def slope_degrees(z: np.ndarray, valid: np.ndarray, dx: float, dy: float | None = None) -> np.ndarray:
    """Slope in degrees (Horn 1981); NaN on invalid cells."""
    dy = dx if dy is None else dy
    slope, _ = _horn(np.ascontiguousarray(z, np.float32), np.ascontiguousarray(valid, np.bool_),
                     float(dx), float(dy), False)
    return slope


def slope_aspect(z: np.ndarray, valid: np.ndarray, dx: float, dy: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Slope (degrees) and aspect (degrees clockwise from north, −1 on flats); NaN on invalid cells."""
    dy = dx if dy is None else dy
    return _horn(np.ascontiguousarray(z, np.float32), np.ascontiguousarray(valid, np.bool_),
                 float(dx), float(dy), True)
