"""CSLE factors against hand-computed examples and the SL 190-2007 grade boundaries.

Oracles are numbers whose source was checked (DESIGN.md §3; reference/methods.md and methods-verification.md):
the Zhang Wenbo 2002 half-month R model, EPIC K with 0.1317, the SL 190-2007 classes are [V] and are checked
against hand arithmetic.  Where a constant is still [R] (Zhang Keli 2007 K correction, Cai 2000 B, the census
grass SLR, the Zhang & Fu 2003 annual R) the test checks a property — monotonic, bounded, continuous at a
class bound, a scaling law — rather than restating the constant.
"""

from __future__ import annotations

import numpy as np
import pytest

from shuibao.core import csle


def test_half_month_erosivity_hand_example():
    # constants of Zhang Wenbo et al. 2002, [V] (methods-verification.md §2a)
    # 2021: 10 Jan 20 mm (half-month 0), 20 Jul 50 mm (13), 21 Jul 5 mm (below 12 mm); 2022: 5 Jul 30 mm (12)
    year = [2021, 2021, 2021, 2022]
    month = [1, 7, 7, 7]
    day = [10, 20, 21, 5]
    rain = [20.0, 50.0, 5.0, 30.0]
    res = csle.erosivity_daily(year, month, day, rain)
    # by hand: P_d12 = (20+50+30)/3 = 33.333 mm; P_y12 = 100/2 = 50 mm
    beta = 0.8363 + 18.144 / (100 / 3) + 24.455 / 50  # = 1.869720
    alpha = 21.586 * beta ** -7.1891  # = 21.586 · e^(−7.1891 · 0.625788) = 0.24007
    assert res.p_d12 == pytest.approx(100 / 3) and res.p_y12 == pytest.approx(50.0)
    assert res.beta == pytest.approx(1.869720, abs=1e-6)
    assert res.alpha == pytest.approx(0.24007, abs=1e-5)
    r2021 = alpha * (20 ** beta + 50 ** beta)
    r2022 = alpha * 30 ** beta
    assert res.per_year == pytest.approx({2021: r2021, 2022: r2022})
    assert res.annual_mean == pytest.approx((r2021 + r2022) / 2)
    assert res.annual_mean == pytest.approx(282.3, abs=0.3)  # 0.24007·((270.95 + 1502.6) + 577.9)/2
    assert res.half_month_share[13] == pytest.approx(alpha * 50 ** beta / 2 / res.annual_mean)
    assert res.half_month_share.sum() == pytest.approx(1.0)
    assert list(np.nonzero(res.half_month_mean)[0]) == [0, 12, 13]


def test_erosivity_rejects_negative_rain():
    with pytest.raises(ValueError, match="non-negative"):
        csle.erosivity_daily([2021], [1], [1], [-1.0])


def test_no_erosive_day_gives_zero():
    assert csle.erosivity_daily([2021, 2021], [1, 2], [1, 1], [3.0, 11.9]).annual_mean == 0.0


def test_half_month_boundaries():
    assert list(csle.half_month_index(np.array([1, 1, 2, 12]), np.array([15, 16, 1, 31]))) == [0, 1, 2, 23]


def test_k_epic_hand_example():
    # EPIC (Williams & Sharpley 1990) and 0.1317, [V] (methods-verification.md §3a, §3b)
    # sand 35, silt 40, clay 25 %, organic carbon 0.8 %:
    # 0.375245 · 0.864457 · 0.957412 · 0.999962 = 0.31056 (US) → ×0.1317 = 0.040900 (SI)
    assert csle.k_epic(35.0, 40.0, 25.0, 0.8, si_units=False) == pytest.approx(0.31056, abs=5e-5)
    assert csle.k_epic(35.0, 40.0, 25.0, 0.8) == pytest.approx(0.040900, abs=1e-5)


def test_k_correction_is_affine_and_increasing():
    # Zhang Keli 2007's constants are [R]: check the shape, an increasing straight line, not its numbers
    k = np.array([0.1, 0.2, 0.3, 0.4])
    out = csle.k_chinese_correction(k)
    assert np.all(np.diff(out) > 0)
    assert np.allclose(np.diff(out, 2), 0.0, atol=1e-15)  # equal steps for equal steps of K_EPIC
    assert csle.k_chinese_correction(0.5, a=0.0, b=1.0) == 0.5  # the identity when asked for it


def test_k_corrected_is_never_negative():
    k_si, clipped = csle.k_epic_corrected(np.array([35.0, 0.0]), np.array([40.0, 0.0]), np.array([25.0, 100.0]),
                                          np.array([0.8, 0.0]), a=-10.0, b=1.0)
    assert np.all(k_si == 0.0) and clipped.all()  # an intercept below every K clips all to 0


def test_fvc_dimidiate_with_percentile_end_members():
    ndvi = np.linspace(-0.1, 0.9, 101, dtype=np.float32)
    fvc, lo, hi = csle.fvc_dimidiate(ndvi, np.ones(ndvi.shape, bool))
    # percentiles come from a 1e-4 histogram: within a bin of numpy's interpolated percentile
    assert lo == pytest.approx(np.percentile(ndvi, 5), abs=1e-4) and hi == pytest.approx(np.percentile(ndvi, 95), abs=1e-4)
    assert fvc.min() == 0 and fvc.max() == 1
    assert fvc[50] == pytest.approx((0.4 - lo) / (hi - lo), abs=1e-6)
    fixed, lo, hi = csle.fvc_dimidiate(ndvi, np.ones(ndvi.shape, bool), 0.0, 0.8)
    assert (lo, hi) == (0.0, 0.8) and fixed[50] == pytest.approx(0.5)


