"""Builders the tests share: small upload files (EPSG:4545, near 108° E), station lists, a free port, a login.

Fixtures stay in the conftest files; plain functions and constants that several test folders use live here.
"""

from __future__ import annotations

import csv
import socket
from datetime import UTC, datetime
from pathlib import Path

from shapely.geometry import MultiPolygon, box

from shuibao.io.features import FeatureSet, write_features
from shuibao.io.vector import VectorLayer, write_gpkg

X0, Y0 = 500_000.0, 3_300_000.0  # EPSG:4545, inside Chongqing


def square(x: float, y: float, size: float):
    """A square in EPSG:4545 metres relative to (X0, Y0)."""
    return box(X0 + x, Y0 + y, X0 + x + size, Y0 + y + size)


def write_layer(path: Path, rows: list[dict], geoms: list, crs: str = "EPSG:4545", layer: str = "data") -> Path:
    write_features(path, [FeatureSet(layer, rows, geoms)], crs)
    return path


def project_row(code: str, **kw) -> dict:
    row = dict(code=code, name=f"项目{code}", builder=f"{code}建设公司", industry="公路", district="渝北区",
               approval_number=f"渝水许〔2024〕{code}", approval_date="2024-01-10", approval_authority="重庆市水利局",
               total_area_hm2=1.0, status="施工")
    row.update(kw)
    return row


def patch_row(pid: str, **kw) -> dict:
    row = dict(patch_id=pid, period="2025H1", image_date="2025-06-30")
    row.update(kw)
    return row


STATIONS = [
    dict(code="S1", name="北碚雨量站", kind="雨量站", district="北碚区", lon="106.40", lat="29.80", elevation_m="250"),
    dict(code="S2", name="涪陵径流小区", kind="runoff_plot", district="fuling", lon="107.30", lat="29.70"),
    dict(code="S3", name="合川综合站", kind="小流域综合监测站", district="合川区", lon="106.27", lat="29.99"),
]


def write_csv(path, rows: list[dict], columns=None):
    columns = columns or list(dict.fromkeys(k for r in rows for k in r))
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, columns, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    return path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bearer(client, user: str, password: str) -> dict:
    """Log in through the API; the ``Authorization`` header of the session."""
    r = client.post("/api/login", json={"username": user, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


# ---- the small synthetic study area of the monitoring-run tests (the `area` fixture in tests/conftest.py)
ROWS, COLS, CELL = 120, 180, 30.0
# three districts over thirds of the columns (metro + TGR, north-east + TGR, south-east); the last 12
# columns lie outside every polygon, so the "outside" row is exercised
DISTRICTS = (("fuling", 0, 56), ("wanzhou", 56, 112), ("qianjiang", 112, 168))


def write_districts_file(folder: Path, scene) -> Path:
    x0, y0 = scene.transform[2], scene.transform[5]
    geoms, codes = [], []
    for code, c0, c1 in DISTRICTS:
        geoms.append(MultiPolygon([box(x0 + c0 * CELL, y0 - ROWS * CELL, x0 + c1 * CELL, y0)]))
        codes.append(code)
    path = folder / "districts.gpkg"
    write_gpkg(path, [VectorLayer("districts", "test districts", scene.crs, geoms, {"code": codes})],
               timestamp=datetime(2024, 1, 1, tzinfo=UTC))
    return path


def spec_text(output: str = "out", year: int = 2023, inputs: str = "inputs", extra: str = "",
              inputs_extra: str = "", engine: str = "memory") -> str:
    """A run spec over the study area (inputs of ``inputs/``, districts from its file)."""
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
