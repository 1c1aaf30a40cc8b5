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

import ast
import math
from dataclasses import dataclass

import numba as nb
import numpy as np

# SL 190-2007 water-erosion grades; code 0 is nodata
GRADE_CODES = {1: "slight", 2: "light", 3: "moderate", 4: "intense", 5: "very_intense", 6: "severe"}
GRADE_NAMES_ZH = {1: "微度", 2: "轻度", 3: "中度", 4: "强烈", 5: "极强烈", 6: "剧烈"}
GRADE_COLOURS = ("#38a800", "#ffff00", "#ffaa00", "#ff5500", "#e60000", "#730000")  # 1…6, as on the bulletin's maps
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
    model: str = "zhang2002"  # which daily model: "zhang2002" or "xie2016_seasonal" (then alpha is the warm season's)


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


WARM_MONTHS = (5, 6, 7, 8, 9)  # 暖季 May–September; 冷季 October–April (Yin et al. 2013; Xie et al. 2016)


def erosivity_daily_seasonal(year: np.ndarray, month: np.ndarray, day: np.ndarray, rain_mm: np.ndarray, *,
                             threshold_mm: float = 10.0, beta: float = 1.7265, alpha_warm: float = 0.3937,
                             alpha_cold: float = 0.3101, warm_months: tuple[int, ...] = WARM_MONTHS
                             ) -> ErosivityResult:
    """Half-month erosivity from daily rainfall by the warm/cold-season daily model (冷暖季日雨量模型).

        E_d = α_s · P_d^β     for P_d ≥ threshold (else 0),  α_s = α_warm in May–Sep, α_cold in Oct–Apr
        M_i = Σ_{d in half-month i} E_d;   R = mean over years of Σ_{i=1..24} M_i

    The model the first national water census (第一次全国水利普查) computed R with, at 2 678 stations
    (Yin Shuiqing, Zhang Wenbo, Xie Yun et al. 2013, 中国水土保持 2013(10): 45–51); parameterised in
    Xie Y., Yin S. Q., Liu B. Y., Nearing M. A., Zhao Y. (2016). Models for estimating daily rainfall
    erosivity in China. J. Hydrology 535: 547–558.
    β = 1.7265 is the exponent of Xie et al. 2016 (seen in public code); α_warm, α_cold and the 10 mm
    threshold could not be read in print (the paper suggests 9.7 mm): see ``r_model.csv``.
    Years are those present in ``year``; a year with no erosive day counts with R = 0.
    """
    year = np.asarray(year, dtype=np.int64)
    month = np.asarray(month, dtype=np.int64)
    rain = np.asarray(rain_mm, dtype=np.float64)
    if rain.size == 0:
        raise ValueError("no rainfall records")
    if np.any(rain < 0) or not np.all(np.isfinite(rain)):
        raise ValueError("daily rainfall must be finite and non-negative")
    years = np.unique(year)
    erosive = rain >= threshold_mm
    alpha = np.where(np.isin(month, np.asarray(warm_months, dtype=np.int64)), alpha_warm, alpha_cold)
    daily = np.where(erosive, alpha * np.where(erosive, rain, 0.0) ** beta, 0.0)
    hm = half_month_index(month, day)
    per_year = {}
    half = np.zeros(24)
    for y in years:
        sel = year == y
        m = np.bincount(hm[sel], weights=daily[sel], minlength=24)
        per_year[int(y)] = float(m.sum())
        half += m
    half /= len(years)
    total = half.sum()
    share = half / total if total > 0 else np.zeros(24)
    p_d = float(rain[erosive].mean()) if erosive.any() else float("nan")
    return ErosivityResult(float(total), per_year, half, share, float(alpha_warm), float(beta), p_d,
                           float(rain[erosive].sum() / len(years)), len(years), "xie2016_seasonal")


R_MODELS = ("zhang2002", "xie2016_seasonal")


def erosivity_annual(annual_rain_mm: np.ndarray, a: float = 0.0534, b: float = 1.6548) -> np.ndarray:
    """Fallback R from annual rainfall, ``R = a · P^b`` (default constants of Zhang & Fu 2003, unverified)."""
    p = np.asarray(annual_rain_mm, dtype=np.float64)
    if np.any(p < 0):
        raise ValueError("annual rainfall must be non-negative")
    return a * p ** b


