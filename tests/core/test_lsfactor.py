"""Slope length, L and S: analytic planes, slope breaks, channels and the published S values."""

from __future__ import annotations

import numpy as np
import pytest

from shuibao.core import hydrology as h
from shuibao.core import lsfactor as ls
from shuibao.core import terrain as t
from shuibao.erosion.engine import TerrainParams, compute_terrain
from shuibao.grid import GridSpec


def plane(rows=60, cols=20, dx=10.0, theta=8.0):
    r = np.arange(rows)[:, None] * np.ones((1, cols))
    return (1000 - r * dx * np.tan(np.radians(theta))).astype(np.float32)


def lam_of(z, dx, params=ls.SlopeLengthParams(), channel=None):
    valid = np.isfinite(z)
    f = h.fill_depressions(z, valid)
    d = h.flow_direction_d8(f, valid, dx)
    horn = t.slope_degrees(f, valid, dx)
    theta, ncsl = ls.downslope_angle(f, valid, d, horn, dx)
    return ls.slope_length(d, valid, theta, ncsl, channel, params), ncsl, horn, d


@pytest.mark.parametrize("theta, expected", [(3, 0.5952), (8, 1.8381), (15, 4.7107), (30, 9.995)])
def test_s_factor_published_values(theta, expected):
    assert ls.s_factor(np.array([theta], float))[0] == pytest.approx(expected, abs=5e-5)


def test_s_is_discontinuous_at_10_degrees():
    below, at = ls.s_factor(np.array([np.nextafter(10, 0), 10.0]))
    assert below == pytest.approx(2.4173, abs=1e-4) and at == pytest.approx(2.8446, abs=1e-4)


def test_m_classes_in_degrees_with_lstool_closure():
    m = ls.m_exponent(np.array([0.5, 1.0, 2.0, 3.0, 4.9, 5.0, 20.0]))
    assert list(m) == [0.2, 0.2, 0.3, 0.4, 0.4, 0.5, 0.5]


def test_plane_slope_and_s_are_uniform():
    z = plane()
    valid = np.ones(z.shape, bool)
    slope = t.slope_degrees(z, valid, 10.0)
    assert np.allclose(slope, 8.0, atol=1e-3)
    _, aspect = t.slope_aspect(z, valid, 10.0)
    assert np.allclose(aspect, 180.0)  # the plane falls to the south
    assert np.ptp(ls.s_factor(slope)) < 1e-3


def test_plane_lambda_grows_by_one_cell_per_row():
    lam, ncsl, horn, d = lam_of(plane(), 10.0, ls.SlopeLengthParams(max_length_m=1e9))
    assert np.all(d[:-1] == 4)  # everything flows south
    assert np.allclose(lam[:, 7], (np.arange(60) + 0.5) * 10.0)  # ridge cell starts at half a cell


def test_plane_lambda_is_capped():
    lam, *_ = lam_of(plane(), 10.0, ls.SlopeLengthParams(max_length_m=100.0))
    assert lam.max() == 100.0 and np.allclose(lam[:10, 3], (np.arange(10) + 0.5) * 10.0)


def test_segment_l_reproduces_whole_slope_l():
    """The mean of the segment L down a uniform slope equals (Λ/22.13)^m of the whole slope (telescoping)."""
    params = ls.SlopeLengthParams(max_length_m=1e9)
    lam, ncsl, horn, _ = lam_of(plane(rows=60, theta=8.0), 10.0, params)
    L = ls.l_factor(lam, ncsl, horn, params)
    assert L[:, 4].mean() == pytest.approx((600.0 / 22.13) ** 0.5, rel=1e-5)
    cell = ls.l_factor(lam, ncsl, horn, ls.SlopeLengthParams(max_length_m=1e9, l_form="cell"))
    assert np.allclose(cell[:, 4], (lam[:, 4] / 22.13) ** 0.5)


