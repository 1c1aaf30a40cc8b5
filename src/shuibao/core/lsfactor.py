"""Slope length λ, L, S and LS for the Chinese Soil Loss Equation (pure numpy + numba).

Slope length — cumulative method of the national monitoring practice (Van Remortel
et al. 2001/2004 AML lineage, LS_TOOL of Zhang et al. 2013; Fu Suhua, Liu Baoyu et al.
2015), on a D8 network over a conditioned DEM:

1. downslope angle θd of a cell: ``atan(drop / d)`` along its D8 direction;
   cells whose flow leaves the grid take their Horn slope; flat cells (θd ≤ 0)
   are set to 0.1°;
2. non-cumulative slope length NCSL: the flow distance to the receiver (Δx, Δy
   or the diagonal);
3. λ at a cell centre is the largest ``λ(n) + NCSL(n)`` over the donors n whose
   flow into the cell is *not cut*; a cell with no such donor (ridge, or a restart)
   starts at ``NCSL / 2``;
4. flow from n into c is cut where the slope drops sharply:
   ``θd(c) < f · θd(n)`` with ``f = 0.7`` when the selecting cell's slope is
   below 2.8624° (5 %) and ``f = 0.5`` otherwise; the selecting cell is the
   receiving cell c (Van Remortel AML, the default) or the donor n (the C# LS
   tool), see ``cutoff_selector``;
5. flow into a channel cell (flow accumulation ≥ the channel threshold) is cut;
6. λ is horizontal and capped at ``max_length``.

L (Foster & Wischmeier 1974 segment form, as in the monitoring practice)::

    L = (λ_out^(m+1) − λ_in^(m+1)) / ((λ_out − λ_in) · 22.13^m),
    λ_in = λ − NCSL/2,  λ_out = λ + NCSL/2

or the cell form ``L = (λ / 22.13)^m``.  The exponent m is a class table on
the slope angle (CSLE: 0.2 / 0.3 / 0.4 / 0.5 at 1°, 3°, 5°).

S (McCool et al. 1987 below 10°, Liu, Nearing & Risse 1994 above)::

    S = 10.8 sin θ + 0.03   (θ < 5°)
    S = 16.8 sin θ − 0.50   (5° ≤ θ < 10°)
    S = 21.91 sin θ − 0.96  (θ ≥ 10°)

References
----------
Liu, B. Y., Nearing, M. A., Risse, L. M. (1994). Slope gradient effects on soil loss for steep
slopes. Trans. ASAE 37(6): 1835–1840. doi:10.13031/2013.28273
McCool, D. K., Brown, L. C., Foster, G. R., Mutchler, C. K., Meyer, L. D. (1987). Revised slope
steepness factor for the Universal Soil Loss Equation. Trans. ASAE 30(5): 1387–1396.
Zhang, H., Yang, Q., Li, R., Liu, Q., Moore, D., He, P., Ritsema, C. J., Geissen, V. (2013).
Extension of a GIS procedure for calculating the RUSLE equation LS factor. Computers &
Geosciences 52: 177–188. doi:10.1016/j.cageo.2012.09.027
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numba as nb
import numpy as np

from .hydrology import DCOL, DROW, DONE, indegree_d8, receiver

LOW_SLOPE_DEG = 2.8624  # 5 % in degrees: the cutoff factor switches here
FLAT_DEG = 0.1


@dataclass(frozen=True)
class MExponentTable:
    """m by slope class: ``m = values[i]`` for the first i with θ ≤ upper[i] (closed) or θ < upper[i]."""

    upper_deg: tuple[float, ...] = (1.0, 3.0, 5.0)
    closed: tuple[bool, ...] = (True, False, False)
    values: tuple[float, ...] = (0.2, 0.3, 0.4, 0.5)

    def __post_init__(self) -> None:
        if len(self.values) != len(self.upper_deg) + 1 or len(self.closed) != len(self.upper_deg):
            raise ValueError("m table: need one more value than class bounds, and one closure flag per bound")
        if list(self.upper_deg) != sorted(self.upper_deg):
            raise ValueError("m table: class bounds must increase")


@dataclass(frozen=True)
class SlopeFactorTable:
    """S = a_i sin θ + b_i on classes split at ``breaks_deg`` (left-closed: θ ≥ break takes the next class)."""

    breaks_deg: tuple[float, ...] = (5.0, 10.0)
    a: tuple[float, ...] = (10.8, 16.8, 21.91)
    b: tuple[float, ...] = (0.03, -0.50, -0.96)

    def __post_init__(self) -> None:
        if not (len(self.a) == len(self.b) == len(self.breaks_deg) + 1):
            raise ValueError("S table: need one (a, b) pair more than breaks")


@dataclass(frozen=True)
class SlopeLengthParams:
    """How λ is accumulated and L, S are formed.  Each default names its source or says NOT verified.

    ``methods-verification.md`` is ``shared/reference/methods-verification.md`` of the project;
    effects measured on a real DEM are in docs/validation.md ("Terrain on real DEMs").

    cutoff_low, cutoff_high
        Flow into a cell is cut where its downslope angle falls below ``cutoff × θd(upslope)``:
        0.7 where the selecting slope is below 5 % (2.8624°), 0.5 otherwise.  Source: Van Remortel
        et al. AML lineage as ported in crazyzlj/Python ``RUSLE_LS/RUSLE_LS(Tool).py`` lines 10–11,
        35–41, 155, 243, and the C# LS tool (LS_TOOL lineage) ``BuildSlopeCutGrid``
        (methods-verification.md §1b, CONFIRMED).  The 2.8624° switch is 5 % (the AML's test),
        not 5° (a wrong comment in that port).
    cutoff_selector
        Which cell's slope picks 0.7 or 0.5: ``"downstream"`` = the receiving cell (Van Remortel
        AML, RUSLE_LS(Tool).py line 243; default) or ``"upstream"`` = the donor (C# LS tool).  The
        two lineage implementations differ (§1b); it matters only where the slope crosses 2.86°.
    max_length_m
        Cap on the horizontal λ, default **333 m**.  NOT verified for regional CSLE: no national cap
        was found for the monitoring practice or LS_TOOL, and the C# tool has none (§1c).  333 m is
        the cap the InVEST discussion attributes to McCool et al. (natcap/invest PR #199; InVEST's
        help gives 122–333 m, PR #534; methods.md §1.4), i.e. a RUSLE-lineage value.  SL 773-2018's 100 m cap
        belongs to the project-level model and must not be used here.  On the real Jacksboro DEM
        (90 m) 19.7 % of cells reach 333 m and the cap lowers mean LS by 9 % against no cap.
    l_form
        ``"segment"`` (default): Foster & Wischmeier (1974) segment L, as the monitoring practice
        computes it (ChinaXiv-202108.00091 line 57, methods-verification.md §1a; Fu Suhua, Liu Baoyu
        et al. 2015 "segmented-slope L", §1b); ``"cell"``: ``(λ/22.13)^m`` as the C# tool's CSLE mode
        (which uses 22.1, §1a).
    m_table, s_table
        CSLE m classes in degrees (C# tool ``TableLookUp_csle``, §1a) and S of McCool et al. (1987)
        / Liu et al. (1994), see the module docstring.
    """

    cutoff_low: float = 0.7
    cutoff_high: float = 0.5
    cutoff_selector: str = "downstream"  # "downstream" (receiving cell, AML) or "upstream" (donor, C# tool)
    max_length_m: float = 333.0  # NOT verified for CSLE (see the class docstring)
    l_form: str = "segment"  # "segment" or "cell"
    m_table: MExponentTable = field(default_factory=MExponentTable)
    s_table: SlopeFactorTable = field(default_factory=SlopeFactorTable)

    def __post_init__(self) -> None:
        if self.cutoff_selector not in ("downstream", "upstream"):
            raise ValueError("cutoff_selector must be 'downstream' or 'upstream'")
        if self.l_form not in ("segment", "cell"):
            raise ValueError("l_form must be 'segment' or 'cell'")
        if not (0 < self.cutoff_low <= 1 and 0 < self.cutoff_high <= 1):
            raise ValueError("cutoff factors must lie in (0, 1]")
        if self.max_length_m <= 0:
            raise ValueError("max_length_m must be positive")


@nb.njit(cache=True, inline="always")
def _s_one(th, breaks, a, b):
    """S of one slope angle (degrees): the class is the number of breaks at or below θ."""
    k = 0
    while k < breaks.shape[0] and th >= breaks[k]:
        k += 1
    return a[k] * math.sin(math.radians(th)) + b[k]


@nb.njit(cache=True, inline="always")
def _m_one(th, upper, closed, values):
    """m of one slope angle: the first class with θ < upper (or θ = upper where the class is closed)."""
    for i in range(upper.shape[0]):
        if th < upper[i] or (closed[i] and th == upper[i]):
            return values[i]
    return values[values.shape[0] - 1]


@nb.njit(cache=True)
def _map_s(theta, breaks, a, b):
    out = np.empty(theta.shape[0], np.float32)
    for i in range(theta.shape[0]):
        out[i] = _s_one(theta[i], breaks, a, b)
    return out


@nb.njit(cache=True)
def _map_m(theta, upper, closed, values):
    out = np.empty(theta.shape[0], np.float64)
    for i in range(theta.shape[0]):
        out[i] = _m_one(theta[i], upper, closed, values)
    return out


def _s_arrays(table: SlopeFactorTable):
    return np.array(table.breaks_deg, np.float64), np.array(table.a, np.float64), np.array(table.b, np.float64)


def _m_arrays(table: MExponentTable):
    return np.array(table.upper_deg, np.float64), np.array(table.closed, np.bool_), np.array(table.values, np.float64)


def s_factor(theta_deg: np.ndarray, table: SlopeFactorTable = SlopeFactorTable()) -> np.ndarray:
    """Slope steepness factor S from the slope angle (degrees), float32."""
    theta = np.asarray(theta_deg, dtype=np.float64)
    return _map_s(theta.ravel(), *_s_arrays(table)).reshape(theta.shape)


def m_exponent(theta_deg: np.ndarray, table: MExponentTable = MExponentTable()) -> np.ndarray:
    """Slope-length exponent m from the slope angle (degrees)."""
    theta = np.asarray(theta_deg, dtype=np.float64)
    return _map_m(theta.ravel(), *_m_arrays(table)).reshape(theta.shape)


@nb.njit(cache=True, parallel=True)
def _downslope_angle(z, valid, fdir, horn, dx, dy):
    nrows, ncols = z.shape
    diag = math.hypot(dx, dy)
    theta = np.full((nrows, ncols), np.nan, np.float32)
    ncsl = np.full((nrows, ncols), np.nan, np.float32)
    ok = valid.ravel()
    zf = z.ravel()
    for r in nb.prange(nrows):
        for c in range(ncols):
            if not valid[r, c]:
                continue
            code = fdir[r, c]
            d = receiver(fdir, r, c, nrows, ncols)
            if d >= 0 and ok[d]:
                k = 0
                while (1 << k) != code:
                    k += 1
                dist = diag if (DROW[k] != 0 and DCOL[k] != 0) else (dx if DROW[k] == 0 else dy)
                drop = np.float64(z[r, c]) - np.float64(zf[d])
                t = math.degrees(math.atan(drop / dist)) if drop > 0 else 0.0
                ncsl[r, c] = dist
            else:
                t = horn[r, c]
                ncsl[r, c] = dx
            theta[r, c] = t if t > 0.0 else FLAT_DEG
    return theta, ncsl


@nb.njit(cache=True)
def _slope_length(fdir, valid, theta, ncsl, channel, low, high, upstream_selects, max_len):
    nrows, ncols = fdir.shape
    n = nrows * ncols
    ok = valid.ravel()
    th = theta.ravel()
    nc = ncsl.ravel()
    ch = channel.ravel()
    indeg = indegree_d8(fdir, valid)
    lam_in = np.full(n, -1.0, np.float32)  # best λ(n) + NCSL(n) over uncut donors; −1: none
    lam = np.full(n, np.nan, np.float32)
    done = 0
    for start in range(n):
        if not ok[start] or indeg[start] != 0:
            continue
        i = start
        while True:
            li = lam_in[i] if lam_in[i] >= 0.0 else 0.5 * nc[i]
            if li > max_len:
                li = max_len
            lam[i] = li
            indeg[i] = DONE
            done += 1
            r = i // ncols
            d = receiver(fdir, r, i - r * ncols, nrows, ncols)
            if d < 0 or not ok[d]:
                break
            sel = th[i] if upstream_selects else th[d]
            factor = low if sel < LOW_SLOPE_DEG else high
            cut = ch[d] or th[d] < factor * th[i]
            if not cut:
                v = li + nc[i]
                if v > lam_in[d]:
                    lam_in[d] = v
            indeg[d] -= 1
            if indeg[d] != 0:
                break
            i = d
    return lam.reshape(nrows, ncols), done


def slope_length(fdir: np.ndarray, valid: np.ndarray, theta_deg: np.ndarray, ncsl: np.ndarray,
                 channel: np.ndarray | None, params: SlopeLengthParams = SlopeLengthParams()) -> np.ndarray:
    """Cumulative horizontal slope length λ (m) at cell centres; NaN on invalid cells."""
    valid = np.ascontiguousarray(valid, np.bool_)
    channel = np.zeros(valid.shape, np.bool_) if channel is None else np.ascontiguousarray(channel, np.bool_)
    lam, done = _slope_length(np.ascontiguousarray(fdir, np.uint8), valid, np.ascontiguousarray(theta_deg, np.float32),
                              np.ascontiguousarray(ncsl, np.float32), channel, params.cutoff_low, params.cutoff_high,
                              params.cutoff_selector == "upstream", params.max_length_m)
    if done != int(valid.sum()):
        raise ValueError("flow directions contain a cycle: not every valid cell drains to an outlet")
    return lam


def downslope_angle(z: np.ndarray, valid: np.ndarray, fdir: np.ndarray, horn_slope_deg: np.ndarray,
                    dx: float, dy: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Downslope angle θd (degrees, flats 0.1°) and NCSL (m) along the D8 directions."""
    dy = dx if dy is None else dy
    return _downslope_angle(np.ascontiguousarray(z, np.float32), np.ascontiguousarray(valid, np.bool_),
                            np.ascontiguousarray(fdir, np.uint8), np.ascontiguousarray(horn_slope_deg, np.float32),
                            float(dx), float(dy))


@nb.njit(cache=True, parallel=True)
def _l_and_s(lam, ncsl, theta, valid, segment, m_upper, m_closed, m_values, s_breaks, s_a, s_b):
    nrows, ncols = lam.shape
    lout = np.full((nrows, ncols), np.nan, np.float32)
    sout = np.full((nrows, ncols), np.nan, np.float32)
    for r in nb.prange(nrows):
        for c in range(ncols):
            if not valid[r, c]:
                continue
            th = max(np.float64(theta[r, c]), FLAT_DEG)
            m = _m_one(th, m_upper, m_closed, m_values)
            lam_c = np.float64(lam[r, c])
            if segment:
                half = np.float64(ncsl[r, c]) / 2.0
                lin = max(lam_c - half, 0.0)
                lo = lin + 2.0 * half
                lout[r, c] = (lo ** (m + 1.0) - lin ** (m + 1.0)) / ((lo - lin) * 22.13 ** m)
            else:
                lout[r, c] = (lam_c / 22.13) ** m
            sout[r, c] = _s_one(th, s_breaks, s_a, s_b)
    return lout, sout


def l_and_s(lam: np.ndarray, ncsl: np.ndarray, theta_deg: np.ndarray, valid: np.ndarray,
            params: SlopeLengthParams = SlopeLengthParams()) -> tuple[np.ndarray, np.ndarray]:
    """L and S in one float32 pass (the slope below 0.1° counts as 0.1°); NaN on invalid cells."""
    return _l_and_s(np.ascontiguousarray(lam, np.float32), np.ascontiguousarray(ncsl, np.float32),
                    np.ascontiguousarray(theta_deg, np.float32), np.ascontiguousarray(valid, np.bool_),
                    params.l_form == "segment", *_m_arrays(params.m_table), *_s_arrays(params.s_table))


def l_factor(lam: np.ndarray, ncsl: np.ndarray, theta_deg: np.ndarray,
             params: SlopeLengthParams = SlopeLengthParams()) -> np.ndarray:
    """Slope-length factor L from λ at cell centres (segment or cell form, see module docstring)."""
    valid = np.isfinite(lam) & np.isfinite(theta_deg)
    return l_and_s(lam, ncsl, theta_deg, valid, params)[0]
