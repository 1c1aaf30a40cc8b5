"""Bi-temporal change detection of construction disturbance (扰动图斑): index differencing → patch labels.

Pure numpy/scipy: arrays in, arrays out.  The chain, for a *before* and an
*after* image of the same grid (surface reflectance, dimensionless 0–1)::

    NDVI = (ρ_NIR − ρ_red) / (ρ_NIR + ρ_red)                               Rouse et al. 1974
    BSI  = ((ρ_SWIR + ρ_red) − (ρ_NIR + ρ_blue)) / ((ρ_SWIR + ρ_red) + (ρ_NIR + ρ_blue))
                                                                           Rikimaru et al. 2002
    ΔNDVI = NDVI_after − NDVI_before        ΔBSI = BSI_after − BSI_before
    disturbed  ⇔  −ΔNDVI ≥ t_ndvi  AND  ΔBSI ≥ t_bsi

Clearing vegetation for a construction site lowers NDVI (less red absorption,
less NIR scattering) and raises BSI (exposed soil is bright in SWIR and red).
Requiring both rejects the common single-index confounders: senescence or
drought lowers NDVI a little everywhere without the soil signal, and a bare
field that is sown moves both indices the other way.  Cleaning then removes
what a pixel rule cannot: isolated speckle (sensor noise, mis-registration
edges), pinholes inside a site, and patches below the minimum mapping unit.

Both indices are ratios, so a gain common to all bands between the two dates
(illumination, calibration) cancels; an additive offset does not, so inputs
must be reflectance (or digital numbers with their offset removed).  Values
are not clipped: slightly negative reflectance after atmospheric correction
can push an index outside [−1, 1], and such cells are left as computed.

References
----------
* Rouse, J. W., Haas, R. H., Schell, J. A., Deering, D. W. (1974). Monitoring vegetation
  systems in the Great Plains with ERTS. Third ERTS Symposium, NASA SP-351, vol. 1,
  pp. 309–317 (NTRS 19740022614).
* Rikimaru, A., Roy, P. S., Miyatake, S. (2002). Tropical forest cover density mapping.
  Tropical Ecology 43(1): 39–47.
* Singh, A. (1989). Digital change detection techniques using remotely-sensed data.
  International Journal of Remote Sensing 10(6): 989–1003. doi:10.1080/01431168908903939
* Soille, P. (2003). Morphological Image Analysis, 2nd ed. Springer.
  doi:10.1007/978-3-662-05088-0 (opening, hole filling, connectivity duality).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from .labelling import label_patches, structure

FOOTPRINTS = ("square", "disk")


def _normalised_difference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(a − b) / (a + b)`` in float32; NaN where ``a + b = 0`` or an input is NaN."""
    a = np.asarray(a, dtype=np.float32)
    b = np.asarray(b, dtype=np.float32)
    if a.shape != b.shape:
        raise ValueError(f"band shapes differ: {a.shape} and {b.shape}")
    den = a + b
    out = a - b
    with np.errstate(divide="ignore", invalid="ignore"):
        np.divide(out, den, out=out)  # NaN inputs give NaN
    out[den == 0] = np.nan  # x/0 would be ±inf, 0/0 NaN: both are "no value"
    return out


def ndvi(red: np.ndarray, nir: np.ndarray) -> np.ndarray:
    """Normalised difference vegetation index, dimensionless, float32.

    NDVI = (ρ_NIR − ρ_red) / (ρ_NIR + ρ_red), ρ = surface reflectance (0–1), for
    example Sentinel-2 B8 and B4 or Landsat 8/9 B5 and B4.  Dense green canopy
    gives about 0.7–0.9, crops 0.4–0.7, bare soil and built-up 0.05–0.2, water < 0.

    ρ_NIR + ρ_red = 0 gives NaN (no division by zero), as does a NaN input.

    Rouse, J. W., Haas, R. H., Schell, J. A., Deering, D. W. (1974). Monitoring vegetation
    systems in the Great Plains with ERTS. NASA SP-351, vol. 1, 309–317.
    """
    return _normalised_difference(nir, red)


