"""M3/M5: account commands (`shuibao users deactivate|activate|passwd|list`, `users api-key list|revoke`), and
sessions and tokens ended on logout (cookie and Bearer), deactivation and password reset — at once in the worker
that resolved them.  Before the fix: no such commands, and a Bearer logout left the token valid."""

from __future__ import annotations

import pytest

from shuibao.cli.main import run
from shuibao.services.platform import auth

from .accounts_world import PASSWORDS, bearer, clients, login, make_db


@pytest.fixture
def world(tmp_path, monkeypatch):
    monkeypatch.setenv("SHUIBAO_ACTOR", "张工")
    db = make_db(str(tmp_path / "accounts.gpkg"))
    client, = clients(db, "127.0.0.1")
    return db, client


def cli(capsys, db, *args, password: str | None = None, monkeypatch=None):
    if password is not None:
        monkeypatch.setenv("SHUIBAO_NEW_PASSWORD", password)
    code = run(["--db", db, *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_bearer_logout_ends_the_token(world):
    db, client = world
    h = bearer(client, "offa")
    assert client.get("/api/me", headers=h).status_code == 200  # resolved and cached
    r = client.post("/api/logout", headers=h)
    assert r.status_code == 200 and r.json()["ended"] is True
    assert client.get("/api/me", headers=h).status_code == 401  # was 200 eleven seconds later


def test_a_cookie_logout_ends_the_session(world):
    db, client = world
    token = login(client, "look").json()["token"]
    assert client.get("/api/me").status_code == 200  # by the cookie
    assert client.post("/api/logout", headers={"X-Shuibao-Request": "1"}).json()["ended"] is True  # as the page
    assert client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_deactivation_ends_every_session_at_once_and_refuses_logins(world, capsys):
    db, client = world
    h = bearer(client, "offa")
    assert client.get("/api/me", headers=h).status_code == 200
    code, out, err = cli(capsys, db, "users", "deactivate", "offa")
    assert code == 0 and "deactivated" in out, err
    assert client.get("/api/me", headers=h).status_code == 401  # not after the cache's 10 s: now
    assert login(client, "offa").status_code == 401
    assert cli(capsys, db, "users", "activate", "offa")[0] == 0
    assert login(client, "offa").status_code == 200
    entries = auth.audit_entries(db, principal=auth.SYSTEM, kind="user", object_id="offa")
    done = [(e["action"], e["actor"], e["role"]) for e in entries if e["action"].startswith("user.")]
    assert done == [("user.activate", "张工", "command_line"), ("user.deactivate", "张工", "command_line")]


def test_a_password_reset_ends_the_sessions_and_the_old_password(world, capsys, monkeypatch):
    db, client = world
    h = bearer(client, "offa")
    assert client.get("/api/me", headers=h).status_code == 200
    code, _, err = cli(capsys, db, "users", "passwd", "offa", password="12345678", monkeypatch=monkeypatch)
    assert code == 2 and "at least 15 characters" in err  # a clear refusal, nothing changed
    assert client.get("/api/me", headers=h).status_code == 200
    code, out, err = cli(capsys, db, "users", "passwd", "offa", password="a-new-lantern-by-the-river",
                         monkeypatch=monkeypatch)
    assert code == 0 and "sessions ended" in out, err
    assert client.get("/api/me", headers=h).status_code == 401
    assert login(client, "offa").status_code == 401
    assert login(client, "offa", "a-new-lantern-by-the-river").status_code == 200


def test_a_revoked_key_is_refused_at_once(world, capsys):
    db, client = world
    code, out, _ = cli(capsys, db, "users", "api-key", "规划局", "--collections", "districts")
    key = out.strip()
    assert code == 0 and key.startswith("sbk_")
    assert client.get("/api/me", headers={"X-API-Key": key}).status_code == 200
    code, out, _ = cli(capsys, db, "users", "api-key", "list")
    assert code == 0 and "规划局" in out and "区县" in out and "有效" in out
    kid = auth.list_api_keys(db)[0]["id"]
    code, out, _ = cli(capsys, db, "users", "api-key", "revoke", str(kid))
    assert code == 0 and f"revoked API key(s) {kid}" in out
    assert client.get("/api/me", headers={"X-API-Key": key}).status_code == 401
    assert "已撤销" in cli(capsys, db, "users", "api-key", "list")[1]
    code, _, err = cli(capsys, db, "users", "api-key", "revoke", "规划局")
    assert code == 2 and "no active API key '规划局'" in err
    entry = auth.audit_entries(db, principal=auth.SYSTEM, kind="api_key", limit=1)[0]
    assert (entry["action"], entry["actor"], entry["role"]) == ("api_key.revoke", "张工", "command_line")


def test_revoking_by_department_ends_all_its_keys(world, capsys):
    db, client = world
    keys = [auth.issue_api_key(db, "水文局") for _ in range(2)]
    assert cli(capsys, db, "users", "api-key", "revoke", "水文局")[0] == 0
    assert all(client.get("/api/me", headers={"X-API-Key": k}).status_code == 401 for k in keys)


def test_the_user_list_shows_labels(world, capsys):
    db, client = world
    login(client, "offa")
    auth.set_active(db, "look", False)
    code, out, _ = cli(capsys, db, "users", "list")
    assert code == 0
    lines = {line.split()[1]: line for line in out.splitlines() if line.strip().startswith("│")
             and line.split()[1] in PASSWORDS}
    assert "区县监管人员" in lines["offa"] and "渝北区" in lines["offa"] and "启用" in lines["offa"]
    assert "从未登录" not in lines["offa"] and "从未登录" in lines["admin"] and "市级管理员" in lines["admin"]
    assert "停用" in lines["look"] and "浏览" in lines["look"]


def test_adding_a_user_with_a_padded_or_taken_name_is_a_clear_error(world, capsys, monkeypatch):
    db, _ = world
    code, _, err = cli(capsys, db, "users", "add", " offa", "--role", "viewer", password="a-fresh-river-stone-7",
                       monkeypatch=monkeypatch)
    assert code == 2 and "username 'offa' is taken" in err and "UNIQUE" not in err
    code, out, _ = cli(capsys, db, "users", "add", " newcomer", "--role", "viewer",
                       password="a-fresh-river-stone-7", monkeypatch=monkeypatch)
    assert code == 0 and "newcomer (viewer)" in out
    entry = auth.audit_entries(db, principal=auth.SYSTEM, kind="user", limit=1)[0]
    assert (entry["action"], entry["actor"], entry["role"]) == ("user.create", "张工", "command_line")
