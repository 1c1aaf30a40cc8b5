"""A synthetic Chongqing for ``shuibao demo``: terrain, land use, NDVI, soils, measures, rain — none of it observed.

Deterministic (fixed seeds: same inputs, same bytes) and labelled synthetic wherever written.  Modelled:

* **Terrain**, on a fixed 250 m world grid in the Albers ``EQUAL_AREA_CRS``: the Yangtze, Jialing and Wu
  rivers follow polylines through the real towns (meandered by noise) at reservoir levels of ~160–210 m and
  carve their valleys; the parallel ridge-and-valley belt (川东平行岭谷) is a periodic anticline profile with
  two crests and a trough (一山二岭一槽), 500–1,000 m, striking NNE in the metro and NE towards Wanzhou; Daba
  Shan (to ~2,500 m), Wushan, Qiyao/Fangdou Shan, Wuling Shan and Jinfo/Dalou Shan are smooth mountain
  masses; band-limited noise adds hills (sharp valleys) whose relief grows with the masses.
* **Land use** (表2 classes 1–8) is allocated like a demand-driven land-use model: each class has a smooth
  suitability score (km-scale patch noise, slope, height above the river, towns …); classes are taken in
  the order of :data:`LANDUSE_TARGETS` with thresholds set on a row sample of the mask so that the city-wide
  2020 shares meet the targets; forest is the rest.  After 2020, 1.5 % of the 2020 cropland a year, the
  steepest first, turns to forest (grass above 1,300 m): 退耕还林 re-greening.
* **NDVI**: a class value plus smooth noise, a mountain bonus, +0.006 a year and a ±0.01 year anomaly; young
  forest on re-greened land is 0.12 lower.  **Soils**: purple soil (1) in the basin, yellow soil (2) higher,
  limestone soil (3) in the karst SE/NE.  **Measures**: level terraces and terraced paddies on ~55 % of the
  cropland, on 3–25° hillsides (E code 1 earth bank; 2 stone bank on limestone soil), laid on the 2020
  cropland so that every year shares them.
* Fields are sampled onto the output grid by separable cubic interpolation in row blocks, with a small
  tiled texture for sub-world-cell detail: patches are contiguous and memory stays bounded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import numpy as np
from pyproj import CRS
from scipy import fft, ndimage, sparse
from scipy.special import ndtri

from shuibao.plan.boundaries import EQUAL_AREA_CRS

WORLD_CELL = 250.0
WORLD_X0, WORLD_Y1 = -280_000.0, 3_460_000.0  # upper-left corner of the world grid (Albers m)
WORLD_SHAPE = (1920, 2040)  # x from −280 to 230 km, y from 2,980 to 3,460 km
LANDUSE_TARGETS = {7: 0.03, 5: 0.07, 6: 0.015, 1: 0.30, 2: 0.04, 4: 0.03, 8: 0.015, 3: 0.50}
"""2020 shares by class in allocation order (forest takes the rest).  表2 gives only each class's eroded
area (forest 15,933 km², cropland 7,493 km² …: at least 19.3 % and 9.1 % of the city's ~82,400 km²), so
these are demo shares above those floors, eroded fractions ~39 % of forest and ~30 % of cropland."""
SUBCLASS_SHARES = {
    1: ((103, None, 0.0), (101, "paddy", 0.35), (102, "irrigated", 0.01)),
    2: ((201, None, 0.0), (202, "tea", 0.15), (204, "bamboo", 0.05)),
    3: ((301, None, 0.0), (305, "shrub", 0.16), (302, "bamboo", 0.05)),
    4: ((404, None, 0.0), (401, "pasture", 0.25)),
    5: ((702, None, 0.0), (701, "urban", 0.45), (601, "industry", 0.12), (602, "mining", 0.05)),
    6: ((1003, None, 0.0), (1006, "rural_road", 0.45)),
    7: ((1104, None, 0.0), (1106, "drawdown", 0.15)),
    8: ((1207, None, 0.0), (1201, "industry", 0.20), (1206, "urban", 0.05)),
}
"""Second-level classes (GB/T 21010-2017 codes as integers, 0101 → 101) within each first-level class: the
first entry takes the rest, each other the ``share`` of its class with the highest score (taken in order).
DEMO ASSUMPTIONS of the order of Chongqing's 2021 land survey bulletin (水田 about a third of the cropland,
shrubland about a sixth of the forest land; not verified), not observations.  River cells are 1101."""
SUBCLASS_NDVI = {101: -0.05, 102: 0.0, 202: -0.04, 204: -0.04, 305: -0.12, 302: -0.03, 401: 0.03, 701: -0.03,
                 601: -0.05, 702: 0.20, 602: -0.05, 1006: 0.18, 1106: 0.25, 1207: -0.02}
"""NDVI offset of a second-level class from its first-level base (paddies flooded part of the year, shrubs
sparser, rural homesteads and rural roads with yards and verges, the reservoir's drawdown zone green in
summer; demo assumptions)."""
REGREEN_PER_YEAR = 0.015  # share of the 2020 cropland turned to forest/grass per year after 2020
MEASURES_NODATA = 255  # 0 is a valid measure code ("none")
NDVI_BASE = np.array([0, 0.50, 0.66, 0.86, 0.68, 0.15, 0.12, 0.0, 0.10], np.float32)
"""Growing-season NDVI by 表2 class: dense forest ~0.8, cropland ~0.5, sealed land ~0.15, bare soil and rock
~0.1, water ~0 — the ranges of Landsat summer composites (demo assumptions, not observations)."""
NDVI_GAIN = np.array([0, 1.0, 1.0, 0.5, 1.0, 0.6, 0.5, 0.2, 0.8], np.float32)
# (x km, y km, water level m) in EQUAL_AREA_CRS, upstream first; projected from the towns' lon/lat
YANGTZE = ((-224.2, 3083.5, 210), (-210.4, 3089.9, 205), (-194.6, 3099.6, 200), (-170.0, 3119.1, 192),
           (-159.2, 3127.8, 188), (-147.4, 3137.6, 182), (-136.6, 3150.8, 176), (-121.0, 3157.3, 175),
           (-104.5, 3167.1, 175), (-88.9, 3176.9, 174), (-72.5, 3173.5, 174), (-59.0, 3166.8, 173),
           (-40.6, 3177.8, 172), (-27.0, 3184.4, 171), (-9.6, 3208.7, 170), (4.8, 3229.8, 170),
           (17.3, 3244.2, 169), (28.8, 3266.4, 168), (37.3, 3285.3, 167), (52.6, 3295.4, 166),
           (66.9, 3302.1, 165), (95.5, 3306.7, 164), (124.1, 3311.5, 163), (147.9, 3314.0, 162),
           (179.4, 3317.8, 160), (210.0, 3313.9, 158))
JIALING = ((-160.3, 3248.7, 215), (-163.7, 3215.5, 205), (-166.9, 3198.9, 198), (-158.3, 3187.7, 190),
           (-151.7, 3179.8, 185), (-145.1, 3165.3, 180), (-136.6, 3150.8, 176))
WUJIANG = ((58.8, 3026.0, 330), (44.0, 3048.1, 300), (34.1, 3075.7, 270), (24.3, 3097.9, 240),
           (16.5, 3118.9, 215), (-4.9, 3120.0, 200), (-23.3, 3123.4, 190), (-40.7, 3133.4, 182),
           (-53.3, 3151.2, 176), (-59.0, 3165.6, 173))
RIVERS = ((YANGTZE, 0.5, 1.5, ((-136.6, 3150.8), (-59.0, 3166.8))),  # nodes, half width km, meander km, confluences
          (JIALING, 0.25, 1.0, ((-136.6, 3150.8),)), (WUJIANG, 0.2, 0.8, ((-59.0, 3165.6),)))
# towns: x km, y km, sigma km, weight — the metro core and sub-centres, then the district seats
TOWNS = ((-138.5, 3148.6, 7, 1.6), (-150.2, 3147.7, 4, 1), (-144.4, 3143.1, 4, 1), (-132.5, 3167.4, 4, 1),
         (-141.7, 3132.0, 4, 1), (-154.6, 3177.7, 4, 1), (-59.0, 3164.5, 3.5, 1), (39.2, 3287.5, 4, 1),
         *((x, y, 2.5, 1) for x, y in ((-88.9, 3182.5), (-169.0, 3120.2), (-165.9, 3198.9), (-200.9, 3128.5),
                                       (-87.5, 3104.8), (-131.5, 3090.9), (-220.5, 3167.7), (-171.4, 3153.5),
                                       (-187.4, 3181.5), (-207.9, 3220.7), (-233.8, 3133.6), (-105.3, 3082.8),
                                       (37.2, 3326.3), (-19.2, 3272.0), (62.4, 3414.0), (-26.1, 3182.1),
                                       (-64.4, 3234.4), (3.8, 3230.9), (66.9, 3301.0), (139.4, 3311.6),
                                       (179.4, 3317.8), (155.0, 3354.0), (74.6, 3145.8), (-23.3, 3123.4),
                                       (10.6, 3197.6), (98.9, 3026.2), (75.1, 3069.3), (16.5, 3118.9))))
# mountain masses: x km, y km, half-length a, half-width b (km), strike (deg from east), height m, group
MASSES = ((95, 3400, 110, 40, -20, 1500, "ne"), (150, 3362, 40, 22, -25, 600, "ne"),  # Daba Shan
          (190, 3305, 35, 45, 0, 900, "ne"), (70, 3345, 80, 30, -10, 600, "ne"),  # Wushan, north Kaizhou
          (53, 3209, 100, 20, 38, 900, "se"), (80, 3070, 95, 70, 40, 800, "se"),  # Qiyao/Fangdou, Wuling
          (-80, 3088, 22, 14, 30, 1300, "s"), (-120, 3040, 70, 25, 10, 700, "s"))  # Jinfo, Dalou


@dataclass
class CityScene:
    """Synthetic rasters on one grid; nodata outside ``mask`` (NaN, class 0, measures 255)."""

    dem: np.ndarray
    landuse: np.ndarray
    ndvi: np.ndarray
    soil: np.ndarray
    measures: np.ndarray
    mask: np.ndarray
    cell_size: float
    transform: tuple[float, float, float, float, float, float]
    crs: str
    year: int
    seed: int

    @property
    def plan_class(self) -> np.ndarray:
        """The 表2 first-level class (1–8) of each cell, 0 outside: the GB/T 21010 code's roll-up."""
        return plan_class_of(self.landuse)

    def landuse_shares(self) -> dict[int, float]:
        counts = np.bincount(self.plan_class[self.mask], minlength=9)
        return {k: float(counts[k] / max(counts.sum(), 1)) for k in range(1, 9)}


