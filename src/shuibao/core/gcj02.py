"""Removal of the GCJ-02 offset (the "Mars coordinates" of Chinese web maps).

Web maps licensed in China (Amap/高德, Tencent) publish coordinates in GCJ-02:
WGS-84 longitude/latitude shifted by a smooth, deliberately obfuscating function
of position — about 0.4–0.6 km east-south-east around Chongqing.  The forward
function has long been public (the "eviltransform" formulation, see e.g.
https://github.com/googollee/eviltransform); it is written here from the
equations:

    dlat = T_lat(λ−105, φ−35),  dlon = T_lon(λ−105, φ−35)
    T_lat(x, y) = −100 + 2x + 3y + 0.2y² + 0.1xy + 0.2√|x|
                  + (20 sin 6πx + 20 sin 2πx)·2/3 + (20 sin πy + 40 sin(πy/3))·2/3
                  + (160 sin(πy/12) + 320 sin(πy/30))·2/3
    T_lon(x, y) = 300 + x + 2y + 0.1x² + 0.1xy + 0.1√|x|
                  + (20 sin 6πx + 20 sin 2πx)·2/3 + (20 sin πx + 40 sin(πx/3))·2/3
                  + (150 sin(πx/12) + 300 sin(πx/30))·2/3
    φ_gcj = φ + dlat·180 / (π·a(1−e²)/W³),  λ_gcj = λ + dlon·180 / (π·a/W·cos φ)
    with W = √(1 − e² sin²φ), a = 6378245 m, e² = 0.00669342162296594323 (Krasovsky 1940)

There is no closed-form inverse; :func:`gcj02_to_wgs84` iterates the forward
function (fixed point), which converges to well below a millimetre in a few steps
because the offset varies slowly with position.
"""

from __future__ import annotations

import numpy as np

_A = 6378245.0
_EE = 0.00669342162296594323


def _transform_lat(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lon(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return ret


def gcj02_offset(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 minus WGS-84, in degrees (dlon, dlat), at WGS-84 positions."""
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    dlat = _transform_lat(lon - 105.0, lat - 35.0)
    dlon = _transform_lon(lon - 105.0, lat - 35.0)
    rad = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(rad) * np.pi)
    return dlon, dlat


def wgs84_to_gcj02(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Apply the GCJ-02 offset to WGS-84 longitude/latitude (degrees)."""
    dlon, dlat = gcj02_offset(lon, lat)
    return np.asarray(lon) + dlon, np.asarray(lat) + dlat


def gcj02_to_wgs84(lon: np.ndarray, lat: np.ndarray, *, iterations: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Remove the GCJ-02 offset: find WGS-84 (λ, φ) with ``wgs84_to_gcj02(λ, φ) == (lon, lat)``.

    Fixed-point iteration ``p ← p − (f(p) − target)``; the offset's gradient is at
    most a few 1e-3 (0.3 m per 100 m), so each step gains more than two decimal
    digits and eight steps leave far less than a micrometre.
    """
    target_lon = np.asarray(lon, dtype=np.float64)
    target_lat = np.asarray(lat, dtype=np.float64)
    wlon, wlat = target_lon.copy(), target_lat.copy()
    for _ in range(iterations):
        glon, glat = wgs84_to_gcj02(wlon, wlat)
        wlon -= glon - target_lon
        wlat -= glat - target_lat
    return wlon, wlat
