"""The synthetic Chongqing of ``shuibao demo``: deterministic, masked, Chongqing-like, written as usable inputs."""

from __future__ import annotations

import tomllib
from collections import defaultdict

import numpy as np
import pytest
import rasterio
from pyproj import Transformer

from shuibao.core.terrain import slope_degrees
from shuibao.erosion import tables
from shuibao.erosion.inputs import read_daily_rain, read_soil_table
from shuibao.io.raster import read_raster
from shuibao.io.vector import zone_labels
from shuibao.plan.boundaries import EQUAL_AREA_CRS, build_boundaries
from shuibao.plan.reference import load_reference
from shuibao.demo.inputs import demo_grid, write_demo_inputs
from shuibao.demo import city as synthetic_city
from shuibao.demo.scene import make_scene
from shuibao.demo.city import city_rain_stations, make_city_scene

# City-wide 2020 land-use shares the demo aims at (表2 codes).  表2 itself lists only the eroded area of
# each class; the floors below are those areas, which no class's area can be smaller than.
TARGETS = {1: 0.30, 2: 0.04, 3: 0.50, 4: 0.03, 5: 0.07, 6: 0.015, 7: 0.03, 8: 0.015}
TABLE2_LABELS = {1: "耕地", 2: "园地", 3: "林地", 4: "草地", 5: "建设用地", 6: "交通运输用地", 8: "其它土地"}


def like_adjacency(lu: np.ndarray) -> float:
    """Share of 4-neighbour pairs of valid cells with the same class (FRAGSTATS' PLADJ)."""
    same = total = 0
    for a, b in ((lu[1:], lu[:-1]), (lu[:, 1:], lu[:, :-1])):
        ok = (a > 0) & (b > 0)
        same += int(np.count_nonzero((a == b) & ok))
        total += int(np.count_nonzero(ok))
    return same / total


def to_albers(lon: float, lat: float) -> tuple[float, float]:
    return Transformer.from_crs("EPSG:4490", EQUAL_AREA_CRS, always_xy=True).transform(lon, lat)


@pytest.fixture(scope="module")
def city100():
    """The real district mask at 100 m (the demo resolution) with the 2024 and 2025 scenes."""
    grid, geoms = demo_grid(100.0)
    labels = zone_labels(geoms, grid.crs, grid)
    mask = labels > 0
    scenes = {y: make_city_scene(mask, grid.transform, 100.0, grid.crs, year=y) for y in (2024, 2025)}
    names = [b.district.name for b in build_boundaries(load_reference())]
    return grid, labels, names, scenes


@pytest.fixture(scope="module")
def city1000():
    grid, geoms = demo_grid(1000.0)
    return grid, zone_labels(geoms, grid.crs, grid) > 0


def test_same_inputs_give_identical_arrays(city1000):
    grid, mask = city1000
    first = make_city_scene(mask, grid.transform, 1000.0, grid.crs, year=2025)
    synthetic_city._world.cache_clear()  # the world grid is rebuilt from its seeds, not reused
    again = make_city_scene(mask, grid.transform, 1000.0, grid.crs, year=2025)
    for name in ("dem", "landuse", "ndvi", "soil", "measures"):
        assert np.array_equal(getattr(first, name), getattr(again, name), equal_nan=True), name
    rows = city_rain_stations(mask, grid.transform, 1000.0, year=2025)
    assert rows == city_rain_stations(mask, grid.transform, 1000.0, year=2025)
    assert rows != city_rain_stations(mask, grid.transform, 1000.0, year=2025, seed=7)


def test_values_inside_the_mask_and_nodata_outside(city100):
    grid, labels, _, scenes = city100
    mask = labels > 0
    s = scenes[2024]
    assert s.dem.dtype == np.float32 and s.ndvi.dtype == np.float32
    assert s.landuse.dtype == np.uint16 and s.soil.dtype == s.measures.dtype == np.uint8
    assert np.isfinite(s.dem[mask]).all() and np.isfinite(s.ndvi[mask]).all()
    assert set(np.unique(s.plan_class[mask])) == set(range(1, 9))
    codes = set(np.unique(s.landuse[mask]).tolist())
    known = set(tables.landuse_codes())
    assert codes <= known and all(c >= 101 for c in codes)  # GB/T 21010 second-level codes only
    assert {101, 103, 301, 305, 1101} <= codes
    assert set(np.unique(s.soil[mask])) == {1, 2, 3, 4}
    assert (s.soil[mask & (s.landuse == 101)] == 4).all()  # paddy soil under the paddies
    assert set(np.unique(s.measures[mask])) == {0, 1, 2}
    assert np.isnan(s.dem[~mask]).all() and np.isnan(s.ndvi[~mask]).all()
    assert not s.landuse[~mask].any() and not s.soil[~mask].any()
    assert (s.measures[~mask] == synthetic_city.MEASURES_NODATA).all()
    assert s.ndvi[mask].min() >= -0.2 and s.ndvi[mask].max() <= 0.95
    terraced = mask & (s.measures > 0)
    assert np.isin(s.plan_class[terraced], (1, 3, 4)).all()  # cropland, or cropland re-greened since 2020
    assert not (terraced & (s.landuse == 101)).any()  # paddies are level already
    assert (s.soil[mask & (s.measures == 2)] == 3).all()  # stone banks on limestone soil


