"""GridSpec: the only geographic object the pure kernels in :mod:`shuibao.core` know.

A raster grid is its shape, an affine transform (GDAL order
``(x0, dx, rx, y0, ry, dy)`` written as the six coefficients ``a, b, c, d, e, f``
of ``x = a*col + b*row + c``, ``y = d*col + e*row + f``), a CRS given as an
EPSG code or WKT string, and a nodata value.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import hypot

from .errors import InputError, N_


@dataclass(frozen=True)
class GridSpec:
    """Shape, north-up affine transform, CRS and nodata of a raster grid."""

    shape: tuple[int, int]
    transform: tuple[float, float, float, float, float, float]
    crs: str | None = None
    nodata: float | None = None

    def __post_init__(self) -> None:
        rows, cols = self.shape
        if rows <= 0 or cols <= 0:
            raise InputError(N_("grid shape must be positive, got {shape}", shape=self.shape))
        a, b, _, d, e, _ = self.transform
        if b != 0 or d != 0:
            raise InputError(N_("rotated grids are not supported: transform terms b and d must be 0"))
        if a <= 0 or e >= 0:
            raise InputError(
                N_("expected a north-up grid (positive cell width, negative cell height), got a={a}, e={e}", a=a, e=e)
            )

    @property
    def cell_width(self) -> float:
        return self.transform[0]

    @property
    def cell_height(self) -> float:
        return -self.transform[4]

    @property
    def cell_diagonal(self) -> float:
        return hypot(self.cell_width, self.cell_height)

    @property
    def cell_area(self) -> float:
        """Area of one cell in CRS units squared (m² on a projected grid)."""
        return self.cell_width * self.cell_height

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax)."""
        a, _, c, _, e, f = self.transform
        rows, cols = self.shape
        return (c, f + e * rows, c + a * cols, f)
