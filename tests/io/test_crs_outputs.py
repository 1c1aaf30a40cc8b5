"""Outputs name their CRS and datum: the CGCS2000 Albers in a COG's GeoKeys and a GeoPackage's gpkg_spatial_ref_sys.

Oracles: the GeoTIFF 1.1 key numbers (OGC 19-008r4, §7: GeodeticCRSGeoKey 2048, ProjectedCRSGeoKey 3072,
ProjMethodGeoKey 3075 with 11 = Albers equal-area, user-defined 32767) and EPSG:4490 = CGCS2000.
"""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest
import shapely
from pyproj import CRS, Transformer

from shuibao.grid import GridSpec
from shuibao.io import raster as rio
from shuibao.io.vector import VectorLayer, write_gpkg
from shuibao.plan.boundaries import EQUAL_AREA_CRS, EQUAL_AREA_CRS_NAME

OLD_PROJ4 = "+proj=aea +lat_0=0 +lon_0=108 +lat_1=28.5 +lat_2=31.5 +x_0=0 +y_0=0 +ellps=GRS80 +units=m +no_defs"


def _geokeys(path) -> dict[int, object]:
    Image = pytest.importorskip("PIL.Image")
    with Image.open(path) as im:
        tags = im.tag_v2
        keys, doubles, text = list(tags[34735]), tags.get(34736, ()), tags.get(34737, "")
    out = {}
    for i in range(4, 4 + 4 * keys[3], 4):
        key, location, count, value = keys[i:i + 4]
        out[key] = value if location == 0 else (text[value:value + count] if location == 34737
                                                else tuple(doubles[value:value + count]))
    return out


def test_equal_area_crs_is_named_on_cgcs2000_and_keeps_the_old_coordinates():
    assert EQUAL_AREA_CRS.name == EQUAL_AREA_CRS_NAME
    assert EQUAL_AREA_CRS.geodetic_crs.to_epsg() == 4490 and EQUAL_AREA_CRS.datum.name == "China 2000"
    assert "unknown" not in EQUAL_AREA_CRS.to_wkt().lower()
    # the same parameters as the proj4 string it replaced: points agree to well under a millimetre
    lon, lat = np.meshgrid(np.linspace(105.3, 110.2, 9), np.linspace(28.2, 32.2, 9))
    new = Transformer.from_crs("EPSG:4490", EQUAL_AREA_CRS, always_xy=True).transform(lon, lat)
    old = Transformer.from_crs("EPSG:4490", CRS.from_proj4(OLD_PROJ4), always_xy=True).transform(lon, lat)
    assert np.max(np.abs(np.subtract(new, old))) < 1e-3


def test_cog_carries_cgcs2000_geokeys_and_reads_back_equal(tmp_path):
    grid = GridSpec((40, 40), (100.0, 0, -150000.0, 0, -100.0, 3150000.0), EQUAL_AREA_CRS.to_wkt())
    path = rio.write_cog(tmp_path / "g.tif", np.ones((40, 40), np.uint8), grid, nodata=0, categorical=True)
    keys = _geokeys(path)
    assert keys[2048] == 4490  # GeodeticCRSGeoKey: CGCS2000
    assert keys[3072] == 32767 and keys[3075] == 11  # user-defined projected CRS, Albers equal-area
    assert EQUAL_AREA_CRS_NAME in keys[1026]  # GTCitationGeoKey names it
    assert (keys[3078], keys[3079]) == ((28.5,), (31.5,))
    read = CRS.from_wkt(rio.read_raster(path, "grade").grid.crs)
    assert read.equals(EQUAL_AREA_CRS) and read.name == EQUAL_AREA_CRS_NAME and read.datum.name == "China 2000"


def test_geopackage_lists_the_crs_by_name(tmp_path):
    from datetime import datetime
    layer = VectorLayer("units", "test", EQUAL_AREA_CRS.to_wkt(), [shapely.box(-150000, 3140000, -149000, 3141000)],
                        {"code": [1]})
    path = write_gpkg(tmp_path / "u.gpkg", [layer], timestamp=datetime(2026, 1, 1))
    with sqlite3.connect(path) as con:
        srs_id = con.execute("SELECT srs_id FROM gpkg_geometry_columns WHERE table_name = 'units'").fetchone()[0]
        name, definition = con.execute("SELECT srs_name, definition FROM gpkg_spatial_ref_sys WHERE srs_id = ?",
                                       (srs_id,)).fetchone()
    assert name == EQUAL_AREA_CRS_NAME
    read = CRS.from_wkt(definition)
    assert read.equals(EQUAL_AREA_CRS) and read.datum.name == "China 2000"