def bare_soil_index(red: np.ndarray, nir: np.ndarray, swir: np.ndarray, blue: np.ndarray | None = None) -> np.ndarray:
    """Bare soil index, dimensionless, float32 (−1…1; higher = more exposed soil).

    With a blue band, the full index of Rikimaru et al. (2002)::

        BSI = ((ρ_SWIR + ρ_red) − (ρ_NIR + ρ_blue)) / ((ρ_SWIR + ρ_red) + (ρ_NIR + ρ_blue))

    Without blue (three-band imagery: red, NIR, SWIR), the three-band form used
    here drops ρ_blue from both sums::

        BSI₃ = ((ρ_SWIR + ρ_red) − ρ_NIR) / ((ρ_SWIR + ρ_red) + ρ_NIR)

    BSI₃ is not the published index.  To first order it exceeds BSI by
    2·ρ_blue·(ρ_SWIR + ρ_red)/(ρ_SWIR + ρ_red + ρ_NIR)²: about 0.03 over green
    vegetation (dark in blue) but 0.1–0.2 over bright soil, so a vegetation →
    soil change raises BSI₃ more than BSI (about 0.65 against 0.50 for forest
    cleared to soil with typical reflectances).  Both dates must use the same
    form, and a threshold tuned on one form does not carry over to the other.
    SWIR is the 1.6 µm band (Sentinel-2 B11, Landsat 8/9 B6).  A zero
    denominator or a NaN input gives NaN.

    Rikimaru, A., Roy, P. S., Miyatake, S. (2002). Tropical forest cover density mapping.
    Tropical Ecology 43(1): 39–47.
    """
    red = np.asarray(red, dtype=np.float32)
    soil = np.asarray(swir, dtype=np.float32) + red
    green = np.asarray(nir, dtype=np.float32)
    if blue is not None:
        green = green + np.asarray(blue, dtype=np.float32)
    return _normalised_difference(soil, green)


def change_mask(ndvi_before: np.ndarray, ndvi_after: np.ndarray, bsi_before: np.ndarray, bsi_after: np.ndarray,
                *, t_ndvi: float = 0.2, t_bsi: float = 0.1, min_ndvi_before: float | None = None) -> np.ndarray:
    """Cells that lost vegetation and gained bare soil between the two dates (bool).

    disturbed = (NDVI_before − NDVI_after ≥ t_ndvi) AND (BSI_after − BSI_before ≥ t_bsi)
                [AND NDVI_before ≥ min_ndvi_before, if given]

    ``t_ndvi`` and ``t_bsi`` are index units (dimensionless), both positive
    (defaults 0.2 and 0.1).  The optional floor ``min_ndvi_before`` asks that the
    cell was vegetated before (0.3 ≈ 30 % cover by the dimidiate model with
    NDVI_soil 0.05 and NDVI_veg 0.85): over water and other dark surfaces both
    indices are ratios of small numbers, and sensor noise alone moves them by
    more than the thresholds.  Comparisons with NaN are false, so a cell with
    no value on either date is never flagged.
    """
    arrays = [np.asarray(a) for a in (ndvi_before, ndvi_after, bsi_before, bsi_after)]
    if len({a.shape for a in arrays}) != 1:
        raise ValueError(f"index arrays differ in shape: {[a.shape for a in arrays]}")
    if not (np.isfinite(t_ndvi) and np.isfinite(t_bsi) and t_ndvi > 0 and t_bsi > 0):
        raise ValueError(f"thresholds must be positive numbers, got t_ndvi={t_ndvi}, t_bsi={t_bsi}")
    nb, na, bb, ba = arrays
    with np.errstate(invalid="ignore"):
        drop = (nb - na) >= np.float32(t_ndvi)
        drop &= (ba - bb) >= np.float32(t_bsi)
        if min_ndvi_before is not None:
            drop &= nb >= np.float32(min_ndvi_before)
    return drop


def structuring_element(radius: int, footprint: str = "square") -> np.ndarray:
    """Boolean (2r+1)×(2r+1) element: a full square, or the disk x² + y² ≤ r² (r = 1: the 4-neighbour cross)."""
    if radius < 0:
        raise ValueError(f"radius must be ≥ 0 cells, got {radius}")
    if footprint not in FOOTPRINTS:
        raise ValueError(f"footprint must be one of {FOOTPRINTS}, got {footprint!r}")
    if footprint == "square":
        return np.ones((2 * radius + 1, 2 * radius + 1), dtype=bool)
    y, x = np.mgrid[-radius:radius + 1, -radius:radius + 1]
    return (x * x + y * y) <= radius * radius


