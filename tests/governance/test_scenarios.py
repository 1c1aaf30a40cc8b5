"""Scenarios of planned treatment on the demo city at 2 km, checked against a full recomputation.

The demo makes two synthetic monitoring runs; a few planned patches (two overlapping
in 涪陵区, one in 万州区, one in 黔江区, one too small to hold a cell centre, one completed) are
imported; the scenario must change soil loss only under the patches, exactly as an
independent product of the factors says, and its unit table must equal the one a
full recomputation of the whole grid counts with the monitoring run's own functions.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import rasterio
from shapely.geometry import MultiPolygon, Point, box
from typer.testing import CliRunner

from shuibao.cli.common import State
from shuibao.cli.scenario import app as scenario_app
from shuibao.erosion import tables as erosion_tables
from shuibao.errors import DataError, InputError
from shuibao.governance.measures import load_measures
from shuibao.io import raster as rio
from shuibao.io.vector import VectorLayer, to_crs, write_gpkg, zone_labels
from shuibao.monitoring.blocks import Partials, count_block, soil_loss_block
from shuibao.monitoring.units import GRADES, make_zone, unit_rows
from shuibao.plan.reference import load_reference
from shuibao.demo.run import run_demo
from shuibao.services.governance.treatment import import_treatment
from shuibao.services.monitoring.runs import get_run
from shuibao.services.governance.scenarios import get_scenario, list_scenarios, run_scenario
from shuibao.store import Store
from shuibao.store.reference_loader import read_boundaries

GRADE_KM2 = [f"{g}_km2" for g in GRADES]
AREAS = ["total_km2", *GRADE_KM2, "loss_km2"]

# code, district, offset (deg), half size (deg), measure, status
PATCHES = [
    ("SC-01", "fuling", (0.0, 0.0), 0.10, "afforestation", "planned"),
    ("SC-02", "fuling", (0.08, 0.02), 0.10, "terrace_earth", "planned"),  # overlaps SC-01
    ("SC-03", "wanzhou", (0.0, 0.0), 0.12, "terrace_earth", "under_construction"),
    ("SC-04", "qianjiang", (0.0, 0.0), 0.08, "conservation_tillage", "planned"),
    ("SC-05", "qianjiang", None, 0.0008, "afforestation", "planned"),  # round a cell corner: holds no centre
    ("SC-06", "wanzhou", (0.3, 0.0), 0.08, "afforestation", "completed"),  # not selected by default
]
SELECTED = ["SC-01", "SC-02", "SC-03", "SC-04", "SC-05"]


def _corner_near(point, grid_crs: str, transform: list) -> SimpleNamespace:
    """The corner of the run's cells nearest to ``point`` (EPSG:4490): a small square round it holds no centre."""
    x, y = to_crs([point], "EPSG:4490", grid_crs)[0].coords[0]
    a, _, c, _, e, f = transform
    corner = Point(c + round((x - c) / a) * a, f + round((y - f) / e) * e)
    lon, lat = to_crs([corner], grid_crs, "EPSG:4490")[0].coords[0]
    return SimpleNamespace(x=lon, y=lat)


