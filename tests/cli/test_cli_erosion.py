"""`shuibao terrain …` and `shuibao erosion csle` from the command line."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import rasterio

from shuibao.cli.main import run
from shuibao.demo.scene_files import write_scene
from shuibao.demo.scene import make_scene

SHUIBAO = [sys.executable, "-m", "shuibao.cli.main"]


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli-scene")
    write_scene(make_scene(80, 70, seed=5), folder, stations=4, years=(2022,))
    return folder


@pytest.mark.parametrize("step, dtype", [("fill", "float32"), ("flowdir", "uint8"), ("accumulation", "float32"),
                                         ("slope", "float32"), ("aspect", "float32"), ("ls", "float32")])
def test_terrain_steps_write_cogs(scene, tmp_path, capsys, step, dtype):
    out = tmp_path / f"{step}.tif"
    assert run(["terrain", step, str(scene / "dem.tif"), "-o", str(out)]) == 0
    assert f"wrote {out}" in capsys.readouterr().out
    with rasterio.open(out) as src:
        assert src.dtypes[0] == dtype and src.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
        data = src.read(1)
    if step == "flowdir":
        assert set(np.unique(data)) <= {0, 1, 2, 4, 8, 16, 32, 64, 128}


def test_accumulation_counts_every_cell(scene, tmp_path):
    d8, acc = tmp_path / "d.tif", tmp_path / "a.tif"
    assert run(["terrain", "flowdir", str(scene / "dem.tif"), "-o", str(d8)]) == 0
    assert run(["terrain", "accumulation", str(scene / "dem.tif"), "-o", str(acc), "--routing", "mfd"]) == 0
    from shuibao.core.hydrology import outlets
    with rasterio.open(d8) as s1, rasterio.open(acc) as s2:
        d, a = s1.read(1), s2.read(1)
    valid = np.isfinite(a)
    assert np.nansum(a[outlets(d, valid)]) == pytest.approx(valid.sum(), rel=1e-5)


def test_erosion_csle_end_to_end(scene, tmp_path, capsys):
    out = tmp_path / "run"
    code = run(["erosion", "csle", "--dem", str(scene / "dem.tif"), "--landuse", str(scene / "landuse.tif"),
                "--ndvi", str(scene / "ndvi.tif"), "--rain", str(scene / "rain.csv"), "--soil",
                str(scene / "soil.tif"), "--soil-table", str(scene / "soil.csv"), "-o", str(out),
                "--channel-threshold", "200000", "--tolerance", "500"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "水土保持率" in captured.out and "fill" in captured.err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["parameters"]["channel_threshold_m2"] == 200000


def test_bad_option_value_is_exit_2(scene, tmp_path):
    proc = subprocess.run(SHUIBAO + ["terrain", "ls", str(scene / "dem.tif"), "-o", str(tmp_path / "x.tif"),
                                     "--cutoff-selector", "sideways"], capture_output=True, text=True)
    assert proc.returncode == 2 and "cutoff_selector" in proc.stderr


def test_missing_dem_is_one_line(tmp_path):
    proc = subprocess.run(SHUIBAO + ["terrain", "fill", str(tmp_path / "none.tif"), "-o", str(tmp_path / "x.tif")],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stderr.strip().count("\n") == 0 and "does not exist" in proc.stderr


def test_own_tables_are_used_and_bad_ones_reported(scene, tmp_path, capsys):
    m = tmp_path / "m.csv"
    m.write_text("upper_deg,closed,m,source\n,,0.5,constant m for a test\n", encoding="utf-8")
    bad_b = tmp_path / "b.csv"
    bad_b.write_text("landuse_code,method,value\n1,magic,\n", encoding="utf-8")
    base = ["erosion", "csle", "--dem", str(scene / "dem.tif"), "--landuse", str(scene / "landuse.tif"),
            "--ndvi", str(scene / "ndvi.tif"), "--rain", str(scene / "rain.csv"), "--soil", str(scene / "soil.tif"),
            "--soil-table", str(scene / "soil.csv")]
    assert run(base + ["--m-table", str(m), "-o", str(tmp_path / "o1")]) == 0
    summary = json.loads((tmp_path / "o1" / "summary.json").read_text())
    assert summary["parameters"]["slope_length"]["m_table"]["values"] == [0.5]
    capsys.readouterr()
    assert run(base + ["--b-table", str(bad_b), "-o", str(tmp_path / "o2")]) == 2
    err = capsys.readouterr().err
    assert "b.csv, row 2, column method: 'magic' is not one of" in err


def test_example_inputs_are_deterministic_and_labelled(tmp_path, capsys):
    assert run(["erosion", "example-inputs", str(tmp_path / "a"), "--size", "40", "--stations", "2"]) == 0
    assert run(["erosion", "example-inputs", str(tmp_path / "b"), "--size", "40", "--stations", "2"]) == 0
    for name in ("dem.tif", "landuse.tif", "ndvi.tif", "soil.tif"):
        with rasterio.open(tmp_path / "a" / name) as a, rasterio.open(tmp_path / "b" / name) as b:
            assert np.array_equal(a.read(1), b.read(1))
            assert "synthetic" in a.tags()["SHUIBAO_SYNTHETIC"]
    assert (tmp_path / "a" / "rain.csv").read_text() == (tmp_path / "b" / "rain.csv").read_text()
