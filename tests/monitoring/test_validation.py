"""A spec with any single broken input fails validation with a message naming it, before any computation."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import rasterio

from shuibao.errors import InputError
from shuibao.monitoring.spec import load_spec
from shuibao.services.monitoring.annual_run import run_monitoring
from shuibao.services.monitoring.run_inputs import validate_run

from tests.helpers import spec_text


@pytest.fixture
def broken(area, tmp_path):
    """A private copy of the inputs to break one thing in; returns (folder, spec path)."""
    folder = tmp_path / "case"
    shutil.copytree(area / "inputs", folder / "inputs")
    shutil.copy(area / "districts.gpkg", folder / "districts.gpkg")
    spec = folder / "spec.toml"
    spec.write_text(spec_text(output="out"), encoding="utf-8")
    return folder, spec


def _rewrite(path, fn, **profile_changes):
    with rasterio.open(path) as src:
        data, profile = src.read(1), src.profile
    data = fn(data)
    profile.update(profile_changes)
    profile.pop("blockxsize", None), profile.pop("blockysize", None)
    profile.update(driver="GTiff", tiled=False)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)


def _fails(folder, spec, db, *needles):
    with pytest.raises(InputError) as err:
        run_monitoring(spec, db)
    message = str(err.value)
    for needle in needles:
        assert needle in message, message
    assert not (folder / "out").exists(), "nothing may be computed or written before validation passes"
    return message


def test_the_intact_case_validates(broken, empty_db):
    folder, spec = broken
    prep = validate_run(spec, empty_db)
    assert prep.grid.shape == (120, 180) and len(prep.zones) == 3


def test_missing_file(broken, empty_db):
    folder, spec = broken
    (folder / "inputs" / "ndvi.tif").unlink()
    _fails(folder, spec, empty_db, "[inputs] ndvi", "ndvi.tif", "does not exist")


def test_wrong_crs(broken, empty_db):
    folder, spec = broken
    # the same numbers labelled in Web Mercator: areas +30 % and slopes low at this latitude (a geographic DEM
    # is projected explicitly instead: tests/erosion/test_crs_area.py)
    _rewrite(folder / "inputs" / "dem.tif", lambda d: d, crs="EPSG:3857",
             transform=rasterio.transform.from_origin(11.86e6, 3.44e6, 30, 30))
    _fails(folder, spec, empty_db, "DEM", "dem.tif", "Mercator projection", "EPSG:4545")


def test_misaligned_grid(broken, empty_db):
    folder, spec = broken
    with rasterio.open(folder / "inputs" / "landuse.tif") as src:
        t = src.transform
    # shifted by 90 cells: half the DEM has no land use under it
    _rewrite(folder / "inputs" / "landuse.tif", lambda d: d,
             transform=rasterio.Affine(t.a, 0, t.c + 90 * t.a, 0, t.e, t.f))
    _fails(folder, spec, empty_db, "land use", "landuse.tif", "without data")


def test_unknown_landuse_code(broken, empty_db):
    folder, spec = broken

    def put_42(d):
        d = d.copy()
        d[10:20, 10:20] = 42
        return d

    _rewrite(folder / "inputs" / "landuse.tif", put_42)
    _fails(folder, spec, empty_db, "landuse.tif", "[42]")


def test_negative_rainfall(broken, empty_db):
    folder, spec = broken
    rain = folder / "inputs" / "rain.csv"
    lines = rain.read_text(encoding="utf-8").splitlines()
    head, first = lines[0].split(","), lines[1].split(",")
    first[head.index("rain_mm")] = "-3.5"
    lines[1] = ",".join(first)
    rain.write_text("\n".join(lines) + "\n", encoding="utf-8")
    message = _fails(folder, spec, empty_db, "rain.csv", "-3.5", "negative")
    assert "[inputs] rain" in message and "--rain" not in message  # named as the spec names it


def test_every_problem_is_reported_at_once(broken, empty_db):
    folder, spec = broken
    (folder / "inputs" / "ndvi.tif").unlink()
    (folder / "inputs" / "soil.csv").unlink()
    text = spec.read_text(encoding="utf-8").replace("watershed_threshold_km2", "watershed_treshold_km2")
    spec.write_text(text, encoding="utf-8")
    message = _fails(folder, spec, empty_db, "ndvi.tif", "soil.csv", "watershed_treshold_km2",
                     "did you mean 'watershed_threshold_km2'")
    assert "3 problem(s)" in message


def test_spec_structure_errors(tmp_path):
    spec = tmp_path / "s.toml"
    spec.write_text('[run]\nname = ""\nyear = "2025"\n[inputs]\nr = "nope.tif"\nrain = "nope.csv"\n'
                    '[parameters]\ntolerance_t_km2 = -5\nrouting = "dinf"\n[extra]\n', encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_spec(spec)
    m = str(err.value)
    for needle in ("[run] name", "[run] year", "[run] output", "[extra]", "[inputs] dem: required",
                   "[inputs] landuse: required", "nope.tif", "give only one of rain, r", "tolerance_t_km2",
                   "'dinf' is not one of d8, mfd", "[inputs] K factor", "[inputs] B factor"):
        assert needle in m, (needle, m)


def test_toml_syntax_error_names_the_line(tmp_path):
    spec = tmp_path / "s.toml"
    spec.write_text("[run]\nname = 'x'\nyear = = 3\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"not valid TOML.*line 3"):
        load_spec(spec)


def test_districts_file_with_unknown_code(broken, empty_db, tmp_path):
    from datetime import UTC, datetime

    from shapely.geometry import MultiPolygon, box

    from shuibao.io.vector import VectorLayer, write_gpkg
    folder, spec = broken
    write_gpkg(folder / "districts.gpkg", [VectorLayer("districts", "", "EPSG:4545", [
        MultiPolygon([box(400000, 3346000, 403000, 3350000)])], {"code": ["不存在区"]})],
        timestamp=datetime(2024, 1, 1, tzinfo=UTC))
    _fails(folder, spec, empty_db, "[inputs] districts", "不存在区")


def test_store_districts_need_boundaries(broken, empty_db):
    folder, spec = broken
    spec.write_text(spec.read_text(encoding="utf-8").replace(
        'districts = { path = "districts.gpkg", code_field = "code" }', 'districts = "store"'), encoding="utf-8")
    _fails(folder, spec, empty_db, "no district boundaries", "shuibao db init")


def test_fvc_out_of_range(broken, empty_db):
    folder, spec = broken
    _rewrite(folder / "inputs" / "ndvi.tif", lambda d: (d * 10000).astype(np.float32))
    _fails(folder, spec, empty_db, "NDVI", "ndvi.tif", "[-1, 1]")
