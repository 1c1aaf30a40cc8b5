"""Sloping-farmland finder (退耕还林 candidates): analytic scenes of planes of known slope.

The DEM is three planes side by side, sloping east, 30 m cells in EPSG:4545 near 108° E (丰都县):
columns 0–29 at 30°, 30–59 at 20°, 60–89 at 10°.  Horn's slope is exact on a plane (also at the grid's
edges, by the kernel's extrapolation); only the seam columns 29 and 59 mix two planes, and no cropland
lies within two cells of them.  Every expected cell set below is counted by hand from the land-use layout.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pyogrio.raw
import pytest
import rasterio
import shapely
import typer
from rasterio.transform import from_origin
from shapely.geometry import box
from typer.testing import CliRunner

from shuibao.cli.common import State
from shuibao.cli.governance_farmland import sloping_farmland
from shuibao.errors import InputError
from shuibao.grid import GridSpec
from shuibao.io.features import FeatureSet, write_features
from shuibao.io.vector import zone_labels
from shuibao.services.governance.sloping_farmland import FIELDS, LAYER, SUMMARY_COLUMNS, find_sloping_farmland

X0, Y0 = 500_000.0, 3_300_000.0  # EPSG:4545 (CGCS2000 / 3° GK CM 108E): 108.0° E, 29.82° N, in 丰都县
CELL = 30.0
CELL_AREA = CELL * CELL
ROWS, COLS = 60, 90
CRS = "EPSG:4545"
PLANES = (30.0, 20.0, 10.0)  # degrees, 30 columns each
GRID = GridSpec((ROWS, COLS), (CELL, 0.0, X0, 0.0, -CELL, Y0), CRS)
DEM_HOLE = (10, 10)  # a nodata cell inside the steep block
WATER_ROWS = 15  # the water-source polygon covers rows 0–14, the whole width


def dem_array() -> np.ndarray:
    """Elevation rising eastwards: the step from column c−1 to c is CELL·tan(slope of c's plane)."""
    steps = np.repeat([CELL * math.tan(math.radians(a)) for a in PLANES], COLS // len(PLANES))
    z = 300.0 + np.concatenate([[0.0], np.cumsum(steps[1:])])
    dem = np.tile(z, (ROWS, 1)).astype(np.float32)
    dem[DEM_HOLE] = -9999.0
    return dem


def landuse_array() -> np.ndarray:
    lu = np.full((ROWS, COLS), 3, np.uint8)  # forest (林地) everywhere else
    lu[5:15, 5:15] = 1  # 30° cropland, 10×10, the DEM hole inside, inside the water polygon
    lu[20, 5:8] = 1  # 30°: 3 cells in a row (2,700 m²)
    lu[25, 5:7] = 1  # 30°: 2 cells (1,800 m²)
    for i in range(3):  # 30°: 3 cells touching only at corners
        lu[30 + i, 5 + i] = 1
    lu[40:50, 15:25] = 2  # 30° orchard (园地): not cropland unless code 2 is named
    lu[40:50, 5:15] = 4  # 30° grassland: never
    lu[50:53, 5:15] = 255  # 30°: land-use nodata
    lu[5:25, 35:55] = 1  # 20° cropland, 20×20: rows 5–14 inside the water polygon
    lu[5:25, 65:85] = 1  # 10° cropland, 20×20: never
    return lu


def expected_masks(*, connectivity: int = 8, min_cells: int = 3) -> tuple[np.ndarray, np.ndarray]:
    steep = np.zeros((ROWS, COLS), bool)
    steep[5:15, 5:15] = True
    steep[DEM_HOLE] = False
    steep[20, 5:8] = True
    if connectivity == 8 or min_cells <= 1:
        for i in range(3):
            steep[30 + i, 5 + i] = True
    if min_cells <= 2:
        steep[25, 5:7] = True
    moderate = np.zeros((ROWS, COLS), bool)
    moderate[5:15, 35:55] = True
    return steep, moderate


def write_tif(path: Path, data: np.ndarray, nodata, *, crs: str = CRS, x0: float = X0, y0: float = Y0,
              cell: float = CELL) -> Path:
    with rasterio.open(path, "w", driver="GTiff", height=data.shape[0], width=data.shape[1], count=1,
                       dtype=data.dtype.name, crs=crs, transform=from_origin(x0, y0, cell, cell), nodata=nodata) as dst:
        dst.write(data, 1)
    return path


def write_polys(path: Path, geoms: list, rows: list[dict] | None = None, crs: str = CRS) -> Path:
    write_features(path, [FeatureSet("data", rows or [{"name": f"p{i}"} for i in range(len(geoms))], geoms)], crs)
    return path


def cells_box(r0: int, r1: int, c0: int, c1: int):
    """Polygon covering rows r0…r1−1 and columns c0…c1−1 exactly."""
    return box(X0 + c0 * CELL, Y0 - r1 * CELL, X0 + c1 * CELL, Y0 - r0 * CELL)


@pytest.fixture
def scene(tmp_path) -> dict[str, Path]:
    return {"dem": write_tif(tmp_path / "dem.tif", dem_array(), -9999.0),
            "landuse": write_tif(tmp_path / "landuse.tif", landuse_array(), 255),
            "water": write_polys(tmp_path / "water.gpkg", [cells_box(0, WATER_ROWS, 0, COLS)])}


def read_layer(path: Path) -> tuple[dict[str, list], list]:
    meta, _, wkb, values = pyogrio.raw.read(path, layer=LAYER)
    return {str(f): v.tolist() for f, v in zip(meta["fields"], values)}, list(shapely.from_wkb(wkb))


def class_mask(cols: dict, geoms: list, klass: str) -> np.ndarray:
    picked = [g for g, k in zip(geoms, cols["slope_class"]) if k == klass]
    return zone_labels(picked, CRS, GRID) > 0 if picked else np.zeros((ROWS, COLS), bool)


def run(scene: dict, out: Path, **kw):
    kw.setdefault("water_sources", scene["water"])
    kw.setdefault("min_area_m2", 2000.0)  # ⌈2000 / 900⌉ = 3 cells
    kw.setdefault("year", 2025)
    return find_sloping_farmland(scene["dem"], scene["landuse"], out, **kw)


# --------------------------------------------------------------------------- the classes
def test_steep_and_moderate_cells_are_exactly_the_hand_count(scene, tmp_path):
    res = run(scene, tmp_path / "sf.gpkg")
    steep, moderate = expected_masks()
    cols, geoms = read_layer(res.out)
    assert list(cols) == list(FIELDS)
    # the polygons cover exactly the expected cells, class by class
    assert np.array_equal(class_mask(cols, geoms, "steep"), steep)
    assert np.array_equal(class_mask(cols, geoms, "moderate"), moderate)
    assert sorted(cols["slope_class"]) == ["moderate"] + ["steep"] * 3
    assert (res.steep_patches, res.moderate_patches, res.patches) == (3, 1, 4)
    assert (res.steep_cells, res.moderate_cells) == (99 + 3 + 3, 200)
    assert res.steep_area_m2 == (99 + 3 + 3) * CELL_AREA and res.moderate_area_m2 == 200 * CELL_AREA
    assert res.min_cells == 3 and res.dropped_patches == 1 and res.dropped_area_m2 == 2 * CELL_AREA
    # per patch: area = cells × cell area = the polygon's own area; mean slope = the plane's
    for cells, area, hm2, geom in zip(cols["cells"], cols["area_m2"], cols["area_hm2"], geoms):
        assert area == cells * CELL_AREA == pytest.approx(geom.area, abs=1e-6)
        assert hm2 == pytest.approx(area / 1e4)
    assert sorted(cols["cells"]) == [3, 3, 99, 200]
    for klass, plane in (("steep", 30.0), ("moderate", 20.0)):
        means = [m for m, k in zip(cols["slope_mean_deg"], cols["slope_class"]) if k == klass]
        assert means == pytest.approx([plane] * len(means), abs=1e-3)
    # the block with the DEM hole is one polygon with a one-cell hole
    block = geoms[cols["cells"].index(99)]
    assert len(block.geoms) == 1 and len(block.geoms[0].interiors) == 1


def test_fields_make_the_patches_importable_as_treatment_patches(scene, tmp_path):
    res = run(scene, tmp_path / "sf.gpkg", year=2024)
    cols, geoms = read_layer(res.out)
    n = res.patches
    assert cols["patch_code"] == [f"SF2024-NA-{i:05d}" for i in range(1, n + 1)]
    assert set(cols["project_code"]) == {"SF2024-NA"}
    assert set(cols["project_name"]) == {"坡耕地退耕还林候选（区县未定）"}
    assert set(cols["kind"]) == {"farmland_to_forest"} and set(cols["measure"]) == {"afforestation"}
    assert set(cols["year"]) == {2024} and set(cols["status"]) == {"planned"}
    assert set(cols["district_code"]) == {None} and set(cols["district"]) == {None}
    assert all(g.is_valid and g.geom_type == "MultiPolygon" for g in geoms)
    meta = pyogrio.read_info(res.out, layer=LAYER)
    assert "EPSG" in meta["crs"] and "4545" in meta["crs"]


def test_summary_csv_and_provenance(scene, tmp_path):
    res = run(scene, tmp_path / "sf.gpkg")
    assert res.summary == tmp_path / "sf.districts.csv"
    assert res.summary.read_bytes().startswith(b"\xef\xbb\xbfdistrict_code,")  # BOM for Excel, no comment line
    with open(res.summary, encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == list(SUMMARY_COLUMNS)
    assert len(rows) == 1 and rows[0]["district_code"] == ""
    assert float(rows[0]["steep_km2"]) == pytest.approx(105 * CELL_AREA / 1e6)
    assert float(rows[0]["moderate_km2"]) == pytest.approx(200 * CELL_AREA / 1e6)
    assert int(rows[0]["patches"]) == 4
    prov = json.loads(res.provenance.read_text(encoding="utf-8"))
    assert prov["counts"]["patches"] == 4 and prov["params"]["min_cells"] == 3
    assert set(prov["inputs"]) == {"dem", "landuse", "water_sources"}
    assert all(len(v["sha256"]) == 64 for v in prov["inputs"].values())


def test_same_inputs_give_the_same_bytes(scene, tmp_path):
    a = run(scene, tmp_path / "a.gpkg")
    b = run(scene, tmp_path / "b.gpkg")
    assert a.out.read_bytes() == b.out.read_bytes()


def test_without_water_sources_only_steep(scene, tmp_path):
    res = run(scene, tmp_path / "sf.gpkg", water_sources=None)
    steep, _ = expected_masks()
    cols, geoms = read_layer(res.out)
    assert set(cols["slope_class"]) == {"steep"} and res.moderate_patches == 0
    assert np.array_equal(class_mask(cols, geoms, "steep"), steep)
    assert any("water-source" in n for n in res.notes)


def test_minimum_area_and_connectivity(scene, tmp_path):
    # 400 m² (the default) is less than one 30 m cell: every patch is kept, the 2-cell one too
    res = run(scene, tmp_path / "a.gpkg", min_area_m2=400.0)
    cols, geoms = read_layer(res.out)
    assert res.min_cells == 1 and res.dropped_patches == 0
    assert np.array_equal(class_mask(cols, geoms, "steep"), expected_masks(min_cells=1)[0])
    assert sorted(c for c, k in zip(cols["cells"], cols["slope_class"]) if k == "steep") == [2, 3, 3, 99]
    # 4-connected, the diagonal cells are three one-cell patches, all below 3 cells
    res4 = run(scene, tmp_path / "b.gpkg", connectivity=4)
    cols4, geoms4 = read_layer(res4.out)
    assert np.array_equal(class_mask(cols4, geoms4, "steep"), expected_masks(connectivity=4)[0])
    assert res4.dropped_patches == 1 + 3 and res4.steep_patches == 2
    # one cell more than the 3-cell patches: they go too
    big = run(scene, tmp_path / "c.gpkg", min_area_m2=3 * CELL_AREA + 1)
    assert big.min_cells == 4 and big.steep_cells == 99 and big.steep_patches == 1


def test_cropland_codes_and_thresholds(scene, tmp_path):
    # orchard (code 2) named as cropland: its 30° block becomes steep
    res = run(scene, tmp_path / "a.gpkg", cropland_codes=(1, 2))
    cols, geoms = read_layer(res.out)
    steep, _ = expected_masks()
    steep[40:50, 15:25] = True
    assert np.array_equal(class_mask(cols, geoms, "steep"), steep)
    # steep from 35°: the 30° cropland inside the water polygon becomes moderate, outside it nothing
    res = run(scene, tmp_path / "b.gpkg", steep_deg=35.0)
    cols, geoms = read_layer(res.out)
    moderate = expected_masks()[1]
    moderate[5:15, 5:15] = True
    moderate[DEM_HOLE] = False
    assert res.steep_patches == 0
    assert np.array_equal(class_mask(cols, geoms, "moderate"), moderate)
    # moderate from 21°: the 20° plane drops out
    res = run(scene, tmp_path / "c.gpkg", moderate_deg=21.0)
    assert res.moderate_patches == 0 and res.steep_cells == 105
    # moderate from 5°: the 10° cropland in the water polygon joins
    res = run(scene, tmp_path / "d.gpkg", moderate_deg=5.0)
    cols, geoms = read_layer(res.out)
    moderate = expected_masks()[1]
    moderate[5:15, 65:85] = True
    assert np.array_equal(class_mask(cols, geoms, "moderate"), moderate)


def test_basic_farmland_is_removed_from_the_moderate_class_only(scene, tmp_path):
    basic = write_polys(tmp_path / "basic.gpkg", [cells_box(0, 60, 45, 90), cells_box(0, 60, 0, 30)])
    res = run(scene, tmp_path / "sf.gpkg", basic_farmland=basic)
    cols, geoms = read_layer(res.out)
    steep, moderate = expected_masks()
    moderate[:, 45:] = False
    assert np.array_equal(class_mask(cols, geoms, "moderate"), moderate)
    assert np.array_equal(class_mask(cols, geoms, "steep"), steep)  # ≥ 25° stays, basic farmland or not
    assert res.moderate_cells == 10 * 10


def test_landuse_on_a_finer_grid_is_resampled_by_nearest(scene, tmp_path):
    fine = np.repeat(np.repeat(landuse_array(), 3, axis=0), 3, axis=1)  # 10 m cells, 3×3 per DEM cell
    scene = dict(scene, landuse=write_tif(tmp_path / "fine.tif", fine, 255, cell=10.0))
    res = run(scene, tmp_path / "sf.gpkg")
    cols, geoms = read_layer(res.out)
    steep, moderate = expected_masks()
    assert np.array_equal(class_mask(cols, geoms, "steep"), steep)
    assert np.array_equal(class_mask(cols, geoms, "moderate"), moderate)
    assert any("resampled" in n for n in res.notes)


def test_nothing_found_still_writes_an_empty_layer(scene, tmp_path):
    scene = dict(scene, landuse=write_tif(tmp_path / "forest.tif", np.full((ROWS, COLS), 3, np.uint8), 255))
    res = run(scene, tmp_path / "sf.gpkg")
    cols, geoms = read_layer(res.out)
    assert res.patches == 0 and geoms == [] and cols["patch_code"] == []
    assert any("cropland code" in n for n in res.notes)
    with open(res.summary, encoding="utf-8-sig") as fh:
        assert list(csv.reader(fh)) == [list(SUMMARY_COLUMNS)]


# --------------------------------------------------------------------------- districts
def test_districts_from_a_polygon_file_by_largest_overlap(scene, tmp_path):
    def districts(split_col: int) -> Path:
        return write_polys(tmp_path / f"d{split_col}.gpkg",
                           [cells_box(0, ROWS, 0, split_col), cells_box(0, ROWS, split_col, COLS)],
                           [{"code": "fengdu"}, {"code": "石柱土家族自治县"}])  # a code and a full name of the plan's districts

    # split after column 11: the steep block has 7 of its 10 columns in 丰都, 3 in 石柱
    res = run(scene, tmp_path / "a.gpkg", districts=districts(12))
    cols, _ = read_layer(res.out)
    by_cells = {(c, k): d for c, k, d in zip(cols["cells"], cols["slope_class"], cols["district_code"])}
    assert by_cells[(99, "steep")] == "fengdu" and by_cells[(200, "moderate")] == "shizhu"
    assert set(cols["district"]) == {"丰都县", "石柱县"}  # the plan's short names
    assert res.unassigned_patches == 0 and res.district_source.startswith("file ")
    # split after column 7: 3 columns in 丰都, 7 in 石柱
    res = run(scene, tmp_path / "b.gpkg", districts=districts(8))
    cols, _ = read_layer(res.out)
    by_cells = {(c, k): d for c, k, d in zip(cols["cells"], cols["slope_class"], cols["district_code"])}
    assert by_cells[(99, "steep")] == "shizhu"
    fengdu = [c for c, d in zip(cols["patch_code"], cols["district_code"]) if d == "fengdu"]
    shizhu = [c for c, d in zip(cols["patch_code"], cols["district_code"]) if d == "shizhu"]
    assert fengdu == ["SF2025-fengdu-00001", "SF2025-fengdu-00002"]  # the 3-cell patches in columns 5–7
    assert shizhu == ["SF2025-shizhu-00001", "SF2025-shizhu-00002"]
    assert set(cols["project_code"]) == {"SF2025-fengdu", "SF2025-shizhu"}
    summary = {s.district_code: s for s in res.by_district}
    assert summary["fengdu"].steep_area_m2 == 6 * CELL_AREA and summary["fengdu"].moderate_patches == 0
    assert summary["shizhu"].steep_area_m2 == 99 * CELL_AREA
    assert summary["shizhu"].moderate_area_m2 == 200 * CELL_AREA


def test_patches_outside_every_district_get_none(scene, tmp_path):
    d = write_polys(tmp_path / "d.gpkg", [cells_box(0, ROWS, 30, COLS)], [{"code": "shizhu"}])
    res = run(scene, tmp_path / "sf.gpkg", districts=d)
    cols, _ = read_layer(res.out)
    assert res.unassigned_patches == 3
    assert [c for c in cols["patch_code"] if "-NA-" in c] == [f"SF2025-NA-{i:05d}" for i in (1, 2, 3)]
    assert [s.district_code for s in res.by_district] == ["shizhu", None]


def test_districts_from_the_store(scene, tmp_path):
    from shuibao.services.platform.database import init

    db = str(tmp_path / "shuibao.gpkg")
    init(db, boundaries=True)  # about 0.5 s
    res = run(scene, tmp_path / "sf.gpkg", db=db)
    cols, _ = read_layer(res.out)
    assert set(cols["district_code"]) == {"fengdu"} and set(cols["district"]) == {"丰都县"}
    assert set(cols["project_name"]) == {"坡耕地退耕还林候选（丰都县）"}
    assert res.district_source == f"store {db}"
    prov = json.loads(res.provenance.read_text(encoding="utf-8"))
    assert prov["inputs"]["districts"]["store"] == db


def test_the_candidates_import_as_treatment_patches(scene, tmp_path):
    # a plain import: a renamed or moved import_treatment fails here instead of skipping silently
    from shuibao.services.governance.treatment import import_treatment
    from shuibao.services.platform.database import init

    db = str(tmp_path / "shuibao.gpkg")
    init(db, boundaries=True)
    res = run(scene, tmp_path / "sf.gpkg", db=db)
    imported = import_treatment(db, res.out)
    assert imported.created == res.patches and imported.projects_created == 1
    assert imported.area_km2 == pytest.approx(res.total_area_m2 / 1e6, rel=1e-3)  # equal-area vs Gauss–Krüger


# --------------------------------------------------------------------------- refused inputs
def test_geographic_dem_is_refused_naming_the_file(scene, tmp_path):
    geo = write_tif(tmp_path / "geo.tif", dem_array(), -9999.0, crs="EPSG:4490", x0=108.0, y0=29.8, cell=0.0003)
    with pytest.raises(InputError, match="geographic") as err:
        run(dict(scene, dem=geo), tmp_path / "sf.gpkg")
    assert str(geo) in str(err.value)
    assert not (tmp_path / "sf.gpkg").exists()


def test_missing_files_are_named(scene, tmp_path):
    for key, name in (("dem", "nodem.tif"), ("landuse", "nolu.tif"), ("water", "nowater.gpkg")):
        with pytest.raises(InputError, match="does not exist") as err:
            run(dict(scene, **{key: tmp_path / name}), tmp_path / "sf.gpkg")
        assert str(tmp_path / name) in str(err.value)


def test_landuse_off_the_dem_grid_is_refused(scene, tmp_path):
    far = write_tif(tmp_path / "far.tif", landuse_array(), 255, x0=X0 + 50_000)
    with pytest.raises(InputError, match="does not overlap") as err:
        run(dict(scene, landuse=far), tmp_path / "sf.gpkg")
    assert str(far) in str(err.value)


def test_every_problem_is_reported_at_once(scene, tmp_path):
    geo = write_tif(tmp_path / "geo.tif", dem_array(), -9999.0, crs="EPSG:4490", x0=108.0, y0=29.81, cell=0.0003)
    raw = write_tif(tmp_path / "raw.tif", landuse_array(), None)  # integer land use without nodata
    with pytest.raises(InputError) as err:
        find_sloping_farmland(geo, raw, tmp_path / "sf.shp", water_sources=tmp_path / "nowater.gpkg",
                              steep_deg=95.0, min_area_m2=-1.0, cropland_codes=())
    text = str(err.value)
    for part in (str(geo), str(raw), "nodata", str(tmp_path / "nowater.gpkg"), "steep_deg", "min_area_m2",
                 "cropland_codes", ".gpkg"):
        assert part in text
    assert text.startswith("sloping farmland: 7 problem(s) with the inputs:")


def test_bad_parameters(scene, tmp_path):
    with pytest.raises(InputError, match="moderate_deg"):
        run(scene, tmp_path / "sf.gpkg", moderate_deg=30.0)
    with pytest.raises(InputError, match="year"):
        run(scene, tmp_path / "sf.gpkg", year=1990)
    with pytest.raises(InputError, match="connectivity"):
        run(scene, tmp_path / "sf.gpkg", connectivity=6)
    with pytest.raises(InputError, match="not both"):
        run(scene, tmp_path / "sf.gpkg", db=str(tmp_path / "x.gpkg"), districts=scene["water"])


def test_a_district_file_with_unknown_codes_is_refused(scene, tmp_path):
    d = write_polys(tmp_path / "d.gpkg", [cells_box(0, ROWS, 0, COLS)], [{"code": "atlantis"}])
    with pytest.raises(InputError, match="atlantis"):
        run(scene, tmp_path / "sf.gpkg", districts=d)


def test_a_store_without_boundaries_is_refused(scene, tmp_path):
    from shuibao.services.platform.database import init

    db = str(tmp_path / "bare.gpkg")
    init(db, boundaries=False)
    with pytest.raises(InputError, match="no district boundaries"):
        run(scene, tmp_path / "sf.gpkg", db=db)


# --------------------------------------------------------------------------- the command
def _app(db: str | None) -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main(ctx: typer.Context) -> None:
        ctx.obj = State(db=db, verbose=0, quiet=False)

    app.command("sloping-farmland")(sloping_farmland)
    return app


def test_cli_without_a_store_notes_that_districts_stay_empty(scene, tmp_path):
    out = tmp_path / "sf.gpkg"
    args = ["sloping-farmland", str(scene["dem"]), str(scene["landuse"]), "-o", str(out), "--water-sources",
            str(scene["water"]), "--min-area-m2", "2000", "--year", "2025"]
    res = CliRunner().invoke(_app(str(tmp_path / "missing.gpkg")), args)
    assert res.exit_code == 0, res.output
    lines = res.stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("4 candidate patches for 2025: 3 ≥ 25°") and str(out) in lines[0]
    assert "no districts" in lines[0]
    assert "patches get no district" in res.stderr and "missing.gpkg" in res.stderr
    cols, _ = read_layer(out)
    assert set(cols["district_code"]) == {None}


def test_cli_with_a_store_and_cropland_codes(scene, tmp_path):
    from shuibao.services.platform.database import init

    db = str(tmp_path / "shuibao.gpkg")
    init(db, boundaries=True)
    out = tmp_path / "sf.gpkg"
    args = ["sloping-farmland", str(scene["dem"]), str(scene["landuse"]), "-o", str(out), "--cropland-codes", "1,2",
            "--min-area-m2", "2000", "--year", "2025"]
    res = CliRunner().invoke(_app(db), args)
    assert res.exit_code == 0, res.output
    assert "4 candidate patches" in res.stdout and "in 1 district(s)" in res.stdout
    cols, _ = read_layer(out)
    assert set(cols["district_code"]) == {"fengdu"} and set(cols["slope_class"]) == {"steep"}
    bad = CliRunner().invoke(_app(db), args[:5] + ["--cropland-codes", "paddy"])
    assert isinstance(bad.exception, InputError) and "--cropland-codes" in str(bad.exception)
