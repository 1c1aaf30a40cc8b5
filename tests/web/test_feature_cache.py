"""The map layers' in-memory index: a write of this process shows at once; a write it did not make (another
worker, the command line) shows within FRESH_SECONDS, not never."""

from __future__ import annotations

import time

from shuibao.services.platform import features
from shuibao.services.supervision import patches
from shuibao.services.platform.database import init
from shuibao.store import store as store_module

from tests.helpers import patch_row, square, write_layer


def _count(db: str) -> int:
    return features.items(db, "patches", limit=10_000)["matched"]


def test_own_writes_show_at_once_and_others_within_the_window(tmp_path, monkeypatch):
    db = str(tmp_path / "cache.gpkg")
    init(db, boundaries=False)
    patches.import_patches(db, write_layer(tmp_path / "a.gpkg", [patch_row(f"A{i}", period="2025H1") for i in range(3)],
                                           [square(i * 1000, 0, 100) for i in range(3)]), period="2025H1")
    assert _count(db) == 3
    monkeypatch.setattr(features, "FRESH_SECONDS", 3600.0)  # only the write itself may refresh the layer
    patches.import_patches(db, write_layer(tmp_path / "b.gpkg", [patch_row(f"B{i}", period="2025H2") for i in range(2)],
                                           [square(i * 1000, 3000, 100) for i in range(2)]), period="2025H2")
    assert _count(db) == 5  # this process wrote: no waiting

    monkeypatch.setattr(features, "FRESH_SECONDS", 0.5)
    assert _count(db) == 5  # checked now
    seen = store_module.writes_committed()
    patches.import_patches(db, write_layer(tmp_path / "c.gpkg", [patch_row("C0", period="2026H1")],
                                           [square(0, 6000, 100)]),
                           period="2026H1")
    monkeypatch.setattr(features, "writes_committed", lambda: seen)  # as if another process had written it
    assert _count(db) == 5  # within the window the cached layer is served
    time.sleep(0.6)
    assert _count(db) == 6  # after it, the store is asked again


def test_the_server_builds_the_layers_at_start_and_starts_on_a_bad_store_too(tmp_path, caplog):
    from fastapi.testclient import TestClient

    from shuibao.web import Settings, create_app

    db = str(tmp_path / "start.gpkg")
    init(db, boundaries=False)
    features._CHECKED.clear()
    with TestClient(create_app(Settings(db=db))):
        assert {cid for (d, cid) in features._CHECKED if d == db} == set(features.COLLECTIONS)
    missing = str(tmp_path / "missing.gpkg")
    with TestClient(create_app(Settings(db=missing))) as client:
        assert client.get("/healthz").status_code == 200
        assert client.get("/ogc", headers={"X-API-Key": "sbk_x"}).status_code == 503
    assert "not preloaded" in caplog.text and "missing.gpkg" in caplog.text


def test_answers_carry_coordinates_to_a_centimetre_and_downloads_the_stored_ones(tmp_path):
    import json

    import numpy as np

    db = str(tmp_path / "round.gpkg")
    init(db, boundaries=False)
    patches.import_patches(db, write_layer(tmp_path / "a.gpkg", [patch_row(f"A{i}", period="2025H1")
                                                                 for i in range(4)],
                                           [square(i * 1037.3, 11.7, 113.9) for i in range(4)]), period="2025H1")
    stored = features.items(db, "patches", limit=100)["features"]
    sent = json.loads(features.items(db, "patches", limit=100, encoded=True)["features"])
    assert [f["id"] for f in sent] == [f["id"] for f in stored]
    for s, e in zip(stored, sent):
        full = np.array(s["geometry"]["coordinates"], float).ravel()
        short = np.array(e["geometry"]["coordinates"], float).ravel()
        assert np.abs(full - short).max() <= 0.5e-7 + 1e-12
        assert (short == np.round(full, 7)).all() and not (full == np.round(full, 7)).all()
        assert e["properties"] == s["properties"]
