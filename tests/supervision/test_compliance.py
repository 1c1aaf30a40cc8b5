"""Compliance categories on hand-built scenes (metres): each category, each boundary of its rule."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import numpy as np
import pytest
from shapely.geometry import box

from shuibao.errors import ReferenceDataError
from shuibao.supervision.compliance import ApprovedAreas, Patches, classify, idle_projects, load_rules
from shuibao.supervision.model import Category

RULES = load_rules()
D = date(2025, 6, 30)


def areas(*specs):
    """specs: (project_id, geom, industry, status, approved_on, schematic)."""
    return ApprovedAreas(np.array([s[0] for s in specs], np.int64), np.array([s[1] for s in specs], dtype=object),
                         np.array([s[5] if len(s) > 5 else False for s in specs], bool), [s[2] for s in specs],
                         [s[3] for s in specs], [s[4] for s in specs])


def patches(*specs):
    """specs: (geom, kind, industry[, image_date])."""
    return Patches(np.arange(1, len(specs) + 1, dtype=np.int64), np.array([s[0] for s in specs], dtype=object),
                   [s[1] for s in specs], [s[2] for s in specs], [s[3] if len(s) > 3 else D for s in specs])


ROAD = (7, box(0, 0, 1000, 1000), "公路", "under_construction", date(2024, 1, 1))


def one(patch, *zones, rules=RULES):
    (f,) = classify(patches(patch), areas(*zones), rules)
    return f


def test_inside_is_compliant_with_its_project():
    f = one((box(100, 100, 300, 300), "其他扰动", None), ROAD)
    assert (f.category, f.project_id, f.outside_m2) == (Category.compliant, 7, 0.0)
    assert f.overlap_m2 == pytest.approx(40_000)


def test_outside_share_at_the_tolerance_is_compliant_above_it_out_of_bounds():
    # 200 m × 100 m patch; x from 990: 10/200 = 5 % outside (the tolerance) → compliant
    at_tol = one((box(790, 0, 1010, 100).intersection(box(810, 0, 1010, 100)), None, None), ROAD)
    assert at_tol.outside_share == pytest.approx(0.05) and at_tol.category == Category.compliant
    over = one((box(812, 0, 1012, 100), None, None), ROAD)  # 12 m → 6 %, 1,200 m² > 100 m²
    assert over.category == Category.out_of_bounds
    assert over.outside_m2 == pytest.approx(1200) and over.outside_share == pytest.approx(0.06)
    assert over.project_id == 7 and over.tolerance_share == RULES.tolerance_share


def test_a_large_share_of_a_tiny_area_stays_within_the_minimum_outside_area():
    f = one((box(990, 0, 1009, 10), None, None), ROAD)  # 9 m × 10 m = 90 m² outside (47 %) < 100 m²
    assert f.outside_share > 0.4 and f.category == Category.compliant


def test_schematic_outlines_get_the_looser_tolerance():
    patch = (box(800, 0, 1050, 100), None, None)  # 50/250 = 20 % outside
    assert one(patch, ROAD).category == Category.out_of_bounds
    f = one(patch, ROAD + (True,))
    assert f.category == Category.compliant and f.tolerance_share == RULES.schematic_tolerance_share


def test_far_from_every_area_is_unapproved():
    f = one((box(5000, 5000, 5100, 5100), None, "公路"), ROAD)
    assert (f.category, f.project_id, f.distance_m) == (Category.unapproved, None, None)
    assert f.outside_share == 1.0


def test_near_a_project_of_matching_kind_is_relocated_naming_the_nearest():
    other = (8, box(1600, 0, 1700, 100), "铁路", "approved", date(2024, 1, 1))  # same group as 公路
    f = one((box(1300, 0, 1400, 100), None, "公路"), ROAD, other)
    assert f.category == Category.relocated and f.project_id == 8  # 200 m against 300 m
    assert [c["project_id"] for c in f.candidates] == [8, 7]
    assert f.distance_m == pytest.approx(200)


def test_near_only_a_project_of_another_kind_is_unapproved_with_that_project_as_evidence():
    f = one((box(1300, 0, 1400, 100), None, "房地产"), ROAD)
    assert f.category == Category.unapproved and f.distance_m == pytest.approx(300)
    assert f.candidates[0]["project_id"] == 7 and f.candidates[0]["kind_matches"] is False


def test_spoil_sites_match_projects_of_any_industry():
    f = one((box(1300, 0, 1400, 100), "弃土（渣）场", "房地产"), ROAD)
    assert f.category == Category.relocated


def test_beyond_the_search_distance_is_unapproved():
    rules = replace(RULES, search_distance_m=250.0)
    f = one((box(1300, 0, 1400, 100), None, "公路"), ROAD, rules=rules)
    assert f.category == Category.unapproved


def test_a_plan_approved_after_the_image_does_not_cover_the_patch():
    late = (9, box(0, 0, 1000, 1000), "房地产", "approved", date(2025, 8, 1))
    f = one((box(100, 100, 200, 200), None, None), late)
    assert (f.category, f.project_id) == (Category.unapproved, 9)
    assert "早于项目方案批复" in f.reason and f.candidates[0]["approved_on"] == "2025-08-01"
    off = replace(RULES, approval_must_precede_image=False)
    assert one((box(100, 100, 200, 200), None, None), late, rules=off).category == Category.compliant


def test_a_cancelled_project_approves_nothing():
    gone = (10, box(0, 0, 1000, 1000), "公路", "cancelled", date(2024, 1, 1))
    f = one((box(100, 100, 200, 200), None, None), gone)
    assert f.category == Category.unapproved and f.project_id == 10 and "cancelled" in f.reason


def test_a_patch_across_two_adjacent_projects_is_compliant_and_names_the_larger_overlap():
    east = (11, box(1000, 0, 2000, 1000), "公路", "under_construction", date(2024, 1, 1))
    f = one((box(900, 0, 1300, 100), None, None), ROAD, east)
    assert f.category == Category.compliant and f.project_id == 11 and f.outside_m2 == pytest.approx(0)
    assert {c["project_id"] for c in f.candidates} == {7, 11}


def test_overlapping_areas_are_not_counted_twice():
    dup = (12, box(0, 0, 1000, 1000), "公路", "approved", date(2024, 1, 1))
    f = one((box(900, 0, 1100, 100), None, None), ROAD, dup)  # 50 % outside both
    assert f.overlap_m2 == pytest.approx(10_000) and f.outside_m2 == pytest.approx(10_000)
    assert f.category == Category.out_of_bounds


def test_non_project_disturbance_is_not_overlaid():
    f = one((box(5000, 5000, 5100, 5100), "非生产建设项目", None), ROAD)
    assert f.category == Category.not_project and f.project_id is None


def test_one_finding_per_patch_in_patch_order():
    ps = patches((box(5000, 5000, 5100, 5100), None, None), (box(1, 1, 2, 2), None, None),
                 (box(1300, 0, 1400, 100), None, None))
    found = classify(ps, areas(ROAD), RULES)
    assert [f.patch_id for f in found] == [1, 2, 3]
    assert [f.category for f in found] == [Category.unapproved, Category.compliant, Category.relocated]


def test_projects_expected_under_way_without_disturbance():
    idle = (20, box(9000, 9000, 9100, 9100), "公路", "under_construction", date(2024, 1, 1))
    due = (21, box(9500, 9000, 9600, 9100), "公路", "approved", date(2024, 1, 1))
    ps = patches((box(100, 100, 200, 200), None, None))
    projects = [{"id": 7, "status": "under_construction", "construction_start": None},
                {"id": 20, "status": "under_construction", "construction_start": None},
                {"id": 21, "status": "approved", "construction_start": date(2025, 3, 1)},
                {"id": 22, "status": "approved", "construction_start": date(2026, 3, 1)},
                {"id": 23, "status": "under_construction", "construction_start": None}]
    found = {(p.project_id, p.finding) for p in idle_projects(projects, ps, areas(ROAD, idle, due), RULES)}
    assert found == {(20, "no_disturbance_seen"), (21, "no_disturbance_seen"), (23, "no_area")}


def test_rule_file_problems_are_reported_together(tmp_path):
    bad = tmp_path / "rules.toml"
    bad.write_text('version = "x"\nsource = "s"\n[parameters]\ntolerance_share = 2\nmin_outside_m2 = "a"\n'
                   'eligible_statuses = ["approved", "flying"]\n', encoding="utf-8")
    with pytest.raises(ReferenceDataError) as err:
        load_rules(bad)
    msg = str(err.value)
    for key in ("tolerance_share", "min_outside_m2", "eligible_statuses", "search_distance_m"):
        assert key in msg


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_planted_category_of_a_synthetic_scene_is_recovered(seed):
    from shuibao.demo.supervision_records import make_supervision_scene

    scene = make_supervision_scene(300, 600, seed=seed)
    n = len(scene.patches)
    ps = Patches(np.arange(n), np.array(scene.patch_geoms, dtype=object), [p["kind"] for p in scene.patches],
                 [p["industry"] for p in scene.patches], [D] * n)
    m = len(scene.projects)
    zs = ApprovedAreas(np.arange(m), np.array(scene.project_geoms, dtype=object), np.zeros(m, bool),
                       [p["industry"] for p in scene.projects], ["under_construction"] * m, [date(2024, 1, 1)] * m)
    found = classify(ps, zs, RULES)
    wrong = [(p["patch_id"], scene.planted[p["patch_id"]], f.category.value)
             for p, f in zip(scene.patches, found) if f.category.value != scene.planted[p["patch_id"]]]
    assert wrong == [] and len({f.category for f in found}) == 5
