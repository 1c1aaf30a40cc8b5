"""Version 7 (f3dc429, 2026-12-06): login throttling tables; the audit log's client address and user agent; an
API key's collections; a user's last login.

Frozen: the tables and columns as this migration added them.  Never edit; add a new version.
"""

from __future__ import annotations

from sqlalchemy import Column, Connection, DateTime, Integer, MetaData, Table, Text
from sqlalchemy.types import TypeEngine

from . import _ddl

metadata = MetaData()

ADDED_COLUMNS: dict[str, dict[str, TypeEngine]] = {
    "users": {"last_login_at": DateTime(timezone=True)},
    "api_keys": {"collections": Text()},  # comma-separated collections the key may read
    "audit_log": {"client_address": Text(), "user_agent": Text()},
}
"""Columns added to version 5's tables, in this order."""

login_failures = Table(
    "login_failures", metadata,
    Column("id", Integer, primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("username", Text, nullable=False),  # as attempted, trimmed and lower-cased (known or not)
    Column("address", Text, nullable=False),  # the client address
)

login_lockouts = Table(
    "login_lockouts", metadata,
    Column("id", Integer, primary_key=True),
    Column("scope", Text, nullable=False),  # user_address | address | user
    Column("username", Text),  # for user_address and user
    Column("address", Text),  # for user_address and address
    Column("since", DateTime(timezone=True), nullable=False),
    Column("until", DateTime(timezone=True), nullable=False),
)

DESCRIPTIONS = {
    'login_failures': 'Failed logins of the last day per attempted user name and client address (throttling)',
    'login_lockouts': 'Login lockouts: a user name and address, an address or a user name refused until a time',
}

TABLES = (login_failures, login_lockouts)
INDEXES = (("login_failures_username_idx", "login_failures", "username, at"),
           ("login_failures_address_idx", "login_failures", "address, at"),
           ("login_lockouts_until_idx", "login_lockouts", "until"))


def apply(conn: Connection, backend: str) -> None:
    """Add version 7's columns (each only where missing: a store created from the live schema by the code of
    f3dc429 had them already), scope older API keys, create the throttling tables and their indexes."""
    for table, columns in ADDED_COLUMNS.items():
        _ddl.add_columns(conn, table, columns)
    # keys issued before scopes existed keep only the public reference collections (fail closed; the same
    # default as services.auth.DEFAULT_KEY_COLLECTIONS)
    conn.exec_driver_sql("UPDATE api_keys SET collections = 'districts,watersheds' WHERE collections IS NULL")
    _ddl.create(conn, backend, TABLES, DESCRIPTIONS)
    for name, table, index_columns in INDEXES:
        _ddl.index(conn, name, table, index_columns)
