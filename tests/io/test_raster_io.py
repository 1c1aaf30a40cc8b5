"""The raster adapter: nodata policy, CRS and overlap refusals, COG output."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from shuibao.errors import InputError
from shuibao.grid import GridSpec
from shuibao.io import raster as rio


def write_tif(path, data, crs="EPSG:4545", transform=from_origin(400000, 3350000, 30, 30), nodata=None, units=None):
    with rasterio.open(path, "w", driver="GTiff", height=data.shape[0], width=data.shape[1], count=1,
                       dtype=data.dtype, crs=crs, transform=transform, nodata=nodata) as dst:
        dst.write(data, 1)
        if units:
            dst.units = (units,)
    return path


def test_float_nan_is_nodata(tmp_path):
    data = np.ones((4, 5), np.float32)
    data[1, 1] = np.nan
    r = rio.read_raster(write_tif(tmp_path / "a.tif", data), "DEM")
    assert r.valid.sum() == 19 and not r.valid[1, 1]


def test_integer_without_nodata_is_refused(tmp_path):
    with pytest.raises(InputError, match="integer raster without a nodata value"):
        rio.read_raster(write_tif(tmp_path / "lu.tif", np.ones((3, 3), np.uint8)), "land use")


def test_missing_file_and_not_a_raster(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        rio.read_raster(tmp_path / "nope.tif", "DEM")
    bad = tmp_path / "bad.tif"
    bad.write_text("not a tiff")
    with pytest.raises(InputError, match="holds CSV text; use a GeoTIFF"):
        rio.read_raster(bad, "DEM")


def test_geographic_dem_is_refused_with_advice(tmp_path):
    path = write_tif(tmp_path / "geo.tif", np.ones((3, 3), np.float32), crs="EPSG:4490",
                     transform=from_origin(106, 30, 0.001, 0.001))
    r = rio.read_raster(path, "DEM")
    with pytest.raises(InputError, match="geographic CRS.*--target-crs"):
        rio.require_projected_metres(r.grid, "DEM", path)
    converted = rio.reproject_raster(r, "EPSG:4545")
    rio.require_projected_metres(converted.grid, "DEM", path)


def test_feet_are_refused(tmp_path):
    r = rio.read_raster(write_tif(tmp_path / "ft.tif", np.ones((3, 3), np.float32), units="ft"), "DEM")
    with pytest.raises(InputError, match="elevation units 'ft'"):
        rio.require_vertical_metres(r, "DEM")


def test_non_overlapping_raster_is_refused(tmp_path):
    target = GridSpec((10, 10), (30.0, 0, 400000.0, 0, -30.0, 3350000.0), "EPSG:4545")
    far = rio.read_raster(write_tif(tmp_path / "far.tif", np.ones((5, 5), np.float32),
                                   transform=from_origin(900000, 3350000, 30, 30)), "NDVI")
    with pytest.raises(InputError, match="does not overlap the DEM grid"):
        rio.align(far, target, "NDVI")


def test_partial_cover_is_refused(tmp_path):
    target = GridSpec((10, 10), (30.0, 0, 400000.0, 0, -30.0, 3350000.0), "EPSG:4545")
    half = rio.read_raster(write_tif(tmp_path / "half.tif", np.ones((10, 5), np.float32)), "K")
    with pytest.raises(InputError, match="leaves 50 valid DEM cells"):
        rio.align(half, target, "K", target_valid=np.ones((10, 10), bool))


def test_align_resamples_categorical_with_nearest(tmp_path):
    target = GridSpec((4, 4), (30.0, 0, 400000.0, 0, -30.0, 3350000.0), "EPSG:4545")
    coarse = np.array([[1, 2], [3, 4]], np.uint8)
    src = rio.read_raster(write_tif(tmp_path / "c.tif", coarse, transform=from_origin(400000, 3350000, 60, 60),
                                    nodata=0), "land use")
    out = rio.align(src, target, "land use", categorical=True)
    assert out.data.tolist() == [[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]]


def test_write_cog_is_a_valid_cog_written_atomically(tmp_path):
    grid = GridSpec((1500, 1200), (30.0, 0, 400000.0, 0, -30.0, 3350000.0), "EPSG:4545")
    data = np.arange(1500 * 1200, dtype=np.float32).reshape(1500, 1200)
    path = rio.write_cog(tmp_path / "out.tif", data, grid, nodata=float("nan"), tags={"SHUIBAO_TEST": "1"})
    assert [p.name for p in tmp_path.iterdir()] == ["out.tif"]  # no temporary left behind
    with rasterio.open(path) as src:
        assert src.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
        assert src.overviews(1) and src.block_shapes[0] == (512, 512)
        assert src.crs.to_epsg() == 4545 and src.tags()["SHUIBAO_TEST"] == "1"
        assert np.array_equal(src.read(1), data)


def test_failed_write_leaves_nothing(tmp_path, monkeypatch):
    grid = GridSpec((10, 10), (30.0, 0, 400000.0, 0, -30.0, 3350000.0), "EPSG:4545")

    def boom(*a, **k):
        raise RuntimeError("TIFFWriteEncodedStrip failed")  # any failure; a full disk has its own test

    monkeypatch.setattr(rio.rasterio.shutil, "copy", boom)
    with pytest.raises(RuntimeError):
        rio.write_cog(tmp_path / "x.tif", np.zeros((10, 10), np.float32), grid, nodata=None)
    assert list(tmp_path.iterdir()) == []
