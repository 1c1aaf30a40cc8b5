"""District polygons burnt onto a grid: areas match the polygons, and roll-ups add up."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from shuibao.core.zonal import crosstab, roll_up
from shuibao.grid import GridSpec
from shuibao.io.vector import to_crs, zone_labels
from shuibao.plan.boundaries import EQUAL_AREA_CRS, build_boundaries
from shuibao.plan.reference import load_reference


@pytest.fixture(scope="module")
def city_grid():
    ref = load_reference()
    boundaries = build_boundaries(ref)
    cell = 1000.0  # 1 km cells over the city, Albers equal-area
    projected = to_crs([b.geometry for b in boundaries], "EPSG:4490", EQUAL_AREA_CRS.to_wkt())
    minx, miny, maxx, maxy = shapely.total_bounds(projected)
    cols, rows = int(np.ceil((maxx - minx) / cell)), int(np.ceil((maxy - miny) / cell))
    grid = GridSpec((rows, cols), (cell, 0.0, float(minx), 0.0, -cell, float(maxy)), EQUAL_AREA_CRS.to_wkt())
    return ref, boundaries, grid, zone_labels([b.geometry for b in boundaries], "EPSG:4490", grid)


def test_district_areas_on_a_1km_grid(city_grid):
    _, boundaries, grid, labels = city_grid
    counts = np.bincount(labels.ravel(), minlength=len(boundaries) + 1)
    assert counts.sum() == labels.size
    total = counts[1:].sum() * grid.cell_area / 1e6
    assert total == pytest.approx(sum(b.area_km2 for b in boundaries), rel=0.005)
    for i, b in enumerate(boundaries, start=1):
        if b.area_km2 > 1000:  # large districts: the cell-centre rule errs only along the boundary
            assert counts[i] * grid.cell_area / 1e6 == pytest.approx(b.area_km2, rel=0.03)


def test_region_and_city_roll_up(city_grid):
    ref, boundaries, grid, labels = city_grid
    rng = np.random.default_rng(0)
    grades = rng.integers(1, 7, labels.shape).astype(np.uint8)
    table = crosstab(labels, grades, len(boundaries) + 1, 7, weight=np.full(labels.shape, grid.cell_area / 1e6))
    region_index = {r.code: i for i, r in enumerate(ref.regions)}
    parent = np.array([-1] + [region_index[b.district.region] for b in boundaries])
    regions = roll_up(table, parent, len(ref.regions))
    city = roll_up(regions, np.zeros(len(ref.regions), int), 1)
    inside = labels > 0
    assert city.sum() == pytest.approx(inside.sum() * grid.cell_area / 1e6)
    for g in range(1, 7):
        assert city[0, g] == pytest.approx(np.count_nonzero(grades[inside] == g) * grid.cell_area / 1e6)
    assert regions.sum(axis=0) == pytest.approx(city[0])