def plan_class_of(codes: np.ndarray) -> np.ndarray:
    """表2 class of GB/T 21010-2017 second-level codes written as integers (0101 → 101; 05xx–09xx → 5)."""
    first = np.asarray(codes).astype(np.int64) // 100
    lut = np.array([0, 1, 2, 3, 4, 5, 5, 5, 5, 5, 6, 7, 8], np.uint8)
    return np.where((first >= 1) & (first <= 12), lut[np.clip(first, 0, 12)], 0).astype(np.uint8)


@lru_cache(maxsize=4)
def _wavenumbers(coarse: int) -> np.ndarray:
    d = WORLD_CELL * coarse / 1000.0
    rows, cols = WORLD_SHAPE[0] // coarse, WORLD_SHAPE[1] // coarse
    k = np.hypot(np.fft.fftfreq(rows, d)[:, None], np.fft.rfftfreq(cols, d)[None, :]).astype(np.float32)
    k[0, 0] = 1.0
    return k


def _noise(rng, lo_km: float, hi_km: float, coarse: int = 1) -> np.ndarray:
    """Unit-variance band-limited fractal noise (spectrum ∝ 1/k, wavelengths ~lo…hi km) on the world grid.

    Broad bands are drawn on a grid ``coarse`` times coarser and sampled up (cubic).
    """
    k = _wavenumbers(coarse)
    amp = np.exp(-(k * lo_km) ** 2) * (1 - np.exp(-(k * hi_km) ** 2)) / k
    spec = np.empty(k.shape, np.complex64)
    spec.real = amp * rng.standard_normal(k.shape, np.float32)
    spec.imag = amp * rng.standard_normal(k.shape, np.float32)
    rows, cols = WORLD_SHAPE[0] // coarse, WORLD_SHAPE[1] // coarse
    f = fft.irfft2(spec, s=(rows, cols), workers=-1)
    f -= f.mean()
    f /= f.std()
    if coarse > 1:
        (wy, r0, r1), (wx, c0, c1) = (_interp((np.arange(n) + 0.5) / coarse - 0.5, n // coarse) for n in WORLD_SHAPE)
        f = (wy @ f[r0:r1, c0:c1]) @ wx.T
    return f.astype(np.float32, copy=False)


def _sig(v):
    return 1.0 / (1.0 + np.exp(-v))


def _rivers(rng):
    """Distance to the nearest river (km), its water level (m), half width and valley scale (km)."""
    cell = WORLD_CELL / 1000.0
    hit = np.zeros(WORLD_SHAPE, bool)
    level, half, scale = (np.zeros(WORLD_SHAPE, np.float32) for _ in range(3))
    for nodes, hw, meander, confluences in RIVERS:
        p = np.asarray(nodes, float)
        seg = np.hypot(*np.diff(p[:, :2], axis=0).T)
        s_node = np.concatenate([[0], np.cumsum(seg)])
        s = np.arange(0.0, s_node[-1], 0.05)
        x, y, z = (np.interp(s, s_node, p[:, i]) for i in range(3))
        tx, ty = np.gradient(x), np.gradient(y)
        norm = np.hypot(tx, ty)
        wiggle = sum(np.sin(2 * np.pi * s / w + rng.uniform(0, 2 * np.pi)) for w in (7.0, 13.0, 23.0, 37.0)) / 2
        taper = np.minimum(1.0, np.min([np.hypot(x - cx, y - cy) for cx, cy in confluences], axis=0) / 4.0)
        x, y = x - ty / norm * meander * wiggle * taper, y + tx / norm * meander * wiggle * taper
        i = np.clip(((WORLD_Y1 / 1000 - y) / cell).astype(int), 0, WORLD_SHAPE[0] - 1)
        j = np.clip(((x - WORLD_X0 / 1000) / cell).astype(int), 0, WORLD_SHAPE[1] - 1)
        hit[i, j] = True
        level[i, j], half[i, j] = z, hw
        scale[i, j] = 2.5 if hw < 0.5 else 5.0 - 3.0 * _sig((x - 115.0) / 10.0)  # narrow Three Gorges
    dist, (ii, jj) = ndimage.distance_transform_edt(~hit, sampling=cell, return_indices=True)
    return dist.astype(np.float32, copy=False), level[ii, jj], half[ii, jj], scale[ii, jj]


def _window(X, Y, x, y, radius):
    """The world cells within ``radius`` km of x, y (a slice pair) and their coordinates."""
    i0, i1 = np.searchsorted(-Y[:, 0], [-(y + radius), -(y - radius)])
    j0, j1 = np.searchsorted(X[0], [x - radius, x + radius])
    return np.s_[i0:i1, j0:j1], X[:, j0:j1], Y[i0:i1]


@lru_cache(maxsize=1)
def _world(seed: int) -> dict[str, np.ndarray]:
    """Terrain and land-use scores on the 250 m world grid (cached: the two demo years share it)."""
    rng = np.random.default_rng([seed, 7])
    X = ((WORLD_X0 + (np.arange(WORLD_SHAPE[1]) + 0.5) * WORLD_CELL) / 1000.0).astype(np.float32)[None, :]
    Y = ((WORLD_Y1 - (np.arange(WORLD_SHAPE[0]) + 0.5) * WORLD_CELL) / 1000.0).astype(np.float32)[:, None]
    dist, level, half, scale = _rivers(rng)
    group = {g: np.zeros(WORLD_SHAPE, np.float32) for g in ("ne", "se", "s")}
    for cx, cy, a, b, strike, height, g in MASSES:
        c, s = float(np.cos(np.radians(strike))), float(np.sin(np.radians(strike)))
        win, x, y = _window(X, Y, cx, cy, 2.3 * max(a, b))
        q = (((x - cx) * c + (y - cy) * s) / a) ** 2 + ((-(x - cx) * s + (y - cy) * c) / b) ** 2
        group[g][win] += height * np.exp(-q * np.sqrt(np.sqrt(q)))  # flat-topped: exp(−q^1.25)
    mass = 1600.0 * np.tanh((group["ne"] + group["se"] + group["s"]) / 1600.0)
    theta = np.radians(45.0 + 27.0 * (1 - _sig((X + 75.0) / 35.0)))  # ridge strike: NNE in the west, NE east
    across = -(X + 151.0) * np.sin(theta) + (Y - 3150.0) * np.cos(theta) + 2.0 * _noise(rng, 20, 100, 4)
    c = np.maximum(np.cos(2 * np.pi * across / (22.0 + 6.0 * _sig((X + 40.0) / 30.0))), 0.0)
    belt = _sig((X + 232.0) / 8.0) * _sig((Y - 3060.0) / 10.0) * (1 - np.clip(mass / 700.0, 0, 1))
    ridge = 560.0 * (c ** 2 - 0.4 * c ** 12) * np.clip(0.75 + 0.35 * _noise(rng, 40, 150, 4), 0.3, 1.2) * belt
    hills = (70.0 + 0.15 * mass + 0.2 * ridge) * (np.abs(_noise(rng, 0.6, 8.0)) - 0.8)  # sharp valleys
    relief = 130.0 + 150.0 * _sig(X / 50.0) + mass + ridge + (50.0 + 0.12 * mass) * _noise(rng, 8, 60, 4) + hills
    carve = 1.0 - np.exp(-(np.maximum(dist - half, 0.0) / scale) ** 1.2)
    dem = np.where(dist < half, level - 2.0, level + np.maximum(relief, 20.0) * carve).astype(np.float32)
    gy, gx = np.gradient(dem, WORLD_CELL)
    slope = np.degrees(np.arctan(np.hypot(gx, gy))).astype(np.float32)
    local = ridge + hills  # height above the local valley floors
    del gx, gy, carve, relief, hills
    rise = dem - level  # height above the nearest river
    towns = np.zeros(WORLD_SHAPE, np.float32)
    for x, y, s, w in TOWNS:  # Gaussian built-up intensity
        win, xx, yy = _window(X, Y, x, y, 4.0 * s)
        towns[win] += w * np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2.0 * s * s))
    basin = 1.0 - np.clip(mass / 600.0, 0, 1)
    karst = np.clip((group["ne"] + group["se"] + 0.6 * group["s"]) / 700.0, 0, 1)
    road = _noise(rng, 5, 30)
    gy, gx = np.gradient(road, WORLD_CELL / 1000.0)
    road_km = np.abs(road) / np.maximum(np.hypot(gx, gy), 1e-3)  # distance to the zero contour
    citrus = np.exp(-dist / 8.0) * _sig((X + 60.0) / 15.0)  # the Three Gorges citrus belt
    scores = {
        7: np.where(dist < half, 10.0, _noise(rng, 1, 4) - slope / 6 - rise / 120 + 0.5 * basin - 2 * towns),
        5: 3 * np.minimum(towns, 1.5) + 0.8 * _noise(rng, 0.5, 3) - slope / 5 + 0.6 * basin - rise / 200,
        6: -road_km / 0.15 + 1.5 * towns - slope / 15,
        # cropland: gentle slopes and valley floors; above 25° it went to forest (退耕还林, the plan's 第三章)
        1: 1.1 * _noise(rng, 1, 12) - slope / 7 - np.maximum(slope - 25.0, 0) / 2 + 1.3 * basin - local / 150
        - np.maximum(dem - 1200.0, 0) / 600,
        2: _noise(rng, 0.8, 6) + citrus - np.abs(slope - 12) / 12 + 0.5 * basin,
        4: _noise(rng, 0.8, 8) + (dem - 1300.0) / 400 - slope / 30,  # mountain meadows on the plateau tops
        8: 0.7 * _noise(rng, 0.5, 4) + 1.5 * karst + (slope - 30) / 8,
    }
    valley = ndimage.minimum_filter(dem, 9)  # the local valley floor within ~1 km
    smooth = ndimage.uniform_filter(slope, 5)  # hillside blocks of ~1 km for terraces
    sloping = (smooth >= 3) & (smooth <= 25)
    out = dict({f"score{k}": v for k, v in scores.items()}, dem=dem,
               terrace=np.where(sloping, _noise(rng, 1, 6) + 0.2, -3.0),
               regreen=_noise(rng, 1, 5) + slope / 8 + rise / 500,
               lime=1.2 * karst + 0.5 * _noise(rng, 2, 15) + (dem - 900) / 700 - 1.0,
               yellow=(dem - 550) / 300 + 0.5 * _noise(rng, 2, 15) + 0.5 * (1 - basin),
               ndvi=0.06 * _noise(rng, 2, 20) + 0.04 * np.clip(mass / 1000, 0, 1) - 0.03 * np.minimum(towns, 1),
               river=np.where(dist < half, 1.0, -1.0),
               # second-level classes (GB/T 21010): scores ranked within their first-level class
               paddy=0.6 * _noise(rng, 0.5, 4) - smooth / 3.0 - (dem - valley) / 40.0 - np.maximum(dem - 900, 0) / 300,
               irrigated=-slope / 2 + 2 * towns + 0.5 * _noise(rng, 0.5, 3),
               tea=0.8 * _noise(rng, 1, 6) + (dem - 600) / 300 - citrus * 3,
               shrub=0.8 * _noise(rng, 1, 6) + 1.5 * karst + (slope - 25) / 10,
               bamboo=_noise(rng, 0.5, 3) - rise / 150 - slope / 15,
               urban=2 * towns + 0.5 * _noise(rng, 0.5, 3),
               industry=_noise(rng, 1, 5),
               mining=0.8 * _noise(rng, 1, 8) + karst,
               pasture=(dem - 1300) / 200 + 0.5 * _noise(rng, 1, 6),
               rural_road=-2 * towns + 0.5 * _noise(rng, 1, 5),
               drawdown=-(rise - 4.0) / 3.0 + 0.3 * _noise(rng, 0.5, 3))
    out = {k: np.asarray(v, np.float32) for k, v in out.items()}
    for v in out.values():
        v.flags.writeable = False
    return out


