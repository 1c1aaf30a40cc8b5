"""Polygons in and out: polygonize on an analytic label image, read_polygons' error report, GeoPackage writes."""

from __future__ import annotations

import sqlite3
import time
import warnings
from datetime import UTC, datetime

import numpy as np
import pyogrio
import pyogrio.raw
import pytest
import shapely

from shuibao.errors import DiskFullError, InputError
from shuibao.grid import GridSpec
from shuibao.io import vector
from shuibao.io.vector import VectorLayer, polygonize, read_polygons, write_gpkg

STAMP = datetime(2024, 12, 31, 8, 0, 0, tzinfo=UTC)
CRS = "EPSG:4545"  # CGCS2000 / 3-degree Gauss-Kruger CM 108E
GRID = GridSpec((10, 12), (10.0, 0.0, 500000.0, 0.0, -10.0, 3800000.0), CRS)


@pytest.fixture
def labels() -> np.ndarray:
    a = np.zeros(GRID.shape, np.int32)
    a[0:3, 0:4] = 1  # rectangle, 12 cells
    a[5:10, 0:2] = 2  # L-shape: a 5×2 leg ...
    a[8:10, 2:6] = 2  # ... and a 2×4 foot, 18 cells
    a[0:2, 8:12] = 3  # one label in two parts, 8 + 6 cells
    a[6:8, 9:12] = 3
    a[3:6, 5:8] = 4  # a 3×3 ring around a hole, 8 cells
    a[4, 6] = 0
    a[9, 10] = a[8, 11] = 5  # two cells meeting at a corner
    return a


def test_polygonize_analytic(labels):
    polys = polygonize(labels, GRID)
    assert list(polys) == [1, 2, 3, 4, 5]
    counts = np.bincount(labels.ravel())
    for label, geom in polys.items():
        assert geom.geom_type == "MultiPolygon" and geom.is_valid
        assert geom.area == counts[label] * GRID.cell_area
    assert [len(g.geoms) for g in polys.values()] == [1, 1, 2, 1, 2]
    assert polys[1].bounds == (500000.0, 3799970.0, 500040.0, 3800000.0)
    assert len(polys[2].geoms[0].exterior.coords) == 7  # an L has six corners (collinear points merged)
    assert len(polys[4].geoms[0].interiors) == 1
    assert shapely.union_all(list(polys.values())).area == np.count_nonzero(labels) * GRID.cell_area


def test_polygonize_reprojects_and_checks_input(labels):
    lonlat = polygonize(labels, GRID, "EPSG:4490")
    minx, miny, _, _ = lonlat[1].bounds
    assert minx == pytest.approx(108.0, abs=1e-6) and 34.0 < miny < 34.5
    assert polygonize(np.zeros(GRID.shape, np.int64), GRID) == {}
    assert polygonize(labels.astype(np.int64), GRID).keys() == polygonize(labels, GRID).keys()
    with pytest.raises(InputError, match="does not match the grid"):
        polygonize(labels[:5], GRID)
    with pytest.raises(InputError, match="integer labels"):
        polygonize(labels.astype(np.float32), GRID)


def _layers(labels) -> list[VectorLayer]:
    polys = polygonize(labels, GRID)
    n = len(polys)
    zones = VectorLayer("zones", "侵蚀分区 erosion zones", CRS, list(polys.values()), {
        "zone_id": list(polys), "name": ["甲", "乙", None, "丁", "戊"][:n],
        "area_km2": [g.area / 1e6 for g in polys.values()], "loss_t": [1.5, None, 3, 4, 5][:n],
        "flagged": [True, False, None, True, False][:n], "count": [1, None, 3, 4, 5][:n]})
    outline = VectorLayer("outline", "范围 extent", CRS, [shapely.union_all(list(polys.values())).envelope])
    return [zones, outline]


