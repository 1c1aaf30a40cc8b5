"""R per station-year by the half-month daily model, checked against a hand computation."""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import pytest

from shuibao.erosion.tables import r_model
from shuibao.stations.erosivity import R_UNIT, annual_erosivity

# Zhang, Xie & Liu 2002 (methods.md §2.1), written out here rather than read from the code
THRESHOLD, BETA_A, BETA_B, BETA_C, ALPHA_A, ALPHA_B = 12.0, 0.8363, 18.144, 24.455, 21.586, -7.1891


def hand_example() -> tuple[list[date], list[float], float, dict[int, float]]:
    """Three erosive days in three half-months of 2024, two wet days below the 12 mm threshold.

    erosive: 10 Mar 20 mm (half-month 5 = index 4), 20 Jun 40 mm (index 11), 16 Aug 12.0 mm (index 15:
    day 16 opens the second half; 12.0 counts, ≥ 12); not erosive: 11 Mar 11.9 mm, 15 Aug 5 mm.
        P_d12 = (20 + 40 + 12) / 3 = 24 mm;  P_y12 = 72 mm
        β = 0.8363 + 18.144/24 + 24.455/72 = 0.8363 + 0.756 + 0.3396528 = 1.9319528
        α = 21.586 · 1.9319528^(−7.1891) = 0.1897207
        M_4 = α·20^β = 61.893;  M_11 = α·40^β = 236.167;  M_15 = α·12^β = 23.070
        R = 321.130 MJ·mm/(hm²·h·a)
    """
    days = [date(2024, 3, 10), date(2024, 3, 11), date(2024, 6, 20), date(2024, 8, 15), date(2024, 8, 16)]
    rain = [20.0, 11.9, 40.0, 5.0, 12.0]
    beta = BETA_A + BETA_B / 24.0 + BETA_C / 72.0
    alpha = ALPHA_A * beta ** ALPHA_B
    half = {4: alpha * 20.0 ** beta, 11: alpha * 40.0 ** beta, 15: alpha * 12.0 ** beta}
    return days, rain, sum(half.values()), half


def test_shipped_constants_are_the_papers():
    p = r_model()
    assert (p["threshold_mm"], p["beta_a"], p["beta_b"], p["beta_c"], p["alpha_a"], p["alpha_b"]) == \
        (THRESHOLD, BETA_A, BETA_B, BETA_C, ALPHA_A, ALPHA_B)


def test_r_of_the_hand_computed_example():
    days, rain, r_hand, half_hand = hand_example()
    assert r_hand == pytest.approx(321.130, abs=5e-4)  # the number worked out in the docstring
    assert half_hand[11] == pytest.approx(236.167, abs=5e-4)
    (res,) = annual_erosivity(days, rain, params=r_model())
    assert res.year == 2024 and R_UNIT == "MJ·mm/(hm²·h·a)"
    assert res.r == pytest.approx(r_hand, rel=1e-12)
    assert res.beta == pytest.approx(1.9319528, abs=1e-7) and res.alpha == pytest.approx(0.1897207, abs=1e-7)
    assert (res.p_d12, res.p_y12, res.erosive_days) == (24.0, 72.0, 3)
    assert len(res.half_month) == 24
    for i in range(24):
        assert res.half_month[i] == pytest.approx(half_hand.get(i, 0.0), rel=1e-12), i


def test_only_ok_days_count():
    days, rain, r_hand, _half = hand_example()
    extra_days = [date(2024, 7, 1), date(2024, 7, 2), date(2024, 7, 3), date(2024, 7, 4)]
    flags = ["ok"] * len(days) + ["spike", "impossible", "negative", "missing"]
    (res,) = annual_erosivity(days + extra_days, rain + [300.0, 1500.0, -2.0, math.nan], flags, params=r_model())
    assert res.r == pytest.approx(r_hand, rel=1e-12)
    assert res.days_ok == 5
    # the same spike day, if it were ok, would change R: the flag is what keeps it out
    (res2,) = annual_erosivity(days + extra_days[:1], rain + [300.0], params=r_model())
    assert res2.r > 2 * r_hand


def test_completeness_and_incomplete_years():
    days, rain, _r, _half = hand_example()
    (res,) = annual_erosivity(days, rain, params=r_model(), min_completeness=0.9)
    assert (res.days_in_year, res.days_ok) == (366, 5)
    assert res.completeness == pytest.approx(5 / 366) and res.complete is False
    full = [date(2023, 1, 1) + timedelta(days=i) for i in range(365)]
    values = [0.0] * 365
    values[100] = 30.0
    keep = full[:329] + full[330:]  # 364 days of 365
    (res,) = annual_erosivity(keep, values[:329] + values[330:], params=r_model(), min_completeness=364 / 365)
    assert res.complete is True and res.completeness == pytest.approx(364 / 365)
    (res,) = annual_erosivity(keep, values[:329] + values[330:], params=r_model(), min_completeness=0.999)
    assert res.complete is False and res.r > 0


def test_years_are_computed_on_their_own():
    days, rain, r_hand, _half = hand_example()
    other = [date(2023, 7, 1), date(2023, 7, 20)]
    res = annual_erosivity(other + days, [80.0, 60.0] + rain, params=r_model())
    assert [r.year for r in res] == [2023, 2024]
    assert res[1].r == pytest.approx(r_hand, rel=1e-12)  # 2023's storms do not change 2024's α and β
    beta = BETA_A + BETA_B / 70.0 + BETA_C / 140.0
    assert res[0].r == pytest.approx(ALPHA_A * beta ** ALPHA_B * (80.0 ** beta + 60.0 ** beta), rel=1e-12)


def test_years_without_ok_or_erosive_days():
    res = annual_erosivity([date(2022, 5, 1), date(2024, 5, 1)], [5.0, 30.0], ["ok", "gap"], params=r_model(),
                           years=[2022, 2023, 2024])
    assert [r.year for r in res] == [2022, 2023, 2024]
    assert res[0].r == 0.0 and res[0].erosive_days == 0
    assert np.isnan(res[1].r) and res[1].days_ok == 0 and not res[1].complete
    assert np.isnan(res[2].r)


def test_repeated_ok_days_are_refused():
    with pytest.raises(ValueError, match="run QC first"):
        annual_erosivity([date(2024, 5, 1), date(2024, 5, 1)], [30.0, 30.0], params=r_model())
    with pytest.raises(ValueError, match="missing"):
        annual_erosivity([date(2024, 5, 1)], [30.0], params={"threshold_mm": 12})
