"""How jacksboro_utm16n_90m.tif was made from matplotlib's sample DEM (run once; kept for provenance).

    python tests/data/real_dem/derive_dem.py   # needs matplotlib and rasterio

Source: ``matplotlib/mpl-data/sample_data/jacksboro_fault_dem.npz`` (matplotlib 3.11.2 wheel,
sha256 d493f50a33e82a4420494c54d1fca1539d177bdc27ab190bc5fe6e92f62fb637), 344 × 403 int16 metres on a 3 arc-second grid, cell centres from
``xmin``/``xmax`` and the stored ``ymin`` (36.7329, the northern row) to ``ymax`` (36.4463).
Warped to UTM zone 16N (EPSG:32616) at 90 m by bilinear resampling, trimmed by 11 cells on
every side so that no cell is empty, and rounded to 1 cm.
"""

from pathlib import Path

import numpy as np
import rasterio
from matplotlib import cbook
from rasterio.transform import array_bounds, from_origin
from rasterio.warp import Resampling, calculate_default_transform, reproject

OUT = Path(__file__).with_name("jacksboro_utm16n_90m.tif")

src = cbook.get_sample_data("jacksboro_fault_dem.npz")
z = np.asarray(src["elevation"]).astype(np.float32)
step = float(src["dx"])
src_transform = from_origin(float(src["xmin"]) - step / 2, float(src["ymin"]) + step / 2, step, step)
crs = "EPSG:32616"
transform, width, height = calculate_default_transform(
    "EPSG:4326", crs, z.shape[1], z.shape[0], *array_bounds(z.shape[0], z.shape[1], src_transform), resolution=90)
out = np.full((height, width), -9999, np.float32)
reproject(z, out, src_transform=src_transform, src_crs="EPSG:4326", dst_transform=transform, dst_crs=crs,
          resampling=Resampling.bilinear, dst_nodata=-9999)
valid = out != -9999
k = 0
while not valid[k:height - k, k:width - k].all():
    k += 1
sub = np.round(out[k:height - k, k:width - k], 2)
profile = dict(driver="GTiff", width=sub.shape[1], height=sub.shape[0], count=1, dtype="float32", crs=crs,
               transform=transform * rasterio.Affine.translation(k, k), compress="deflate", predictor=3, zlevel=9)
with rasterio.open(OUT, "w", **profile) as dst:
    dst.write(sub, 1)
