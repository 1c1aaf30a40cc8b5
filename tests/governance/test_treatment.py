"""Treatment patches: import judged per feature, progress against 专栏3 per type, district and year computed
from the imported polygons, reproducible re-check samples (both backends)."""

from __future__ import annotations

import pytest
import shapely
from shapely.geometry import box

from shuibao.errors import InputError
from shuibao.plan.boundaries import equal_area_km2
from shuibao.services.governance import treatment as governance
from shuibao.services.platform.database import init
from shuibao.store import Store
from shuibao.store.reference_loader import read_boundaries

from tests.helpers import write_layer


@pytest.fixture
def gdb(db_url):
    init(db_url, boundaries=True)
    return db_url


def _near(db, name: str, k: int):
    """A 0.01° square well inside a district (EPSG:4490)."""
    with Store(db) as store, store.reading() as conn:
        geom = next(b["geom"] for b in read_boundaries(conn) if b["name"] == name)
    p = geom.representative_point()
    return box(p.x + 0.012 * k, p.y, p.x + 0.012 * k + 0.01, p.y + 0.01)


def _row(code, project, kind, measure, year, status, **kw):
    return dict(patch_code=code, project_code=project, project_name=f"项目{project}", kind=kind, measure=measure,
                year=year, status=status, **kw)


def test_progress_per_type_district_and_year(gdb, tmp_path):
    geoms = [_near(gdb, "万州区", 0), _near(gdb, "万州区", 1), _near(gdb, "秀山县", 0), _near(gdb, "秀山县", 1),
             _near(gdb, "万州区", 2)]
    rows = [_row("W1", "XLY-WZ", "小流域水土流失综合治理", "水平梯田（土坎）", 2022, "completed", cost_wan=120.0),
            _row("W2", "XLY-WZ", "small_watershed", "afforestation", 2023, "accepted"),
            _row("X1", "SMH-XS", "石漠化综合治理", "enclosure", 2024, "completed"),
            _row("X2", "SMH-XS", "rocky_desertification", "grass_shrub", 2026, "completed"),  # after the plan period
            _row("W3", "XLY-WZ", "small_watershed", "conservation_tillage", 2025, "planned")]
    src = write_layer(tmp_path / "t.gpkg", rows, geoms, crs="EPSG:4490")
    r = governance.import_treatment(gdb, src)
    assert (r.created, r.projects_created) == (5, 2)
    km2 = [equal_area_km2(g) for g in geoms]
    p = governance.progress(gdb, year=2025)
    kinds = {row["key"]: row for row in p["by_kind"]}
    assert kinds["small_watershed"]["done"] == pytest.approx(km2[0] + km2[1], rel=1e-4)
    assert kinds["small_watershed"]["planned"] == pytest.approx(km2[4], rel=1e-4)
    assert kinds["small_watershed"]["share_pct"] == pytest.approx((km2[0] + km2[1]) / 1500 * 100, abs=0.01)
    assert kinds["rocky_desertification"]["done"] == pytest.approx(km2[2], rel=1e-4)  # X2 is 2026
    assert kinds["small_watershed"]["cost_wan"] == 120.0
    districts = {(d["district_code"], d["kind"]): d for d in p["by_district"]}
    assert districts[("wanzhou", "small_watershed")]["share_of_city_pct"] == 100.0
    assert districts[("xiushan", "rocky_desertification")]["done_km2"] == pytest.approx(km2[2], rel=1e-4)
    early = governance.progress(gdb, year=2022)
    assert {k["key"]: k["done"] for k in early["by_kind"]}["small_watershed"] == pytest.approx(km2[0], rel=1e-4)
    years = {(y["year"], y["kind"], y["status"]) for y in p["by_year"]}
    assert (2026, "rocky_desertification", "completed") in years
    # a re-import moves W3 from planned to completed
    rows[4]["status"] = "completed"
    again = governance.import_treatment(gdb, write_layer(tmp_path / "t2.gpkg", rows, geoms, crs="EPSG:4490"))
    assert (again.created, again.updated) == (0, 5)
    kinds = {row["key"]: row for row in governance.progress(gdb, year=2025)["by_kind"]}
    assert kinds["small_watershed"]["done"] == pytest.approx(km2[0] + km2[1] + km2[4], rel=1e-4)


def test_bad_rows_store_nothing(gdb, tmp_path):
    geoms = [_near(gdb, "万州区", 0), _near(gdb, "万州区", 1), _near(gdb, "万州区", 2)]
    rows = [_row("A", "P", "small_watershed", "flying", 2022, "completed"),
            _row("B", "P", "farmland_to_forest", "afforestation", 2022, "completed"),
            _row("C", "Q", "magic", "afforestation", 2022.5, "completed")]
    with pytest.raises(InputError) as err:
        governance.import_treatment(gdb, write_layer(tmp_path / "bad.gpkg", rows, geoms, crs="EPSG:4490"))
    msg = str(err.value)
    assert "measure" in msg and "project P is small_watershed in row 1" in msg and "kind" in msg
    assert "whole year" in msg and governance.progress(gdb, year=2025)["patches"] == 0


def test_recheck_sample_is_reproducible_and_bounded(gdb, tmp_path):
    n = 40
    geoms = [shapely.affinity.translate(_near(gdb, "万州区", 0), xoff=0.0, yoff=-0.011 * i) for i in range(n)]
    rows = [_row(f"S{i:02d}", "XLY", "small_watershed", "afforestation", 2024, "completed") for i in range(n)]
    governance.import_treatment(gdb, write_layer(tmp_path / "s.gpkg", rows, geoms, crs="EPSG:4490"))
    a = governance.sample_patches(gdb, ratio=0.05, seed=11)
    b = governance.sample_patches(gdb, ratio=0.05, seed=11)
    assert a["selected"] == b["selected"] and len(a["selected"]) == 2 and a["population"] == n
    others = {tuple(governance.sample_patches(gdb, ratio=0.05, seed=s)["selected"]) for s in range(12, 17)}
    assert len(others | {tuple(a["selected"])}) > 1  # the seed matters
    with pytest.raises(InputError, match="1–10 %"):
        governance.sample_patches(gdb, ratio=0.5, seed=1)
