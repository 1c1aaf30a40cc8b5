"""Fixtures of the case security tests: a city with real district polygons, two district officers (万州区 = A,
巫山县 = B), an inspector and an administrator; one suspect patch and one project in each district and a project
spanning both; the app through FastAPI's TestClient (both backends)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from shapely.geometry import box
from sqlalchemy import select

from shuibao.services.platform import auth
from shuibao.services.supervision import patches, projects
from shuibao.services.platform.database import init
from shuibao.store import Store, schema
from shuibao.web import Settings, create_app

from tests.helpers import patch_row, project_row, write_layer

USERS = {"admin": ("copper-meadow-4417", "city_admin", None), "offa": ("silver-canyon-2290", "district_officer", "wanzhou"),
         "offb": ("amber-willow-6135", "district_officer", "wushan"), "insp": ("cedar-lagoon-8852", "inspector", None)}


def _inside(conn, code: str):
    b = schema.district_boundaries
    return conn.execute(select(b.c.geom).where(b.c.district_code == code)).scalar().representative_point()


@pytest.fixture
def city(db_url, tmp_path):
    """(db, client, {user: auth headers}, {patch code: fid})."""
    init(db_url, boundaries=True)
    for name, (password, role, district) in USERS.items():
        auth.create_user(db_url, name, password, role, district=district)
    with Store(db_url) as store, store.reading() as conn:
        a, b = _inside(conn, "wanzhou"), _inside(conn, "wushan")
    sq = lambda p, d=0.0: box(p.x + d, p.y, p.x + d + 0.001, p.y + 0.001)  # noqa: E731 (100 m, EPSG:4490)
    rows = [project_row("PA", district="万州区"), project_row("PB", district="巫山县"),
            project_row("PAB", district="巫山县,万州区")]
    projects.import_projects(db_url, write_layer(tmp_path / "p.gpkg", rows, [sq(a, 0.01), sq(b, 0.01), sq(b, 0.02)],
                                                 crs="EPSG:4490"))
    patches.import_patches(db_url, write_layer(tmp_path / "t.gpkg", [patch_row("TA"), patch_row("TB")],
                                               [sq(a), sq(b)], crs="EPSG:4490"))
    with Store(db_url) as store, store.reading() as conn:
        d = schema.disturbance_patches
        fids = {r.patch_code: r.fid for r in conn.execute(select(d.c.patch_code, d.c.fid, d.c.district_code))}
        assert dict(conn.execute(select(d.c.patch_code, d.c.district_code)).all()) == {"TA": "wanzhou",
                                                                                      "TB": "wushan"}
    client = TestClient(create_app(Settings(db=db_url)))
    heads = {}
    for name, (password, _role, _d) in USERS.items():
        r = client.post("/api/login", json={"username": name, "password": password})
        assert r.status_code == 200, r.text
        heads[name] = {"Authorization": f"Bearer {r.json()['token']}"}
    return db_url, client, heads, fids
