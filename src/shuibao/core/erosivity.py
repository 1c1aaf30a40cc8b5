"""Rainfall erosivity R from station rain (pure numpy/numba): the daily models, the annual fallback and the
inverse-distance interpolation of station values onto the grid.  Part of the CSLE factors of
:mod:`shuibao.core.csle` (which re-exports these names).
"""

from __future__ import annotations

from dataclasses import dataclass

import numba as nb
import numpy as np


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


def _checked(year, rain_mm) -> tuple[np.ndarray, np.ndarray]:
    year = np.asarray(year, dtype=np.int64)
    rain = np.asarray(rain_mm, dtype=np.float64)
    if rain.size == 0:
        raise ValueError("no rainfall records")
    if np.any(rain < 0) or not np.all(np.isfinite(rain)):
        raise ValueError("daily rainfall must be finite and non-negative")
    return year, rain


def _half_month_sums(year, month, day, daily) -> tuple[float, dict[int, float], np.ndarray, np.ndarray]:
    """Mean annual R, R per year, the mean 24 half-month sums and their shares (WR_i) of daily erosivity."""
    hm = half_month_index(month, day)
    years = np.unique(year)
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
    return float(total), per_year, half, share


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
    year, rain = _checked(year, rain_mm)
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
    daily = alpha * np.where(erosive, rain, 0.0) ** beta * erosive
    total, per_year, half, share = _half_month_sums(year, month, day, daily)
    return ErosivityResult(total, per_year, half, share, float(alpha), float(beta), p_d12, p_y12, len(years))


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
    year, rain = _checked(year, rain_mm)
    month = np.asarray(month, dtype=np.int64)
    years = np.unique(year)
    erosive = rain >= threshold_mm
    alpha = np.where(np.isin(month, np.asarray(warm_months, dtype=np.int64)), alpha_warm, alpha_cold)
    daily = np.where(erosive, alpha * np.where(erosive, rain, 0.0) ** beta, 0.0)
    total, per_year, half, share = _half_month_sums(year, month, day, daily)
    p_d = float(rain[erosive].mean()) if erosive.any() else float("nan")
    return ErosivityResult(total, per_year, half, share, float(alpha_warm), float(beta), p_d,
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
    if mask is not None and mask.shape != (gy.shape[0], gx.shape[0]):
        raise ValueError("idw: the mask must have the grid's shape (rows, columns)")
    m = np.ascontiguousarray(mask, np.bool_) if use_mask else np.ones((1, 1), np.bool_)
    return _idw(np.ascontiguousarray(pts[:, 0]), np.ascontiguousarray(pts[:, 1]), vals, gx, gy, float(power), k, m,
                use_mask)
