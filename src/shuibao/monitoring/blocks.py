"""The blockwise kernels of a monitoring run: soil loss and grades, and the zonal counts.

Both work on any window of rows, so the same function serves the in-memory
path (windows of arrays in memory) and the dask path (windows read by each
worker).  Results are identical by construction: soil loss is elementwise, and
the zonal partials are integer counts and per-block float sums that the caller
adds in block order on both paths.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core import csle
from ..core.zonal import crosstab

FACTORS = ("l_factor", "s_factor", "r_factor", "k_factor", "b_factor", "t_factor", "e_factor")
"""The order of the product A = ((L·S)·R)·K·B·T·E — the order of the in-memory engine, so float32 rounding agrees."""

N_GRADES = 7  # 0 = no data, 1 微度 … 6 剧烈


def soil_loss_block(l_factor, s_factor, r_factor, k_factor, b_factor, t_factor, e_factor, *,
                    tolerance_t_km2: float, bounds: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Soil loss modulus (t/(km²·a), float32, NaN outside the data) and SL 190 grades of one block.

    A (t/(hm²·a)) = L·S·R·K·B·T·E; ×100 gives t/(km²·a) (1 km² = 100 hm²).  Cells
    outside the DEM are NaN in every factor raster, so they stay NaN (grade 0).
    """
    a = csle.soil_loss(l_factor, s_factor, r_factor, k_factor, b_factor, t_factor, e_factor)
    np.multiply(a, 100.0, out=a)
    return a, csle.grade(a, tolerance_t_km2, bounds)


@dataclass
class Partials:
    """Counts and sums of one block (or, added up, of the whole grid)."""

    zone_grade: np.ndarray  # (zones+1) × 7 cells; zone 0 = outside every district
    class_grade: np.ndarray  # 256 × 7 cells by raw land-use code, inside the districts (表2 is the city's)
    shed_grade: np.ndarray  # (sheds+1) × 7 cells
    shed_zone: np.ndarray  # (sheds+1) × (zones+1) cells with data
    zone_loss: np.ndarray  # Σ modulus per zone (t/(km²·a) summed over cells)
    shed_loss: np.ndarray

    def __iadd__(self, other: Partials) -> Partials:
        for name in self.__dataclass_fields__:
            getattr(self, name).__iadd__(getattr(other, name))
        return self

    @classmethod
    def zeros(cls, n_zones: int, n_sheds: int) -> Partials:
        z, w = n_zones + 1, n_sheds + 1
        return cls(np.zeros((z, N_GRADES), np.int64), np.zeros((256, N_GRADES), np.int64),
                   np.zeros((w, N_GRADES), np.int64), np.zeros((w, z), np.int64), np.zeros(z), np.zeros(w))


def count_block(grade: np.ndarray, soil_loss: np.ndarray, zones: np.ndarray, sheds: np.ndarray,
                landuse: np.ndarray, *, n_zones: int, n_sheds: int) -> Partials:
    """Zone × grade, land-use code × grade, watershed × grade and watershed × zone counts of one block."""
    has = grade > 0
    z = zones.astype(np.int64)
    w = sheds.astype(np.int64)
    modulus = np.where(has, soil_loss, 0.0).astype(np.float64)

    def counts(labels, classes, nl, nc):
        return np.rint(crosstab(labels, classes, nl, nc)).astype(np.int64)

    return Partials(
        zone_grade=counts(z, grade, n_zones + 1, N_GRADES),
        class_grade=counts(np.where(z > 0, landuse.astype(np.int64), -1), grade, 256, N_GRADES),
        shed_grade=counts(w, grade, n_sheds + 1, N_GRADES),
        shed_zone=counts(w, np.where(has, z, -1), n_sheds + 1, n_zones + 1),
        zone_loss=np.bincount(z.ravel(), weights=modulus.ravel(), minlength=n_zones + 1)[: n_zones + 1],
        shed_loss=np.bincount(w.ravel(), weights=modulus.ravel(), minlength=n_sheds + 1)[: n_sheds + 1],
    )