def test_landuse_shares_near_the_targets_and_above_table2(city100):
    grid, labels, _, scenes = city100
    shares = scenes[2024].landuse_shares()
    print({k: round(v * 100, 2) for k, v in shares.items()})
    for k, target in TARGETS.items():
        tolerance = 0.03 if target >= 0.3 else 0.01
        assert abs(shares[k] - target) <= tolerance, (k, shares[k], target)
    area_km2 = np.count_nonzero(labels) * grid.cell_area / 1e6
    eroded = {row.label: float(row.loss_km2) for row in load_reference().table2 if row.row_kind == "class"}
    for k, label in TABLE2_LABELS.items():
        assert shares[k] * area_km2 >= eroded[label], (label, shares[k] * area_km2, eroded[label])


def test_landuse_is_patchy_not_salt_and_pepper(city100):
    _, _, _, scenes = city100
    city = like_adjacency(scenes[2024].plan_class)
    fractal = like_adjacency(make_scene(400, seed=0).landuse)
    print(f"like adjacency: city {city:.3f}, make_scene {fractal:.3f}")
    assert city > 0.8
    assert fractal < 0.65


def test_terrain_looks_like_chongqing(city100):
    grid, labels, names, scenes = city100
    mask = labels > 0
    dem = scenes[2024].dem
    slope = slope_degrees(np.where(mask, dem, 0), mask, 100.0)
    median = float(np.median(slope[mask & np.isfinite(slope)]))
    print(f"median Horn slope {median:.1f}°, elevation {np.nanmin(dem):.0f}–{np.nanmax(dem):.0f} m")
    assert 10.0 <= median <= 15.0
    assert 120.0 <= np.nanmin(dem) <= 200.0
    assert 2300.0 <= np.nanmax(dem) <= 3200.0

    def district_median(name):
        return float(np.median(dem[labels == names.index(name) + 1]))

    assert district_median("城口县") > 1200.0  # Daba Shan
    assert district_median("酉阳县") > 700.0  # Wuling Shan
    assert district_median("渝中区") < 400.0  # the peninsula between the Yangtze and the Jialing
    assert district_median("荣昌区") < 500.0  # the hills of western Chongqing
    a, _, x0, _, e, y0 = grid.transform
    for lon, lat in ((106.586, 29.566), (107.39, 29.70), (108.40, 30.80), (109.88, 31.07)):  # towns on the Yangtze
        x, y = to_albers(lon, lat)
        r, c = int((y - y0) / e), int((x - x0) / a)
        near = dem[r - 30:r + 31, c - 30:c + 31]
        assert np.nanmin(near) < 250.0, (lon, lat, np.nanmin(near))


def test_second_year_is_greener(city100):
    _, labels, _, scenes = city100
    mask = labels > 0
    a, b = scenes[2024], scenes[2025]
    assert float(b.ndvi[mask].mean()) > float(a.ndvi[mask].mean()) + 0.003
    for name in ("dem", "soil", "measures"):
        assert np.array_equal(getattr(a, name), getattr(b, name), equal_nan=True), name
    changed = a.landuse != b.landuse
    assert set(np.unique(a.landuse[changed])) <= {102, 103}  # only dry cropland changes …
    assert set(np.unique(b.landuse[changed])) <= {307, 404}  # … into young forest or grass
    share = np.count_nonzero(changed) / np.count_nonzero(a.plan_class == 1)
    assert 0.005 < share < 0.05, share


def test_rain_stations_inside_the_mask_with_a_plausible_climate(city1000):
    grid, mask = city1000
    rows = city_rain_stations(mask, grid.transform, 1000.0, year=2025)
    a, _, x0, _, e, y0 = grid.transform
    stations = {r["station"]: (r["x"], r["y"]) for r in rows}
    assert len(stations) == 36 and len(set(stations.values())) == 36
    for x, y in stations.values():
        assert mask[int((y - y0) / e), int((x - x0) / a)]
    totals, wet_season, per_station = defaultdict(float), 0.0, defaultdict(list)
    for r in rows:
        assert r["rain_mm"] >= 0
        totals[(r["station"], r["date"][:4])] += r["rain_mm"]
        if 5 <= int(r["date"][5:7]) <= 9:
            wet_season += r["rain_mm"]
    assert {y for _, y in totals} == {"2023", "2024", "2025"}
    days = defaultdict(int)
    for r in rows:
        days[(r["station"], r["date"][:4])] += 1
    assert all(n == (366 if y == "2024" else 365) for (_, y), n in days.items())
    annual = np.array(list(totals.values()))
    assert 800 <= annual.min() and annual.max() <= 1800
    assert 1000 <= annual.mean() <= 1400
    assert wet_season / annual.sum() > 0.55
    for (s, _), t in totals.items():
        per_station[s].append(t)
    west = [np.mean(v) for s, v in per_station.items() if stations[s][0] < -150_000]
    mountains = [np.mean(v) for s, v in per_station.items() if stations[s][0] > 0]
    assert west and mountains and np.mean(mountains) > np.mean(west) + 100
    # a year's series does not depend on which file asks for it
    earlier = {(r["station"], r["date"]): r["rain_mm"] for r in city_rain_stations(mask, grid.transform, 1000.0,
                                                                                   year=2024)}
    assert all(earlier[(r["station"], r["date"])] == r["rain_mm"] for r in rows if r["date"] < "2025")


