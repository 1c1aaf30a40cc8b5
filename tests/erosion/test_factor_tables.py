"""The factor tables by GB/T 21010 code: B by cover class and by a user's formula, T by rotation zone, FVC
end-members from eligible land only.  Oracles are hand computations and the standard's own code list."""

from __future__ import annotations

import math

import numpy as np
import pytest
import rasterio

from shuibao.core import csle
from shuibao.errors import InputError, ReferenceDataError
from shuibao.erosion import tables
from shuibao.services.monitoring.erosion import CsleInputs, CsleParams, run_csle

# GB/T 21010-2017 表1: how many second-level classes each first-level class has (01 耕地 … 12 其他土地)
SECOND_LEVEL_COUNT = {1: 3, 2: 4, 3: 7, 4: 4, 5: 7, 6: 4, 7: 2, 8: 10, 9: 6, 10: 9, 11: 10, 12: 7}
# 表2's roll-up of the first-level classes: 05–09 are 建设用地
PLAN_CLASS_OF_FIRST = {1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 5, 7: 5, 8: 5, 9: 5, 10: 6, 11: 7, 12: 8}


def test_every_second_level_code_of_the_standard_rolls_up_to_its_plan_class():
    codes = tables.landuse_codes()
    second = [c for c in codes.values() if c.code >= 101]
    counts: dict[int, int] = {}
    for c in second:
        first = c.code // 100
        counts[first] = counts.get(first, 0) + 1
        assert c.gbt_code == f"{c.code:04d}"
        assert c.plan_class == PLAN_CLASS_OF_FIRST[first], c
    assert counts == SECOND_LEVEL_COUNT
    assert sorted(c.code for c in codes.values() if c.code < 101) == list(range(1, 9))  # 表2 first-level inputs


def test_every_shipped_code_has_a_b_row_and_every_cropland_code_a_t_row():
    codes = tables.landuse_codes()
    b = tables.b_table()
    assert b.unknown(list(codes)) == []
    tt = tables.t_table()
    for zone in tt.zones:
        crop = [c for c in codes.values() if c.plan_class == 1]
        assert tt.for_zone(zone).unknown([c.code for c in crop]) == [], zone


def test_cover_class_table_by_hand():
    classes = csle.CoverClasses((10.0, 30.0, 50.0, 70.0, 90.0), (1.0, 0.10, 0.08, 0.06, 0.02, 0.004))
    fvc = np.array([0.0, 0.0999, 0.10, 0.2999, 0.5, 0.75, 0.8999, 0.90, 1.0, np.nan])
    want = [1.0, 1.0, 0.10, 0.10, 0.06, 0.02, 0.02, 0.004, 0.004]
    got = classes.of(fvc)
    assert got[:-1].tolist() == pytest.approx(want)  # closed below, open above, the last class open-ended
    assert math.isnan(got[-1])  # unknown cover stays unknown
    with pytest.raises(ValueError):
        csle.CoverClasses((30.0, 10.0), (1.0, 0.5, 0.1))
    with pytest.raises(ValueError):
        csle.CoverClasses((50.0,), (1.0, 1.5))


def test_b_factor_mixes_methods_per_code():
    forest = csle.CoverClasses((50.0,), (0.2, 0.01))
    lu = np.array([301, 301, 404, 103, 1101, 999])
    fvc = np.array([0.3, 0.95, 0.5, 0.5, 0.5, 0.5], np.float32)
    b = csle.b_factor(lu, fvc, np.array([301, 404, 103, 1101]),
                      np.array(["fvc_class", "formula", "constant", "constant"]), np.array([np.nan, np.nan, 1.0, 0.0]),
                      {301: forest}, {404: "0.6508 - 0.3436*log10(f)"})
    assert b[:5].tolist() == pytest.approx([0.2, 0.01, 0.6508 - 0.3436 * math.log10(50.0), 1.0, 0.0], rel=1e-6)
    assert math.isnan(b[5])  # a code the table does not know