def clean_mask(mask: np.ndarray, opening_cells: int = 1, min_cells: int = 4, *, valid: np.ndarray | None = None,
               footprint: str = "disk", connectivity: int = 8, max_hole_cells: int | None = None) -> np.ndarray:
    """Patch labels (int32, 1…n in raster scan order of each patch's first cell; 0 = none) from a change mask.

    1. Opening (erosion then dilation, Soille 2003 §4.4) by the element of radius
       ``opening_cells`` (:func:`structuring_element`; 0 = no opening).  It keeps
       exactly the union of the element's placements that fit inside the mask,
       so isolated cells, 2×2 blobs and lines one (disk) or two (square) cells
       wide disappear: sensor noise and the thin lines of apparent change that
       mis-registration draws along land-cover boundaries.  The smallest patch
       that survives is the element itself: 5 cells for the default disk of
       radius 1 (the 4-neighbour cross), 9 for the 3×3 square, so with the square
       the opening, not the minimum area, sets the smallest patch on a 10 m grid
       (900 m² > 400 m²).  Placements need not fit in the grid's border, i.e.
       the outside counts as unflagged.
    2. Hole filling: background regions enclosed by a patch (4-connected, the
       dual of 8-connected patches, so a diagonal gap does not let a hole
       "leak") are added to it, if smaller than ``max_hole_cells`` cells
       (None = all holes).  A background region that touches the grid's edge or
       a cell outside ``valid`` (nodata) is not a hole: what lies there is
       unknown.
    3. Labelling with ``connectivity`` 8 (default: cells touching at a corner
       belong to one patch, as a site cut diagonally by a track is one site) or
       4.  An 8-connected patch can have parts that meet only at a corner; as a
       MultiPolygon that is still valid (see :func:`shuibao.io.vector.polygonize`).
    4. Patches of fewer than ``min_cells`` cells (after steps 1–2) are removed
       (minimum mapping unit: min_cells = ⌈minimum area / cell area⌉).

    Cells outside ``valid`` are never part of a patch.
    """
    m = np.asarray(mask, dtype=bool)
    if m.ndim != 2:
        raise ValueError(f"expected a 2-D mask, got shape {m.shape}")
    if opening_cells < 0 or min_cells < 0:
        raise ValueError(f"opening_cells and min_cells must be ≥ 0, got {opening_cells}, {min_cells}")
    if valid is not None:
        valid = np.asarray(valid, dtype=bool)
        if valid.shape != m.shape:
            raise ValueError(f"valid {valid.shape} and mask {m.shape} differ in shape")
        m = m & valid
    structure(connectivity)  # refuse a bad connectivity before any work
    if opening_cells > 0:
        m = ndimage.binary_opening(m, structure=structuring_element(opening_cells, footprint))
    if max_hole_cells is None or max_hole_cells > 0:
        m = _fill_holes(m, valid, max_hole_cells)
    return label_patches(m, connectivity, min_cells).labels


def _fill_holes(m: np.ndarray, valid: np.ndarray | None, max_hole_cells: int | None) -> np.ndarray:
    """Add enclosed 4-connected background regions (smaller than ``max_hole_cells`` if given) to ``m``."""
    if not m.any():
        return m
    background, n = ndimage.label(~m, structure=ndimage.generate_binary_structure(2, 1), output=np.int32)
    if n == 0:
        return m
    outside = np.zeros(n + 1, dtype=bool)
    for edge in (background[0], background[-1], background[:, 0], background[:, -1]):
        outside[edge] = True
    if valid is not None:
        outside[background[~valid]] = True
    outside[0] = True  # label 0 is the foreground itself
    if max_hole_cells is not None:
        sizes = np.bincount(background.ravel(), minlength=n + 1)
        outside |= sizes >= max_hole_cells
    return m | ~outside[background]


def label_means(labels: np.ndarray, values: np.ndarray, n: int | None = None) -> np.ndarray:
    """Mean of the finite ``values`` of each label 1…n (float64, index i → label i + 1; NaN where none)."""
    labels = np.asarray(labels)
    values = np.asarray(values)
    if labels.shape != values.shape:
        raise ValueError(f"labels {labels.shape} and values {values.shape} differ in shape")
    n = int(labels.max(initial=0)) if n is None else int(n)
    flat = labels.ravel()
    idx = np.flatnonzero(flat > 0)
    lab = flat[idx]
    v = values.ravel()[idx].astype(np.float64)
    ok = np.isfinite(v)
    sums = np.bincount(lab[ok], weights=v[ok], minlength=n + 1)[1:n + 1]
    counts = np.bincount(lab[ok], minlength=n + 1)[1:n + 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