def test_slope_break_restarts_lambda():
    """A 20° slope running onto 5°: 5 < 0.5 × 20, so the gentle part starts afresh."""
    rows, dx = 40, 10.0
    steep = np.tan(np.radians(20.0)) * dx
    gentle = np.tan(np.radians(5.0)) * dx
    drops = np.where(np.arange(rows) < 20, steep, gentle)
    z = (2000 - np.concatenate([[0], np.cumsum(drops[:-1])]))[:, None] * np.ones((1, 9))
    lam, *_ = lam_of(z.astype(np.float32), dx, ls.SlopeLengthParams(max_length_m=1e9))
    col = lam[:, 4]
    assert col[19] == pytest.approx(195.0)
    restart = int(np.argmin(col[1:])) + 1
    assert col[restart] == pytest.approx(5.0)  # half a cell: a new slope begins at the break
    assert np.allclose(col[restart:], 5.0 + 10.0 * np.arange(rows - restart))


def test_small_slope_change_does_not_cut():
    """20° onto 12°: 12 ≥ 0.5 × 20, λ keeps accumulating."""
    rows, dx = 40, 10.0
    drops = np.where(np.arange(rows) < 20, np.tan(np.radians(20.0)), np.tan(np.radians(12.0))) * dx
    z = (2000 - np.concatenate([[0], np.cumsum(drops[:-1])]))[:, None] * np.ones((1, 9))
    lam, *_ = lam_of(z.astype(np.float32), dx, ls.SlopeLengthParams(max_length_m=1e9))
    assert np.allclose(lam[:, 4], (np.arange(rows) + 0.5) * dx)


def test_cutoff_selector_matters_only_across_five_percent():
    """4° onto 1.5°: ratio 0.375. Downstream selector uses 0.7 (1.5° < 2.86°) → cut; upstream uses 0.5 → cut too.
    3.5° onto 2.0°: ratio 0.57: downstream (2.0° < 2.86° → 0.7) cuts, upstream (3.5° ≥ 2.86° → 0.5) does not."""
    rows, dx = 30, 10.0
    drops = np.where(np.arange(rows) < 15, np.tan(np.radians(3.5)), np.tan(np.radians(2.0))) * dx
    z = (500 - np.concatenate([[0], np.cumsum(drops[:-1])]))[:, None] * np.ones((1, 9))
    z = z.astype(np.float32)
    down, *_ = lam_of(z, dx, ls.SlopeLengthParams(max_length_m=1e9, cutoff_selector="downstream"))
    up, *_ = lam_of(z, dx, ls.SlopeLengthParams(max_length_m=1e9, cutoff_selector="upstream"))
    assert down[:, 4].min() == pytest.approx(5.0) and down[20, 4] < up[20, 4]
    assert np.allclose(up[:, 4], (np.arange(rows) + 0.5) * dx)


def test_channel_cells_restart():
    rows, cols, dx = 50, 41, 10.0
    r, c = np.mgrid[0:rows, 0:cols]
    z = (np.abs(c - cols // 2) * dx * 0.3 + (rows - r) * dx * 0.05).astype(np.float32)
    valid = np.ones(z.shape, bool)
    f = h.fill_depressions(z, valid)
    d = h.flow_direction_d8(f, valid, dx)
    acc = h.flow_accumulation_d8(d, valid)
    channel = acc >= 30
    lam_ch, *_ = lam_of(z, dx, ls.SlopeLengthParams(max_length_m=1e9), channel)
    lam_no, *_ = lam_of(z, dx, ls.SlopeLengthParams(max_length_m=1e9))
    assert np.allclose(lam_ch[channel], 5.0)  # every channel cell restarts at half a cell
    assert lam_no[channel].max() > 100
    assert np.array_equal(lam_ch[~channel], lam_no[~channel])  # hillslopes are unaffected


def test_compute_terrain_ls_on_a_plane():
    z = plane(rows=40, cols=12)
    grid = GridSpec(z.shape, (10.0, 0, 0, 0, -10.0, 400.0), "EPSG:4545")
    res, timings = compute_terrain(z, np.ones(z.shape, bool), grid, TerrainParams())
    assert set(timings) >= {"fill", "flow_direction", "slope", "slope_length", "ls_factor"}
    s8 = 16.8 * np.sin(np.radians(8.0)) - 0.5
    assert np.allclose(res.s_factor, s8, atol=1e-3)
    assert np.all(np.diff(res.l_factor[:33, 5]) > 0)  # L grows down to the 333 m cap...
    assert np.allclose(res.slope_length_m[34:, 5], 333.0)  # ...then stays there
