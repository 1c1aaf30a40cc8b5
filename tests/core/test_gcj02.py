"""GCJ-02 removal: properties of the forward offset and of its iterative inverse."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod

from shuibao.core.gcj02 import gcj02_offset, gcj02_to_wgs84, wgs84_to_gcj02

lons = st.floats(min_value=73.7, max_value=134.8)
lats = st.floats(min_value=18.2, max_value=53.5)


@settings(max_examples=200, deadline=None)
@given(lons, lats)
def test_inverse_undoes_the_forward_offset(lon, lat):
    glon, glat = wgs84_to_gcj02(np.array([lon]), np.array([lat]))
    wlon, wlat = gcj02_to_wgs84(glon, glat)
    assert abs(wlon[0] - lon) < 1e-10 and abs(wlat[0] - lat) < 1e-10


def test_offset_around_chongqing_is_400_to_600_m_east_south_east():
    lon, lat = np.meshgrid(np.linspace(105.3, 110.2, 20), np.linspace(28.2, 32.2, 20))
    dlon, dlat = gcj02_offset(lon.ravel(), lat.ravel())
    assert np.all(dlon > 0) and np.all(dlat < 0)
    _, _, dist = Geod(ellps="WGS84").inv(lon.ravel(), lat.ravel(), lon.ravel() + dlon, lat.ravel() + dlat)
    assert 380 < dist.min() and dist.max() < 620


def test_offset_is_smooth():
    """Points 100 m apart have offsets within half a metre of each other (gradient < 0.5 %),
    which is what makes the fixed-point inverse converge."""
    lon = np.array([106.5, 106.5 + 0.001])
    lat = np.array([29.5, 29.5])
    dlon, dlat = gcj02_offset(lon, lat)
    assert abs(dlon[1] - dlon[0]) * 97_000 < 0.5 and abs(dlat[1] - dlat[0]) * 111_000 < 0.5
