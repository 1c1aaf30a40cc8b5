"""Erosion-grade map tiles (titiler.core over the run's COG): the colours drawn are the grades of the cells
under the pixels, the value under a click is the raster's, and a request never reaches a file the run did not
write."""

from __future__ import annotations

import io
import shutil

import morecantile
import numpy as np
import pytest
import rasterio
from fastapi.testclient import TestClient
from PIL import Image
from pyproj import Transformer

from shuibao.core.csle import GRADE_COLOURS
from shuibao.services.platform import auth, database
from shuibao.services.monitoring.annual_run import run_monitoring
from shuibao.web import Settings, create_app

from tests.helpers import spec_text

TMS = morecantile.tms.get("WebMercatorQuad")
RGB = {g: tuple(int(c[i:i + 2], 16) for i in (1, 3, 5)) for g, c in enumerate(GRADE_COLOURS, start=1)}


@pytest.fixture(scope="module")
def served(area, tmp_path_factory):  # noqa: F811
    db = str(tmp_path_factory.mktemp("tiles") / "tiles.gpkg")
    database.init(db, boundaries=False)
    spec = area / "spec-tiles.toml"
    spec.write_text(spec_text(output="out-tiles"), encoding="utf-8")
    result = run_monitoring(spec, db)
    auth.create_user(db, "admin", "river-lantern-4127", "city_admin")
    client = TestClient(create_app(Settings(db=db, preload=False)))
    token = client.post("/api/login", json={"username": "admin", "password": "river-lantern-4127"}).json()["token"]
    return client, {"Authorization": f"Bearer {token}"}, result


def _grid(result):
    with rasterio.open(result.output / "rasters" / "grade.tif") as src:
        return src.read(1), src.transform, src.crs, src.bounds


def test_a_tile_draws_each_cell_in_its_grade_colour(served):
    client, who, result = served
    grades, transform, crs, b = _grid(result)
    to_lonlat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    lon, lat = to_lonlat.transform((b.left + b.right) / 2, (b.bottom + b.top) / 2)
    tile = TMS.tile(lon, lat, 15)
    r = client.get(f"/tiles/tiles/WebMercatorQuad/{tile.z}/{tile.x}/{tile.y}.png",
                   params={"run": "latest", "layer": "grade", "colormap_name": "sl190_grade"}, headers=who)
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    img = np.asarray(Image.open(io.BytesIO(r.content)).convert("RGBA"))
    # the cell under each pixel's centre, found independently of the tiler
    bounds = TMS.xy_bounds(tile)
    n = img.shape[0]
    xs = bounds.left + (np.arange(n) + 0.5) * (bounds.right - bounds.left) / n
    ys = bounds.top - (np.arange(n) + 0.5) * (bounds.top - bounds.bottom) / n
    mx, my = np.meshgrid(xs, ys)
    x, y = Transformer.from_crs("EPSG:3857", crs, always_xy=True).transform(mx, my)
    col, row = ~transform * (x, y)
    inside = (row >= 0) & (row < grades.shape[0]) & (col >= 0) & (col < grades.shape[1])
    expected = np.zeros(img.shape[:2], np.uint8)
    expected[inside] = grades[row[inside].astype(int), col[inside].astype(int)]
    drawn = expected > 0
    assert drawn.sum() > 0.5 * n * n  # the tile lies over the grid
    colours = np.array([RGB.get(g, (0, 0, 0)) for g in range(7)], np.uint8)
    match = (img[..., :3] == colours[expected]).all(axis=-1) & (img[..., 3] == 255)
    assert match[drawn].mean() > 0.97  # pixels on a cell edge may fall either side
    assert (img[~inside][..., 3] == 0).all()  # off the grid: transparent


def test_the_value_under_a_click_is_the_rasters(served):
    client, who, result = served
    grades, transform, crs, _ = _grid(result)
    to_lonlat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    with rasterio.open(result.output / "rasters" / "soil_loss.tif") as src:
        loss = src.read(1)
    rng = np.random.default_rng(5)
    for row, col in zip(rng.integers(5, grades.shape[0] - 5, 8), rng.integers(5, grades.shape[1] - 5, 8)):
        x, y = transform * (col + 0.5, row + 0.5)
        lon, lat = to_lonlat.transform(x, y)
        g = client.get(f"/tiles/point/{lon},{lat}", params={"layer": "grade"}, headers=who).json()
        a = client.get(f"/tiles/point/{lon},{lat}", params={"layer": "soil_loss", "run": "latest"},
                       headers=who).json()
        assert g["values"][0] == grades[row, col]
        assert a["values"][0] == pytest.approx(float(loss[row, col]), rel=1e-6)


def test_tiles_need_a_caller_a_known_run_and_layer_and_the_runs_own_file(served, tmp_path):
    client, who, result = served
    url = "/tiles/tiles/WebMercatorQuad/3/6/3.png"
    assert TestClient(client.app).get(url).status_code == 401  # a client without the login's cookie
    assert client.get(url, params={"run": "99"}, headers=who).status_code == 404
    assert client.get(url, params={"layer": "dem"}, headers=who).status_code == 422
    _, _, crs, b = _grid(result)
    lon, lat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform((b.left + b.right) / 2,
                                                                                 (b.bottom + b.top) / 2)
    t = TMS.tile(lon, lat, 15)
    on_grid = f"/tiles/tiles/WebMercatorQuad/15/{t.x}/{t.y}.png"
    plain = client.get(on_grid, headers=who)
    other = client.get(on_grid, params={"url": "/etc/passwd"}, headers=who)
    assert plain.status_code == 200 and other.content == plain.content  # a url parameter is ignored
    big = client.get(url, params={"tilesize": 20000}, headers=who)
    assert big.status_code == 422 and "tilesize" in big.json()["detail"]
    far = client.get("/tiles/tiles/WebMercatorQuad/10/0/0.png", headers=who)
    assert far.status_code == 404 and "outside" in far.json()["detail"].lower()
    grade = result.output / "rasters" / "grade.tif"
    saved = tmp_path / "grade.tif"
    shutil.copy2(grade, saved)
    try:
        shutil.copyfile(result.output / "rasters" / "watersheds.tif", grade)  # a later run's file in its place
        r = client.get("/tiles/info", params={"layer": "grade"}, headers=who)
        assert r.status_code == 404 and "overwritten" in r.json()["detail"]
    finally:
        shutil.copy2(saved, grade)
    assert client.get("/tiles/info", params={"layer": "grade"}, headers=who).status_code == 200