@nb.njit(cache=True, parallel=True)
def _idw(px, py, pv, xs, ys, power, k, mask, use_mask):
    n = px.shape[0]
    out = np.empty((ys.shape[0], xs.shape[0]), np.float32)
    for r in nb.prange(ys.shape[0]):
        d2 = np.empty(n)  # per row: rows run in parallel
        order = np.empty(n, np.int64)
        for c in range(xs.shape[0]):
            if use_mask and not mask[r, c]:
                out[r, c] = np.nan
                continue
            exact = -1
            for i in range(n):
                dx = xs[c] - px[i]
                dy = ys[r] - py[i]
                d2[i] = dx * dx + dy * dy
                if d2[i] == 0.0:
                    exact = i
            if exact >= 0:
                out[r, c] = pv[exact]
                continue
            if k < n:  # partial selection of the k nearest
                for i in range(n):
                    order[i] = i
                for i in range(k):
                    best = i
                    for j in range(i + 1, n):
                        if d2[order[j]] < d2[order[best]]:
                            best = j
                    order[i], order[best] = order[best], order[i]
                m = k
            else:
                for i in range(n):
                    order[i] = i
                m = n
            num = 0.0
            den = 0.0
            for t in range(m):
                i = order[t]
                w = 1.0 / d2[i] if power == 2.0 else d2[i] ** (-power / 2.0)  # pow is the slow part
                num += w * pv[i]
                den += w
            out[r, c] = num / den
    return out