def test_gpkg_round_trip(tmp_path, labels):
    path = write_gpkg(tmp_path / "monitoring.gpkg", _layers(labels), timestamp=STAMP)
    assert [str(n) for n, _ in pyogrio.list_layers(path)] == ["zones", "outline"]
    meta, _, wkb, values = pyogrio.raw.read(path, layer="zones")
    assert list(meta["fields"]) == ["zone_id", "name", "area_km2", "loss_t", "flagged", "count"]
    assert meta["geometry_type"] == "MultiPolygon" and meta["crs"] == CRS
    fields = dict(zip(meta["fields"], values))
    assert fields["zone_id"].tolist() == [1, 2, 3, 4, 5]
    assert fields["name"].tolist() == ["甲", "乙", None, "丁", "戊"]
    assert np.isnan(fields["loss_t"][1]) and np.isnan(fields["count"][1])  # None → NULL
    assert meta["ogr_subtypes"][4] == "OFSTBoolean" and fields["flagged"].tolist()[:2] == [1, 0]
    polys = polygonize(labels, GRID)
    np.testing.assert_array_equal(shapely.area(shapely.from_wkb(wkb)), [g.area for g in polys.values()])
    outline = shapely.from_wkb(pyogrio.raw.read(path, layer="outline")[2])
    assert outline[0].geom_type == "MultiPolygon"  # a Polygon promoted to the layer's type
    with sqlite3.connect(path) as db:
        contents = dict(db.execute("SELECT table_name, description FROM gpkg_contents").fetchall())
        stamps = {r[0] for r in db.execute("SELECT last_change FROM gpkg_contents")}
        rtrees = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE name LIKE 'rtree_%_geom'")}
    assert contents == {"zones": "侵蚀分区 erosion zones", "outline": "范围 extent"}
    assert stamps == {"2024-12-31T08:00:00.000Z"}
    assert rtrees == {"rtree_zones_geom", "rtree_outline_geom"}


def test_gpkg_double_write_is_byte_identical(tmp_path, labels):
    write_gpkg(tmp_path / "a.gpkg", _layers(labels), timestamp=STAMP)
    time.sleep(1.1)  # last_change would otherwise move on
    write_gpkg(tmp_path / "b.gpkg", _layers(labels), timestamp=STAMP)
    assert (tmp_path / "a.gpkg").read_bytes() == (tmp_path / "b.gpkg").read_bytes()
    write_gpkg(tmp_path / "a.gpkg", _layers(labels), timestamp=STAMP)  # replacing an existing file
    assert (tmp_path / "a.gpkg").read_bytes() == (tmp_path / "b.gpkg").read_bytes()
    write_gpkg(tmp_path / "c.gpkg", _layers(labels), timestamp=datetime(2025, 1, 1))
    assert (tmp_path / "c.gpkg").read_bytes() != (tmp_path / "a.gpkg").read_bytes()
    assert pyogrio.get_gdal_config_option("OGR_CURRENT_DATE") is None  # restored after the write


def test_gpkg_bad_column_leaves_nothing(tmp_path, labels):
    layers = _layers(labels)
    layers[1].columns = {"note": [object()]}
    with pytest.raises(InputError, match=r"layer outline: column 'note' row 1 is <object"):
        write_gpkg(tmp_path / "x.gpkg", layers, timestamp=STAMP)
    layers[1].columns = {"mixed": ["a"]}
    layers[0].columns["mixed"] = [1, 2, "three", 4, 5]
    with pytest.raises(InputError, match=r"column 'mixed' row 3 is 'three'"):
        write_gpkg(tmp_path / "x.gpkg", layers, timestamp=STAMP)
    assert list(tmp_path.iterdir()) == []


def test_gpkg_failure_mid_write_removes_temp_and_keeps_old(tmp_path, labels, monkeypatch):
    target = write_gpkg(tmp_path / "out.gpkg", _layers(labels), timestamp=STAMP)
    before = target.read_bytes()
    real, calls = pyogrio.raw.write, []

    def failing(*args, **kw):
        calls.append(kw["layer"])
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real(*args, **kw)

    monkeypatch.setattr(vector.pyogrio.raw, "write", failing)
    with pytest.raises(DiskFullError, match="disk full while writing out.gpkg") as failed:  # named (review B4)
        write_gpkg(target, _layers(labels), timestamp=STAMP)
    assert isinstance(failed.value.__cause__, RuntimeError)
    assert calls == ["zones", "outline"]
    assert [p.name for p in tmp_path.iterdir()] == ["out.gpkg"] and target.read_bytes() == before


def _write_raw(path, geoms, fields: dict, *, crs=CRS, layer="zones", append=False):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "'crs' was not provided"
        pyogrio.raw.write(str(path), np.array(shapely.to_wkb(geoms), dtype=object), list(fields.values()),
                          list(fields), layer=layer, driver="GPKG", geometry_type="Unknown", crs=crs, append=append)