def test_user_formula_is_evaluated_without_eval():
    f = np.array([0.2, 0.5])
    assert csle.b_formula("min(1, exp(-0.0418*f))", f) == pytest.approx(np.exp(-0.0418 * np.array([20.0, 50.0])))
    assert csle.b_formula("1/(1.17647 + 0.86242*1.05905**f)", f) == pytest.approx(csle.b_grass_slr(f))
    for bad in ("__import__('os').system('true')", "fvc.real", "open('x')", "f if f else 1", "lambda: 1",
                "[f]", "log10", "f // 2", "f @ f"):
        with pytest.raises(ValueError):
            csle.b_formula(bad, f)


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_b_table_rows_are_checked(tmp_path):
    with pytest.raises(ReferenceDataError, match="row 2, column parameter: method fvc_class needs"):
        tables.b_table(_write(tmp_path / "b.csv", "landuse_code,method,value,parameter\n3,fvc_class,,\n"))
    with pytest.raises(ReferenceDataError, match="cover group 'palm' is not in"):
        tables.b_table(_write(tmp_path / "b.csv", "landuse_code,method,value,parameter\n3,fvc_class,,palm\n"))
    with pytest.raises(ReferenceDataError, match="row 2, column parameter: B formula"):
        tables.b_table(_write(tmp_path / "b.csv", "landuse_code,method,value,parameter\n3,formula,,os.getcwd()\n"))
    gap = _write(tmp_path / "c.csv", "group,fvc_min_pct,fvc_max_pct,b\npalm,0,40,0.3\npalm,50,100,0.1\n")
    with pytest.raises(ReferenceDataError, match="without gaps or overlaps"):
        tables.cover_classes(gap)
    ok = _write(tmp_path / "c.csv", "group,fvc_min_pct,fvc_max_pct,b\npalm,0,40,0.3\npalm,40,100,0.1\n")
    b = tables.b_table(_write(tmp_path / "b.csv", "landuse_code,method,value,parameter\n3,fvc_class,,palm\n"), ok)
    assert b.cover_classes[3].of(np.array([0.39, 0.4])).tolist() == [0.3, 0.1]


def test_t_table_zones(tmp_path):
    t = tables.t_table(_write(tmp_path / "t.csv", "zone,landuse_code,t\na,103,0.3\na,101,0\nb,103,0.5\n"))
    assert t.zones == ("a", "b")
    za = t.for_zone("a")
    assert dict(zip(za.codes.tolist(), za.values.tolist())) == {101: 0.0, 103: pytest.approx(0.3)}
    with pytest.raises(ReferenceDataError, match="listed twice for zone a"):
        tables.t_table(_write(tmp_path / "t.csv", "zone,landuse_code,t\na,103,0.3\na,103,0.4\n"))
    plain = tables.t_table(_write(tmp_path / "t.csv", "landuse_code,t\n1,0.4\n"))  # a table without zones
    assert plain.zones == ("",) and plain.for_zone("").values.tolist() == pytest.approx([0.4])


# --------------------------------------------------------------------------- through a run
@pytest.fixture(scope="module")
def coded_scene(scene_dir, tmp_path_factory):
    """The test scene with its 表2 land-use codes recoded to GB/T second-level codes, plus water."""
    folder = tmp_path_factory.mktemp("coded")
    with rasterio.open(scene_dir / "landuse.tif") as src:
        lu, profile = src.read(1), src.profile
    recode = {1: 103, 2: 201, 3: 301, 4: 404, 5: 701, 6: 1003, 7: 1101, 8: 1206}
    out = np.zeros(lu.shape, np.uint16)
    for a, b in recode.items():
        out[lu == a] = b
    out[:, :3] = 1101  # a river strip, so water is present whatever the scene holds
    profile.update(dtype="uint16", nodata=0)
    with rasterio.open(folder / "landuse.tif", "w", **profile) as dst:
        dst.write(out, 1)
    return folder


def _inputs(scene, coded, **over):
    base = dict(dem=scene / "dem.tif", landuse=coded / "landuse.tif", ndvi=scene / "ndvi.tif",
                rain=scene / "rain.csv", soil=scene / "soil.tif", soil_table=scene / "soil.csv")
    base.update(over)
    return CsleInputs(**base)


def test_second_level_codes_run_and_non_cropland_t_is_one(scene_dir, coded_scene, tmp_path):
    summary = run_csle(_inputs(scene_dir, coded_scene), tmp_path, CsleParams())
    assert summary["parameters"]["rotation_zone"] == "sichuan_basin"
    with rasterio.open(tmp_path / "t_factor.tif") as t, rasterio.open(coded_scene / "landuse.tif") as lu:
        tv, code = t.read(1), lu.read(1)
    assert np.all(tv[code == 301] == 1.0) and np.all(tv[code == 1101] == 1.0)
    dry = {row["landuse_code"]: row["t"] for row in _rows(tables.t_table().for_zone("sichuan_basin"))}
    assert np.allclose(tv[code == 103], dry[103])


def _rows(table):
    return [{"landuse_code": c, "t": v} for c, v in zip(table.codes.tolist(), table.values.tolist())]


def test_unknown_rotation_zone_and_missing_cropland_t_are_reported(scene_dir, coded_scene, tmp_path):
    with pytest.raises(InputError, match="rotation zone 'mars' is not in"):
        run_csle(_inputs(scene_dir, coded_scene), tmp_path, CsleParams(rotation_zone="mars"))
    t = _write(tmp_path / "t.csv", "zone,landuse_code,t\nz,101,0\n")
    with pytest.raises(InputError, match=r"no T for the cropland code\(s\) \[103\]"):
        run_csle(_inputs(scene_dir, coded_scene, t_table=t), tmp_path / "o", CsleParams())


