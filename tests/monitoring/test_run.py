"""A whole monitoring run on a small area: the zonal identities, outputs, database, dask, compare."""

from __future__ import annotations

import csv
import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyogrio
import pytest
from shapely.geometry import MultiPolygon, box
from sqlalchemy import func, select

from shuibao.io.raster import read_raster
from shuibao.io.vector import VectorLayer, write_gpkg
from shuibao.services.platform import database
from shuibao.services.monitoring import runs
from shuibao.services.monitoring.annual_run import run_monitoring
from shuibao.store import Store, schema

from tests.helpers import CELL, COLS, DISTRICTS, ROWS

CELL_KM2 = CELL * CELL / 1e6


def _csv(path: Path) -> list[dict]:
    with open(path, encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def done(area, tmp_path_factory):
    """One finished run (memory engine) and its database."""
    db = str(tmp_path_factory.mktemp("db") / "runs.gpkg")
    database.init(db, boundaries=False)
    spec = area / "spec-run.toml"
    from tests.helpers import spec_text
    spec.write_text(spec_text(output="out-run"), encoding="utf-8")
    return run_monitoring(spec, db), db


def test_zonal_sums_equal_raster_totals(done):
    result, _ = done
    grade = read_raster(result.output / "rasters" / "grade.tif", "grade")
    g = np.where(grade.valid, grade.data, 0)
    raster_cells = np.bincount(g.ravel(), minlength=7)[1:]
    units = json.loads(json.dumps(_csv(result.output / "tables" / "erosion_by_unit.csv")))
    by_level = {}
    for u in units:
        by_level.setdefault(u["level"], []).append(u)
    from shuibao.services.monitoring.runs import get_run
    stored = get_run(done[1], str(result.run_id))["units"]
    rows = {(u["level"], u["code"]): u for u in stored}
    keys = [f"{k}_km2" for k in ("slight", "light", "moderate", "intense", "very_intense", "severe")]
    city, outside = rows[("city", "city")], rows[("outside", "outside")]
    # districts + cells outside every district = the raster, grade by grade
    for i, k in enumerate(keys):
        assert city[k] + outside[k] == pytest.approx(raster_cells[i] * CELL_KM2, abs=1e-9)
    # the test polygons cover 168 of 180 columns
    assert city["total_km2"] == pytest.approx(ROWS * 168 * CELL_KM2)
    assert outside["total_km2"] == pytest.approx(ROWS * 12 * CELL_KM2)
    districts = [u for u in stored if u["level"] == "district"]
    assert len(districts) == 3
    for k in (*keys, "total_km2", "loss_km2", "soil_loss_t"):
        assert sum(d[k] for d in districts) == pytest.approx(city[k], rel=1e-12)
        regions = [u for u in stored if u["level"] == "region"]
        assert sum(r[k] for r in regions) == pytest.approx(city[k], rel=1e-12)
        tgr = [d for d in districts if d["code"] in ("fuling", "wanzhou")]
        assert sum(d[k] for d in tgr) == pytest.approx(rows[("three_gorges", "three_gorges")][k], rel=1e-12)
    for u in stored:
        if u["total_km2"]:
            assert u["rate_pct"] == pytest.approx(u["slight_km2"] / u["total_km2"] * 100)
            assert u["loss_km2"] == pytest.approx(u["total_km2"] - u["slight_km2"])
    # each district is a rectangle of 56 columns: its area is exactly its cells
    for d in districts:
        assert d["total_km2"] == pytest.approx(ROWS * 56 * CELL_KM2)
    # the mean soil loss of the city equals the raster mean over the cells inside the districts
    a = read_raster(result.output / "rasters" / "soil_loss.tif", "A").data[:, :168]
    assert city["mean_modulus_t_km2"] == pytest.approx(float(np.nanmean(a.astype(np.float64))), rel=1e-9)


def test_landuse_and_watershed_tables_add_up(done):
    result, db = done
    units = {u["level"]: u for u in _csv(result.output / "tables" / "erosion_by_unit.csv")}
    city_total = float(units["city"]["total_km2"])
    landuse = _csv(result.output / "tables" / "erosion_by_landuse.csv")
    assert sum(float(r["total_km2"]) for r in landuse) == pytest.approx(city_total, abs=0.01 * len(landuse))
    sheds = _csv(result.output / "tables" / "watersheds.csv")
    sheds_total = sum(float(r["total_km2"]) for r in sheds)
    all_cells = float(units["city"]["total_km2"]) + float(units["outside"]["total_km2"])
    assert sheds_total == pytest.approx(all_cells, abs=0.001 * len(sheds))
    # every watershed is assigned to the district holding most of it
    labels = read_raster(result.output / "rasters" / "watersheds.tif", "ws").data
    cols = np.arange(COLS)[None, :].repeat(ROWS, 0)
    for r in sheds[:25]:
        mine = labels == int(r["label"])
        share = [np.count_nonzero(mine & (cols >= c0) & (cols < c1)) for _, c0, c1 in DISTRICTS]
        if max(share) > 0:
            assert r["district_code"] == DISTRICTS[int(np.argmax(share))][0]


def test_outputs_exist_and_are_labelled_synthetic(done):
    result, _ = done
    out = result.output
    for name in ("soil_loss", "grade", "watersheds", "r_factor", "l_factor"):
        with __import__("rasterio").open(out / "rasters" / f"{name}.tif") as src:
            assert src.tags().get("SHUIBAO_SYNTHETIC", "").startswith("yes")
    assert "SYNTHETIC" in (out / "tables" / "erosion_by_unit.csv-metadata.json").read_text(encoding="utf-8")
    assert (out / "tables" / "erosion_by_unit.csv").read_bytes().startswith("\ufeffseq,level,".encode())
    import openpyxl
    wb = openpyxl.load_workbook(out / "monitoring.xlsx")
    assert wb.sheetnames == ["附表1 水土流失现状", "附表2 水土保持率与目标", "表2 土地利用水土流失", "小流域"]
    assert "合成数据" in wb["附表1 水土流失现状"]["A1"].value
    layers = {name for name, _ in pyogrio.list_layers(out / "monitoring.gpkg")}
    assert layers == {"districts", "watersheds"}
    info = pyogrio.read_info(out / "monitoring.gpkg", layer="districts")
    assert info["features"] == 3 and "rate_pct" in list(info["fields"]) and "synthetic" in list(info["fields"])
    prov = json.loads((out / "provenance.json").read_text(encoding="utf-8"))
    assert set(prov["inputs"]) >= {"dem", "landuse", "ndvi", "rain", "soil", "soil_table", "districts"}
    for entry in prov["inputs"].values():  # each file's own SHA-256, as sha256sum gives it
        path = Path(entry["path"])
        if path.is_file():
            assert entry["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert prov["inputs"]["soil"]["sha256"] != prov["inputs"]["soil_table"]["sha256"]
    assert prov["software"]["name"] == "shuibao" and prov["run"]["synthetic"] is True
    assert prov["grid"]["areal_scale_min"] == pytest.approx(1, abs=0.002)


def test_run_is_stored_once_and_latest_names_it(done, area):
    result, db = done
    again = run_monitoring(area / "spec-run.toml", db)
    assert again.run_id == result.run_id
    assert all(r.reused for r in again.steps.values())
    listed = runs.list_runs(db)
    assert [r.id for r in listed] == [result.run_id]
    assert runs.get_run(db, "latest")["info"].id == result.run_id
    with Store(db) as store, store.reading() as conn:
        n = conn.execute(select(func.count()).select_from(schema.monitoring_watersheds)).scalar()
    assert n == len(_csv(result.output / "tables" / "watersheds.csv"))


def test_dask_engine_gives_identical_files(done, area, write_spec):
    result, db = done
    spec = write_spec(output="out-dask", engine="dask")
    dask = run_monitoring(spec, db)
    assert "soil_loss" in dask.steps
    compared = 0
    for f in sorted(result.output.rglob("*")):
        rel = f.relative_to(result.output)
        if f.is_file() and rel.parts[0] != ".steps" and rel.name != "provenance.json":
            assert (dask.output / rel).read_bytes() == f.read_bytes(), rel
            compared += 1
    assert compared >= 20


def test_compare_two_years(done, area, write_spec):
    result, db = done
    later = run_monitoring(write_spec(output="out-2024", year=2024, inputs="inputs-2"), db)
    c = runs.compare_runs(db, str(result.run_id), "latest")
    m = c["transition_cells"]
    a = np.bincount(np.ravel(np.where(*(lambda r: (r.valid, r.data, 0))(read_raster(
        result.output / "rasters" / "grade.tif", "g")))), minlength=7)
    b = np.bincount(np.ravel(np.where(*(lambda r: (r.valid, r.data, 0))(read_raster(
        later.output / "rasters" / "grade.tif", "g")))), minlength=7)
    assert (m.sum(axis=1) == a).all() and (m.sum(axis=0) == b).all()
    city = next(u for u in c["units"] if u["level"] == "city")
    assert city["d_slight_km2"] == pytest.approx(city["slight_km2_b"] - city["slight_km2_a"])
    # greener NDVI lowers B: more 微度, a higher rate, and so closer to the target
    assert city["d_rate_pp"] > 0 and city["toward_target"] in ("toward", "reached")


def test_a_failed_store_leaves_no_run(area, write_spec, monkeypatch, db_url):
    database.init(db_url, boundaries=False)
    spec = write_spec(output="out-fail")
    calls = {"n": 0}
    real = runs._f

    def failing(v):
        calls["n"] += 1
        if calls["n"] > 20:  # after the run row and some unit rows are inserted
            raise RuntimeError("disk full")
        return real(v)

    monkeypatch.setattr(runs, "_f", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        run_monitoring(spec, db_url)
    with Store(db_url) as store, store.reading() as conn:
        for t in schema.MONITORING_TABLES:
            assert conn.execute(select(func.count()).select_from(t)).scalar() == 0, t.name
    monkeypatch.setattr(runs, "_f", real)
    ok = run_monitoring(spec, db_url)  # the files are reused; the run is stored this time
    assert all(r.reused for r in ok.steps.values())
    assert [r.id for r in runs.list_runs(db_url)] == [ok.run_id]


def test_own_watersheds_and_measure_polygons(area, write_spec, empty_db):
    import rasterio
    with rasterio.open(area / "inputs" / "dem.tif") as src:
        left, bottom, right, top = src.bounds
    mid = (left + right) / 2
    sheds = [MultiPolygon([box(left, bottom, mid, top)]), MultiPolygon([box(mid, bottom, right, top)])]
    write_gpkg(area / "sheds.gpkg", [VectorLayer("sheds", "", "EPSG:4545", sheds,
                                                 {"code": ["A01", "A02"], "name": ["西沟", "东沟"]})],
               timestamp=datetime(2024, 1, 1, tzinfo=UTC))
    terraces = [MultiPolygon([box(left, bottom, mid, top)])]
    write_gpkg(area / "measures.gpkg", [VectorLayer("m", "", "EPSG:4545", terraces,
                                                    {"measure_code": [1], "t": [0.5]})],
               timestamp=datetime(2024, 1, 1, tzinfo=UTC))
    spec = write_spec(output="out-own", inputs_extra=(
        'watersheds = { path = "sheds.gpkg", id_field = "code", name_field = "name" }\n'
        'measures = { path = "measures.gpkg", e_field = "measure_code", t_field = "t" }'))
    result = run_monitoring(spec, empty_db)
    rows = _csv(result.output / "tables" / "watersheds.csv")
    assert [(r["code"], r["name"]) for r in rows] == [("A01", "西沟"), ("A02", "东沟")]
    assert float(rows[0]["total_km2"]) == pytest.approx(ROWS * COLS / 2 * CELL_KM2)
    e = read_raster(result.output / "rasters" / "e_factor.tif", "E").data
    t = read_raster(result.output / "rasters" / "t_factor.tif", "T").data
    assert np.allclose(e[:, : COLS // 2], 0.084) and np.allclose(e[:, COLS // 2:], 1.0)
    assert np.allclose(t[:, : COLS // 2], 0.5)
