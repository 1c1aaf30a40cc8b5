"""CRS and area (issue 16 item 4): a geographic DEM is projected to the equal-area CRS and gives the areas of an
equal-area run; Mercator and projections that do not keep areas over the grid are refused with the reason.

The oracle of the area test is the equal-area run of the same terrain, and beyond it the analytic area of the
valid disc (π r²); the Web Mercator numbers are Snyder's (1987, eq. 7-2/7-3: k = sec φ, areal scale sec² φ).
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import rasterio
from rasterio.enums import Resampling
from rasterio.transform import from_origin
from rasterio.warp import calculate_default_transform, reproject

from shuibao.cli.main import run as cli
from shuibao.errors import InputError
from shuibao.io import raster as rio
from shuibao.plan.boundaries import EQUAL_AREA_CRS
from shuibao.services.monitoring.erosion import CsleInputs, CsleParams, run_csle

CELL = 30.0
N = 400
RADIUS_M = 5500.0
X0, Y1 = -151_000.0, 3_149_000.0  # the disc centred near 106.5° E, 29.5° N (Chongqing's 主城)


def _write(path, data, crs, transform, nodata=None):
    with rasterio.open(path, "w", driver="GTiff", height=data.shape[0], width=data.shape[1], count=1,
                       dtype=data.dtype, crs=crs, transform=transform, nodata=nodata) as dst:
        dst.write(data, 1)
    return path


def _terrain() -> tuple[np.ndarray, np.ndarray]:
    """Smooth hills (wavelength ≫ cell) on a disc of radius 7 km; NaN outside it."""
    y, x = (np.mgrid[0:N, 0:N] + 0.5) * CELL
    c = N * CELL / 2
    dem = 400 + 250 * np.sin(x / 1100.0) * np.cos(y / 900.0) + 0.01 * x  # slopes up to about 16°
    disc = (x - c) ** 2 + (y - c) ** 2 <= RADIUS_M ** 2
    return np.where(disc, dem, np.nan).astype(np.float32), disc


@pytest.fixture(scope="module")
def scenes(tmp_path_factory):
    """The same terrain as (a) a DEM in EQUAL_AREA_CRS and (b) that DEM warped to EPSG:4490 degrees."""
    d = tmp_path_factory.mktemp("crs")
    dem, disc = _terrain()
    wkt = EQUAL_AREA_CRS.to_wkt()
    t = from_origin(X0, Y1, CELL, CELL)
    _write(d / "dem_albers.tif", dem, wkt, t)
    _write(d / "landuse.tif", np.full((N, N), 2, np.uint8), wkt, t, nodata=0)  # 2: 园地-like, B by formula
    _write(d / "fvc.tif", np.full((N, N), 0.3, np.float32), wkt, t)
    _write(d / "r.tif", np.full((N, N), 4500.0, np.float32), wkt, t)
    _write(d / "k.tif", np.full((N, N), 0.0045, np.float32), wkt, t)
    left, bottom, right, top = X0, Y1 - N * CELL, X0 + N * CELL, Y1
    gt, w, h = calculate_default_transform(wkt, "EPSG:4490", N, N, left, bottom, right, top)
    geo = np.full((h, w), np.nan, np.float32)
    reproject(dem, geo, src_transform=t, src_crs=wkt, src_nodata=np.nan, dst_transform=gt, dst_crs="EPSG:4490",
              dst_nodata=np.nan, resampling=Resampling.bilinear)
    _write(d / "dem_4490.tif", geo, "EPSG:4490", gt)
    mt, mw, mh = calculate_default_transform(wkt, "EPSG:3857", N, N, left, bottom, right, top)
    mercator = np.full((mh, mw), np.nan, np.float32)
    reproject(dem, mercator, src_transform=t, src_crs=wkt, src_nodata=np.nan, dst_transform=mt, dst_crs="EPSG:3857",
              dst_nodata=np.nan, resampling=Resampling.bilinear)
    _write(d / "dem_3857.tif", mercator, "EPSG:3857", mt)
    return d, int(disc.sum())


def _inputs(d, dem):
    return CsleInputs(dem=d / dem, landuse=d / "landuse.tif", fvc=d / "fvc.tif", r=d / "r.tif", k=d / "k.tif")


@pytest.fixture(scope="module")
def runs(scenes, tmp_path_factory):
    d, _ = scenes
    out = tmp_path_factory.mktemp("equal")
    equal = run_csle(_inputs(d, "dem_albers.tif"), out, CsleParams())
    geo = run_csle(_inputs(d, "dem_4490.tif"), tmp_path_factory.mktemp("geo"), CsleParams())
    equal["_out"] = out
    return equal, geo


def test_products_name_the_crs_and_carry_colours_and_styles(runs):
    from pyproj import CRS
    equal, _ = runs
    out = equal["_out"]
    with rasterio.open(out / "grade.tif") as src:
        crs = CRS.from_wkt(src.crs.to_wkt())
        assert src.colorinterp[0].name == "palette" and src.colormap(1)[6][:3] == (115, 0, 0)  # 剧烈 #730000
    assert crs.equals(EQUAL_AREA_CRS) and crs.datum.name == "China 2000"
    for name in ("grade.qml", "grade.sld", "soil_loss.qml", "soil_loss.sld"):
        assert (out / name).is_file() and equal["outputs"][name.replace(".", "_")] == name
    assert 'value="500"' in (out / "soil_loss.qml").read_text(encoding="utf-8")  # the run's tolerance


def test_geographic_dem_is_projected_to_the_equal_area_crs(runs):
    _, geo = runs
    crs = rio.CRS.from_wkt(geo["grid"]["crs"])
    from pyproj import CRS
    assert CRS.from_wkt(crs.to_wkt()).equals(EQUAL_AREA_CRS)
    # 0.0003° cells at 29.5° N are about 29 × 33 m on the ground; their area kept in a square cell
    size = geo["grid"]["cell_size_m"][0]
    assert geo["grid"]["cell_size_m"][0] == geo["grid"]["cell_size_m"][1] and 25 <= size <= 35 and size == round(size)


def test_geographic_and_equal_area_runs_agree_on_areas_within_0_1_pct(runs, scenes):
    equal, geo = runs
    _, disc_cells = scenes
    a, b = equal["grades"], geo["grades"]
    disc_km2 = math.pi * (RADIUS_M / 1000) ** 2  # 95.03 km², the analytic oracle for both
    assert a["total_km2"] == pytest.approx(disc_cells * CELL ** 2 / 1e6)
    assert a["total_km2"] == pytest.approx(disc_km2, rel=2e-3)  # a 30 m raster disc vs π r²
    assert b["total_km2"] == pytest.approx(a["total_km2"], rel=1e-3)
    # area by grade: the loss classes of the smooth hills move little under two bilinear warps
    for grade, area in a["area_km2"].items():
        if area > 0.05 * a["total_km2"]:  # classes of at least 5 % of the land
            assert b["area_km2"][grade] == pytest.approx(area, rel=0.02), grade
    assert geo["conservation_rate_pct"] == pytest.approx(equal["conservation_rate_pct"], abs=0.5)


def test_web_mercator_dem_is_refused_naming_file_reason_and_remedy(scenes, tmp_path):
    d, _ = scenes
    with pytest.raises(InputError) as err:
        run_csle(_inputs(d, "dem_3857.tif"), tmp_path / "o", CsleParams())
    msg = str(err.value)
    assert str(d / "dem_3857.tif") in msg and "Mercator" in msg and "Pseudo-Mercator" in msg
    assert "EPSG:4545" in msg and "--target-crs" in msg and "Albers" in msg
    # areal scale at the disc's latitudes (29.44°–29.56° N): sec²φ on the sphere (Snyder 1987, eq. 7-2, 7-3),
    # 1.317–1.321; Pseudo-Mercator applies the sphere of radius a to the ellipsoid, a²/(M·N) ≈ 1.0035 more
    lo, hi = (float(v) for v in re.search(r"ratio is (\d\.\d+)–(\d\.\d+)", msg).groups())
    sec2 = [1 / math.cos(math.radians(lat)) ** 2 for lat in (29.44, 29.56)]
    assert sec2[0] * 0.999 < lo <= hi < sec2[1] * 1.006
    assert not (tmp_path / "o").exists()


def test_web_mercator_as_target_crs_is_refused(scenes, tmp_path):
    d, _ = scenes
    with pytest.raises(InputError, match=r"target CRS\) is in a Mercator projection \(WGS 84 / Pseudo-Mercator\)"):
        run_csle(_inputs(d, "dem_albers.tif"), tmp_path / "o", CsleParams(target_crs="EPSG:3857"))


def test_cli_exits_2_on_a_web_mercator_dem(scenes, tmp_path, capsys):
    d, _ = scenes
    code = cli(["erosion", "csle", "--dem", str(d / "dem_3857.tif"), "--landuse", str(d / "landuse.tif"),
                "--fvc", str(d / "fvc.tif"), "--r", str(d / "r.tif"), "--k", str(d / "k.tif"),
                "-o", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and "dem_3857.tif" in err and "Mercator" in err and "Traceback" not in err


@pytest.mark.parametrize("crs, x0, accepted", [
    # 3-degree GK zone CM 108° E (false easting 500 km): at 60 km from the CM k² − 1 ≈ (60/6371)² = 0.009 %
    ("EPSG:4545", 440_000.0, True),
    # the same zone 250 km west of its CM (105.4° E): k² − 1 ≈ (250/6381)² = 0.15 % > 0.1 %
    ("EPSG:4545", 250_000.0, False),
    # UTM 48N at its CM 105° E: areal scale k0² = 0.9996² = 0.99920 (−0.08 %), within 0.1 %
    ("EPSG:32648", 500_000.0, True),
])
def test_conformal_grids_are_accepted_only_near_their_central_meridian(tmp_path, crs, x0, accepted):
    path = _write(tmp_path / "dem.tif", np.full((50, 50), 300.0, np.float32), crs,
                  from_origin(x0, 3_300_000.0, 100, 100))
    dem = rio.read_raster(path, "DEM")
    if accepted:
        lo, hi = rio.require_area_preserving(dem.grid, dem.valid, "DEM", path)
        assert max(abs(lo - 1), abs(hi - 1)) <= 1e-3
    else:
        with pytest.raises(InputError, match=r"does not keep ground areas.*\+0\.1[4-6] %.*0\.1 %"):
            rio.require_area_preserving(dem.grid, dem.valid, "DEM", path)


def test_equal_area_crs_has_unit_areal_scale_over_chongqing():
    """Chongqing spans 105.3–110.2° E, 28.2–32.2° N: the Albers keeps areas to 1e-9 all over it."""
    from pyproj import Transformer
    to_xy = Transformer.from_crs("EPSG:4490", EQUAL_AREA_CRS, always_xy=True)
    (x0, x1), (y0, y1) = zip(to_xy.transform(105.3, 28.2), to_xy.transform(110.2, 32.2))
    from shuibao.grid import GridSpec
    grid = GridSpec((100, 100), ((x1 - x0) / 100, 0, x0, 0, -(y1 - y0) / 100, y1), EQUAL_AREA_CRS.to_wkt(), None)
    lo, hi = rio.areal_scale_range(grid)
    assert abs(lo - 1) < 1e-8 and abs(hi - 1) < 1e-8