def _geoms(db: str, grid: dict) -> dict[str, MultiPolygon]:
    with Store(db) as store, store.reading() as conn:
        bounds = {r["district_code"]: r["geom"] for r in read_boundaries(conn)}
    out = {}
    for code, district, offset, h, _, _ in PATCHES:
        p = bounds[district].representative_point()
        if offset is None:
            p, offset = _corner_near(p, grid["crs"], grid["transform"]), (0.0, 0.0)
        dx, dy = offset
        out[code] = MultiPolygon([box(p.x + dx - h, p.y + dy - h, p.x + dx + h, p.y + dy + h)])
    return out


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    out = tmp_path_factory.mktemp("scenario-demo")
    demo = run_demo(out, resolution_m=2000, with_supervision=False)
    db = demo.db
    geoms = _geoms(db, get_run(db, str(demo.runs[-1].run_id))["provenance"]["grid"])
    path = out / "planned.gpkg"
    cols = {"patch_code": [p[0] for p in PATCHES], "project_code": ["SCP-1", "SCP-1", "SCP-2", "SCP-3", "SCP-4",
                                                                     "SCP-5"],
            "project_name": ["涪陵治理", "涪陵治理", "万州治理", "黔江整治", "黔江小图斑", "万州退耕"],
            "kind": ["small_watershed", "small_watershed", "small_watershed", "high_standard_farmland",
                     "small_watershed", "farmland_to_forest"],
            "measure": [p[4] for p in PATCHES], "year": [2025] * len(PATCHES), "status": [p[5] for p in PATCHES]}
    write_gpkg(path, [VectorLayer("patches", "planned treatment (test)", "EPSG:4490",
                                  [geoms[p[0]] for p in PATCHES], cols)], timestamp=datetime(2025, 1, 1, tzinfo=UTC))
    imported = import_treatment(db, path, actor="test")
    assert imported.created == len(PATCHES)
    return SimpleNamespace(out=out, db=db, geoms=geoms, runs=[r.run_id for r in demo.runs], cache={})


def _scenario(city, never_worse: bool):
    """One scenario per mode, shared by the tests."""
    if never_worse not in city.cache:
        out = city.out / f"scenario-{'nw' if never_worse else 'literal'}"
        city.cache[never_worse] = run_scenario(city.db, name=f"test {never_worse}", patch_codes=SELECTED, out=out,
                                               actor="test", never_worse=never_worse)
    return city.cache[never_worse]


# --------------------------------------------------------------------------- an independent recomputation
def _full_recomputation(city, never_worse: bool) -> dict:
    """Modified B/E/T rasters over the whole grid, then A, grades and unit counts as a monitoring run makes them."""
    run = get_run(city.db, str(city.runs[-1]))
    folder = Path(run["info"].output_dir)
    ras = {n: rio.read_band(folder / "rasters" / f"{n}.tif") for n in
           ("r_factor", "k_factor", "b_factor", "t_factor", "e_factor", "l_factor", "s_factor")}
    base_a = rio.read_band(folder / "rasters" / "soil_loss.tif")
    base_g = rio.read_band(folder / "rasters" / "grade.tif")
    grid = rio.read_raster(folder / "rasters" / "grade.tif", "grade").grid
    grid = type(grid)(grid.shape, grid.transform, run["provenance"]["grid"]["crs"])
    measures = load_measures()
    e_table = erosion_tables.e_table()
    e_of = dict(zip(e_table.codes.tolist(), e_table.values.tolist()))
    candidates, masks = [], []
    for code in SELECTED:  # the selection's order: the store's (import) order
        m = measures.get(dict((p[0], p[4]) for p in PATCHES)[code])
        mask = (zone_labels([city.geoms[code]], "EPSG:4490", grid) > 0) & (base_g > 0)
        b = ras["b_factor"] if m.b is None else np.full(grid.shape, m.b, np.float32)
        e = ras["e_factor"] if m.e_code is None else np.full(grid.shape, e_of[m.e_code], np.float32)
        t = ras["t_factor"] if m.t is None else np.full(grid.shape, m.t, np.float32)
        a = ras["r_factor"] * ras["k_factor"] * b * t * e * ras["l_factor"] * ras["s_factor"] * 100.0
        assert a.dtype == np.float32
        candidates.append((b, e, t, np.where(mask, a, np.inf)))
        masks.append(mask)
    stack = np.stack([c[3] for c in candidates])
    best = np.argmin(stack, axis=0)  # the first of equal values: the patch selected first
    best_a = np.take_along_axis(stack, best[None], 0)[0]
    apply = np.isfinite(best_a) & ((best_a < base_a) if never_worse else True)
    full = {n: v.copy() for n, v in ras.items()}
    for i, (b, e, t, _) in enumerate(candidates):
        sel = apply & (best == i)
        full["b_factor"][sel], full["e_factor"][sel], full["t_factor"][sel] = b[sel], e[sel], t[sel]
    par = run["provenance"]["steps"]["erosion"]["result"]["parameters"]
    modulus, grades = soil_loss_block(**full, tolerance_t_km2=par["tolerance_t_km2"],
                                      bounds=tuple(par["grade_bounds_t_km2"]))
    modulus[base_g == 0] = np.nan  # the engine's: NaN outside the data
    grades[base_g == 0] = 0
    zones_raster = rio.read_band(folder / ".work" / "zones.tif").astype(np.int32)
    sheds = rio.read_band(folder / "rasters" / "watersheds.tif").astype(np.int32)
    landuse = rio.read_band(folder / ".work" / "landuse.tif")
    ref = load_reference()
    with Store(city.db) as store, store.reading() as conn:
        rows = read_boundaries(conn)
    zones = [make_zone(i + 1, tuple(ref.district(n) for n in r["covers"].split("|"))) for i, r in enumerate(rows)]
    parts = count_block(grades, modulus, zones_raster, sheds, landuse, n_zones=len(zones), n_sheds=int(sheds.max()))
    total = Partials.zeros(len(zones), int(sheds.max()))
    total += parts
    units = [u.record() for u in unit_rows(ref, zones, total.zone_grade, total.zone_loss, grid.cell_area / 1e6)]
    return {"modulus": modulus, "grades": grades, "base_a": base_a, "base_g": base_g, "masks": masks,
            "units": units, "stack": stack, "apply": apply}


