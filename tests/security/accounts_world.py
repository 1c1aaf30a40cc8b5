"""A small platform for the login, account, audit and key-scope tests: a database with four users (one per role)
and the real app behind TestClients that call from chosen client addresses."""

from __future__ import annotations

from fastapi.testclient import TestClient

from shuibao.services.platform import auth
from shuibao.services.platform.database import init
from shuibao.web import Settings, create_app

PASSWORDS = {"admin": "river-lantern-4127", "offa": "yellow-kettle-5823", "insp": "quiet-harbor-9361",
             "look": "paper-mountain-2754"}


def make_db(db: str) -> str:
    init(db, boundaries=False)
    auth.create_user(db, "admin", PASSWORDS["admin"], "city_admin")
    auth.create_user(db, "offa", PASSWORDS["offa"], "district_officer", district="渝北区")
    auth.create_user(db, "insp", PASSWORDS["insp"], "inspector")
    auth.create_user(db, "look", PASSWORDS["look"], "viewer")
    return db


def clients(db: str, *addresses: str, **settings):
    """One TestClient per client address, all on one app (so they share its caches like one worker)."""
    app = create_app(Settings(db=db, preload=False, **settings))
    return [TestClient(app, client=(address, 50000)) for address in addresses]


def login(client, user: str, password: str | None = None, **kw):
    return client.post("/api/login", json={"username": user, "password": PASSWORDS.get(user, "") if password is None
                                           else password}, **kw)


def bearer(client, user: str) -> dict:
    r = login(client, user)
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}
