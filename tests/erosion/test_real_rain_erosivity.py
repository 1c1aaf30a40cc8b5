"""Both daily R models on a REAL daily series against an independent hand sum.

tests/data/rain_cma_50862_tieli_1975_1979.csv: station 50862 铁力 Tieli (Heilongjiang), 1975-01-01…1979-12-31,
daily rain of the CMA 中国地面气候资料日值数据集 (V3.0) as shipped in the R package tidymet (CUG-Flood/tidymet,
data/prcp.rda, commit 219a13a7, GPL-3; values there in 0.1 mm, divided by 10 here).  See tests/data/README.md.
"""

from __future__ import annotations

import csv
import math
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from shuibao.erosion.inputs import StationSeries, station_erosivity

SERIES = Path(__file__).parents[1] / "data" / "rain_cma_50862_tieli_1975_1979.csv"


def load():
    with open(SERIES, encoding="utf-8") as fh:
        rows = [(date.fromisoformat(r["date"]), float(r["rain_mm"])) for r in csv.DictReader(fh)]
    return rows


def series(rows):
    return StationSeries("50862", 0.0, 0.0, np.array([d.year for d, _ in rows]), np.array([d.month for d, _ in rows]),
                         np.array([d.day for d, _ in rows]), np.array([p for _, p in rows]))


PARAMS = {  # written out here, not read from r_model.csv: the oracle below must not share the table
    "threshold_mm": 12.0, "beta_a": 0.8363, "beta_b": 18.144, "beta_c": 24.455, "alpha_a": 21.586, "alpha_b": -7.1891,
    "seasonal_threshold_mm": 10.0, "seasonal_beta": 1.7265, "seasonal_alpha_warm": 0.3937, "seasonal_alpha_cold": 0.3101,
}


def test_the_series_is_complete_and_plausible():
    rows = load()
    assert len(rows) == 5 * 365 + 1 and rows[0][0] == date(1975, 1, 1) and rows[-1][0] == date(1979, 12, 31)
    assert sum(p for _, p in rows) / 5 == pytest.approx(558.58, abs=0.01)  # mm a year


def test_seasonal_model_against_a_hand_sum_of_every_erosive_day():
    rows = load()
    (_, res), = station_erosivity([series(rows)], PARAMS, "xie2016_seasonal")
    for year in range(1975, 1980):
        hand = 0.0
        for d, p in rows:
            if d.year == year and p >= 10.0:
                alpha = 0.3937 if 5 <= d.month <= 9 else 0.3101
                hand += alpha * p ** 1.7265
        assert res.per_year[year] == pytest.approx(hand, rel=1e-12)
    # three events by hand, written as numbers: 1975's erosive days of one half-month
    july_2nd = [(d, p) for d, p in rows if d.year == 1975 and d.month == 7 and d.day > 15 and p >= 10]
    assert sum(0.3937 * math.exp(1.7265 * math.log(p)) for _, p in july_2nd) == pytest.approx(
        sum(0.3937 * p ** 1.7265 for _, p in july_2nd))


def test_zhang_model_against_a_hand_computation():
    rows = load()
    (_, res), = station_erosivity([series(rows)], PARAMS, "zhang2002")
    erosive = [p for _, p in rows if p >= 12.0]
    p_d12 = sum(erosive) / len(erosive)
    p_y12 = sum(erosive) / 5
    beta = 0.8363 + 18.144 / p_d12 + 24.455 / p_y12
    alpha = 21.586 * beta ** -7.1891
    for year in range(1975, 1980):
        hand = sum(alpha * p ** beta for d, p in rows if d.year == year and p >= 12.0)
        assert res.per_year[year] == pytest.approx(hand, rel=1e-12)
    assert res.beta == pytest.approx(beta) and res.alpha == pytest.approx(alpha)


def test_the_two_models_ratio_on_the_real_series():
    rows = load()
    (_, seasonal), = station_erosivity([series(rows)], PARAMS, "xie2016_seasonal")
    (_, zhang), = station_erosivity([series(rows)], PARAMS, "zhang2002")
    ratio = seasonal.annual_mean / zhang.annual_mean
    # recorded in docs/validation.md; the bound only says the two models are of one order
    assert 0.5 < ratio < 2.0
    print(f"Tieli 1975-1979: seasonal {seasonal.annual_mean:.1f}, zhang {zhang.annual_mean:.1f}, ratio {ratio:.3f}")
