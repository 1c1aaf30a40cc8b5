"""A whole CSLE run from GeoTIFF inputs: outputs, identities, validation of broken inputs."""

from __future__ import annotations

import csv
import json
import re

import numpy as np
import pytest
import rasterio

from shuibao.errors import InputError
from shuibao.services.monitoring.erosion import CsleInputs, CsleParams, run_csle


def inputs(scene, **over):
    base = dict(dem=scene / "dem.tif", landuse=scene / "landuse.tif", ndvi=scene / "ndvi.tif",
                rain=scene / "rain.csv", soil=scene / "soil.tif", soil_table=scene / "soil.csv")
    base.update(over)
    return CsleInputs(**base)


@pytest.fixture(scope="module")
def run(scene_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    summary = run_csle(inputs(scene_dir), out, CsleParams(intermediates=True))
    return out, summary


def read(path):
    with rasterio.open(path) as src:
        return src.read(1)


def test_outputs_and_summary(run):
    out, summary = run
    for name in ("r_factor", "k_factor", "l_factor", "s_factor", "ls_factor", "b_factor", "e_factor", "t_factor",
                 "fvc", "slope", "soil_loss", "grade"):
        assert (out / f"{name}.tif").exists()
    assert json.loads((out / "summary.json").read_text()) == json.loads(json.dumps(summary, default=float))
    assert len(summary["stations"]) == 5 and summary["inputs"]["dem"]["sha256"]


def test_areas_add_up_and_rate_is_slight_share(run):
    out, summary = run
    g = summary["grades"]
    grades = read(out / "grade.tif")
    assert sum(g["cells"].values()) == np.count_nonzero(grades) == summary["grid"]["valid_cells"]
    assert sum(g["area_km2"].values()) == pytest.approx(g["total_km2"])
    assert g["total_km2"] == pytest.approx(120 * 100 * 0.03 * 0.03)
    assert summary["conservation_rate_pct"] == pytest.approx(g["cells"]["slight"] / sum(g["cells"].values()) * 100)


# SL 190-2007 water-erosion classes, t/(km²·a), with the 西南土石山区 tolerance of 500 (methods.md §3.1–3.2,
# both [V]); intervals left-closed (methods.md §3 boundary rule [D]).
SL190_LOWER_BOUNDS = ((15000, 6), (8000, 5), (5000, 4), (2500, 3), (500, 2), (0, 1))  # (lower bound, grade)


def sl190_grade_by_hand(modulus: float) -> int:
    """1 微度 … 6 剧烈, 0 for nodata, by reading the standard's table top-down."""
    if not np.isfinite(modulus):
        return 0
    return next(g for lower, g in SL190_LOWER_BOUNDS if modulus >= lower)


def test_grade_raster_matches_soil_loss_thresholds(run):
    out, _ = run
    a = read(out / "soil_loss.tif")
    by_hand = np.vectorize(sl190_grade_by_hand, otypes=[np.uint8])(a)
    grades = read(out / "grade.tif")
    assert np.array_equal(grades, by_hand)
    assert len(np.unique(grades[grades > 0])) >= 3  # the scene exercises more than one threshold


def test_soil_loss_is_the_product_of_the_factor_rasters(run):
    out, _ = run
    product = np.ones_like(read(out / "r_factor.tif"), dtype=np.float64)
    for name in ("r_factor", "k_factor", "l_factor", "s_factor", "b_factor", "e_factor", "t_factor"):
        product *= read(out / f"{name}.tif")
    a = read(out / "soil_loss.tif")
    ok = np.isfinite(a)
    assert np.allclose(a[ok], product[ok] * 100, rtol=1e-4)


def test_outputs_are_labelled_synthetic_when_asked(scene_dir, tmp_path):
    summary = run_csle(inputs(scene_dir), tmp_path, CsleParams(synthetic=True))
    assert summary["synthetic"] is True
    with rasterio.open(tmp_path / "grade.tif") as src:
        assert "synthetic" in src.tags()["SHUIBAO_SYNTHETIC"]


def test_every_problem_is_reported_at_once(scene_dir, tmp_path):
    rain = tmp_path / "rain.csv"
    rows = list(csv.DictReader((scene_dir / "rain.csv").read_text(encoding="utf-8-sig").splitlines()))
    rows[3]["rain_mm"] = "-4"
    with open(rain, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, rows[0].keys())
        w.writeheader()
        w.writerows(rows)
    lu = tmp_path / "landuse.tif"
    with rasterio.open(scene_dir / "landuse.tif") as src:
        data, profile = src.read(1), src.profile
    data[0, 0] = 42
    profile.update(driver="GTiff")
    with rasterio.open(lu, "w", **profile) as dst:
        dst.write(data, 1)
    with pytest.raises(InputError) as info:
        run_csle(inputs(scene_dir, rain=rain, landuse=lu, soil_table=tmp_path / "missing.csv"), tmp_path / "o",
                 CsleParams())
    msg = str(info.value)
    assert "3 problem(s)" in msg
    assert "rain_mm -4 is negative" in msg and "row 5" in msg
    assert "class code(s) [42]" in msg
    assert "missing.csv does not exist" in msg
    assert not (tmp_path / "o").exists()  # nothing computed or written


@pytest.mark.parametrize("case, expected", [
    ("web_mercator_dem", "is in a Mercator projection (WGS 84 / Pseudo-Mercator)"),
    ("missing_dem", "does not exist"),
    ("no_r", "R: give an R raster"),
    ("scaled_ndvi", "NDVI lies in [-1, 1]"),
])
def test_single_broken_input(scene_dir, tmp_path, case, expected):
    over = {}
    if case == "web_mercator_dem":  # a geographic DEM is projected now (tests/erosion/test_crs_area.py)
        from rasterio.transform import from_origin
        with rasterio.open(scene_dir / "dem.tif") as src:
            data = src.read(1)
        path = tmp_path / "mercator.tif"
        with rasterio.open(path, "w", driver="GTiff", height=data.shape[0], width=data.shape[1], count=1,
                           dtype=data.dtype, crs="EPSG:3857", transform=from_origin(11.86e6, 3.44e6, 30, 30)) as d:
            d.write(data, 1)
        over["dem"] = path
    elif case == "missing_dem":
        over["dem"] = tmp_path / "none.tif"
    elif case == "no_r":
        over["rain"] = None
    else:
        with rasterio.open(scene_dir / "ndvi.tif") as src:
            data, profile = src.read(1) * 10000, src.profile
        profile.update(driver="GTiff")
        path = tmp_path / "ndvi.tif"
        with rasterio.open(path, "w", **profile) as dst:
            dst.write(data, 1)
        over["ndvi"] = path
    with pytest.raises(InputError, match=re.escape(expected)):
        run_csle(inputs(scene_dir, **over), tmp_path / "o", CsleParams())


def test_default_outputs_are_the_factors_and_products(scene_dir, tmp_path):
    summary = run_csle(inputs(scene_dir), tmp_path, CsleParams())
    assert set(summary["outputs"]) == {"r_factor", "k_factor", "l_factor", "s_factor", "b_factor", "e_factor",
                                       "t_factor", "soil_loss", "grade", "grade_qml", "grade_sld", "soil_loss_qml",
                                       "soil_loss_sld"}
    with rasterio.open(tmp_path / "grade.tif") as src:
        assert src.compression.name == "deflate"  # products: readable everywhere
    with rasterio.open(tmp_path / "r_factor.tif") as src:
        assert src.compression.name == "zstd"


def test_r_and_k_rasters_instead_of_stations_and_soils(scene_dir, run, tmp_path):
    out, first = run
    again = run_csle(inputs(scene_dir, rain=None, soil=None, soil_table=None, r=out / "r_factor.tif",
                            k=out / "k_factor.tif"), tmp_path, CsleParams())
    assert again["grades"]["cells"] == first["grades"]["cells"]


def test_nodata_hole_on_the_dem_grid_is_refused(scene_dir, run, tmp_path):
    """An input already on the DEM grid must still cover every valid DEM cell (nodata is not a value)."""
    out, _ = run
    with rasterio.open(out / "r_factor.tif") as src:
        data, profile = src.read(1), src.profile
    data[:10, :10] = -9999.0
    profile.update(driver="GTiff", nodata=-9999.0)
    holey = tmp_path / "r_holes.tif"
    with rasterio.open(holey, "w", **profile) as dst:
        dst.write(data, 1)
    with pytest.raises(InputError, match="leaves 100 valid DEM cells"):
        run_csle(inputs(scene_dir, rain=None, r=holey), tmp_path / "o", CsleParams())


def test_summary_is_strict_json_when_a_station_has_no_erosive_rain(scene_dir, tmp_path):
    rain = tmp_path / "dry.csv"
    rain.write_text("station,x,y,date,rain_mm\nD1,400100,3349900,2022-06-01,5\nD1,400100,3349900,2022-06-02,3\n",
                    encoding="utf-8")
    # Zhang 2002's α and β come from the erosive days' means: none without erosive rain (the seasonal default has fixed α)
    run_csle(inputs(scene_dir, rain=rain), tmp_path / "o", CsleParams(r_model="zhang2002"))
    text = (tmp_path / "o" / "summary.json").read_text()
    assert "NaN" not in text
    station = json.loads(text)["stations"][0]
    assert station["r_annual"] == 0.0 and station["alpha"] is None
