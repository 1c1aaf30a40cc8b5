"""Rainfall erosivity R per station-year from quality-controlled daily rain (pure numpy).

The half-month daily-rainfall model of Zhang Wenbo, Xie Yun & Liu Baoyu (2002), as implemented
by :func:`shuibao.core.csle.erosivity_daily` (reference/methods.md §2.1)::

    M_i = α · Σ_j D_j^β                       half-month i = 1…24, MJ·mm/(hm²·h)
    D_j = daily rain of day j of half-month i if ≥ 12 mm, else 0
    β   = 0.8363 + 18.144 / P_d12 + 24.455 / P_y12
    α   = 21.586 · β^(−7.1891)
    P_d12 = mean rain of the erosive days (≥ 12 mm), mm
    P_y12 = annual sum of the erosive days' rain, mm
    R   = Σ_{i=1..24} M_i                     MJ·mm/(hm²·h·a)

Half-months: days 1–15 and 16–end of each month (:func:`shuibao.core.csle.half_month_index`).
The constants are parameters (``params``: the ``r_model.csv`` table of the erosion engine,
:func:`shuibao.erosion.tables.r_model`).  Each station-year is computed on its own — α and β
from that year's P_d12 and P_y12 — which is what the monitoring run computes from a one-year
``rain`` file (``shuibao stations export-rain``), so the two agree.

Only days flagged ``ok`` count.  Completeness = ok days / days of the calendar year; a
station-year below ``min_completeness`` is reported with its R but marked incomplete (its R is
biased low: erosive days may be among the missing ones).

Zhang W. B., Xie Y., Liu B. Y. (2002). Rainfall erosivity estimation using daily rainfall
amounts. Scientia Geographica Sinica 22(6): 705–711. doi:10.13249/j.cnki.sgs.2002.06.705
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..core.csle import erosivity_daily
from .qc import as_days

R_UNIT = "MJ·mm/(hm²·h·a)"
R_MODEL_KEYS = ("threshold_mm", "beta_a", "beta_b", "beta_c", "alpha_a", "alpha_b")


@dataclass(frozen=True)
class StationYearR:
    """R of one station-year and what it was computed from."""

    year: int
    r: float  # MJ·mm/(hm²·h·a)
    half_month: np.ndarray  # 24 values M_i, MJ·mm/(hm²·h)
    days_in_year: int
    days_ok: int
    erosive_days: int
    completeness: float  # days_ok / days_in_year
    complete: bool  # completeness ≥ min_completeness
    alpha: float  # NaN when the year has no erosive day
    beta: float
    p_d12: float
    p_y12: float


def days_in_year(year: int) -> int:
    return 366 if calendar.isleap(year) else 365


def annual_erosivity(dates, rain_mm, flags=None, *, params: Mapping[str, float], min_completeness: float = 0.9,
                     years=None) -> list[StationYearR]:
    """R of each calendar year of one station's daily rain.

    ``flags``: the QC flag of each day (None: all ok); only ``ok`` days with a finite value are
    used.  ``years``: the years to report (default: every year with a record); a year without
    any ok day has R = NaN.  ``params``: the six constants of :data:`R_MODEL_KEYS`.
    """
    missing = [k for k in R_MODEL_KEYS if k not in params]
    if missing:
        raise ValueError(f"erosivity parameters missing: {', '.join(missing)}")
    d = as_days(dates)
    rain = np.asarray(rain_mm, dtype=np.float64).reshape(-1)
    ok = np.ones(len(d), bool) if flags is None else np.asarray(flags).reshape(-1) == "ok"
    if not (len(d) == len(rain) == len(ok)):
        raise ValueError(f"annual_erosivity: {len(d)} dates, {len(rain)} values, {len(ok)} flags")
    ok &= np.isfinite(rain)
    y = d.astype("datetime64[Y]").astype(int) + 1970
    m = d.astype("datetime64[M]").astype(int) % 12 + 1
    day = (d - d.astype("datetime64[M]")).astype(int) + 1
    wanted = sorted({int(v) for v in y}) if years is None else sorted({int(v) for v in years})
    out = []
    for year in wanted:
        sel = ok & (y == year)
        # one ok value per day: a series with repeated dates must be de-duplicated by QC first
        n_ok = len(np.unique(d[sel]))
        if n_ok != int(sel.sum()):
            raise ValueError(f"annual_erosivity: {year} has more than one ok value on a day; run QC first")
        total = days_in_year(year)
        share = n_ok / total
        if not n_ok:
            out.append(StationYearR(year, float("nan"), np.full(24, np.nan), total, 0, 0, 0.0, False,
                                    *[float("nan")] * 4))
            continue
        res = erosivity_daily(y[sel], m[sel], day[sel], rain[sel], **{k: float(params[k]) for k in R_MODEL_KEYS})
        erosive = int(np.count_nonzero(rain[sel] >= float(params["threshold_mm"])))
        out.append(StationYearR(year, res.annual_mean, res.half_month_mean.copy(), total, n_ok, erosive, share,
                                share >= min_completeness, res.alpha, res.beta, res.p_d12, res.p_y12))
    return out
