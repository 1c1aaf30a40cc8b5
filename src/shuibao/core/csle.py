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

from dataclasses import dataclass

import numpy as np

# SL 190-2007 water-erosion grades; code 0 is nodata
GRADE_CODES = {1: "slight", 2: "light", 3: "moderate", 4: "intense", 5: "very_intense", 6: "severe"}
GRADE_NAMES_ZH = {1: "微度", 2: "轻度", 3: "中度", 4: "强烈", 5: "极强烈", 6: "剧烈"}
UPPER_BOUNDS = (2500.0, 5000.0, 8000.0, 15000.0)  # t/(km²·a) above the tolerance


# --------------------------------------------------------------------------- R
@dataclass(frozen=True)
class ErosivityResult:
    """Rainfall erosivity of one station from its daily series (Zhang, Xie & Liu 2002)."""

    annual_mean: float  # MJ·mm/(hm²·h·a)
    per_year: dict[int, float]
    half_month_mean: np.ndarray  # 24 values, MJ·mm/(hm²·h), mean over the years
    half_month_share: np.ndarray  # 24 values summing to 1 (WR_i, used to weight B)
    alpha: float
    beta: float
    p_d12: float
    p_y12: float
    years: int


def half_month_index(month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """0…23: the first half of a month is days 1–15, the second days 16–end."""
    return (np.asarray(month) - 1) * 2 + (np.asarray(day) > 15)


def erosivity_daily(year: np.ndarray, month: np.ndarray, day: np.ndarray, rain_mm: np.ndarray,
                    *, threshold_mm: float = 12.0, beta_a: float = 0.8363, beta_b: float = 18.144,
                    beta_c: float = 24.455, alpha_a: float = 21.586, alpha_b: float = -7.1891) -> ErosivityResult:
    """Half-month erosivity from daily rainfall (Zhang Wenbo, Xie Yun, Liu Baoyu 2002).

        M_i = α Σ_j D_j^β          D_j = daily rain ≥ 12 mm (else 0), j over the days of half-month i
        β = 0.8363 + 18.144 / P_d12 + 24.455 / P_y12
        α = 21.586 · β^(−7.1891)
        P_d12 = mean rain of the days ≥ 12 mm;  P_y12 = mean annual sum of those days' rain
        R = mean over years of Σ_{i=1..24} M_i

    Zhang W. B., Xie Y., Liu B. Y. (2002). Rainfall erosivity estimation using daily rainfall
    amounts. Scientia Geographica Sinica 22(6): 705–711. doi:10.13249/j.cnki.sgs.2002.06.705

    Years are those present in ``year``; a year with no erosive day counts with R = 0.
    """
    year = np.asarray(year, dtype=np.int64)
    rain = np.asarray(rain_mm, dtype=np.float64)
    if rain.size == 0:
        raise ValueError("no rainfall records")
    if np.any(rain < 0) or not np.all(np.isfinite(rain)):
        raise ValueError("daily rainfall must be finite and non-negative")
    years = np.unique(year)
    erosive = rain >= threshold_mm
    if not erosive.any():
        zero = np.zeros(24)
        return ErosivityResult(0.0, {int(y): 0.0 for y in years}, zero, zero, float("nan"), float("nan"),
                               float("nan"), 0.0, len(years))
    p_d12 = float(rain[erosive].mean())
    p_y12 = float(rain[erosive].sum() / len(years))
    beta = beta_a + beta_b / p_d12 + beta_c / p_y12
    alpha = alpha_a * beta ** alpha_b
    hm = half_month_index(month, day)
    contrib = np.where(erosive, rain, 0.0) ** beta * erosive
    per_year = {}
    half = np.zeros(24)
    for y in years:
        sel = year == y
        m = np.bincount(hm[sel], weights=alpha * contrib[sel], minlength=24)
        per_year[int(y)] = float(m.sum())
        half += m
    half /= len(years)
    total = half.sum()
    share = half / total if total > 0 else np.zeros(24)
    return ErosivityResult(float(total), per_year, half, share, float(alpha), float(beta), p_d12, p_y12, len(years))


def erosivity_annual(annual_rain_mm: np.ndarray, a: float = 0.0534, b: float = 1.6548) -> np.ndarray:
    """Fallback R from annual rainfall, ``R = a · P^b`` (default constants of Zhang & Fu 2003, unverified)."""
    p = np.asarray(annual_rain_mm, dtype=np.float64)
    if np.any(p < 0):
        raise ValueError("annual rainfall must be non-negative")
    return a * p ** b


def idw(points_xy: np.ndarray, values: np.ndarray, grid_x: np.ndarray, grid_y: np.ndarray,
        *, power: float = 2.0, neighbours: int = 12) -> np.ndarray:
    """Inverse-distance-weighted interpolation of point values onto cell centres.

    ``z(x) = Σ w_i z_i / Σ w_i`` with ``w_i = d_i^(−power)`` over the ``neighbours``
    nearest points; a cell centre that coincides with a point takes its value.
    ``grid_x``/``grid_y`` are 1-D centre coordinates (columns, rows).
    """
    from scipy.spatial import cKDTree

    pts = np.asarray(points_xy, dtype=np.float64)
    vals = np.asarray(values, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 2 or pts.shape[0] != vals.shape[0] or pts.shape[0] == 0:
        raise ValueError("idw needs N×2 points and N values, N ≥ 1")
    k = min(neighbours, len(vals))
    tree = cKDTree(pts)
    out = np.empty((grid_y.size, grid_x.size), dtype=np.float32)
    xx = np.asarray(grid_x, dtype=np.float64)
    for r, y in enumerate(np.asarray(grid_y, dtype=np.float64)):
        q = np.column_stack([xx, np.full_like(xx, y)])
        dist, idx = tree.query(q, k=k)
        if k == 1:
            dist, idx = dist[:, None], idx[:, None]
        exact = dist[:, 0] == 0
        with np.errstate(divide="ignore"):
            w = 1.0 / dist ** power
        w[exact] = 0.0
        w[exact, 0] = 1.0
        out[r] = (w * vals[idx]).sum(axis=1) / w.sum(axis=1)
    return out


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


def k_chinese_correction(k_si: np.ndarray, a: float = -0.01383, b: float = 0.51575) -> np.ndarray:
    """Optional correction of EPIC K for Chinese soils, ``K = a + b · K_EPIC`` (Zhang Keli et al. 2007; unverified)."""
    return a + b * np.asarray(k_si, dtype=np.float64)


# --------------------------------------------------------------------------- B
def fvc_dimidiate(ndvi: np.ndarray, valid: np.ndarray, ndvi_soil: float | None = None, ndvi_veg: float | None = None,
                  *, soil_percentile: float = 5.0, veg_percentile: float = 95.0) -> tuple[np.ndarray, float, float]:
    """Fractional vegetation cover by the dimidiate pixel model.

        FVC = (NDVI − NDVI_soil) / (NDVI_veg − NDVI_soil), clipped to [0, 1]

    End-members default to the 5th and 95th percentiles of the valid NDVI; pass
    them to override.  Returns (FVC, NDVI_soil, NDVI_veg).
    """
    nd = np.asarray(ndvi, dtype=np.float32)
    vals = nd[valid]
    if vals.size == 0:
        raise ValueError("no valid NDVI cells")
    lo = float(np.percentile(vals, soil_percentile)) if ndvi_soil is None else float(ndvi_soil)
    hi = float(np.percentile(vals, veg_percentile)) if ndvi_veg is None else float(ndvi_veg)
    if not hi > lo:
        raise ValueError(f"NDVI end-members must satisfy veg > soil, got soil={lo}, veg={hi}")
    fvc = np.clip((nd - lo) / (hi - lo), 0.0, 1.0).astype(np.float32)
    fvc[~valid] = np.nan
    return fvc, lo, hi


B_METHODS = ("constant", "cai2000", "grass_slr")


def b_cai2000(fvc: np.ndarray) -> np.ndarray:
    """C/B from vegetation cover (Cai Chongfa et al. 2000): 1 at f = 0; 0.6508 − 0.3436 lg f for 0 < f < 78.3 %; 0 above.

    f is the cover in percent; log base 10.
    """
    f = np.asarray(fvc, dtype=np.float64) * 100.0
    with np.errstate(divide="ignore", invalid="ignore"):
        b = np.where(f <= 0, 1.0, np.where(f < 78.3, 0.6508 - 0.3436 * np.log10(f), 0.0))
    return np.clip(b, 0.0, 1.0)


def b_grass_slr(fvc: np.ndarray) -> np.ndarray:
    """Grassland soil-loss ratio ``1 / (1.17647 + 0.86242 · 1.05905^(100·FVC))`` (national census practice; unverified)."""
    f = np.asarray(fvc, dtype=np.float64)
    return 1.0 / (1.17647 + 0.86242 * 1.05905 ** (100.0 * f))


def b_factor(landuse: np.ndarray, fvc: np.ndarray, classes: np.ndarray, methods: np.ndarray,
             constants: np.ndarray) -> np.ndarray:
    """B per cell: each land-use class uses its method (``constant`` value, ``cai2000`` or ``grass_slr`` on FVC).

    ``classes``, ``methods`` and ``constants`` are the columns of the B table.  Cells of
    a class not in the table stay NaN (input validation reports such classes first).
    """
    lu = np.asarray(landuse)
    out = np.full(lu.shape, np.nan, dtype=np.float32)
    for code, method, value in zip(classes, methods, constants):
        sel = lu == code
        if not sel.any():
            continue
        if method == "constant":
            out[sel] = value
        elif method == "cai2000":
            out[sel] = b_cai2000(fvc[sel])
        elif method == "grass_slr":
            out[sel] = b_grass_slr(fvc[sel])
        else:
            raise ValueError(f"unknown B method {method!r}; expected one of {', '.join(B_METHODS)}")
    return out


def lookup(codes: np.ndarray, keys: np.ndarray, values: np.ndarray, default: float = np.nan) -> np.ndarray:
    """Map integer codes to values by a table (E from measure codes, T from land use)."""
    codes = np.asarray(codes)
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


def grade(modulus_t_km2: np.ndarray, tolerance: float = 500.0,
          upper_bounds: tuple[float, ...] = UPPER_BOUNDS) -> np.ndarray:
    """SL 190-2007 water-erosion grade (1 微度 … 6 剧烈; 0 = nodata) from t/(km²·a).

    Intervals are left-closed: 微度 A < tolerance, 轻度 tolerance ≤ A < 2500,
    中度 2500 ≤ A < 5000, 强烈 5000 ≤ A < 8000, 极强烈 8000 ≤ A < 15000, 剧烈 A ≥ 15000.
    """
    if not 0 < tolerance < upper_bounds[0]:
        raise ValueError(f"tolerance must lie in (0, {upper_bounds[0]}) t/(km²·a), got {tolerance}")
    a = np.asarray(modulus_t_km2)
    bounds = np.array((tolerance, *upper_bounds))
    g = (np.searchsorted(bounds, a, side="right") + 1).astype(np.uint8)
    g[~np.isfinite(a)] = 0
    return g
