"""The blockwise kernels of a monitoring run: soil loss and grades, and the zonal counts.

Both work on any window of rows, so the same function serves the in-memory
path (windows of arrays in memory) and the dask path (windows read by each
worker).  Results are identical by construction: soil loss is elementwise, and
the zonal partials are integer counts and per-block float sums that the caller
adds in block order on both paths.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba as nb
import numpy as np

from ..core import csle

FACTORS = ("r_factor", "k_factor", "b_factor", "t_factor", "e_factor", "l_factor", "s_factor")
"""The order of the product A = R·K·B·T·E·L·S — the in-memory engine's (it multiplies R…E while the DEM is
being filled, then L and S), so the float32 rounding agrees."""

N_GRADES = 7  # 0 = no data, 1 微度 … 6 剧烈


def soil_loss_block(l_factor, s_factor, r_factor, k_factor, b_factor, t_factor, e_factor, *,
                    tolerance_t_km2: float, bounds: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Soil loss modulus (t/(km²·a), float32, NaN outside the data) and SL 190 grades of one block.

    A (t/(hm²·a)) = R·K·B·T·E·L·S (multiplied in the order of :data:`FACTORS`); ×100 gives
    t/(km²·a) (1 km² = 100 hm²).  Cells outside the DEM are NaN in every factor raster, so they
    stay NaN (grade 0).
    """
    a = csle.soil_loss(r_factor, k_factor, b_factor, t_factor, e_factor, l_factor, s_factor)
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


@nb.njit(cache=True)
def _count(grade, soil_loss, zones, sheds, landuse, zg, cg, sg, sz, zl, sl):
    g = grade.ravel()
    a = soil_loss.ravel()
    z = zones.ravel()
    w = sheds.ravel()
    u = landuse.ravel()
    for i in range(g.shape[0]):
        gi = g[i]
        zi = z[i]
        wi = w[i]
        zg[zi, gi] += 1
        sg[wi, gi] += 1
        if gi > 0:
            if zi > 0:
                cg[u[i], gi] += 1
            sz[wi, zi] += 1
            zl[zi] += a[i]
            sl[wi] += a[i]


def count_block(grade: np.ndarray, soil_loss: np.ndarray, zones: np.ndarray, sheds: np.ndarray,
                landuse: np.ndarray, *, n_zones: int, n_sheds: int) -> Partials:
    """Zone × grade, land-use code × grade (inside the districts), watershed × grade and watershed × zone
    cell counts of one block, and Σ soil loss per zone and per watershed — in one pass over the cells."""
    p = Partials.zeros(n_zones, n_sheds)
    if zones.size and (zones.max() > n_zones or sheds.max() > n_sheds or zones.min() < 0 or sheds.min() < 0):
        raise ValueError("zone or watershed labels beyond the counts' size")
    _count(np.ascontiguousarray(grade, np.uint8), np.ascontiguousarray(soil_loss, np.float32),
           np.ascontiguousarray(zones), np.ascontiguousarray(sheds), np.ascontiguousarray(landuse, np.uint8),
           p.zone_grade, p.class_grade, p.shed_grade, p.shed_zone, p.zone_loss, p.shed_loss)
    return p