def test_read_polygons_converts_and_repairs(tmp_path):
    bowtie = shapely.Polygon([(0, 0), (10, 10), (10, 0), (0, 10)])
    geoms = np.array([shapely.box(0, 0, 10, 10), bowtie, shapely.MultiPolygon([shapely.box(20, 0, 30, 5)])])
    _write_raw(tmp_path / "in.gpkg", geoms, {"code": np.array(["101", "102", " 103 "], dtype=object),
                                             "rate": np.array([1, 2, 3]), "name": np.array([1.0, 2.0, 3.5])})
    got = read_polygons(tmp_path / "in.gpkg", "zones", fields={"code": "int", "rate": "float", "name": "str"})
    assert got.crs == CRS and got.repaired == 1
    assert [g.geom_type for g in got.geoms] == ["MultiPolygon"] * 3 and all(g.is_valid for g in got.geoms)
    assert got.geoms[1].area == pytest.approx(50.0)
    assert got.attributes["code"] == [101, 102, 103] and got.attributes["rate"] == [1.0, 2.0, 3.0]
    assert got.attributes["name"] == ["1", "2", "3.5"]


def test_read_polygons_round_trips_write_gpkg(tmp_path, labels):
    path = write_gpkg(tmp_path / "m.gpkg", _layers(labels), timestamp=STAMP)
    got = read_polygons(path, "zones", layer="zones", fields={"zone_id": "int", "area_km2": "float"})
    assert got.attributes["zone_id"] == [1, 2, 3, 4, 5] and got.repaired == 0
    assert [g.area for g in got.geoms] == [g.area for g in polygonize(labels, GRID).values()]


def test_read_polygons_lists_every_problem_at_once(tmp_path):
    geoms = np.array([shapely.box(0, 0, 1, 1), shapely.Point(5, 5), shapely.Polygon(), None,
                      shapely.LineString([(0, 0), (1, 1)])], dtype=object)
    _write_raw(tmp_path / "bad.gpkg", geoms, {"code": np.array(["1", "x", "3", "4.5", "5"], dtype=object)},
               crs=None)
    with pytest.raises(InputError) as err:
        read_polygons(tmp_path / "bad.gpkg", "zones", fields={"code": "int", "name": "str", "area": "float"})
    msg = str(err.value)
    assert msg.startswith(f"5 problem(s):\n  - zones: {tmp_path / 'bad.gpkg'} layer 'zones': no CRS")
    assert len(err.value.issues) == 5
    assert "field(s) 'name' (str), 'area' (float) missing; the layer has: code" in msg
    assert "field 'code' should be int: rows 2, 4 hold 'x', '4.5'" in msg
    assert "empty or missing geometries in rows 3, 4" in msg
    assert "not polygons (LineString, Point) in rows 2, 5" in msg
    assert msg.count("\n") == 5  # the one format: a head line, then one line per problem


def test_read_polygons_file_and_layer_errors(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        read_polygons(tmp_path / "none.gpkg", "zones")
    (tmp_path / "junk.gpkg").write_text("not a database")
    with pytest.raises(InputError, match="junk.gpkg is named .gpkg but holds CSV text"):
        read_polygons(tmp_path / "junk.gpkg", "zones")
    path = tmp_path / "two.gpkg"
    _write_raw(path, np.array([shapely.box(0, 0, 1, 1)]), {"a": np.array([1])}, layer="counties")
    _write_raw(path, np.array([shapely.box(0, 0, 1, 1)]), {"a": np.array([1])}, layer="towns", append=True)
    with pytest.raises(InputError, match="has no layer 'districts'; its layers are: counties, towns"):
        read_polygons(path, "districts", layer="districts")
    with pytest.raises(InputError, match=r"has 2 layers with geometry \(counties, towns\); name the one to use"):
        read_polygons(path, "districts")
    assert read_polygons(path, "districts", layer="towns").attributes == {"a": [1]}


def test_read_polygons_many_bad_rows_are_summarised(tmp_path):
    n = 12
    _write_raw(tmp_path / "m.gpkg", np.array([shapely.Point(i, i) for i in range(n)]), {"v": np.arange(n)})
    with pytest.raises(InputError, match=r"rows 1, 2, 3, 4, 5 … \(12 in all\)"):
        read_polygons(tmp_path / "m.gpkg", "zones")


def test_polygonize_keeps_several_holes_of_different_sizes():
    """A zone around islands of 1, 6 and 1 cells: the holes' rings have different vertex counts."""
    from shuibao.grid import GridSpec
    from shuibao.io.vector import polygonize

    labels = np.ones((10, 12), np.int32)
    labels[3, 3] = 0
    labels[5:7, 6:9] = 0
    labels[7, 6] = 0
    grid = GridSpec(labels.shape, (10.0, 0.0, 0.0, 0.0, -10.0, 100.0), "EPSG:4545", None)
    (poly,) = polygonize(labels, grid)[1].geoms
    assert poly.is_valid and len(poly.interiors) == 2  # the 6-cell island and the cell below it form one hole
    assert poly.area == pytest.approx((labels == 1).sum() * 100.0)
