"""Cases a review found: inputs made of several files, partial measures, stray codes, far-away districts,
coarsened grids, overwritten grade rasters, foreign temporary files, narrower step keys, admin-coded
districts."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime

import numpy as np
import pytest
import rasterio
from shapely.geometry import MultiPolygon, box

from shuibao.errors import InputError
from shuibao.io.steps import StepRunner, fingerprint
from shuibao.io.vector import VectorLayer, write_gpkg
from shuibao.services.monitoring import runs
from shuibao.services.monitoring.annual_run import run_monitoring
from shuibao.services.monitoring.run_inputs import validate_run

from tests.helpers import spec_text

T0 = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.fixture
def case(area, tmp_path):
    folder = tmp_path / "case"
    shutil.copytree(area / "inputs", folder / "inputs")
    shutil.copy(area / "districts.gpkg", folder / "districts.gpkg")
    return folder


def _spec(folder, **kw):
    path = folder / "spec.toml"
    path.write_text(spec_text(**kw), encoding="utf-8")
    return path


def test_fingerprint_sees_every_file_of_a_dataset(tmp_path):
    shp = tmp_path / "m.shp"
    for ext in ("shp", "shx", "dbf", "prj"):
        (tmp_path / f"m.{ext}").write_bytes(ext.encode())
    before = fingerprint(shp)
    (tmp_path / "m.dbf").write_bytes(b"other attributes")
    assert fingerprint(shp) != before
    tif = tmp_path / "a.tif"
    with rasterio.open(tif, "w", driver="GTiff", width=4, height=4, count=1, dtype="uint8", crs="EPSG:4545",
                       transform=rasterio.transform.from_origin(0, 4, 1, 1)) as dst:
        dst.write(np.ones((1, 4, 4), np.uint8))
    vrt = tmp_path / "a.vrt"
    vrt.write_text("""<VRTDataset rasterXSize="4" rasterYSize="4"><GeoTransform>0, 1, 0, 4, 0, -1</GeoTransform>
