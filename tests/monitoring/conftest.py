"""A small synthetic study area with three district polygons, and run specs over it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from shapely.geometry import MultiPolygon, box

from shuibao.io.vector import VectorLayer, write_gpkg
from shuibao.services.platform import database
from shuibao.demo.scene_files import write_scene
from shuibao.demo.scene import make_scene

ROWS, COLS, CELL = 120, 180, 30.0
# three districts over thirds of the columns (metro + TGR, north-east + TGR, south-east); the last 12
# columns lie outside every polygon, so the "outside" row is exercised
DISTRICTS = (("fuling", 0, 56), ("wanzhou", 56, 112), ("qianjiang", 112, 168))


def _districts_file(folder: Path, scene) -> Path:
    x0, y0 = scene.transform[2], scene.transform[5]
    geoms, codes = [], []
    for code, c0, c1 in DISTRICTS:
        geoms.append(MultiPolygon([box(x0 + c0 * CELL, y0 - ROWS * CELL, x0 + c1 * CELL, y0)]))
        codes.append(code)
    path = folder / "districts.gpkg"
    write_gpkg(path, [VectorLayer("districts", "test districts", scene.crs, geoms, {"code": codes})],
               timestamp=datetime(2024, 1, 1, tzinfo=UTC))
    return path


@pytest.fixture(scope="session")
def area(tmp_path_factory) -> Path:
    """Inputs of two years (the second with greener NDVI) and a districts file, in one folder."""
    folder = tmp_path_factory.mktemp("area")
    scene = make_scene(ROWS, COLS, seed=3)
    write_scene(scene, folder / "inputs", stations=5, years=(2022, 2023))
    greener = make_scene(ROWS, COLS, seed=3)
    greener.ndvi = np.clip(greener.ndvi + 0.08, -0.2, 0.95).astype(np.float32)
    write_scene(greener, folder / "inputs-2", stations=5, years=(2022, 2023))
    _districts_file(folder, scene)
    return folder


def spec_text(output: str = "out", year: int = 2023, inputs: str = "inputs", extra: str = "",
              inputs_extra: str = "", engine: str = "memory") -> str:
    return f"""
[run]
name = "测试区 {year} 年水土流失动态监测"
year = {year}
output = "{output}"
synthetic = true

[inputs]
dem = "{inputs}/dem.tif"
landuse = "{inputs}/landuse.tif"
ndvi = "{inputs}/ndvi.tif"
rain = "{inputs}/rain.csv"
soil = "{inputs}/soil.tif"
soil_table = "{inputs}/soil.csv"
districts = {{ path = "districts.gpkg", code_field = "code" }}
{inputs_extra}

[parameters]
watershed_threshold_km2 = 0.5
{extra}

[execution]
engine = "{engine}"
block_rows = 37
"""


@pytest.fixture
def write_spec(area):
    """Write a spec beside the inputs; returns its path."""
    counter = iter(range(10_000))

    def write(**kw) -> Path:
        path = area / f"spec-{next(counter)}-{kw.get('output', 'out').replace('/', '_')}.toml"
        path.write_text(spec_text(**kw), encoding="utf-8")
        return path
    return write


@pytest.fixture
def empty_db(tmp_path) -> str:
    """A current schema without boundaries (the tests' districts come from a file)."""
    db = str(tmp_path / "runs.gpkg")
    database.init(db, boundaries=False)
    return db