def test_b_cai2000_bounds_and_monotonic():
    # Cai 2000's coefficients are [R]: check the limits, the monotonic fall and continuity at 78.3 %
    assert csle.b_cai2000(np.array([0.0, 0.783, 0.9, 1.0])).tolist() == [1.0, 0.0, 0.0, 0.0]
    f = np.linspace(0.0, 1.0, 1001)
    b = csle.b_cai2000(f)
    assert np.all((b >= 0) & (b <= 1)) and np.all(np.diff(b) <= 0)
    just_below = csle.b_cai2000(np.array([0.783 - 1e-9]))[0]
    assert just_below == pytest.approx(0.0, abs=5e-4)  # the formula meets 0 at the class bound: no jump


def test_b_grass_slr_bounds_and_monotonic():
    # the census grass SLR is [R]: a ratio in (0, 1) that falls as the cover grows
    b = csle.b_grass_slr(np.linspace(0.0, 1.0, 101))
    assert np.all((b > 0) & (b < 1)) and np.all(np.diff(b) < 0)


def test_b_factor_by_class():
    lu = np.array([1, 3, 4, 7])
    fvc = np.array([0.3, 0.5, 0.5, 0.0], np.float32)
    b = csle.b_factor(lu, fvc, np.array([1, 3, 4, 7]), np.array(["constant", "cai2000", "grass_slr", "constant"]),
                      np.array([1.0, np.nan, np.nan, 0.0]))
    assert b[0] == 1.0 and b[3] == 0.0
    assert b[1] == pytest.approx(csle.b_cai2000(np.array([0.5]))[0])
    unknown = csle.b_factor(np.array([9]), np.array([0.5]), np.array([1]), np.array(["constant"]), np.array([1.0]))
    assert np.isnan(unknown[0])


# SL 190-2007 classes with the 500 t/(km²·a) tolerance are [V]; the left-closed boundary rule is [D]
@pytest.mark.parametrize("modulus, expected", [
    (0, 1), (499.99, 1), (500, 2), (2499.9, 2), (2500, 3), (4999, 3), (5000, 4), (7999.9, 4),
    (8000, 5), (14999, 5), (15000, 6), (1e7, 6), (np.nan, 0),
])
def test_grades_are_left_closed(modulus, expected):
    assert csle.grade(np.array([modulus]))[0] == expected


def test_tolerance_is_a_parameter():
    assert csle.grade(np.array([300.0]), tolerance=200)[0] == 2
    with pytest.raises(ValueError):
        csle.grade(np.array([1.0]), tolerance=3000)


def test_soil_loss_is_the_product_in_place():
    a = np.array([2.0, 3.0], np.float32)
    out = csle.soil_loss(a, np.array([0.5, 2.0]), np.array([1.0, np.nan]), out=a)
    assert out is a and out[0] == 1.0 and np.isnan(out[1])


def test_idw_exact_at_points_and_between():
    pts = np.array([[0.0, 0.0], [10.0, 0.0]])
    grid = csle.idw(pts, np.array([1.0, 3.0]), np.array([0.0, 5.0, 10.0]), np.array([0.0]))
    assert grid[0].tolist() == [1.0, 2.0, 3.0]


def test_annual_fallback_is_a_power_law():
    # Zhang & Fu 2003's constants are [R]: R(0) = 0, increasing, and R(2P)/R(P) the same at every P
    r = csle.erosivity_annual(np.array([0.0, 500.0, 1000.0, 2000.0]))
    assert r[0] == 0.0 and np.all(np.diff(r) > 0)
    assert r[2] / r[1] == pytest.approx(r[3] / r[2], rel=1e-12)
    assert csle.erosivity_annual(np.array([1100.0]), a=2.0, b=1.0)[0] == 2200.0
    with pytest.raises(ValueError, match="non-negative"):
        csle.erosivity_annual(np.array([-1.0]))


def test_ndvi_percentile_on_a_large_sample():
    rng = np.random.default_rng(0)
    ndvi = rng.normal(0.5, 0.2, 200_000).clip(-1, 1).astype(np.float32)
    valid = rng.random(ndvi.shape) > 0.1
    for q in (5, 50, 95):
        assert csle.ndvi_percentile(ndvi, valid, q) == pytest.approx(np.percentile(ndvi[valid], q), abs=1.5e-4)


def test_masked_mean():
    v = np.array([1.0, np.nan, 3.0, 100.0], np.float32)
    assert csle.masked_mean(v, np.array([True, True, True, False])) == 2.0


def test_unknown_cover_gives_unknown_b():
    b = csle.b_factor(np.array([[3, 2, 4]]), np.array([[np.nan] * 3], np.float32), np.array([2, 3, 4]),
                      np.array(["cai2000", "cai2000", "grass_slr"]), np.array([np.nan] * 3))
    assert np.isnan(b).all()
    assert np.isnan(csle.b_cai2000(np.array([np.nan]))[0])


def test_idw_skips_masked_cells_and_keeps_the_others():
    pts = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    vals = np.array([1.0, 2.0, 4.0])
    xs, ys = np.linspace(-5, 15, 9), np.linspace(15, -5, 7)
    full = csle.idw(pts, vals, xs, ys)
    mask = np.zeros((7, 9), bool)
    mask[2:5, 3:8] = True
    part = csle.idw(pts, vals, xs, ys, mask=mask)
    assert np.isnan(part[~mask]).all()
    assert np.array_equal(part[mask], full[mask])
