"""Raster header checks made before any data is read: one place for the questions every use case asks of an
input GeoTIFF (does it exist, is it a GeoTIFF, has it a CRS in metres, is it north-up, can its holes be told
from data) and of two inputs (are they on one grid, do they overlap).  Each problem is added to an
:class:`~shuibao.errors.Issues`, so a use case reports every problem of every input at once."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
from rasterio.crs import CRS
from rasterio.enums import MaskFlags
from rasterio.errors import RasterioIOError

from ..errors import InputError, Issue, Issues, N_
from .formats import RASTER_DRIVER, check_raster
from .raster import METRE_UNITS
from .synthetic import is_synthetic


@dataclass
class RasterHeader:
    """What a GeoTIFF's header says, read by :func:`inspect_raster`."""

    path: Path
    role: str
    shape: tuple[int, int]
    transform: tuple
    crs: CRS | None
    count: int
    units: tuple
    tags: dict  # metadata domain (None: the default one) → its tags
    synthetic: bool = False


def inspect_raster(path: Path | str, role: str, issues: Issues, *, metres_for: str | None = None,
                   reproject_hint: str = "", bands: tuple[int, ...] = (1,), masks_count: bool = False,
                   tag_domains: tuple[str, ...] = ()) -> RasterHeader | None:
    """Open the raster's header and add to ``issues`` whatever makes it unusable; None if it cannot be read.

    Checked: it exists and is a readable GeoTIFF (formats.py), has a CRS, a north-up transform, and a nodata
    value if any of ``bands`` (1-based; those beyond the file's count are skipped) is an integer band — with
    ``masks_count`` an internal mask or alpha band declares its holes too.  With ``metres_for`` (what needs
    metres, e.g. "slopes and areas") the CRS must be projected in metres (``reproject_hint``: a gdalwarp
    command).  The tags of ``tag_domains`` are kept besides the default domain's.
    """
    p = Path(path)
    if not p.exists():
        issues.add(role, "", N_("{p} does not exist", p=p))
        return None
    try:
        src = rasterio.open(check_raster(p, role), driver=RASTER_DRIVER)  # GeoTIFF only (formats.py)
    except InputError as exc:
        issues.append(Issue("", "", str(exc)))
        return None
    except RasterioIOError as exc:
        issues.add(role, "", N_("{p} is not a readable raster ({exc})", p=p, exc=exc))
        return None
    with src:
        tags: dict[str | None, dict] = {None: src.tags(), **{ns: src.tags(ns=ns) for ns in tag_domains}}
        h = RasterHeader(p, role, (src.height, src.width), tuple(src.transform)[:6], src.crs, src.count,
                         tuple(src.units or ()), tags)
        _check_crs(h, issues, metres_for, reproject_hint)
        a, b, _, d, e, _ = h.transform
        if b != 0 or d != 0 or a <= 0 or e >= 0:
            issues.add(role, "", N_("{p} is not a north-up grid (transform {transform}); warp it first", p=p, transform=h.transform))
        ints = [i for i in bands if i <= src.count and not np.issubdtype(np.dtype(src.dtypes[i - 1]), np.floating)]
        unmasked = all(MaskFlags.all_valid in src.mask_flag_enums[i - 1] for i in ints) if masks_count else True
        if ints and src.nodata is None and unmasked:
            issues.add(role, "", N_("{p} is an integer raster without a nodata value or mask; declare one (e.g. "
                                    "gdal_edit.py -a_nodata 0) so holes can be told from data", p=p) if masks_count else
                       N_("{p} is an integer raster without a nodata value; declare one (e.g. gdal_edit.py -a_nodata "
                          "0) so holes can be told from data", p=p))
        h.synthetic = is_synthetic(tags[None])
    return h


def _check_crs(h: RasterHeader, issues: Issues, metres_for: str | None, reproject_hint: str) -> None:
    if h.crs is None:
        issues.add(h.role, "", N_("{path} has no CRS; assign one (e.g. gdal_edit.py -a_srs EPSG:4545)", path=h.path))
    elif metres_for is not None and h.crs.is_geographic:
        issues.add(h.role, "", N_("{path} is in a geographic CRS ({crs}); {metres_for} need a "
                   "projected CRS in metres: reproject it (e.g. {reproject_hint})", path=h.path, crs=h.crs.to_string(), metres_for=metres_for, reproject_hint=reproject_hint))
    elif metres_for is not None and (h.crs.linear_units or "").lower() not in METRE_UNITS:
        issues.add(h.role, "", N_("{path} has linear units {linear_units!r}; metres are required", path=h.path, linear_units=h.crs.linear_units))


def grid_differences(a: RasterHeader, b: RasterHeader) -> list[str]:
    """How ``b``'s grid differs from ``a``'s (shape, CRS, transform within 1e-6 of a cell); empty: the same."""
    diffs = []
    if a.shape != b.shape:
        diffs.append(f"shape {b.shape[0]}×{b.shape[1]} against {a.shape[0]}×{a.shape[1]}")
    if a.crs != b.crs and (a.crs is not None and b.crs is not None):
        diffs.append(f"CRS {b.crs.to_string()} against {a.crs.to_string()}")
    tol = 1e-6 * max(abs(a.transform[0]), 1.0)
    if any(abs(x - y) > tol for x, y in zip(a.transform, b.transform)):
        diffs.append(f"transform {b.transform} against {a.transform}")
    return diffs


def header_bounds(h: RasterHeader) -> tuple[float, float, float, float]:
    """(left, bottom, right, top) of a north-up grid, in its CRS."""
    a, _, c, _, e, f = h.transform
    rows, cols = h.shape
    return (c, f + e * rows, c + a * cols, f)


def crs_text(crs: CRS) -> str:
    """``EPSG:n`` where the CRS has a code, else its WKT."""
    epsg = crs.to_epsg()
    return f"EPSG:{epsg}" if epsg else crs.to_wkt()


__all__ = ["RasterHeader", "crs_text", "grid_differences", "header_bounds", "inspect_raster"]