def _interp(frac: np.ndarray, n: int) -> tuple[sparse.csr_matrix, int, int]:
    """Keys cubic interpolation of points at fractional world indices ``frac``: matrix over [lo, hi)."""
    i0 = np.floor(frac).astype(np.int64)
    t = (frac - i0).astype(np.float32)
    idx = np.clip(i0[:, None] + np.arange(-1, 3)[None, :], 0, n - 1)
    w = np.stack([((-0.5 * t + 1.0) * t - 0.5) * t, (1.5 * t - 2.5) * t * t + 1.0,
                  ((-1.5 * t + 2.0) * t + 0.5) * t, (0.5 * t - 0.5) * t * t], axis=1)
    lo, hi = int(idx.min()), int(idx.max()) + 1
    m = sparse.csr_matrix((w.ravel(), (idx - lo).ravel(), np.arange(0, w.size + 1, 4)), shape=(len(frac), hi - lo))
    return m, lo, hi


def _texture(seed: int) -> tuple[np.ndarray, ...]:
    """Two small periodic tiles of smooth noise (coprime sizes) for sub-world-cell detail."""
    rng = np.random.default_rng([seed, 11])
    tiles = [ndimage.gaussian_filter(rng.standard_normal(shape), 1.5, mode="wrap") for shape in ((61, 67), (59, 71))]
    return tuple(((t - t.mean()) / t.std() / np.sqrt(2)).astype(np.float32) for t in tiles)