def idw(points_xy: np.ndarray, values: np.ndarray, grid_x: np.ndarray, grid_y: np.ndarray,
        *, power: float = 2.0, neighbours: int | None = None, mask: np.ndarray | None = None) -> np.ndarray:
    """Inverse-distance-weighted interpolation of point values onto cell centres.

    ``z(x) = Σ w_i z_i / Σ w_i`` with ``w_i = d_i^(−power)`` over all points, or over
    the ``neighbours`` nearest (slower: a selection per cell); a cell centre that
    coincides with a point takes its value.
    ``grid_x``/``grid_y`` are 1-D centre coordinates (columns, rows); cells where
    ``mask`` is False are skipped (NaN) — outside the study area there is nothing to interpolate.
    Shepard, D. (1968). A two-dimensional interpolation function for irregularly-spaced data.
    Proc. 23rd ACM National Conference: 517–524. doi:10.1145/800186.810616
    """
    pts = np.asarray(points_xy, dtype=np.float64)
    vals = np.asarray(values, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 2 or pts.shape[0] != vals.shape[0] or pts.shape[0] == 0:
        raise ValueError("idw needs N×2 points and N values, N ≥ 1")
    k = len(vals) if neighbours is None else int(neighbours)
    if k < 1:
        raise ValueError("idw needs at least one neighbour")
    gx, gy = np.asarray(grid_x, np.float64), np.asarray(grid_y, np.float64)
    use_mask = mask is not None
    if use_mask and mask.shape != (gy.shape[0], gx.shape[0]):
        raise ValueError("idw: the mask must have the grid's shape (rows, columns)")
    m = np.ascontiguousarray(mask, np.bool_) if use_mask else np.ones((1, 1), np.bool_)
    return _idw(np.ascontiguousarray(pts[:, 0]), np.ascontiguousarray(pts[:, 1]), vals, gx, gy, float(power), k, m,
                use_mask)


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


# --------------------------------------------------------------------------- B
@nb.njit(cache=True)
def _ndvi_histogram(ndvi, valid, lo, hi, bins):
    counts = np.zeros(bins, np.int64)
    flat = ndvi.ravel()
    ok = valid.ravel()
    scale = bins / (hi - lo)
    for i in range(flat.shape[0]):
        if ok[i]:
            v = flat[i]
            if v == v:
                b = int((v - lo) * scale)
                counts[min(max(b, 0), bins - 1)] += 1
    return counts


def ndvi_percentile(ndvi: np.ndarray, valid: np.ndarray, q: float, *, resolution: float = 1e-4) -> float:
    """Percentile of the valid NDVI to ``resolution`` (a one-pass histogram over [−1, 1], no copy or sort)."""
    bins = int(round(2.0 / resolution))
    counts = _ndvi_histogram(np.ascontiguousarray(ndvi, np.float32), np.ascontiguousarray(valid, np.bool_),
                             -1.0, 1.0, bins)
    total = counts.sum()
    if total == 0:
        raise ValueError("no valid NDVI cells")
    idx = int(np.searchsorted(np.cumsum(counts), q / 100.0 * total, side="left"))
    return -1.0 + (min(idx, bins - 1) + 0.5) * resolution


@nb.njit(cache=True, parallel=True)
def _fvc(ndvi, valid, lo, hi):
    out = np.full(ndvi.shape, np.nan, np.float32)
    flat = ndvi.ravel()
    ok = valid.ravel()
    o = out.ravel()
    inv = 1.0 / (hi - lo)
    for i in nb.prange(flat.shape[0]):
        if ok[i]:
            f = (flat[i] - lo) * inv
            o[i] = 0.0 if f < 0.0 else (1.0 if f > 1.0 else f)
    return out


def fvc_dimidiate(ndvi: np.ndarray, valid: np.ndarray, ndvi_soil: float | None = None, ndvi_veg: float | None = None,
                  *, soil_percentile: float = 5.0, veg_percentile: float = 95.0) -> tuple[np.ndarray, float, float]:
    """Fractional vegetation cover by the dimidiate pixel model.

        FVC = (NDVI − NDVI_soil) / (NDVI_veg − NDVI_soil), clipped to [0, 1]

    End-members default to the 5th and 95th percentiles of the valid NDVI (to 1e-4,
    by histogram); pass them to override.  Returns (FVC, NDVI_soil, NDVI_veg).
    """
    valid = np.ascontiguousarray(valid, np.bool_)
    lo = ndvi_percentile(ndvi, valid, soil_percentile) if ndvi_soil is None else float(ndvi_soil)
    hi = ndvi_percentile(ndvi, valid, veg_percentile) if ndvi_veg is None else float(ndvi_veg)
    if not hi > lo:
        raise ValueError(f"NDVI end-members must satisfy veg > soil, got soil={lo}, veg={hi}")
    return _fvc(np.ascontiguousarray(ndvi, np.float32), valid, lo, hi), lo, hi


B_METHODS = ("constant", "fvc_class", "cai2000", "grass_slr", "formula")
"""How a land-use class gets B: a constant; a table of B by vegetation-cover class (the national
dynamic-monitoring practice); the Cai Chongfa et al. 2000 formula; the grassland soil-loss ratio; or a
user's formula of the cover (:func:`b_formula`)."""


@nb.njit(cache=True, inline="always")
def _cai2000_one(fvc):
    f = fvc * 100.0
    if not math.isfinite(f):
        return np.nan  # unknown cover stays unknown (not 0, which would mean non-eroding)
    if f <= 0.0:
        return 1.0
    if f >= 78.3:
        return 0.0
    return min(0.6508 - 0.3436 * math.log10(f), 1.0)


@nb.njit(cache=True, inline="always")
def _grass_slr_one(fvc):
    return 1.0 / (1.17647 + 0.86242 * 1.05905 ** (100.0 * fvc))


@nb.njit(cache=True, inline="always")
def _cover_class_one(fvc, upper, values, n):
    """B of the cover class holding ``fvc`` (classes closed below, open above; the last open-ended)."""
    if not math.isfinite(fvc):
        return np.nan
    f = fvc * 100.0
    for j in range(n - 1):
        if f < upper[j]:
            return values[j]
    return values[n - 1]


@nb.njit(cache=True)
def _map_b(fvc, method):
    out = np.empty(fvc.shape[0], np.float64)
    for i in range(fvc.shape[0]):
        out[i] = _cai2000_one(fvc[i]) if method == 1 else _grass_slr_one(fvc[i])
    return out


def b_cai2000(fvc: np.ndarray) -> np.ndarray:
    """C/B from vegetation cover (Cai Chongfa et al. 2000): 1 at f = 0; 0.6508 − 0.3436 lg f for 0 < f < 78.3 %; 0 above.

    f is the cover in percent; log base 10.  Unknown cover (NaN) gives NaN.
    Cai C. F., Ding S. W., Shi Z. H., et al. (2000). Study of applying USLE and geographical information
    system IDRISI to predict soil erosion in small watershed. Journal of Soil and Water Conservation 14(2): 19–24.
    """
    f = np.asarray(fvc, dtype=np.float64)
    return _map_b(f.ravel(), 1).reshape(f.shape)


def b_grass_slr(fvc: np.ndarray) -> np.ndarray:
    """Grassland soil-loss ratio ``1 / (1.17647 + 0.86242 · 1.05905^(100·FVC))`` (national census practice; unverified)."""
    f = np.asarray(fvc, dtype=np.float64)
    return _map_b(f.ravel(), 2).reshape(f.shape)


@dataclass(frozen=True)
class CoverClasses:
    """B by vegetation-cover class for one cover group (forest, shrub, grass, garden …).

    ``upper_pct[j]`` is the (exclusive) upper bound of class j in percent cover; the last
    class is open-ended, so ``len(values) == len(upper_pct) + 1``.
    """

    upper_pct: tuple[float, ...]
    values: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.values) != len(self.upper_pct) + 1:
            raise ValueError("cover classes need one more value than upper bounds")
        if list(self.upper_pct) != sorted(set(self.upper_pct)) or any(not 0 < u < 100 for u in self.upper_pct):
            raise ValueError("cover class bounds must increase strictly within (0, 100) %")
        if any(not 0 <= v <= 1 for v in self.values):
            raise ValueError("B of a cover class must lie in [0, 1]")

    def of(self, fvc: np.ndarray) -> np.ndarray:
        f = np.asarray(fvc, np.float64)
        up = np.array(self.upper_pct + (np.inf,), np.float64)
        vals = np.array(self.values, np.float64)
        return np.array([_cover_class_one(v, up, vals, len(vals)) for v in f.ravel()]).reshape(f.shape)


