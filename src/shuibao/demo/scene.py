"""Deterministic synthetic inputs for tests, benchmarks and the demo — labelled synthetic wherever used.

Terrain is fractal noise by spectral synthesis (power spectrum ∝ k^−β, β = 2.2),
stretched along a north-east–south-west axis to mimic the parallel ridges and
valleys of eastern Sichuan/Chongqing, scaled to a given relief, plus a regional
tilt.  Land use, NDVI and soils follow elevation and slope with noise; rain
stations carry gamma-distributed daily series.  Nothing here is an observation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from shuibao.io.synthetic import SYNTHETIC_TAG  # noqa: F401 - the generators tag what they write with it
SYNTHETIC_CRS = "EPSG:4545"  # CGCS2000 / 3-degree Gauss-Kruger CM 108E
ORIGIN = (400_000.0, 3_350_000.0)  # upper-left corner, inside Chongqing in EPSG:4545


def fractal_dem(n_rows: int, n_cols: int | None = None, *, seed: int = 0, beta: float = 2.2,
                relief_m: float = 900.0, base_m: float = 200.0, tilt_m: float = 200.0,
                ridge_stretch: float = 3.0) -> np.ndarray:
    """A float32 DEM (m) of fractal terrain with NE–SW ridges; deterministic for a seed."""
    n_cols = n_rows if n_cols is None else n_cols
    rng = np.random.default_rng(seed)
    ky = np.fft.fftfreq(n_rows)[:, None]
    kx = np.fft.rfftfreq(n_cols)[None, :]
    # anisotropy: frequencies across the NE–SW strike are weighted up (ridges run along the strike)
    u = (kx + ky) / np.sqrt(2.0)
    v = (kx - ky) / np.sqrt(2.0)
    k = np.sqrt((u * ridge_stretch) ** 2 + v ** 2)
    k[0, 0] = 1.0
    amp = k ** (-beta / 2.0)
    amp[0, 0] = 0.0
    phase = rng.uniform(0.0, 2.0 * np.pi, amp.shape)
    field = np.fft.irfft2(amp * np.exp(1j * phase), s=(n_rows, n_cols))
    field = (field - field.min()) / (field.max() - field.min())
    tilt = np.linspace(0.0, tilt_m, n_cols)[None, :] + np.linspace(tilt_m / 2, 0.0, n_rows)[:, None]
    return (base_m + relief_m * field + tilt).astype(np.float32)


@dataclass
class Scene:
    """A synthetic study area on one grid (EPSG:4545)."""

    dem: np.ndarray
    landuse: np.ndarray
    ndvi: np.ndarray
    soil: np.ndarray
    cell_size: float
    transform: tuple[float, float, float, float, float, float]
    crs: str = SYNTHETIC_CRS


def make_scene(n_rows: int, n_cols: int | None = None, *, cell_size: float = 30.0, seed: int = 0) -> Scene:
    """DEM, land use (codes 1–8 of 表2's scheme), NDVI and soil codes (1–3), all deterministic."""
    n_cols = n_rows if n_cols is None else n_cols
    dem = fractal_dem(n_rows, n_cols, seed=seed)
    rng = np.random.default_rng(seed + 1)
    gy, gx = np.gradient(dem.astype(np.float64), cell_size)
    slope = np.degrees(np.arctan(np.hypot(gx, gy)))
    z = (dem - dem.min()) / max(float(np.ptp(dem)), 1.0)
    noise = rng.random(dem.shape)
    lu = np.full(dem.shape, 3, np.uint8)  # forest
    lu[(slope < 15) & (z < 0.45)] = 1  # cropland on low gentle ground
    lu[(slope >= 15) & (slope < 25) & (z < 0.5) & (noise < 0.35)] = 1  # sloping cropland
    lu[(lu == 1) & (noise > 0.85)] = 2  # orchards among fields
    lu[(z > 0.75) & (noise < 0.3)] = 4  # grass on high ground
    lu[(slope < 6) & (z < 0.15) & (noise < 0.5)] = 5  # settlements in valleys
    lu[(slope < 2) & (z < 0.08)] = 7  # water in the lowest flats
    lu[(slope > 40) & (noise < 0.5)] = 8  # bare rock
    base_ndvi = np.array([0, 0.55, 0.6, 0.78, 0.5, 0.2, 0.1, -0.1, 0.15], np.float32)
    ndvi = base_ndvi[lu] + rng.normal(0.0, 0.08, dem.shape).astype(np.float32)
    ndvi = np.clip(ndvi, -0.2, 0.95).astype(np.float32)
    soil = np.where(z < 0.35, 1, np.where(z < 0.7, 2, 3)).astype(np.uint8)
    transform = (cell_size, 0.0, ORIGIN[0], 0.0, -cell_size, ORIGIN[1])
    return Scene(dem, lu, ndvi, soil, cell_size, transform)


SOIL_TABLE_ROWS = (
    # code, sand, silt, clay, organic carbon (%) — purple soil, yellow soil, limestone soil, paddy soil
    # (plausible values, not observations)
    (1, 35.0, 40.0, 25.0, 0.8),
    (2, 25.0, 45.0, 30.0, 1.2),
    (3, 20.0, 40.0, 40.0, 2.0),
    (4, 20.0, 50.0, 30.0, 1.4),
)


def rain_stations(scene: Scene, count: int = 12, years: tuple[int, ...] = (2021, 2022, 2023), *,
                  seed: int = 0) -> list[dict]:
    """Daily rain rows (station, x, y, date, rain_mm) of ``count`` stations inside the scene."""
    rng = np.random.default_rng(seed + 2)
    rows, cols = scene.dem.shape
    x0, y0 = scene.transform[2], scene.transform[5]
    out = []
    for s in range(count):
        x = x0 + rng.uniform(0.05, 0.95) * cols * scene.cell_size
        y = y0 - rng.uniform(0.05, 0.95) * rows * scene.cell_size
        wetness = rng.uniform(0.8, 1.2)
        for year in years:
            day = date(year, 1, 1)
            while day.year == year:
                season = 0.5 + 0.5 * np.sin((day.timetuple().tm_yday - 100) / 365 * 2 * np.pi)
                wet = rng.random() < 0.25 + 0.3 * season
                rain = float(rng.gamma(0.7, 9.0 + 14.0 * season) * wetness) if wet else 0.0
                out.append({"station": f"S{s + 1:02d}", "x": round(x, 1), "y": round(y, 1),
                            "date": day.isoformat(), "rain_mm": round(rain, 1)})
                day += timedelta(days=1)
    return out
