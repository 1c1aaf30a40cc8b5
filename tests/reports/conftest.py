"""The demo's two synthetic runs at 2 km, shared by the report tests."""

from __future__ import annotations

import pytest

from shuibao.demo.run import run_demo


@pytest.fixture(scope="session")
def demo(tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("report-demo")
    run_demo(out, resolution_m=2000)
    return str(out / "shuibao.gpkg")
