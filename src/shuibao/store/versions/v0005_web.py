"""Version 5 (c4260d9, 2026-11-30): users, API keys, sessions and the append-only audit log of the web platform.

Frozen: the tables as this migration created them (version 7 added a user's last login, an API key's
collections and the audit log's client address and user agent).  Never edit; add a new version.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Connection, DateTime, ForeignKey, Integer, MetaData, Table, Text

from . import _ddl

metadata = MetaData()

users = Table(
    "users", metadata,
    Column("id", Integer, primary_key=True),
    Column("username", Text, nullable=False, unique=True),
    Column("display_name", Text, nullable=False),
    Column("password_hash", Text, nullable=False),  # argon2id
    Column("role", Text, nullable=False),  # city_admin | district_officer | inspector | viewer
    Column("district_code", Text),  # a district officer's district
    Column("active", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

api_keys = Table(
    "api_keys", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", Text, nullable=False),  # the department it was issued to
    Column("key_hash", Text, nullable=False, unique=True),  # SHA-256 of the key; the key itself is shown once
    Column("active", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

web_sessions = Table(
    "web_sessions", metadata,
    Column("id", Integer, primary_key=True),
    Column("token_hash", Text, nullable=False, unique=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

audit_log = Table(
    "audit_log", metadata,
    Column("id", Integer, primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("action", Text, nullable=False),  # e.g. case.step, project.status, user.create
    Column("object_kind", Text, nullable=False),
    Column("object_id", Text),
    Column("before_json", Text),
    Column("after_json", Text),
    Column("request_id", Text),
)

DESCRIPTIONS = {
    'users': "Users of the web platform with their role (and a district officer's district)",
    'api_keys': 'Read-only API keys issued to other departments (only their SHA-256 is kept)',
    'web_sessions': "Login sessions of the web platform (only the token's SHA-256 is kept)",
    'audit_log': 'Append-only audit log: every write with who, when, what, before and after',
}

TABLES = (users, api_keys, web_sessions, audit_log)


def apply(conn: Connection, backend: str) -> None:
    """Users, API keys, sessions and the append-only audit log of the web platform."""
    _ddl.create(conn, backend, TABLES, DESCRIPTIONS)
    _ddl.append_only(conn, backend, audit_log.name)
    _ddl.index(conn, "audit_log_object_idx", "audit_log", "object_kind, object_id")