@pytest.fixture(scope="module")
def recomputed(city):
    return {nw: _full_recomputation(city, nw) for nw in (True, False)}


# --------------------------------------------------------------------------- (a) only the cells under the patches
@pytest.mark.parametrize("never_worse", [True, False])
def test_changes_only_under_the_patches_and_equal_the_factor_product(city, recomputed, never_worse):
    res = _scenario(city, never_worse)
    full = recomputed[never_worse]
    written_a = rio.read_band(res.output / "soil_loss.tif")
    written_g = rio.read_band(res.output / "grade.tif")
    under = np.logical_or.reduce(full["masks"])
    differs = ~((written_a == full["base_a"]) | (np.isnan(written_a) & np.isnan(full["base_a"])))
    assert differs.any()
    assert not (differs & ~under).any(), "soil loss changed outside the patches"
    assert np.array_equal(written_g[~under], full["base_g"][~under])
    # on the cells under the patches: the independent product, bit for bit
    assert np.array_equal(written_a[under].view(np.uint32), full["modulus"][under].view(np.uint32))
    assert np.array_equal(written_g, full["grades"])
    assert res.cells_changed == int(differs.sum())
    assert res.cells_covered == int(under.sum())
    # two patches overlap, and a cell under both took the lower soil loss (or its baseline)
    both = full["masks"][0] & full["masks"][1]
    assert both.any()
    lowest = np.minimum(full["stack"][0], full["stack"][1])[both]
    expect = np.minimum(lowest, full["base_a"][both]) if never_worse else lowest
    assert np.array_equal(written_a[both], expect)
    if never_worse:
        assert res.cells_increased == 0 and not (written_a[under] > full["base_a"][under]).any()
    else:
        assert res.cells_increased == int((written_a[under] > full["base_a"][under]).sum())


# --------------------------------------------------------------------------- (b) the table equals a full recount
@pytest.mark.parametrize("never_worse", [True, False])
def test_unit_table_equals_a_full_recomputation(city, recomputed, never_worse):
    res = _scenario(city, never_worse)
    full = {(u["level"], u["code"]): u for u in recomputed[never_worse]["units"]}
    assert len(full) == len(res.units)
    for u in res.units:
        f = full[(u["level"], u["code"])]
        for k in AREAS:
            assert u[k] == f[k], (u["name"], k)
        assert u["rate_pct"] == f["rate_pct"] and u["gap_pp"] == f["gap_pp"]
        assert u["target_2025_pct"] == f["target_2025_pct"]
    # and the baseline side is the stored run
    stored = {(u["level"], u["code"]): u for u in get_run(city.db, str(city.runs[-1]))["units"]}
    for u in res.units:
        s = stored[(u["level"], u["code"])]
        assert [u[f"base_{k}"] for k in AREAS] == [s[k] for k in AREAS]
        assert u["base_rate_pct"] == s["rate_pct"]


