"""A synthetic storm over known sites: the warning lists exactly the active projects, open cases and
high-grade erosion areas inside its footprints (both backends for the sites)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from shuibao.errors import InputError
from shuibao.services.supervision import cases, compliance, patches, projects
from shuibao.services.platform.database import init
from shuibao.services.stations.rain_warning import warn, warning_hits

from tests.helpers import X0, Y0, patch_row, project_row, square, write_layer

DAY = date(2025, 7, 12)
CELL = 100.0


def storm_tif(path: Path, cx: float, cy: float, *, crs="EPSG:4545", origin=(X0 - 5000, Y0 + 10000),
              shape=(150, 250), transform=None, core_mm=120.0, ring_mm=60.0) -> Path:
    """A storm: core_mm within 1,500 m of (cx, cy), ring_mm to 2,500 m, dry elsewhere."""
    t = transform or from_origin(origin[0], origin[1], CELL, CELL)
    rows, cols = np.indices(shape)
    x = t.c + (cols + 0.5) * t.a
    y = t.f + (rows + 0.5) * t.e
    d = np.hypot(x - cx, y - cy)
    rain = np.where(d <= 1500, core_mm, np.where(d <= 2500, ring_mm, 0.0)).astype(np.float32)
    with rasterio.open(path, "w", driver="GTiff", width=shape[1], height=shape[0], count=1, dtype="float32",
                       crs=crs, transform=t, nodata=-9999.0) as dst:
        dst.write(rain, 1)
    return path


@pytest.fixture
def sites(db_url, tmp_path):
    init(db_url, boundaries=False)
    rows = [project_row("IN"), project_row("EDGE"), project_row("OUT"), project_row("IDLE", status="approved"),
            project_row("DONE", status="completed")]
    geoms = [square(0, 0, 400), square(1800, 0, 400), square(9000, 0, 400), square(-600, 0, 300),
             square(0, -800, 300)]
    projects.import_projects(db_url, write_layer(tmp_path / "p.gpkg", rows, geoms))
    # patches: one unapproved near the centre (open case), one unapproved far away (open case, outside),
    # one unapproved near the centre whose case is closed
    prow = [patch_row("U-IN"), patch_row("U-FAR"), patch_row("U-CLOSED")]
    pgeo = [square(600, 600, 100), square(15000, 3000, 100), square(700, -600, 80)]
    patches.import_patches(db_url, write_layer(tmp_path / "t.gpkg", prow, pgeo))
    compliance.run_compliance(db_url)
    opened = cases.open_cases_from_findings(db_url, on=date(2025, 7, 1))
    closed = next(c["case_no"] for c in cases.list_cases(db_url) if "U-CLOSED" in c["title"])
    cases.add_step(db_url, closed, "verify", on=date(2025, 7, 2), outcome="not_confirmed", note="农户自用")
    cases.add_step(db_url, closed, "close", on=date(2025, 7, 3))
    return db_url, opened


def test_the_storm_lists_exactly_the_sites_inside(sites, tmp_path):
    db, _ = sites
    tif = storm_tif(tmp_path / "rain.tif", X0 + 200, Y0 + 200)
    r = warn(db, rain_date=DAY, rain_grid=tif, run=None, out=tmp_path / "warning.gpkg")
    got = {(h["target_kind"], h["target_label"].split()[0]): (h["level"], h["rain_mm"]) for h in r.hits}
    u_in = next(c for c in cases.list_cases(db) if "U-IN" in c["title"])["case_no"]
    assert got == {("project", "IN"): ("heavy_rainstorm", 120.0), ("project", "EDGE"): ("rainstorm", 60.0),
                   ("case", u_in): ("heavy_rainstorm", 120.0)}
    # IDLE (approved) and DONE (completed) lie in the core but are not under construction; U-FAR is dry;
    # U-CLOSED's case is closed
    assert set(r.footprints) == {"rainstorm", "heavy_rainstorm"}
    core_km2 = r.footprints["heavy_rainstorm"]
    assert core_km2 == pytest.approx(np.pi * 1.5 ** 2, rel=0.03)
    stored = warning_hits(db, r.run_id)
    assert [h["task_due_on"] for h in stored if h["level"] == "heavy_rainstorm"] == [date(2025, 7, 14)] * 2
    assert all(h["task"] for h in stored) and r.outputs[0].exists()


def test_a_dry_day_warns_nothing_and_bad_input_is_refused(sites, tmp_path):
    db, _ = sites
    dry = storm_tif(tmp_path / "dry.tif", X0, Y0, core_mm=30.0, ring_mm=10.0)
    r = warn(db, rain_date=DAY, rain_grid=dry, run=None)
    assert r.hits == [] and r.footprints == {}
    with pytest.raises(InputError, match="no station"):
        warn(db, rain_date=DAY, run=None)
    with pytest.raises(InputError, match="does not exist"):
        warn(db, rain_date=DAY, rain_grid=tmp_path / "missing.tif", run=None)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    from shuibao.demo.run import run_demo

    out = tmp_path_factory.mktemp("warn-demo")
    run_demo(out, resolution_m=2000, with_supervision=False)
    return str(out / "shuibao.gpkg")


def test_high_grade_erosion_areas_inside_the_storm(demo_db, tmp_path):
    from shuibao.io.raster import read_band, read_raster
    from shuibao.services.monitoring.runs import get_run

    run = get_run(demo_db, "latest")
    folder = Path(run["info"].output_dir) / "rasters"
    grade = read_raster(folder / "grade.tif", "grade")
    sheds = read_band(folder / "watersheds.tif")
    t = grade.grid.transform
    transform = from_origin(t[2], t[5], t[0], -t[4])
    rows, cols = np.nonzero((grade.data >= 4) & grade.valid & (sheds > 0))
    k = len(rows) // 2  # centre the storm on a high-grade cell
    cx, cy = t[2] + (cols[k] + 0.5) * t[0], t[5] + (rows[k] + 0.5) * t[4]
    d = np.hypot(t[2] + (np.indices(grade.data.shape)[1] + 0.5) * t[0] - cx,
                 t[5] + (np.indices(grade.data.shape)[0] + 0.5) * t[4] - cy)
    rain = np.where(d <= 30_000, 150.0, 0.0).astype(np.float32)
    path = tmp_path / "storm.tif"
    with rasterio.open(path, "w", driver="GTiff", width=rain.shape[1], height=rain.shape[0], count=1,
                       dtype="float32", crs=grade.grid.crs, transform=transform, nodata=-9999.0) as dst:
        dst.write(rain, 1)
    r = warn(demo_db, rain_date=DAY, rain_grid=path, run="latest")
    expected = set(np.unique(sheds[(grade.data >= 4) & grade.valid & (rain >= 50) & (sheds > 0)]).tolist())
    got = {h["target_id"] for h in r.hits if h["target_kind"] == "erosion_area"}
    assert got == expected and len(got) > 0
    cell_km2 = (t[0] * t[0]) / 1e6
    first = next(h for h in r.hits if h["target_kind"] == "erosion_area")
    n = int(((sheds == first["target_id"]) & (grade.data >= 4) & grade.valid & (rain >= 50)).sum())
    assert first["details"]["high_grade_km2"] == pytest.approx(n * cell_km2)
