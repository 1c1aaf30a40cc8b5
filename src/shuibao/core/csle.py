"""CSLE factors, soil loss and SL 190-2007 grading (pure numpy / scipy).

    A = R · K · L · S · B · E · T

A: mean annual soil loss, t/(hm²·a) (×100 → t/(km²·a), the modulus used for grading);
R: rainfall erosivity, MJ·mm/(hm²·h·a); K: soil erodibility, t·hm²·h/(hm²·MJ·mm);
L, S: slope length and steepness (see :mod:`shuibao.core.lsfactor`); B, E, T: biological,
engineering and tillage measures, dimensionless.

Liu, B. Y., Zhang, K. L., Xie, Y. (2002). An empirical soil loss equation. Proc. 12th ISCO,
Beijing, vol. II: 21–25.

Every constant that comes from the literature is a parameter here; the tables
the platform ships (with their sources) live in :mod:`shuibao.erosion`.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

# SL 190-2007 water-erosion grades; code 0 is nodata
GRADE_CODES = {1: "slight", 2: "light", 3: "moderate", 4: "intense", 5: "very_intense", 6: "severe"}
GRADE_NAMES_ZH = {1: "微度", 2: "轻度", 3: "中度", 4: "强烈", 5: "极强烈", 6: "剧烈"}
GRADE_COLOURS = ("#38a800", "#ffff00", "#ffaa00", "#ff5500", "#e60000", "#730000")  # 1…6, as on the bulletin's maps
UPPER_BOUNDS = (2500.0, 5000.0, 8000.0, 15000.0)  # t/(km²·a) above the tolerance


from .cover import (B_METHODS, METHOD_CODES, CoverClasses, b_cai2000, b_factor, b_formula, b_grass_slr,
                    check_b_formula, fvc_dimidiate, ndvi_percentile)
from .erosivity import (R_MODELS, WARM_MONTHS, ErosivityResult, erosivity_annual, erosivity_daily,
                        erosivity_daily_seasonal, half_month_index, idw)

__all__ = [  # R (core.erosivity) and B (core.cover) live in their own modules; one namespace for the factors
    "B_METHODS", "METHOD_CODES", "CoverClasses", "b_cai2000", "b_factor", "b_formula", "b_grass_slr",
    "check_b_formula", "fvc_dimidiate", "ndvi_percentile", "R_MODELS", "WARM_MONTHS", "ErosivityResult",
    "erosivity_annual", "erosivity_daily", "erosivity_daily_seasonal", "half_month_index", "idw",
    "GRADE_CODES", "GRADE_NAMES_ZH", "GRADE_COLOURS", "UPPER_BOUNDS", "K_US_TO_SI", "k_epic", "k_chinese_correction",
    "k_epic_corrected", "invalid_cells", "lookup", "soil_loss", "grade", "masked_mean",
]

# --------------------------------------------------------------------------- K
K_US_TO_SI = 0.1317  # t·ac·h/(100·ac·ft·tonf·in) → t·hm²·h/(hm²·MJ·mm)


def k_epic(sand_pct: np.ndarray, silt_pct: np.ndarray, clay_pct: np.ndarray, organic_carbon_pct: np.ndarray,
           *, si_units: bool = True) -> np.ndarray:
    """Soil erodibility K by the EPIC equation (Williams & Sharpley 1990), USDA texture.

        K = {0.2 + 0.3 exp[−0.0256 SAN (1 − SIL/100)]} · [SIL/(CLA + SIL)]^0.3
            · {1 − 0.25 C / [C + exp(3.72 − 2.95 C)]} · {1 − 0.7 SN1 / [SN1 + exp(−5.51 + 22.9 SN1)]}
        SN1 = 1 − SAN/100;  K_SI = 0.1317 K

    SAN/SIL/CLA: sand (0.05–2 mm), silt (0.002–0.05 mm), clay (< 0.002 mm) in %; C: organic
    carbon in % (organic matter / 1.724).  Convert international-system (Atterberg) textures
    to USDA fractions before calling.

    Williams, J. R., Sharpley, A. N. (eds) (1990). EPIC — Erosion/Productivity Impact
    Calculator: 1. Model documentation. USDA Technical Bulletin 1768.
    """
    san = np.asarray(sand_pct, dtype=np.float64)
    sil = np.asarray(silt_pct, dtype=np.float64)
    cla = np.asarray(clay_pct, dtype=np.float64)
    c = np.asarray(organic_carbon_pct, dtype=np.float64)
    sn1 = 1.0 - san / 100.0
    with np.errstate(divide="ignore", invalid="ignore"):
        k = ((0.2 + 0.3 * np.exp(-0.0256 * san * (1.0 - sil / 100.0)))
             * (sil / (cla + sil)) ** 0.3
             * (1.0 - 0.25 * c / (c + np.exp(3.72 - 2.95 * c)))
             * (1.0 - 0.7 * sn1 / (sn1 + np.exp(-5.51 + 22.9 * sn1))))
    return k * K_US_TO_SI if si_units else k


def k_chinese_correction(k_epic_us: np.ndarray, a: float = -0.01383, b: float = 0.51575) -> np.ndarray:
    """Correction of EPIC K for Chinese soils, ``K = a + b · K_EPIC`` (Zhang Keli et al. 2007), NOT clipped.

    Applied to K_EPIC in the US customary unit in which EPIC is written
    (t·ac·h/(100·ac·ft·tonf·in)); the result is in the same unit — multiply by
    :data:`K_US_TO_SI` for SI.  Applied to the SI value instead, the intercept would
    turn every K_SI < −a/b ≈ 0.027 negative (a common clay-loam value); in US units the
    root, K_US ≈ 0.027, lies below what EPIC gives for any texture.  The unit could not be
    read in the source (Zhang Keli, Peng Wenying, Yang Hongli 2007, 土壤学报 44(1): 7–13);
    see docs/erosion-engine.md.  Use :func:`k_epic_corrected` for the clipped SI value.
    """
    return a + b * np.asarray(k_epic_us, dtype=np.float64)


def k_epic_corrected(sand_pct: np.ndarray, silt_pct: np.ndarray, clay_pct: np.ndarray,
                     organic_carbon_pct: np.ndarray, *, a: float = -0.01383, b: float = 0.51575
                     ) -> tuple[np.ndarray, np.ndarray]:
    """K in SI units with the Chinese correction: ``K_SI = 0.1317 · max(a + b · K_EPIC,US, 0)``.

    Returns ``(k_si, clipped)``: ``clipped`` marks the soils whose corrected K was
    negative and is set to 0 (the caller counts the cells and reports them).
    """
    k = k_chinese_correction(k_epic(sand_pct, silt_pct, clay_pct, organic_carbon_pct, si_units=False), a, b)
    clipped = k < 0
    return np.where(clipped, 0.0, k) * K_US_TO_SI, clipped


@nb.njit(cache=True)
def _scan_bad(values, valid):
    flat = values.ravel()
    ok = valid.ravel()
    n_neg = 0
    n_nan = 0
    n_inf = 0
    first = -1
    for i in range(flat.shape[0]):
        if ok[i]:
            v = flat[i]
            if v >= 0.0 and v < np.inf:  # the common case first: one comparison pair
                continue
            if v != v:
                n_nan += 1
            elif v < 0.0:
                n_neg += 1
            else:
                n_inf += 1
            if first < 0:
                first = i
    return n_neg, n_nan, n_inf, first


def invalid_cells(values: np.ndarray, valid: np.ndarray) -> tuple[int, int, int, int]:
    """One pass over ``values`` where ``valid``: counts of negative, NaN and infinite values and the flat index
    of the first such cell (−1 if none).  A factor of the CSLE and the soil loss must be finite and ≥ 0."""
    v = np.ascontiguousarray(values)
    if v.dtype.kind != "f":
        v = v.astype(np.float64)
    return _scan_bad(v, np.ascontiguousarray(valid, np.bool_))


def lookup(codes: np.ndarray, keys: np.ndarray, values: np.ndarray, default: float = np.nan) -> np.ndarray:
    """Map integer codes to values by a table (E from measure codes, T from land use), float32 out."""
    codes = np.asarray(codes)
    keys = np.asarray(keys, dtype=np.int64)
    if codes.dtype.kind in "iu" and keys.size and keys.min() >= 0 and keys.max() < 65536 \
            and (codes.size == 0 or (codes.min() >= 0 and codes.max() < 65536)):
        lut = np.full(max(int(keys.max()), int(codes.max(initial=0))) + 1, default, np.float32)
        lut[keys] = values
        return lut[codes]  # one gather, no per-class mask
    out = np.full(codes.shape, default, dtype=np.float32)
    for k, v in zip(keys, values):
        out[codes == k] = v
    return out


# --------------------------------------------------------------------------- A and grades
def soil_loss(*factors: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """A = Π factors, in t/(hm²·a), multiplied in place into a float32 array (NaN propagates)."""
    if not factors:
        raise ValueError("no factors")
    out = np.array(factors[0], dtype=np.float32, copy=True) if out is None else out
    if out is not factors[0]:
        np.copyto(out, factors[0], casting="same_kind")
    for f in factors[1:]:
        np.multiply(out, f, out=out, casting="unsafe")
    return out


@nb.njit(cache=True, parallel=True)
def _grade(a, bounds):
    out = np.zeros(a.shape, np.uint8)
    flat = a.ravel()
    o = out.ravel()
    for i in nb.prange(flat.shape[0]):
        v = flat[i]
        if not math.isfinite(v):
            continue
        g = 1
        for b in bounds:
            if v >= b:
                g += 1
        o[i] = g
    return out


def grade(modulus_t_km2: np.ndarray, tolerance: float = 500.0,
          upper_bounds: tuple[float, ...] = UPPER_BOUNDS) -> np.ndarray:
    """SL 190-2007 water-erosion grade (1 微度 … 6 剧烈; 0 = nodata) from t/(km²·a).

    Intervals are left-closed: 微度 A < tolerance, 轻度 tolerance ≤ A < 2500,
    中度 2500 ≤ A < 5000, 强烈 5000 ≤ A < 8000, 极强烈 8000 ≤ A < 15000, 剧烈 A ≥ 15000.
    """
    if not 0 < tolerance < upper_bounds[0]:
        raise ValueError(f"tolerance must lie in (0, {upper_bounds[0]}) t/(km²·a), got {tolerance}")
    a = np.ascontiguousarray(modulus_t_km2)
    if a.dtype not in (np.float32, np.float64):
        a = a.astype(np.float64)
    return _grade(a, np.array((tolerance, *upper_bounds), dtype=np.float64))


@nb.njit(cache=True)
def masked_mean(values, valid):
    """Mean of ``values`` over ``valid`` finite cells without a temporary copy (NaN if none)."""
    flat = values.ravel()
    ok = valid.ravel()
    total = 0.0
    n = 0
    for i in range(flat.shape[0]):
        if ok[i] and flat[i] == flat[i]:
            total += flat[i]
            n += 1
    return total / n if n else np.nan