# --------------------------------------------------------------------------- (c) districts under patches improve
def test_rates_rise_under_the_patches_and_nowhere_else(city):
    res = _scenario(city, True)
    touched = {"fuling", "wanzhou", "qianjiang"}
    for u in res.districts:
        if u["code"] in touched:
            assert u["rate_pct"] >= u["base_rate_pct"], u["name"]
            assert u["gap_pp"] <= u["base_gap_pp"]
        else:
            assert [u[k] for k in AREAS] == [u[f"base_{k}"] for k in AREAS], u["name"]
            assert u["rate_pct"] == u["base_rate_pct"] and u["d_rate_pp"] == 0
    assert any(u["rate_pct"] > u["base_rate_pct"] for u in res.districts if u["code"] in touched)
    city_row = res.unit("city", "city")
    assert city_row["rate_pct"] > city_row["base_rate_pct"]
    assert sum(u["d_slight_km2"] for u in res.districts) == pytest.approx(city_row["d_slight_km2"])
    # the patch too small for a cell centre is listed with no cells
    by_code = {p["patch_code"]: p for p in res.patches}
    assert list(by_code) == SELECTED
    assert by_code["SC-05"]["cells"] == 0 and by_code["SC-05"]["cells_applied"] == 0
    assert all(by_code[c]["cells"] > 0 for c in ("SC-01", "SC-02", "SC-03", "SC-04"))
    # cells decided per patch add up to the changed cells
    assert sum(p["cells_changed"] for p in res.patches) == res.cells_changed


# --------------------------------------------------------------------------- (d) stored = returned
def test_stored_scenario_matches_the_result(city):
    res = _scenario(city, True)
    got = get_scenario(city.db, res.scenario_id)
    assert got["units"] == res.units
    assert got["patches"] == res.patches
    assert got["info"]["cells_changed"] == res.cells_changed
    assert got["info"]["base_run_id"] == res.base_run_id == city.runs[-1]
    assert got["info"]["recorded_by"] == "test"
    assert got["selection"]["overlap_rule"] == "lowest_soil_loss" and got["selection"]["never_worse"] is True
    assert got["synthetic"] is True
    listed = {s["id"]: s for s in list_scenarios(city.db)}
    city_row = res.unit("city", "city")
    assert listed[res.scenario_id]["rate_pct"] == city_row["rate_pct"]
    assert listed[res.scenario_id]["base_rate_pct"] == city_row["base_rate_pct"]
    assert get_scenario(city.db, "latest")["info"]["id"] == max(listed)
    assert {p.name for p in res.files} == {"soil_loss.tif", "grade.tif", "patches.tif", "units.csv", "patches.csv",
                                          "scenario.json"}
    with rasterio.open(res.output / "grade.tif") as src:
        assert "SHUIBAO_SYNTHETIC" in src.tags()
    assert "SYNTHETIC" in (res.output / "units.csv-metadata.json").read_text(encoding="utf-8")


def test_selection_by_status(city):
    planned = run_scenario(city.db, name="planned and under construction")
    codes = {p["patch_code"] for p in planned.patches}
    assert set(SELECTED) <= codes and "SC-06" not in codes  # SC-06 is completed
    done = run_scenario(city.db, name="completed", statuses="completed")
    assert "SC-06" in {p["patch_code"] for p in done.patches}
    assert not set(SELECTED) & {p["patch_code"] for p in done.patches}


def test_named_patches_only(city):
    res = run_scenario(city.db, name="SC-03 only", patch_codes=["SC-03"])
    assert [p["patch_code"] for p in res.patches] == ["SC-03"]
    changed = {u["code"] for u in res.districts if u["d_rate_pp"] != 0}
    assert changed <= {"wanzhou"}
    assert res.output is None and res.files == []


