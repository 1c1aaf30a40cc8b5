from __future__ import annotations

import pytest

from shuibao.demo.scene_files import write_scene
from shuibao.demo.scene import make_scene


@pytest.fixture(scope="session")
def scene_dir(tmp_path_factory):
    """A 120×100 synthetic scene (30 m, EPSG:4545) with rain stations and soils."""
    folder = tmp_path_factory.mktemp("scene")
    write_scene(make_scene(120, 100, seed=3), folder, stations=5, years=(2021, 2022))
    return folder