METHOD_CODES = {"constant": 0, "cai2000": 1, "grass_slr": 2, "fvc_class": 3, "formula": 4}

_FORMULA_FUNCS = {"log10": np.log10, "ln": np.log, "log": np.log, "exp": np.exp, "sqrt": np.sqrt,
                  "min": np.minimum, "max": np.maximum}
_FORMULA_OPS = {ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply, ast.Div: np.divide,
                ast.Pow: np.power}


def check_b_formula(expression: str) -> ast.Expression:
    """Parse a user's B formula; only numbers, ``fvc`` (0–1), ``f`` (percent), + − × ÷ ** and
    log10/ln/exp/sqrt/min/max are allowed (no names, attributes or other calls: nothing is executed)."""
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"B formula {expression!r} is not an expression ({exc.msg})") from None
    for node in ast.walk(tree):
        if isinstance(node, (ast.Expression, ast.Load, ast.operator, ast.unaryop)):
            if isinstance(node, ast.operator) and type(node) not in _FORMULA_OPS:
                raise ValueError(f"B formula {expression!r}: operator {type(node).__name__} is not allowed")
            continue
        if isinstance(node, ast.BinOp) or isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            continue
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            continue
        if isinstance(node, ast.Name) and (node.id in ("fvc", "f") or node.id in _FORMULA_FUNCS):
            continue
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _FORMULA_FUNCS \
                and not node.keywords and 1 <= len(node.args) <= 2:
            continue
        raise ValueError(f"B formula {expression!r}: {ast.unparse(node) if hasattr(ast, 'unparse') else node} "
                         "is not allowed (use numbers, fvc, f, + - * / ** and log10, ln, exp, sqrt, min, max)")
    return tree


