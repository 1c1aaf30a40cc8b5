"""M6: audit rows for logins, failures, lockouts and logouts; the client address, user agent and request id on
every row; an access log; command-line writes audited as the operating-system user.  Before the fix none of
this existed (no login rows, `request_id` always NULL, no access log, the demo's 650 projects left no row)."""

from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy import func, select

from shuibao.cli.main import run
from shuibao.services.platform import auth
from shuibao.store import Store, schema

from tests.helpers import project_row, square, write_layer
from .accounts_world import bearer, clients, login, make_db

PAIR_LIMIT = 5  # failures of one name from one address before the lockout (issue 15)
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Test/1.0 " + "x" * 400


@pytest.fixture
def world(tmp_path):
    db = make_db(str(tmp_path / "audit.gpkg"))
    client, = clients(db, "127.0.0.1")
    return db, client


def rows(db, *where) -> list[dict]:
    a = schema.audit_log
    with Store(db) as store, store.reading() as conn:
        return [dict(r._mapping) for r in conn.execute(select(a).where(*where).order_by(a.c.id))]


def test_logins_failures_lockouts_and_logouts_are_audited_with_address_agent_and_request_id(world):
    db, client = world
    ua = {"User-Agent": BROWSER}
    for i in range(PAIR_LIMIT):
        r = login(client, "offa", f"secret-guess-{i}", headers={**ua, "X-Request-ID": f"try-{i}"})
        assert r.status_code == 401 and r.headers["X-Request-ID"] == f"try-{i}"
    ok = login(client, "look", headers=ua)
    token = ok.json()["token"]
    client.post("/api/logout", headers={"Authorization": f"Bearer {token}", **ua})
    a = schema.audit_log
    log = rows(db, a.c.action.like("log%"))
    assert [e["action"] for e in log] == ["login.failure"] * 5 + ["login.lockout", "login.success", "logout"]
    assert {e["client_address"] for e in log} == {"127.0.0.1"}
    assert all(e["user_agent"] == BROWSER[:auth.USER_AGENT_CHARS] for e in log)
    assert [e["request_id"] for e in log[:5]] == [f"try-{i}" for i in range(5)]
    assert log[5]["request_id"] == "try-4"  # the lockout is written by the fifth try
    assert log[6]["request_id"] != log[7]["request_id"] and len(log[6]["request_id"]) == 16  # generated ids
    assert all(e["actor"] == "offa" and e["role"] == "anonymous" for e in log[:6])
    assert not any("secret-guess" in json.dumps(e, default=str) for e in log)  # never the password
    assert json.loads(log[5]["after_json"])["scope"] == "user_address"
    assert (log[6]["actor"], log[7]["actor"], log[7]["role"]) == ("look", "look", "viewer")


def test_a_request_id_is_kept_only_if_it_is_a_short_safe_token(world):
    _, client = world
    assert client.get("/healthz", headers={"X-Request-ID": "abc.DEF-123_x"}).headers["X-Request-ID"] == "abc.DEF-123_x"
    for bad in ("two words", "x" * 65, "line\tbreak", "<script>", ""):
        got = client.get("/healthz", headers={"X-Request-ID": bad}).headers["X-Request-ID"]
        assert got != bad and len(got) == 16 and int(got, 16) >= 0
    a, b = (client.get("/healthz").headers["X-Request-ID"] for _ in range(2))
    assert a != b


def test_sync_and_async_routes_write_the_request_id_into_their_audit_rows(world, tmp_path):
    """POST /api/cases is a sync route (run in the thread pool, which copies the context); POST /api/patches is
    async: both rows carry the request's id and address without the services being told."""
    db, client = world
    admin = bearer(client, "admin")
    r = client.post("/api/cases", headers={**admin, "X-Request-ID": "sync-route-1"},
                    json={"title": "审计测试", "category": "other", "on": "2025-07-01", "district": "渝北区"})
    assert r.status_code == 201, r.text
    fc = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {
        "patch_id": "A1", "period": "2025H1", "image_date": "2025-06-30"}, "geometry": {
        "type": "Polygon", "coordinates": [[[106.5, 29.6], [106.501, 29.6], [106.501, 29.601], [106.5, 29.601],
                                            [106.5, 29.6]]]}}]}
    r = client.post("/api/patches", headers={**admin, "X-Request-ID": "async-route-1"}, json=fc)
    assert r.status_code == 201, r.text
    a = schema.audit_log
    (case,), (patch,) = rows(db, a.c.action == "case.open"), rows(db, a.c.action == "patches.import")
    assert (case["request_id"], case["client_address"]) == ("sync-route-1", "127.0.0.1")
    assert (patch["request_id"], patch["client_address"]) == ("async-route-1", "127.0.0.1")