def test_end_members_ignore_water_and_sealed_land(scene_dir, coded_scene, tmp_path):
    """Turning a third of the grid into water of NDVI −0.3 must not move the end-members (it moved the
    all-cell 5th percentile before)."""
    with rasterio.open(scene_dir / "ndvi.tif") as src:
        ndvi, profile = src.read(1), src.profile
    with rasterio.open(coded_scene / "landuse.tif") as src:
        lu, lprof = src.read(1), src.profile
    wet_ndvi, wet_lu = ndvi.copy(), lu.copy()
    rows = ndvi.shape[0] // 3
    wet_ndvi[:rows], wet_lu[:rows] = -0.3, 1101
    for name, data, prof in (("ndvi.tif", wet_ndvi, profile), ("landuse.tif", wet_lu, lprof)):
        with rasterio.open(tmp_path / name, "w", **prof) as dst:
            dst.write(data, 1)
    base = run_csle(_inputs(scene_dir, coded_scene), tmp_path / "a", CsleParams())["parameters"]["fvc_end_members"]
    wet = run_csle(_inputs(scene_dir, coded_scene, ndvi=tmp_path / "ndvi.tif", landuse=tmp_path / "landuse.tif"),
                   tmp_path / "b", CsleParams())["parameters"]["fvc_end_members"]
    keep = ~(lu == 1101) & np.isfinite(ndvi)
    veg = keep & np.isin(lu, (201, 301, 404))
    assert base["ndvi_veg"] == pytest.approx(np.percentile(ndvi[veg], 95), abs=2e-4)
    # the lower third is water now: the end-members come from the vegetated and bare land left
    veg_left = veg.copy()
    veg_left[:rows] = False
    assert wet["ndvi_veg"] == pytest.approx(np.percentile(ndvi[veg_left], 95), abs=2e-4)
    assert wet["ndvi_soil"] > -0.3 + 0.05
    assert base["ndvi_soil_from"]["landuse_codes"] and "1101" not in str(base["ndvi_soil_from"]["landuse_codes"])


def test_per_class_end_members_follow_each_class(scene_dir, coded_scene, tmp_path):
    summary = run_csle(_inputs(scene_dir, coded_scene), tmp_path,
                       CsleParams(fvc_endmember_scope="per_class", intermediates=True))
    ends = summary["parameters"]["fvc_end_members"]
    with rasterio.open(scene_dir / "ndvi.tif") as a, rasterio.open(coded_scene / "landuse.tif") as b, \
            rasterio.open(tmp_path / "fvc.tif") as c:
        ndvi, code, fvc = a.read(1), b.read(1), c.read(1)
    forest = (code == 301) & np.isfinite(ndvi)
    assert forest.sum() >= 1000  # enough cells for its own percentiles
    lo, hi = np.percentile(ndvi[forest], 5), np.percentile(ndvi[forest], 95)
    got = ends["per_class"]["301"]
    assert got["ndvi_veg"] == pytest.approx(hi, abs=2e-4)  # the class's own full-cover end …
    assert got["ndvi_veg"] != pytest.approx(ends["ndvi_veg"], abs=1e-3) or lo > ends["ndvi_soil"]
    want = np.clip((ndvi[forest] - ends["ndvi_soil"]) / (got["ndvi_veg"] - ends["ndvi_soil"]), 0, 1)  # … pooled soil
    assert np.allclose(fvc[forest], want, atol=1e-5)
    with pytest.raises(InputError, match="fvc_endmember_scope 'scene'"):
        run_csle(_inputs(scene_dir, coded_scene), tmp_path / "x", CsleParams(fvc_endmember_scope="scene"))


def test_a_failed_run_leaves_no_half_written_folder(scene_dir, coded_scene, tmp_path):
    """A formula giving B above 1 stops the run: the rasters already written and an earlier summary are gone."""
    out = tmp_path / "o"
    run_csle(_inputs(scene_dir, coded_scene), out, CsleParams())
    assert (out / "summary.json").is_file() and (out / "r_factor.tif").is_file()
    b = tmp_path / "b.csv"
    shipped = (tables.b_table().path).read_text(encoding="utf-8")
    b.write_text(shipped.replace("\n301,乔木林地,fvc_class,,forest,", "\n301,乔木林地,formula,,2 + f,"), encoding="utf-8")
    with pytest.raises(InputError, match=r"gives B above 1 on \d+ cells"):
        run_csle(_inputs(scene_dir, coded_scene, b_table=b), out, CsleParams())
    assert not (out / "summary.json").exists()
    assert not any(out.glob("*.tif"))
