"""A synthetic before/after image pair with planted construction disturbances — labelled synthetic.

Two 3-band float32 GeoTIFFs (red, NIR, SWIR surface reflectance, 0–1) on a
10 m grid in EPSG:4545, for testing and benchmarking change detection
(:mod:`shuibao.services.supervision.change_detection`).  Nothing here is an observation;
every file carries the tags ``SYNTHETIC=1`` and ``SHUIBAO_SYNTHETIC``.

Scene
-----
Land cover (forest, grass, cropland, bare soil, built-up, water) follows a
smooth random field, ordered like a valley-to-hill profile, with ragged
boundaries.  Each class has typical Sentinel-2-like reflectances (``CLASSES``),
modulated by a static multiplicative texture (±8 %, correlated over ~2 cells)
shared by both dates, plus independent sensor noise on each date and band.

Planted disturbances (the truth)
--------------------------------
Irregular polygons (star-shaped, elongated, rotated) placed on vegetated land
(≥ 90 % of their cells forest, grass or cropland), where vegetation is replaced
by construction soil in the after image.  Each site has its own soil
reflectance and a clearing fraction (60–100 % of the ground cleared, the rest
keeps its vegetation); boundary cells mix the two by their covered fraction
(4×4 supersampling), so edges are soft as in real imagery.
Areas are log-uniform over 0.1–5 hm²; 15 % of sites are small (100–350 m²,
under the default minimum patch of 400 m²) and should be dropped.  The truth
raster marks a cell when its centre lies in a polygon.

Distractors (must not be detected)
----------------------------------
* a seasonal change of all vegetation (red ×1.12, NIR ×0.88, SWIR ×1.04:
  NDVI falls by 0.03–0.10, BSI rises by up to 0.1) and a gain common to all
  bands (×1.03, which ratio indices cancel);
* sensor noise, σ = 0.006 reflectance per band and date;
* mis-registration: the after image is shifted by 0.3 cell in x and y (bilinear),
  the Sentinel-2 multi-temporal co-registration requirement (≤ 0.3 pixel, 2σ),
  which makes thin lines of apparent change along class boundaries;
* single-cell speckles of bright soil in the after image;
* fields that go from bare soil to crops (NDVI up, BSI down);
* nodata: a NaN cloud patch in the before image and a NaN strip along the
  after image's east edge.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import rasterio
import shapely
from rasterio.crs import CRS
from rasterio.features import rasterize
from rasterio.transform import Affine
from scipy import ndimage

from shuibao.grid import GridSpec
from shuibao.io.atomic import atomic_path
from shuibao.demo.scene import ORIGIN, SYNTHETIC_CRS, SYNTHETIC_TAG

FOREST, GRASS, CROP, BARE, BUILT, WATER = 1, 2, 3, 4, 5, 6
CLASSES = {  # code: (name, red, NIR, SWIR 1.6 µm) surface reflectance
    FOREST: ("forest", 0.030, 0.330, 0.140),
    GRASS: ("grass", 0.050, 0.280, 0.200),
    CROP: ("cropland", 0.060, 0.300, 0.190),
    BARE: ("bare soil", 0.180, 0.240, 0.300),
    BUILT: ("built-up", 0.140, 0.180, 0.200),
    WATER: ("water", 0.040, 0.020, 0.010),
}
VEGETATED = (FOREST, GRASS, CROP)
SEASON = np.array([1.12, 0.88, 1.04], np.float32)  # red, NIR, SWIR factors on vegetation in the after image
GAIN = np.float32(1.03)  # common to all bands and classes
NOISE = 0.006  # sensor noise, reflectance σ
CELL = 10.0


@dataclass
class ChangeScene:
    """The pair of images and what was planted in them (all on ``grid``)."""

    before: Path
    after: Path
    grid: GridSpec
    before_date: date
    after_date: date
    truth: list  # planted disturbance polygons (shapely, grid CRS)
    truth_labels: np.ndarray  # int32, i + 1 where a cell centre lies in truth[i]
    truth_cells: np.ndarray  # cells of each planted polygon (cell-centre rule)
    landcover: np.ndarray  # uint8 class codes of the before image
    regrowth: np.ndarray  # bool, bare → crops fields
    speckles: np.ndarray  # (k, 2) row, col of single-cell speckles
    nodata: np.ndarray  # bool, NaN in either image
    notes: dict = field(default_factory=dict)


def _smooth_field(rng: np.random.Generator, size: int, scale: int, sigma: float) -> np.ndarray:
    """Unit-variance noise smoothed at ``scale`` cells: coarse Gaussian noise, blurred, bilinearly enlarged."""
    coarse = size // scale + 3
    f = ndimage.gaussian_filter(rng.standard_normal((coarse, coarse), dtype=np.float32), sigma)
    f = ndimage.zoom(f, scale, order=1)[:size, :size]
    return (f - f.mean()) / max(float(f.std()), 1e-6)


def _landcover(rng: np.random.Generator, size: int) -> np.ndarray:
    relief = _smooth_field(rng, size, 16, 1.5)
    relief += 0.35 * _smooth_field(rng, size, 2, 1.0)  # ragged class boundaries
    other = _smooth_field(rng, size, 8, 1.5)
    sample = relief.ravel()[:: max(1, relief.size // 200_000)]
    q = np.quantile(sample, [0.03, 0.10, 0.14, 0.45])  # water, built-up, bare, cropland, then hills
    lc = np.full((size, size), FOREST, np.uint8)
    lc[(relief >= q[3]) & (other < -0.5)] = GRASS
    lc[relief < q[3]] = CROP
    lc[relief < q[2]] = BARE
    lc[relief < q[1]] = BUILT
    lc[relief < q[0]] = WATER
    return lc


def _star_polygon(rng: np.random.Generator, cx: float, cy: float, area: float) -> shapely.Polygon:
    """An irregular, elongated, rotated polygon of ``area`` m² centred at (cx, cy)."""
    theta = np.linspace(0.0, 2 * np.pi, 24, endpoint=False)
    r = np.ones_like(theta)
    for h in (2, 3, 4, 5):
        r += rng.uniform(0.0, 0.12) * np.cos(h * theta + rng.uniform(0, 2 * np.pi))
    stretch = rng.uniform(1.0, 2.5)
    x, y = r * np.cos(theta) * stretch, r * np.sin(theta) / stretch
    rot = rng.uniform(0, np.pi)
    xr, yr = x * np.cos(rot) - y * np.sin(rot), x * np.sin(rot) + y * np.cos(rot)
    poly = shapely.Polygon(np.column_stack([xr, yr]))
    k = math.sqrt(area / poly.area)
    return shapely.Polygon(np.column_stack([cx + k * xr, cy + k * yr]))


def _window(poly, transform: Affine, size: int, margin: int = 1) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = poly.bounds
    c0 = max(int(math.floor((x0 - transform.c) / CELL)) - margin, 0)
    c1 = min(int(math.ceil((x1 - transform.c) / CELL)) + margin, size)
    r0 = max(int(math.floor((transform.f - y1) / CELL)) - margin, 0)
    r1 = min(int(math.ceil((transform.f - y0) / CELL)) + margin, size)
    return r0, r1, c0, c1


def _cover(poly, transform: Affine, win: tuple[int, int, int, int], sub: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """(covered fraction by sub×sub supersampling, cell-centre membership) of ``poly`` over a window."""
    r0, r1, c0, c1 = win
    h, w = r1 - r0, c1 - c0
    left, top = transform.c + c0 * CELL, transform.f - r0 * CELL
    fine = rasterize([(poly, 1)], out_shape=(h * sub, w * sub), dtype="uint8",
                     transform=Affine(CELL / sub, 0, left, 0, -CELL / sub, top))
    frac = fine.reshape(h, sub, w, sub).mean(axis=(1, 3), dtype=np.float32)
    centre = rasterize([(poly, 1)], out_shape=(h, w), dtype="uint8",
                       transform=Affine(CELL, 0, left, 0, -CELL, top)).astype(bool)
    return frac, centre


def _write(path: Path, bands: np.ndarray, transform: Affine, when: date) -> Path:
    profile = {"driver": "GTiff", "height": bands.shape[1], "width": bands.shape[2], "count": 3,
               "dtype": "float32", "crs": CRS.from_user_input(SYNTHETIC_CRS), "transform": transform,
               "nodata": float("nan"), "tiled": True, "blockxsize": 512, "blockysize": 512, "compress": "DEFLATE",
               "predictor": 3, "zlevel": 1, "interleave": "band", "num_threads": "ALL_CPUS", "BIGTIFF": "IF_SAFER"}
    with atomic_path(path, suffix=".tmp.tif") as tmp, rasterio.open(tmp, "w", **profile) as dst:
        dst.write(bands)
        dst.update_tags(SYNTHETIC="1", SHUIBAO_SYNTHETIC=SYNTHETIC_TAG,
                        TIFFTAG_DATETIME=f"{when:%Y:%m:%d} 10:30:00")
        for i, name in enumerate(("red", "nir", "swir"), start=1):
            dst.set_band_description(i, name)
    return path


def make_change_scene(folder: Path | str, size: int = 600, seed: int = 0, n_disturbances: int | None = None, *,
                      before_date: date = date(2023, 7, 20), after_date: date = date(2024, 9, 25),
                      shift_cells: float = 0.3) -> ChangeScene:
    """Write ``before.tif`` and ``after.tif`` (size × size cells of 10 m) into ``folder``; return the truth.

    ``n_disturbances`` defaults to one site per 0.9 km² (size²/9000, at least 10);
    ``shift_cells`` mis-registers the after image by that many cells south and east.
    Deterministic for a seed.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    n = max(10, round(size * size / 9000)) if n_disturbances is None else int(n_disturbances)
    transform = Affine(CELL, 0.0, ORIGIN[0], 0.0, -CELL, ORIGIN[1])
    lc = _landcover(rng, size)
    refl = np.array([[0, 0, 0]] + [CLASSES[k][1:] for k in sorted(CLASSES)], np.float32)  # code → bands
    texture = 1.0 + 0.08 * ndimage.gaussian_filter(rng.standard_normal((size, size), dtype=np.float32), 1.0) / 0.28
    vegetated = np.isin(lc, VEGETATED)
    occupied = np.zeros((size, size), bool)  # sites, fields and nodata are kept 3 cells apart

    nodata_before = np.zeros((size, size), bool)
    cloud_r = max(size // 30, 3)
    cy, cx = rng.integers(cloud_r, size - cloud_r, 2)
    yy, xx = np.ogrid[:size, :size]
    nodata_before[(yy - cy) ** 2 + (xx - cx) ** 2 <= cloud_r ** 2] = True
    nodata_after = np.zeros((size, size), bool)
    nodata_after[:, size - max(2, size // 100):] = True
    nodata = nodata_before | nodata_after
    occupied |= ndimage.binary_dilation(nodata, iterations=3)

    # bare → crops fields: rectangles of 0.5–3 hm² on bare soil or cropland
    regrowth = np.zeros((size, size), bool)
    for _ in range(max(2, n // 10)):
        for _attempt in range(50):
            h, w = (int(v) for v in rng.integers(5, 18, 2))
            r, c = (int(v) for v in rng.integers(3, size - 20, 2))
            if not occupied[r - 3:r + h + 3, c - 3:c + w + 3].any():
                regrowth[r:r + h, c:c + w] = True
                occupied[r - 3:r + h + 3, c - 3:c + w + 3] = True
                break

    # planted disturbances
    truth, frac_sites = [], []
    truth_labels = np.zeros((size, size), np.int32)
    for _ in range(n):
        small = rng.random() < 0.15
        area = rng.uniform(100.0, 350.0) if small else math.exp(rng.uniform(math.log(1_000.0), math.log(50_000.0)))
        for _attempt in range(200):
            r, c = (int(v) for v in rng.integers(0, size, 2))
            if not vegetated[r, c]:
                continue
            poly = _star_polygon(rng, transform.c + (c + 0.5) * CELL, transform.f - (r + 0.5) * CELL, area)
            win = _window(poly, transform, size, margin=3)
            r0, r1, c0, c1 = win
            if r0 == 0 or c0 == 0 or r1 == size or c1 == size or occupied[r0:r1, c0:c1].any():
                continue
            frac, centre = _cover(poly, transform, win)
            if centre.any() and vegetated[r0:r1, c0:c1][centre].mean() < 0.9:  # mostly on vegetated land
                continue
            occupied[r0:r1, c0:c1] = True
            truth_labels[r0:r1, c0:c1][centre] = len(truth) + 1
            truth.append(poly)
            frac_sites.append((win, frac, rng.uniform(0.6, 1.0), rng.uniform([0.15, 0.20, 0.25], [0.25, 0.30, 0.38])))
            break
    truth_cells = np.bincount(truth_labels.ravel(), minlength=len(truth) + 1)[1:]

    before = np.empty((3, size, size), np.float32)
    after = np.empty((3, size, size), np.float32)
    for b in range(3):
        base = refl[lc, b] * texture
        crop = refl[CROP, b] * texture
        before[b] = np.where(regrowth, refl[BARE, b] * texture, base)
        season = np.where(vegetated | regrowth, SEASON[b], np.float32(1.0))
        after[b] = np.where(regrowth, crop, base) * season * GAIN
    for (r0, r1, c0, c1), frac, clearing, soil in frac_sites:
        f = (frac * clearing)[None]
        after[:, r0:r1, c0:c1] = (1 - f) * after[:, r0:r1, c0:c1] + f * (soil[:, None, None] * GAIN
                                                                          * texture[None, r0:r1, c0:c1])

    if shift_cells:  # mis-registration of the after image (Sentinel-2 multi-temporal spec: < 0.3 cell, 2σ)
        for b in range(3):
            after[b] = ndimage.shift(after[b], (shift_cells, shift_cells), order=1, mode="nearest")

    # single-cell speckles of soil on vegetation, away from everything else
    k = max(5, size * size // 20_000)
    speckles = []
    for _attempt in range(100 * k):
        if len(speckles) == k:
            break
        r, c = (int(v) for v in rng.integers(2, size - 2, 2))
        if vegetated[r, c] and not occupied[r - 2:r + 3, c - 2:c + 3].any():
            after[:, r, c] = np.array([0.22, 0.26, 0.33], np.float32) * GAIN
            occupied[r - 2:r + 3, c - 2:c + 3] = True
            speckles.append((r, c))

    for img, hole in ((before, nodata_before), (after, nodata_after)):
        for b in range(3):
            img[b] += NOISE * rng.standard_normal((size, size), dtype=np.float32)
            img[b][hole] = np.nan
    grid = GridSpec((size, size), tuple(transform)[:6], SYNTHETIC_CRS, float("nan"))
    paths = (_write(folder / "before.tif", before, transform, before_date),
             _write(folder / "after.tif", after, transform, after_date))
    notes = {"n_planted": len(truth), "n_requested": n, "regrowth_cells": int(regrowth.sum()),
             "landcover_share": {CLASSES[k][0]: round(float((lc == k).mean()), 4) for k in CLASSES}}
    return ChangeScene(paths[0], paths[1], grid, before_date, after_date, truth, truth_labels, truth_cells, lc,
                       regrowth, np.array(speckles, np.int64).reshape(-1, 2), nodata, notes)


@dataclass(frozen=True)
class Score:
    """Object- and pixel-level agreement of detected patches with the planted truth."""

    truths: int  # planted disturbances counted (≥ min_cells)
    detections: int
    matched_truths: int
    matched_detections: int
    precision: float  # matched detections / detections
    recall: float  # matched truths / truths
    f1: float
    pixel_precision: float
    pixel_recall: float
    pixel_f1: float


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r > 0 else 0.0


def score(truth_labels: np.ndarray, detected_labels: np.ndarray, *, min_cells: int, iou: float = 0.5) -> Score:
    """Object level: a detection matches a planted disturbance if their cell sets have IoU ≥ ``iou``.

    Recall counts planted disturbances of at least ``min_cells`` cells (smaller ones
    are meant to be dropped); precision counts a detection as right when it matches
    any planted disturbance.  With IoU > 0.5 a match is one-to-one.  Pixel level:
    detected cells against the cells of all planted disturbances.
    """
    t = np.asarray(truth_labels, dtype=np.int64).ravel()
    d = np.asarray(detected_labels, dtype=np.int64).ravel()
    nt, nd = int(t.max(initial=0)), int(d.max(initial=0))
    t_size = np.bincount(t, minlength=nt + 1)
    d_size = np.bincount(d, minlength=nd + 1)
    both = np.flatnonzero((t > 0) & (d > 0))
    pairs, inter = np.unique(t[both] * (nd + 1) + d[both], return_counts=True)
    ti, di = pairs // (nd + 1), pairs % (nd + 1)
    ious = inter / (t_size[ti] + d_size[di] - inter)
    good = ious >= iou
    counted = np.flatnonzero(t_size[1:] >= min_cells) + 1
    matched_t = np.intersect1d(ti[good], counted).size
    present_d = np.flatnonzero(d_size[1:] > 0) + 1
    matched_d = np.unique(di[good]).size
    precision = matched_d / present_d.size if present_d.size else 1.0
    recall = matched_t / counted.size if counted.size else 1.0
    tp = both.size
    pp = tp / max(int((d > 0).sum()), 1)
    pr = tp / max(int((t > 0).sum()), 1)
    return Score(int(counted.size), int(present_d.size), int(matched_t), int(matched_d), precision, recall,
                 _f1(precision, recall), pp, pr, _f1(pp, pr))