def test_the_access_log_has_one_line_per_request_without_secrets(world, caplog):
    db, client = world
    key = auth.issue_api_key(db, "规划局")
    h = bearer(client, "look")
    with caplog.at_level(logging.INFO, logger="shuibao.access"):
        client.get("/api/me?x=1", headers={**h, "X-Request-ID": "seen-1"})
        client.get(f"/ogc/collections?api_key={key}&f=json")
        client.cookies.clear()  # the login's cookie
        client.get("/api/cases")
    lines = [r.getMessage() for r in caplog.records if r.name == "shuibao.access"]
    assert len(lines) == 3
    assert lines[0].startswith('127.0.0.1 "GET /api/me?x=1" 200 ') and "rid=seen-1" in lines[0]
    assert lines[0].endswith("user=look") and "ms " in lines[0]
    assert key not in lines[1] and "api_key=***&f=json" in lines[1] and "user=api:规划局" in lines[1]
    assert '"GET /api/cases" 401' in lines[2] and lines[2].endswith("user=-")


def test_shuibao_serve_turns_on_the_access_log_and_off_uvicorns(tmp_path, monkeypatch):
    import uvicorn

    db = make_db(str(tmp_path / "serve.gpkg"))
    seen = {}
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: seen.update(kw))
    monkeypatch.setenv("SHUIBAO_DB", db)  # serve sets it for its workers: undone after the test
    assert run(["--db", db, "serve", "--port", "8999"]) == 0
    assert seen["access_log"] is False
    assert seen["log_config"]["loggers"]["shuibao.access"]["level"] == "INFO"


def test_command_line_writes_are_audited_as_the_operating_system_user(tmp_path, monkeypatch, capsys):
    db = make_db(str(tmp_path / "cli.gpkg"))
    monkeypatch.setenv("SHUIBAO_ACTOR", "李工")
    rows_in = [project_row(f"C{i}") for i in range(3)]
    path = write_layer(tmp_path / "p.gpkg", rows_in, [square(i * 2000, 0, 500) for i in range(3)])
    assert run(["--db", db, "supervise", "projects", "import", str(path)]) == 0, capsys.readouterr()
    (entry,) = rows(db, schema.audit_log.c.action == "projects.import")
    assert (entry["actor"], entry["role"]) == ("李工", "command_line")
    assert json.loads(entry["after_json"])["created"] == 3  # one row per import batch, naming the counts
    assert entry["request_id"] is None and entry["client_address"] is None


def test_migration_7_adds_its_columns_and_tables_to_an_older_database(tmp_path):
    """A database made before migration 7 (simulated: its columns and tables removed, version 7 unrecorded; the
    versions before and after it stay recorded)."""
    db = make_db(str(tmp_path / "old.gpkg"))
    auth.issue_api_key(db, "老部门")
    with Store(db) as store, store.transaction() as conn:
        for table, columns in schema.MIGRATION_7_COLUMNS.items():
            for column in columns:
                conn.exec_driver_sql(f"ALTER TABLE {table} DROP COLUMN {column}")
        for table in schema.THROTTLE_TABLES:
            conn.exec_driver_sql(f"DROP TABLE {table.name}")
            conn.exec_driver_sql(f"DELETE FROM gpkg_contents WHERE table_name = '{table.name}'")
        conn.exec_driver_sql("DELETE FROM schema_migrations WHERE version = 7")
    with Store(db) as store:
        assert [p.split()[0] for p in store.status().pending] == ["0007"]
        assert [a.split()[0] for a in store.upgrade()] == ["0007"]
    assert auth.list_api_keys(db)[0]["collections"] == ["districts", "watersheds"]  # an old key: fail closed
    client, = clients(db, "127.0.0.1")
    assert login(client, "offa").status_code == 200
    with Store(db) as store, store.reading() as conn:
        assert conn.execute(select(func.count()).select_from(schema.audit_log)
                            .where(schema.audit_log.c.client_address == "127.0.0.1")).scalar() == 1