<VRTRasterBand dataType="Byte" band="1">
<SimpleSource><SourceFilename relativeToVRT="1">a.tif</SourceFilename><SourceBand>1</SourceBand></SimpleSource>
</VRTRasterBand></VRTDataset>""")
    before = fingerprint(vrt)
    with rasterio.open(tif, "r+") as dst:
        dst.write(np.full((1, 4, 4), 7, np.uint8))
    assert fingerprint(vrt) != before, "a VRT's source tile changed"


def test_measure_polygons_need_code_0_in_the_e_table(case, empty_db):
    e = case / "e.csv"
    e.write_text("measure_code,measure,e,source\n1,梯田,0.1,test\n", encoding="utf-8")
    write_gpkg(case / "m.gpkg", [VectorLayer("m", "", "EPSG:4545", [MultiPolygon([box(400000, 3347000, 401000,
                                                                                        3350000)])],
                                             {"measure_code": [1]})], timestamp=T0)
    spec = _spec(case, inputs_extra='measures = { path = "m.gpkg" }', extra='[tables]\ne_table = "e.csv"')
    with pytest.raises(InputError, match="measure code 0"):
        validate_run(spec, empty_db)


def test_landuse_codes_outside_the_plan_classes_need_a_class_table(case, empty_db):
    path = case / "inputs" / "landuse.tif"
    with rasterio.open(path) as src:
        data, profile = src.read(1), src.profile
    data[:5, :5] = 11
    b = case / "b.csv"
    from importlib import resources
    data_dir = resources.files("shuibao.erosion") / "data"
    b.write_text((data_dir / "b_table.csv").read_text(encoding="utf-8") + "11,园林,constant,0.5,,test\n",
                 encoding="utf-8")  # code 11 is no cropland code, so the shipped T table serves (T = 1)
    profile.update(driver="GTiff")
    profile.pop("blockxsize", None), profile.pop("blockysize", None)
    with rasterio.open(path, "w", **{**profile, "tiled": False}) as dst:
        dst.write(data, 1)
    spec = _spec(case, extra='[tables]\nb_table = "b.csv"')
    with pytest.raises(InputError, match=r"\[11\].*landuse_classes"):
        validate_run(spec, empty_db)
    (case / "classes.csv").write_text("code,name,plan_class\n" + "".join(f"{c},c{c},{c}\n" for c in range(1, 9))
                                      + "11,园林,2\n", encoding="utf-8")
    spec = _spec(case, extra='[tables]\nb_table = "b.csv"', inputs_extra='landuse_classes = "classes.csv"')
    prep = validate_run(spec, empty_db)
    assert prep.landuse[:5, :5].tolist() == [[2] * 5] * 5  # counted with 表2 class 2, as the class table says
    assert prep.classes[2] == (2, "园地")


def test_districts_that_miss_the_grid_fail_validation(case, empty_db):
    write_gpkg(case / "districts.gpkg", [VectorLayer("d", "", "EPSG:4545", [
        MultiPolygon([box(500000, 3300000, 505000, 3305000)])], {"code": ["fuling"]})], timestamp=T0)
    with pytest.raises(InputError, match="overlaps the DEM grid"):
        validate_run(_spec(case), empty_db)


def test_a_coarser_resolution_keeps_edge_cells_consistent(case, empty_db):
    spec = _spec(case, extra="")
    text = spec.read_text(encoding="utf-8").replace("[inputs]", "[grid]\nresolution_m = 90\n\n[inputs]")
    spec.write_text(text, encoding="utf-8")
    prep = validate_run(spec, empty_db)
    assert prep.grid.cell_width == 90 and prep.valid.sum() > 0


def test_an_admin_coded_500110_polygon_stands_for_wansheng_too(case, empty_db):
    with rasterio.open(case / "inputs" / "dem.tif") as src:
        l, b, r, t = src.bounds
    write_gpkg(case / "districts.gpkg", [VectorLayer("d", "", "EPSG:4545", [MultiPolygon([box(l, b, r, t)])],
                                                     {"code": ["500110"]})], timestamp=T0)
    prep = validate_run(_spec(case), empty_db)
    assert [d.name for d in prep.zones[0].covers] == ["綦江区", "万盛经开区"]


def test_changing_the_watershed_threshold_keeps_the_erosion_step(case, empty_db):
    first = run_monitoring(_spec(case), empty_db)
    assert not first.steps["erosion"].reused
    again = run_monitoring(_spec(case, extra="watershed_min_km2 = 0.1"), empty_db)
    assert again.steps["erosion"].reused and not again.steps["watersheds"].reused
    assert again.run_id != first.run_id  # other watersheds: another run


def test_compare_leaves_out_the_matrix_when_a_grade_raster_was_overwritten(case, empty_db):
    a = run_monitoring(_spec(case), empty_db)
    b = run_monitoring(_spec(case, extra="tolerance_t_km2 = 1000"), empty_db)  # same folder: overwrites grade.tif
    c = runs.compare_runs(empty_db, str(a.run_id), str(b.run_id))
    assert c["transition_cells"] is None and "overwritten" in c["no_transitions"]
    assert next(u for u in c["units"] if u["level"] == "city")["d_rate_pp"] > 0
    with pytest.raises(InputError, match="same run"):
        runs.compare_runs(empty_db, str(b.run_id), "latest")


def test_only_our_temporary_files_are_cleaned(tmp_path):
    out = tmp_path / "out"
    (out / "rasters").mkdir(parents=True)
    ours = out / "rasters" / ".grade.tif.0123abcd.tmp"
    theirs = [out / ".bashrc.tmp", out / ".notes.tmp.txt", out / "rasters" / ".x.tif.tmp"]
    for f in (ours, *theirs):
        f.write_text("x")
    StepRunner(out, "digest", "0")
    assert not ours.exists() and all(f.exists() for f in theirs)
