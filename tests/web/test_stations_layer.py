"""The stations layer (OGC API Features, downloads) on both backends: a point per station with coordinates, a
feature without geometry for a planned station that has none, and a bbox that finds exactly the stations in it."""

from __future__ import annotations

import json

import pyogrio
import pytest

from shuibao.services.platform import features
from shuibao.services.stations import records as svc
from shuibao.services.platform.database import init

from tests.helpers import STATIONS, write_csv


@pytest.fixture
def stations_db(db_url, tmp_path):
    init(db_url, boundaries=True)
    svc.import_stations(db_url, write_csv(tmp_path / "s.csv", STATIONS), actor="tester")
    svc.register_planned_stations(db_url)  # 专栏4's new stations: places, no coordinates
    return db_url


def test_stations_are_points_and_planned_ones_have_no_geometry(stations_db, tmp_path):
    page = features.items(stations_db, "stations", limit=1000)
    by_code = {f["properties"]["code"]: f for f in page["features"]}
    assert page["matched"] == len(svc.list_stations(stations_db))
    for s in STATIONS:
        assert by_code[s["code"]]["geometry"] == {"type": "Point", "coordinates": (float(s["lon"]), float(s["lat"]))}
    planned = [f for f in page["features"] if f["properties"]["status"] == "planned"]
    assert planned and all(f["geometry"] is None for f in planned)
    # bbox around 北碚 and 合川 but not 涪陵
    near = features.items(stations_db, "stations", bbox=(106.2, 29.7, 106.5, 30.1))
    assert sorted(f["properties"]["code"] for f in near["features"]) == ["S1", "S3"]
    chunks, _, _ = features.export_collection(stations_db, "stations", "geojson")
    assert len(json.loads(b"".join(chunks))["features"]) == page["matched"]
    path, _, _ = features.export_collection(stations_db, "stations", "gpkg", folder=tmp_path)
    _, _, wkb, _ = pyogrio.raw.read(path)
    assert len(wkb) == page["matched"] and sum(g is None for g in wkb) == len(planned)


def test_a_station_moved_by_a_later_import_moves_on_the_map(stations_db, tmp_path, monkeypatch):
    def where(code: str):
        page = features.items(stations_db, "stations", limit=1000)["features"]
        f = next(f for f in page if f["properties"]["code"] == code)
        return f["geometry"]["coordinates"], f["properties"]["name"]

    assert where("S1") == ((106.40, 29.80), "北碚雨量站")
    moved = [dict(STATIONS[0], lon="106.50", lat="29.90", name="北碚雨量站（迁）")]
    monkeypatch.setattr(features, "FRESH_SECONDS", 3600.0)  # only the write itself may refresh the layer
    svc.import_stations(stations_db, write_csv(tmp_path / "moved.csv", moved), actor="tester")
    assert where("S1") == ((106.50, 29.90), "北碚雨量站（迁）")
    # the same update made by another process: seen once the window has passed
    seen = features.writes_committed()
    back = [dict(STATIONS[0], lon="106.45", lat="29.85")]
    svc.import_stations(stations_db, write_csv(tmp_path / "back.csv", back), actor="tester")
    monkeypatch.setattr(features, "writes_committed", lambda: seen)
    assert where("S1")[0] == (106.50, 29.90)
    monkeypatch.setattr(features, "FRESH_SECONDS", 0.0)
    assert where("S1")[0] == (106.45, 29.85)
