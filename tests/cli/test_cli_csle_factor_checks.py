"""`shuibao erosion csle`: a factor that cannot be used exits 2 with its name and place; clipped K and R
warnings are printed."""

from __future__ import annotations

import csv
import json

import pytest

from shuibao.cli.main import run
from shuibao.demo.scene_files import write_scene
from shuibao.demo.scene import make_scene


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli-factor-scene")
    write_scene(make_scene(60, 50, seed=7), folder, stations=3, years=(2022,))
    return folder


def soil_table(scene, path, **row0):
    with open(scene / "soil.csv", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows([{**rows[0], **row0}] + rows[1:])
    return path


def base(scene, table, out):
    return ["erosion", "csle", "--dem", str(scene / "dem.tif"), "--landuse", str(scene / "landuse.tif"),
            "--ndvi", str(scene / "ndvi.tif"), "--rain", str(scene / "rain.csv"), "--soil", str(scene / "soil.tif"),
            "--soil-table", str(table), "-o", str(out)]


def test_soil_without_silt_or_clay_gives_nan_k_and_exit_2(scene, tmp_path, capsys):
    table = soil_table(scene, tmp_path / "soil.csv", sand_pct="100", silt_pct="0", clay_pct="0")
    assert run(base(scene, table, tmp_path / "o")) == 2
    err = capsys.readouterr().err
    assert "K: " in err and "NaN" in err and "row " in err and "column " in err and "Nothing was graded" in err
    assert "Traceback" not in err and not (tmp_path / "o" / "summary.json").exists()


def test_negative_corrected_k_is_clipped_counted_and_printed(scene, tmp_path, capsys):
    table = soil_table(scene, tmp_path / "soil.csv", sand_pct="50", silt_pct="0", clay_pct="50")
    assert run(base(scene, table, tmp_path / "o") + ["--k-correction"]) == 0
    out, err = capsys.readouterr()
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    n = summary["k_clipped_cells"]
    assert n > 0 and f"K: {n} cell(s) clipped to 0" in out and "WARNING: K: the Chinese correction" in err


def test_daily_model_is_selectable_and_named(scene, tmp_path, capsys):
    table = scene / "soil.csv"
    assert run(base(scene, table, tmp_path / "x") + ["--r-daily-model", "xie2016_seasonal"]) == 0
    assert "R by xie2016_seasonal" in capsys.readouterr().out
    assert run(base(scene, table, tmp_path / "z")) == 0  # the default: the model with verified constants
    assert "R by zhang2002" in capsys.readouterr().out
    assert run(base(scene, table, tmp_path / "bad") + ["--r-daily-model", "fournier"]) == 2
    assert "R: unknown model 'fournier'" in capsys.readouterr().err
