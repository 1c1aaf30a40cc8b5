"""Warm/cold-season daily R, the K correction's unit and clip, and the finite-factor scan (hand computations)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from shuibao.core import csle


def test_seasonal_model_sums_alpha_p_beta_by_half_month():
    # constants given explicitly: the oracle is the arithmetic, not the shipped table
    kw = dict(threshold_mm=10.0, beta=1.7, alpha_warm=0.4, alpha_cold=0.3)
    year = [2021, 2021, 2021, 2021, 2021, 2022]
    month = [6, 6, 10, 7, 4, 6]
    day = [3, 20, 5, 1, 30, 1]
    rain = [20.0, 30.0, 15.0, 9.9, 10.0, 2.0]
    res = csle.erosivity_daily_seasonal(year, month, day, rain, **kw)
    e = {  # half-month index: (month − 1)·2 + (day > 15)
        10: 0.4 * math.exp(1.7 * math.log(20.0)),   # 3 June, warm
        11: 0.4 * math.exp(1.7 * math.log(30.0)),   # 20 June, warm
        18: 0.3 * math.exp(1.7 * math.log(15.0)),   # 5 October, cold
        7: 0.3 * math.exp(1.7 * math.log(10.0)),    # 30 April, cold; 10 mm is erosive (≥)
    }  # 9.9 mm on 1 July is below the threshold; 2022 has no erosive day and counts as R = 0
    assert res.per_year[2021] == pytest.approx(sum(e.values()))
    assert res.per_year[2022] == 0.0 and res.years == 2
    assert res.annual_mean == pytest.approx(sum(e.values()) / 2)
    for i, v in e.items():
        assert res.half_month_mean[i] == pytest.approx(v / 2)
    assert res.half_month_share.sum() == pytest.approx(1.0) and res.model == "xie2016_seasonal"


def test_seasonal_model_rejects_bad_rain():
    with pytest.raises(ValueError):
        csle.erosivity_daily_seasonal([2021], [6], [1], [math.nan])


def test_k_correction_is_applied_to_the_us_value_then_converted():
    sand, silt, clay, oc = np.array([40.0]), np.array([40.0]), np.array([20.0]), np.array([1.0])
    k_us = csle.k_epic(sand, silt, clay, oc, si_units=False)
    k_si, clipped = csle.k_epic_corrected(sand, silt, clay, oc)
    assert k_si[0] == pytest.approx((-0.01383 + 0.51575 * k_us[0]) * 0.1317) and not clipped[0]
    # a clay soil with K_SI below 0.027: the SI misapplication goes negative, the US one does not
    k_clay = csle.k_epic(np.array([10.0]), np.array([15.0]), np.array([75.0]), np.array([2.0]))
    assert k_clay[0] < 0.01383 / 0.51575
    assert -0.01383 + 0.51575 * k_clay[0] < 0
    assert csle.k_epic_corrected(np.array([10.0]), np.array([15.0]), np.array([75.0]), np.array([2.0]))[0][0] > 0


def test_k_correction_clips_negative_k_and_flags_it():
    # no silt: EPIC's silt ratio is 0, K_EPIC = 0, corrected −0.01383 < 0 → 0
    k_si, clipped = csle.k_epic_corrected(np.array([50.0, 40.0]), np.array([0.0, 40.0]), np.array([50.0, 20.0]),
                                          np.array([1.0, 1.0]))
    assert k_si[0] == 0.0 and clipped.tolist() == [True, False] and k_si[1] > 0


def test_invalid_cells_counts_and_locates_only_valid_cells():
    v = np.array([[1.0, -2.0, np.nan], [np.inf, 0.0, -1.0]], np.float32)
    valid = np.array([[True, True, True], [True, True, False]])
    n_neg, n_nan, n_inf, first = csle.invalid_cells(v, valid)
    assert (n_neg, n_nan, n_inf, first) == (1, 1, 1, 1)  # the −1 at (1, 2) lies outside the data
    assert csle.invalid_cells(np.ones((2, 2)), np.ones((2, 2), bool))[3] == -1
    assert csle.invalid_cells(np.array([[-np.inf]]), np.ones((1, 1), bool))[:3] == (1, 0, 0)
