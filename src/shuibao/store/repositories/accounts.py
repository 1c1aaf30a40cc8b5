"""User accounts, web sessions and API keys: only hashes of secrets are stored (``users.password_hash`` is argon2;
session tokens and keys are kept as their SHA-256)."""

from __future__ import annotations

from collections.abc import Sequence
from sqlalchemy import Connection, Row, func, select

from shuibao.store import schema

from ._keys import inserted_id


def username_taken(conn: Connection, username: str) -> str | None:
    """The stored name equal to ``username`` ignoring case, or None."""
    u = schema.users
    return conn.execute(select(u.c.username).where(func.lower(u.c.username) == username.lower())).scalar()


def insert_user(conn: Connection, **values) -> int:
    return inserted_id(conn.execute(schema.users.insert().values(**values)))


def user_row(conn: Connection, username: str):
    """The full row of the user with exactly this name, or None."""
    t = schema.users
    return conn.execute(select(t).where(t.c.username == username)).first()


def update_user(conn: Connection, user_id: int, **values) -> None:
    u = schema.users
    conn.execute(u.update().where(u.c.id == user_id).values(**values))


def users_with_district(conn: Connection) -> Sequence[Row]:
    """Every user (all columns) with the name of their district (``district``), by user name."""
    u, d = schema.users, schema.districts
    return conn.execute(select(u, d.c.name.label("district")).outerjoin(d, d.c.code == u.c.district_code)
                        .order_by(u.c.username)).all()


def insert_session(conn: Connection, **values) -> None:
    conn.execute(schema.web_sessions.insert().values(**values))


def session_user(conn: Connection, token_hash: str):
    """The user row of a session (with the session's ``expires_at``), or None."""
    s, u = schema.web_sessions, schema.users
    return conn.execute(select(u, s.c.expires_at).join(s, s.c.user_id == u.c.id)
                        .where(s.c.token_hash == token_hash)).first()


def delete_session(conn: Connection, token_hash: str) -> None:
    s = schema.web_sessions
    conn.execute(s.delete().where(s.c.token_hash == token_hash))


def end_sessions(conn: Connection, user_id: int) -> int:
    """Delete every session of a user; how many there were."""
    s = schema.web_sessions
    return conn.execute(s.delete().where(s.c.user_id == user_id)).rowcount


def insert_api_key(conn: Connection, **values) -> int:
    return inserted_id(conn.execute(schema.api_keys.insert().values(**values)))


def api_key_row(conn: Connection, key_hash: str):
    t = schema.api_keys
    return conn.execute(select(t).where(t.c.key_hash == key_hash)).first()


def api_keys(conn: Connection) -> Sequence[Row]:
    t = schema.api_keys
    return conn.execute(select(t).order_by(t.c.id)).all()


def active_api_keys(conn: Connection, *, key_id: int | None = None, name: str | None = None) -> Sequence[Row]:
    """The active keys with this id, or else of this department."""
    t = schema.api_keys
    where = t.c.id == key_id if key_id is not None else t.c.name == name
    return conn.execute(select(t).where(where, t.c.active.is_(True))).all()


def deactivate_api_key(conn: Connection, key_id: int) -> None:
    t = schema.api_keys
    conn.execute(t.update().where(t.c.id == key_id).values(active=False))
