"""Vector ↔ grid adapter: burn zone polygons into a label raster on a given grid.

Cells take the label of the polygon that contains their centre (GDAL's default
rule), so each cell belongs to at most one zone and zone areas add up to the
area of the cells labelled — the zonal identities hold by construction.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely
from pyproj import CRS, Transformer
from rasterio.features import rasterize
from rasterio.transform import Affine
from shapely.geometry.base import BaseGeometry

from ..errors import InputError
from ..grid import GridSpec


def to_crs(geoms: Sequence[BaseGeometry], src_crs: str, dst_crs: str) -> list[BaseGeometry]:
    """Reproject shapely geometries (always_xy: lon/lat order for geographic CRSs)."""
    src, dst = CRS.from_user_input(src_crs), CRS.from_user_input(dst_crs)
    if src == dst:
        return list(geoms)
    tf = Transformer.from_crs(src, dst, always_xy=True)
    return [shapely.transform(g, lambda xy: np.column_stack(tf.transform(xy[:, 0], xy[:, 1]))) for g in geoms]


def zone_labels(geoms: Sequence[BaseGeometry], geoms_crs: str, grid: GridSpec) -> np.ndarray:
    """int32 labels on ``grid``: 1 + the index of the polygon holding each cell centre, 0 elsewhere."""
    if grid.crs is None:
        raise InputError("the grid has no CRS; zones cannot be placed on it")
    projected = to_crs(geoms, geoms_crs, grid.crs)
    a, b, c, d, e, f = grid.transform
    shapes = [(g, i + 1) for i, g in enumerate(projected) if g is not None and not g.is_empty]
    if not shapes:
        return np.zeros(grid.shape, np.int32)
    return rasterize(shapes, out_shape=grid.shape, transform=Affine(a, b, c, d, e, f), fill=0, dtype="int32",
                     all_touched=False)