# --------------------------------------------------------------------------- (e) refusals
def test_refusals(city, tmp_path):
    with pytest.raises(InputError, match="no such monitoring run"):
        run_scenario(city.db, base_run="99", name="x")
    with pytest.raises(InputError, match="expected a run id"):
        run_scenario(city.db, base_run="last", name="x")
    with pytest.raises(InputError, match="NOPE"):
        run_scenario(city.db, name="x", patch_codes=["SC-01", "NOPE"])
    with pytest.raises(InputError, match="SC-06"):  # completed: not in the default statuses
        run_scenario(city.db, name="x", patch_codes=["SC-06"])
    with pytest.raises(InputError, match="no treatment patches selected"):
        run_scenario(city.db, name="x", statuses=("accepted",))
    with pytest.raises(InputError, match="status 'built'"):
        run_scenario(city.db, name="x", statuses=("built",))
    with pytest.raises(InputError, match="cover no cell.*SC-05: 0"):
        run_scenario(city.db, name="x", patch_codes=["SC-05"])
    with pytest.raises(InputError, match="name"):
        run_scenario(city.db, name="  ")
    folder = Path(get_run(city.db, str(city.runs[-1]))["info"].output_dir)
    with pytest.raises(InputError, match="own folder"):
        run_scenario(city.db, name="x", out=folder / "rasters")
    with pytest.raises(InputError, match="no such scenario"):
        get_scenario(city.db, 999)


def test_refuses_a_moved_or_changed_run(city):
    first = get_run(city.db, str(city.runs[0]))["info"]
    folder = Path(first.output_dir)
    moved = folder.with_name(folder.name + "-moved")
    folder.rename(moved)
    try:
        with pytest.raises(DataError, match="no longer exists"):
            run_scenario(city.db, base_run=str(first.id), name="x")
    finally:
        moved.rename(folder)
    b = folder / "rasters" / "b_factor.tif"
    keep = b.with_name("b_factor.keep")
    shutil.copy2(b, keep)
    try:
        data = rio.read_band(b)
        grid = rio.read_raster(b, "B").grid
        rio.write_cog(b, np.where(np.isfinite(data), data * 0.5, data).astype(np.float32), grid,
                      nodata=float("nan"))
        with pytest.raises(DataError, match="b_factor.tif has changed"):
            run_scenario(city.db, base_run=str(first.id), name="x")
    finally:
        shutil.move(keep, b)
    # restored: the run is usable again, and the scenario on the earlier run stores against it
    res = run_scenario(city.db, base_run=str(first.id), name="2024", patch_codes=["SC-03"])
    assert res.base_run_id == first.id


# --------------------------------------------------------------------------- the command line
def test_cli(city, tmp_path):
    runner = CliRunner()
    state = State(db=city.db, verbose=0, quiet=False, actor="cli")
    r = runner.invoke(scenario_app, ["run", "--name", "命令行", "--patch", "SC-01", "--patch", "SC-04",
                                     "-o", str(tmp_path / "s")], obj=state, env={"COLUMNS": "400"})  # no folds
    assert r.exit_code == 0, r.output
    assert "涪陵区" in r.output and "情景水土保持率 (%)" in r.output  # labels in Chinese, the default
    r = runner.invoke(scenario_app, ["list", "--format", "csv"], obj=state)
    assert r.exit_code == 0 and "命令行" in r.output
    r = runner.invoke(scenario_app, ["show", "latest", "--format", "csv"], obj=state)
    assert r.exit_code == 0 and r.output.splitlines()[0].startswith("\ufefflevel,name,base_rate_pct,rate_pct")
    r = runner.invoke(scenario_app, ["show", "latest", "--format", "json"], obj=state)
    assert r.exit_code == 0 and '"recorded_by": "cli"' in r.output
    r = runner.invoke(scenario_app, ["run", "--name", "x", "--patch", "NOPE"], obj=state)
    assert r.exit_code != 0 and isinstance(r.exception, InputError)
