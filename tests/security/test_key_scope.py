"""M7 (key scope): an API key reads only the collections it was issued for (default: districts and watersheds),
and never the audit log, evidence, cases or the dossiers — in the REST API, OGC, downloads and tiles alike.
Before the fix every key read everything, the audit log and all evidence included."""

from __future__ import annotations

import pytest

from shuibao.cli.main import run
from shuibao.errors import InputError
from shuibao.services.platform import auth
from shuibao.services.supervision import patches
from shuibao.services.platform.features import COLLECTIONS

from tests.helpers import patch_row, square, write_layer
from .accounts_world import bearer, clients, make_db


@pytest.fixture
def world(tmp_path):
    db = make_db(str(tmp_path / "keys.gpkg"))
    patches.import_patches(db, write_layer(tmp_path / "t.gpkg", [patch_row(f"T{i}") for i in range(3)],
                                           [square(i * 1000, 5000, 100) for i in range(3)]))
    client, = clients(db, "127.0.0.1")
    return db, client


def test_a_default_key_reads_only_the_reference_collections(world):
    db, client = world
    h = {"X-API-Key": auth.issue_api_key(db, "交通局")}
    assert client.get("/api/me", headers=h).json()["collections"] == ["districts", "watersheds"]
    listed = client.get("/ogc/collections", headers=h).json()["collections"]
    assert [c["id"] for c in listed] == ["districts", "watersheds"]
    assert client.get("/ogc/collections/districts/items?limit=1", headers=h).status_code == 200
    assert client.get("/api/download/districts.csv", headers=h).status_code == 200
    for path in ("/ogc/collections/patches/items", "/ogc/collections/patches", "/ogc/collections/patches/items/1",
                 "/api/download/patches.geojson", "/api/projects", "/api/runs", "/tiles/info?run=latest"):
        r = client.get(path, headers=h)
        assert r.status_code == 403, (path, r.text)
        assert "may read districts, watersheds" in r.json()["detail"] and "--collections" in r.json()["detail"]


@pytest.mark.parametrize("path, what", [("/api/audit", "the audit log"), ("/api/evidence/" + "0" * 64, "evidence"),
                                        ("/api/cases", "case ledger"), ("/api/cases/SB2025-00001", "case ledger"),
                                        ("/api/districts/渝北区", "open cases"), ("/api/projects/P1", "cases and fees")])
def test_no_key_reads_the_audit_log_evidence_cases_or_dossiers(world, path, what):
    db, client = world
    everything = {"X-API-Key": auth.issue_api_key(db, "全能部门", collections=list(auth.KEY_COLLECTIONS))}
    r = client.get(path, headers=everything)
    assert r.status_code == 403 and what in r.json()["detail"], r.text
    assert client.get(path, params={"api_key": everything["X-API-Key"]}).status_code == 403  # the query form too


def test_a_key_issued_for_collections_reads_them_and_nothing_else(world, capsys):
    db, client = world
    assert run(["--db", db, "users", "api-key", "规划局", "--collections", "patches,runs"]) == 0
    h = {"X-API-Key": capsys.readouterr().out.strip()}
    assert [c["id"] for c in client.get("/ogc/collections", headers=h).json()["collections"]] == ["patches"]
    assert client.get("/ogc/collections/patches/items", headers=h).json()["numberMatched"] == 3
    assert client.get("/api/download/patches.geojson", headers=h).status_code == 200
    assert client.get("/api/runs", headers=h).status_code == 200
    assert client.get("/tiles/info?run=latest", headers=h).status_code != 403  # no run stored: not a refusal
    assert client.get("/ogc/collections/districts/items", headers=h).status_code == 403
    assert client.post("/api/cases", headers=h, json={"title": "x", "category": "other", "on": "2025-07-01",
                                                      "district": "渝北区"}).status_code == 403


def test_people_are_not_limited(world):
    _, client = world
    h = bearer(client, "look")
    assert [c["id"] for c in client.get("/ogc/collections", headers=h).json()["collections"]] == list(COLLECTIONS)
    assert client.get("/api/audit", headers=h).status_code == 200
    assert client.get("/api/download/patches.csv", headers=h).status_code == 200


def test_unknown_collections_are_refused_when_the_key_is_issued(world, capsys):
    db, _ = world
    with pytest.raises(InputError, match="'cases': expected some of districts"):
        auth.issue_api_key(db, "x", collections="patches,cases")
    assert run(["--db", db, "users", "api-key", "x", "--collections", "audit"]) == 2
    assert "expected some of" in capsys.readouterr().err
    assert auth.list_api_keys(db) == []
