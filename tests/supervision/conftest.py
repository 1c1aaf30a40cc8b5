"""A store with the plan's districts, and writers of small upload files (EPSG:4545, near 108° E)."""

from __future__ import annotations

from pathlib import Path

import pytest
from shapely.geometry import box

from shuibao.io.features import FeatureSet, write_features
from shuibao.services.platform.database import init

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


@pytest.fixture
def sdb(db_url):
    """An initialised store (both backends) without district polygons (fast)."""
    init(db_url, boundaries=False)
    return db_url