def b_formula(expression: str, fvc: np.ndarray) -> np.ndarray:
    """B from a user's formula of the cover: ``fvc`` in 0–1 or ``f`` in percent, e.g. ``0.6508 - 0.3436*log10(f)``.

    Evaluated on arrays without ``eval``; the result is not clipped (the caller checks [0, 1]).
    """
    tree = check_b_formula(expression)
    f = np.asarray(fvc, np.float64)
    env = {"fvc": f, "f": f * 100.0}

    def ev(node):
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant):
            return float(node.value)
        if isinstance(node, ast.Name):
            if node.id not in env:
                raise ValueError(f"B formula {expression!r}: {node.id} is a function; call it, e.g. {node.id}(f)")
            return env[node.id]
        if isinstance(node, ast.UnaryOp):
            v = ev(node.operand)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.BinOp):
            return _FORMULA_OPS[type(node.op)](ev(node.left), ev(node.right))
        return _FORMULA_FUNCS[node.func.id](*(ev(a) for a in node.args))

    with np.errstate(all="ignore"):
        out = np.broadcast_to(ev(tree), f.shape).astype(np.float64)
    return out


@nb.njit(cache=True, parallel=True)
def _b(landuse, fvc, lut_method, lut_value, lut_group, g_upper, g_values, g_count):
    out = np.full(landuse.shape, np.nan, np.float32)
    lu = landuse.ravel()
    fv = fvc.ravel()
    o = out.ravel()
    for i in nb.prange(lu.shape[0]):
        code = lu[i]
        if code < 0 or code >= lut_method.shape[0]:
            continue
        m = lut_method[code]
        if m == 0:
            o[i] = lut_value[code]
        elif m == 1:
            o[i] = _cai2000_one(fv[i])
        elif m == 2:
            o[i] = _grass_slr_one(fv[i])
        elif m == 3:
            g = lut_group[code]
            o[i] = _cover_class_one(fv[i], g_upper[g], g_values[g], g_count[g])
    return out


def b_factor(landuse: np.ndarray, fvc: np.ndarray, classes: np.ndarray, methods: np.ndarray,
             constants: np.ndarray, cover_classes: dict[int, CoverClasses] | None = None,
             formulas: dict[int, str] | None = None) -> np.ndarray:
    """B per cell: each land-use class uses its method on the vegetation cover FVC (0–1).

    ``classes``, ``methods`` and ``constants`` are the columns of the B table; ``cover_classes``
    gives the cover-class table of each ``fvc_class`` code and ``formulas`` the expression of each
    ``formula`` code.  Cells of a class not in the table stay NaN (input validation reports such
    classes first).  One pass in numba (float32 out), then the formula classes.
    """
    classes = np.asarray(classes, dtype=np.int64)
    cover_classes, formulas = cover_classes or {}, formulas or {}
    size = int(max(classes.max(initial=0), 0)) + 1
    lut_method = np.full(size, -1, np.int64)
    lut_value = np.full(size, np.nan, np.float64)
    lut_group = np.zeros(size, np.int64)
    tables = list(dict.fromkeys(cover_classes.values()))
    width = max((len(t.values) for t in tables), default=1)
    g_upper = np.full((max(len(tables), 1), width), np.inf)
    g_values = np.full((max(len(tables), 1), width), np.nan)
    g_count = np.ones(max(len(tables), 1), np.int64)
    for g, t in enumerate(tables):
        g_upper[g, :len(t.upper_pct)] = t.upper_pct
        g_values[g, :len(t.values)] = t.values
        g_count[g] = len(t.values)
    for code, method, value in zip(classes, methods, constants):
        if method not in METHOD_CODES:
            raise ValueError(f"unknown B method {method!r}; expected one of {', '.join(B_METHODS)}")
        if method == "fvc_class" and int(code) not in cover_classes:
            raise ValueError(f"land-use class {code}: method fvc_class needs its cover-class table")
        if method == "formula" and int(code) not in formulas:
            raise ValueError(f"land-use class {code}: method formula needs its expression")
        if code >= 0:
            lut_method[code] = METHOD_CODES[method]
            lut_value[code] = value
            if method == "fvc_class":
                lut_group[code] = tables.index(cover_classes[int(code)])
    lu = np.ascontiguousarray(landuse)
    lu = lu.astype(np.int64) if lu.dtype.kind not in "iu" else lu
    fv = np.ascontiguousarray(fvc, np.float32)
    out = _b(lu, fv, lut_method, lut_value, lut_group, g_upper, g_values, g_count)
    for code, expression in formulas.items():
        sel = lu == code
        if sel.any():
            out[sel] = b_formula(expression, fv[sel]).astype(np.float32)
    return out


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