class _Sampler:
    """World fields sampled at the output cells of row blocks (within the mask's column span)."""

    def __init__(self, world, mask, transform, seed):
        a, _, x0, _, e, y0 = transform
        self.world, self.mask, self.tiles = world, mask, _texture(seed)
        self.fy = (WORLD_Y1 - (y0 + (np.arange(mask.shape[0]) + 0.5) * e)) / WORLD_CELL - 0.5
        self.fx = (x0 + (np.arange(mask.shape[1]) + 0.5) * a - WORLD_X0) / WORLD_CELL - 0.5

    def blocks(self, row_index: np.ndarray, cells: int = 2_000_000):
        """Yield (rows, column slice, mask block, texture block) for blocks of the given rows."""
        step = max(8, cells // max(self.mask.shape[1], 1))
        for i in range(0, len(row_index), step):
            r = row_index[i:i + step]
            m = self.mask[r]
            inside = np.flatnonzero(m.any(axis=0))
            if inside.size == 0:
                continue
            c = slice(int(inside[0]), int(inside[-1]) + 1)
            self.rows, self.cols = _interp(self.fy[r], WORLD_SHAPE[0]), _interp(self.fx[c], WORLD_SHAPE[1])
            ri, ci = r[:, None], np.arange(c.start, c.stop)[None, :]
            t1, t2 = self.tiles
            yield r, c, m[:, c], t1[ri % t1.shape[0], ci % t1.shape[1]] + t2[ri % t2.shape[0], ci % t2.shape[1]]

    def __call__(self, name) -> np.ndarray:
        (wy, r0, r1), (wx, c0, c1) = self.rows, self.cols
        field = self.world[name] if isinstance(name, str) else name
        return np.asarray((wy @ field[r0:r1, c0:c1]) @ wx.T)


def _calibrate(sample: _Sampler, year: int) -> tuple[dict[int, float], float, dict[int, list]]:
    """Score thresholds meeting :data:`LANDUSE_TARGETS` over a row sample of the mask, the regreen one and
    those of the second-level classes within each first-level class (:data:`SUBCLASS_SHARES`)."""
    n_rows = sample.mask.shape[0]
    every = max(1, int(np.ceil(sample.mask.sum() / 1_500_000)))
    subs = sorted({name for rows in SUBCLASS_SHARES.values() for _, name, _ in rows if name})
    values: dict = {k: [] for k in (*LANDUSE_TARGETS, "regreen", *subs)}
    for _, _, m, tex in sample.blocks(np.arange(0, n_rows, every)):
        for k in values:
            if k != 3:
                values[k].append((sample(f"score{k}") + 0.1 * tex if isinstance(k, int) else sample(k))[m])
    values = {k: np.concatenate(v) for k, v in values.items() if v}
    left = np.ones(values[1].size, bool)
    thresholds, chosen_by = {}, {}
    for k, share in LANDUSE_TARGETS.items():
        if k == 3:
            chosen_by[3] = left.copy()
            break
        thresholds[k] = _top(values[k][left], share * left.size)
        chosen = left & (values[k] > thresholds[k])
        left &= ~chosen
        chosen_by[k] = chosen
        if k == 1:
            crop = values["regreen"][chosen]
    sub_thresholds: dict[int, list] = {}
    for k, rows in SUBCLASS_SHARES.items():
        inside = chosen_by[k].copy()
        n = inside.sum()
        out = []
        for code, name, share in rows[1:]:
            t = _top(values[name][inside], share * n)
            out.append((code, name, t))
            inside &= ~(values[name] > t)
        sub_thresholds[k] = out
    return thresholds, _top(crop, min(max(year - 2020, 0) * REGREEN_PER_YEAR, 0.5) * crop.size), sub_thresholds


def _top(v: np.ndarray, n: float) -> float:
    """The threshold above which ``n`` of the values ``v`` lie."""
    n = int(round(n))
    if n <= 0 or n >= v.size:
        return np.inf if n <= 0 else -np.inf
    return float(np.partition(v, v.size - n - 1)[v.size - n - 1])


def make_city_scene(mask: np.ndarray, transform: tuple, cell_size: float, crs: str, *, year: int,
                    seed: int = 2025) -> CityScene:
    """Synthetic DEM, land use, NDVI, soils and measures on a north-up grid in ``EQUAL_AREA_CRS``."""
    if not CRS.from_user_input(crs).equals(EQUAL_AREA_CRS):
        raise ValueError("the synthetic city is laid out in shuibao.plan.boundaries.EQUAL_AREA_CRS")
    mask = np.asarray(mask, bool)
    if not mask.any():
        raise ValueError("the mask is empty")
    sample = _Sampler(_world(seed), mask, transform, seed)
    thresholds, regreen_t, sub_thresholds = _calibrate(sample, year)
    anomaly = _noise(np.random.default_rng([seed, year]), 10, 80, 8)
    ndvi_off = sample.world["ndvi"] + 0.006 * (year - 2020) + 0.008 * anomaly
    out = CityScene(np.full(mask.shape, np.nan, np.float32), np.zeros(mask.shape, np.uint16),
                    np.full(mask.shape, np.nan, np.float32), np.zeros(mask.shape, np.uint8),
                    np.full(mask.shape, MEASURES_NODATA, np.uint8), mask, float(cell_size), tuple(transform),
                    crs, int(year), int(seed))
    for r, c, m, tex in sample.blocks(np.arange(mask.shape[0])):
        r = slice(int(r[0]), int(r[-1]) + 1)
        z = sample("dem") + 0.03 * min(cell_size, 100.0) * tex  # metre-scale micro-relief
        lu = np.full(m.shape, 3, np.uint8)
        for k in reversed(list(thresholds)):
            lu[sample(f"score{k}") + 0.1 * tex > thresholds[k]] = k
        code = np.zeros(m.shape, np.uint16)
        for k, rows in SUBCLASS_SHARES.items():
            sel = lu == k
            code[sel] = rows[0][0]
            for sub, name, t in reversed(sub_thresholds[k]):
                code[sel & (sample(name) > t)] = sub
        river = sample("river") > 0
        code[river], lu[river] = 1101, 7  # the river is water whatever the scores say
        crop = lu == 1
        paddy = code == 101
        greened = crop & ~paddy & (sample("regreen") > regreen_t)  # the steep dry land, never the paddies
        lu[greened] = np.where(z[greened] > 1300, 4, 3)
        code[greened] = np.where(z[greened] > 1300, 404, 307)  # young forest (其他林地) or grass
        soil = np.where(sample("lime") > 0, 3, np.where(sample("yellow") > 0, 2, 1)).astype(np.uint8)
        soil[paddy] = 4  # paddy soil (水稻土) under the paddies
        measures = np.where(crop & ~paddy & (sample("terrace") > 0), np.where(soil == 3, 2, 1), 0).astype(np.uint8)
        offset = np.zeros(m.shape, np.float32)
        for sub, d in SUBCLASS_NDVI.items():
            offset[code == sub] = d
        ndvi = NDVI_BASE[lu] + offset + NDVI_GAIN[lu] * sample(ndvi_off) + 0.015 * tex - 0.12 * greened
        out.dem[r, c] = np.where(m, z, np.nan)
        out.landuse[r, c] = np.where(m, code, 0)
        out.ndvi[r, c] = np.where(m, np.clip(ndvi, -0.2, 0.95), np.nan)
        out.soil[r, c] = np.where(m, soil, 0)
        out.measures[r, c] = np.where(m, measures, MEASURES_NODATA)
    return out


MONTH_MM = np.array([20, 22, 42, 100, 150, 180, 170, 140, 130, 90, 48, 23], float)  # shape of the year (metro)
RAIN_SHAPE = 0.8  # gamma shape of wet-day amounts: ~30 days ≥ 12 mm a year, station R ~3,300–6,900
MONTH_WET_DAYS = np.array([10, 10, 13, 14, 15, 15, 12, 11, 13, 15, 11, 10], float)


def annual_rain_mm(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Synthetic mean annual rain (mm) at Albers x, y (m): ~1,000 in the west, ~1,400 in the NE/SE mountains."""
    xk, yk = np.asarray(x) / 1000.0, np.asarray(y) / 1000.0
    bumps = ((90, 3400, 60, 230), (80, 3060, 70, 200), (-85, 3070, 35, 150), (150, 3330, 45, 80))
    return 1045.0 + 0.25 * (xk + 250) + sum(h * np.exp(-((xk - cx) ** 2 + (yk - cy) ** 2) / (2 * s * s))
                                             for cx, cy, s, h in bumps) - 0.3 * np.maximum(yk - 3330, 0)


REGION_RAIN_MM = {"metro": 1104.0, "northeast": 1171.0, "southeast": 1209.0}
"""Mean annual rainfall of the three regions (the plan, 第三章二: 1104, 1171 and 1209 mm)."""


def city_rain_stations(mask: np.ndarray, transform: tuple, cell_size: float, *, year: int, count: int = 36,
                       seed: int = 2025, regions: np.ndarray | None = None,
                       region_mm: dict[int, float] | None = None) -> list[dict]:
    """Daily rain rows (station, x, y, date, rain_mm) for ``year`` − 2 … ``year`` at stations inside ``mask``.

    Stations are spread by a minimum spacing; wet days are correlated between stations (a shared daily
    weather draw); amounts are gamma-distributed with a May–September wet season; each station-year is
    scaled to :func:`annual_rain_mm` times a year factor (±12 %).  A year's series does not depend on ``year``.
    """
    mask = np.asarray(mask, bool)
    a, _, x0, _, e, y0 = transform
    rng = np.random.default_rng([seed, 3])
    spacing = 0.6 * np.sqrt(mask.sum() * cell_size * cell_size / max(count, 1))
    picked: list[tuple[float, float]] = []
    for _ in range(100):  # random cells of the mask at least ``spacing`` apart, relaxing the spacing if stuck
        for r, c in zip(rng.integers(0, mask.shape[0], 500), rng.integers(0, mask.shape[1], 500)):
            x, y = x0 + (c + 0.5) * a, y0 + (r + 0.5) * e
            if len(picked) < count and mask[r, c] and all(np.hypot(x - px, y - py) >= spacing for px, py in picked):
                picked.append((x, y))
        spacing *= 0.8
        if len(picked) == count:
            break
    xs, ys = np.array([p[0] for p in picked]), np.array([p[1] for p in picked])
    local = annual_rain_mm(xs, ys)
    if regions is not None and region_mm:
        rr, cc = np.nonzero(mask)
        field = annual_rain_mm(x0 + (cc + 0.5) * a, y0 + (rr + 0.5) * e)
        labels = regions[rr, cc]
        scale = {k: v / float(field[labels == k].mean()) for k, v in region_mm.items() if (labels == k).any()}
        srow = ((ys - y0) / e).astype(int)
        scol = ((xs - x0) / a).astype(int)
        local = local * np.array([scale.get(int(regions[r, c]), 1.0) for r, c in zip(srow, scol)])
    out = []
    for yr in range(year - 2, year + 1):
        yrng = np.random.default_rng([seed, 5, yr])
        days = [date(yr, 1, 1) + timedelta(d) for d in range((date(yr + 1, 1, 1) - date(yr, 1, 1)).days)]
        month = np.array([d.month for d in days]) - 1
        p_wet = MONTH_WET_DAYS[month] / np.bincount(month)[month]
        shared = yrng.standard_normal(len(days))  # regional weather: wet days are correlated between stations
        wet = 0.75 * shared + np.sqrt(1 - 0.75 ** 2) * yrng.standard_normal((len(xs), len(days))) < ndtri(p_wet)
        amount = yrng.gamma(RAIN_SHAPE, 1.0, wet.shape) * (MONTH_MM / MONTH_WET_DAYS)[month]
        rain = np.where(wet, amount, 0.0)
        factor = yrng.uniform(0.88, 1.12) * yrng.uniform(0.96, 1.04, len(xs))
        rain *= (local * factor / np.maximum(rain.sum(axis=1), 1.0))[:, None]
        for s in range(len(xs)):
            for d, v in zip(days, rain[s]):
                out.append({"station": f"S{s + 1:02d}", "x": round(float(xs[s]), 1), "y": round(float(ys[s]), 1),
                            "date": d.isoformat(), "rain_mm": round(float(v), 1)})
    out.sort(key=lambda row: (row["station"], row["date"]))
    return out