def test_write_demo_inputs_on_a_coarse_grid(tmp_path):
    specs = write_demo_inputs(tmp_path, resolution_m=2000.0, years=(2024, 2025))
    assert [p.name for p in specs] == ["monitor-2024.toml", "monitor-2025.toml"]
    for year, spec_path in zip((2024, 2025), specs):
        spec = tomllib.loads(spec_path.read_text(encoding="utf-8"))
        assert spec["run"]["year"] == year and spec["run"]["synthetic"] is True
        assert spec["run"]["output"] == f"output/{year}" and spec["grid"]["resolution_m"] == 2000.0
        assert spec["inputs"]["districts"] == "store"
        from shuibao.monitoring.spec import load_spec
        parsed = load_spec(spec_path)  # the spec parser accepts it (paths exist, keys known)
        assert parsed.parameters["tolerance_t_km2"] == 500
        assert parsed.tables == {}  # the demo runs on the shipped tables, not on tables of its own
        paths = {k: spec_path.parent / v for k, v in spec["inputs"].items() if k != "districts"}
        assert all(p.is_file() for p in paths.values()), paths
        dem = read_raster(paths["dem"], "DEM")
        assert dem.grid.crs and EQUAL_AREA_CRS.equals(dem.grid.crs) and dem.grid.cell_width == 2000.0
        assert 15_000 < dem.valid.sum() < 26_000  # 82,400 km² in 4 km² cells
        for key in ("landuse", "ndvi", "soil", "measures"):
            r = read_raster(paths[key], key)
            assert r.grid.shape == dem.grid.shape and np.array_equal(r.valid, dem.valid), key
            with rasterio.open(paths[key]) as src:
                assert src.tags()["SHUIBAO_SYNTHETIC"].startswith("yes")
                assert src.descriptions[0]
        problems: list[str] = []
        assert read_soil_table(paths["soil_table"], problems) is not None
        series = read_daily_rain(paths["rain"], dem.grid.crs, problems)
        assert not problems and len(series) == 36
        assert {int(y) for s in series for y in np.unique(s.year)} == {year - 2, year - 1, year}
    inputs = tmp_path / "inputs"
    stamps = {p.name: p.stat().st_mtime_ns for p in inputs.iterdir()}
    write_demo_inputs(tmp_path, resolution_m=2000.0, years=(2024, 2025))  # manifest says nothing changed
    assert {p.name: p.stat().st_mtime_ns for p in inputs.iterdir()} == stamps
    (inputs / "synthetic-manifest.json").unlink()
    (inputs / "rain-2025.csv").unlink()
    write_demo_inputs(tmp_path, resolution_m=2000.0, years=(2024, 2025))  # regenerated, compared byte by byte
    after = {p.name: p.stat().st_mtime_ns for p in inputs.iterdir()}
    assert (inputs / "rain-2025.csv").is_file()
    assert {n for n in after if after[n] != stamps.get(n)} == {"synthetic-manifest.json", "rain-2025.csv"}


def test_demo_inputs_pass_the_engine_checks(tmp_path):
    from shuibao.services.monitoring.erosion import CsleInputs, CsleParams, validate_csle

    write_demo_inputs(tmp_path, resolution_m=2000.0, years=(2025,))
    i = tmp_path / "inputs"
    data = validate_csle(CsleInputs(dem=i / "dem.tif", landuse=i / "landuse-2025.tif", ndvi=i / "ndvi-2025.tif",
                                    rain=i / "rain-2025.csv", soil=i / "soil.tif", soil_table=i / "soil.csv",
                                    measures=i / "measures.tif"), CsleParams())
    assert data["measures"].valid[data["dem"].valid].all()  # 0 ("no measure") is data, not a hole


def test_wrong_crs_or_empty_mask_is_refused(city1000):
    grid, mask = city1000
    with pytest.raises(ValueError, match="EQUAL_AREA_CRS"):
        make_city_scene(mask, grid.transform, 1000.0, "EPSG:4545", year=2025)
    with pytest.raises(ValueError, match="empty"):
        make_city_scene(np.zeros_like(mask), grid.transform, 1000.0, grid.crs, year=2025)
