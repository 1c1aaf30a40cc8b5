"""Failed logins and lockouts (``login_failures``, ``login_lockouts``), counted in the database so that every
web worker sees them; and whether a user logged in successfully from an address (read from the audit log)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Connection, Row, and_, delete, func, or_, select

from shuibao.store import schema


def live_lockouts(conn: Connection, key: str, address: str, now: datetime) -> Sequence[Row]:
    """Lockouts (scope, until) in force now on this name from this address, on the address, or on the name;
    the latest-ending first."""
    lk = schema.login_lockouts
    return conn.execute(select(lk.c.scope, lk.c.until).where(lk.c.until > now, or_(
        and_(lk.c.scope == "user_address", lk.c.username == key, lk.c.address == address),
        and_(lk.c.scope == "address", lk.c.address == address),
        and_(lk.c.scope == "user", lk.c.username == key))).order_by(lk.c.until.desc())).all()


def logged_in_from(conn: Connection, key: str, address: str, since: datetime) -> bool:
    """Whether the user (lower-case name ``key``) logged in successfully from ``address`` since ``since``."""
    a = schema.audit_log
    return conn.execute(select(a.c.id).where(
        a.c.object_kind == "user", func.lower(a.c.object_id) == key, a.c.action == "login.success",
        a.c.client_address == address, a.c.at >= since).limit(1)).first() is not None


def forget_failures(conn: Connection, key: str, address: str) -> None:
    """Drop the failures of this name from this address (after a successful login)."""
    f = schema.login_failures
    conn.execute(delete(f).where(f.c.username == key, f.c.address == address))


def record_failure(conn: Connection, key: str, address: str, now: datetime, *, keep: timedelta) -> None:
    """Drop failures older than ``keep`` and lockouts that ended over a day ago, then store this failure."""
    f, lk = schema.login_failures, schema.login_lockouts
    conn.execute(delete(f).where(f.c.at < now - keep))
    conn.execute(delete(lk).where(lk.c.until < now - timedelta(days=1)))
    conn.execute(f.insert().values(at=now, username=key, address=address))


def failures_since(conn: Connection, since: datetime, *, username: str | None = None,
                   address: str | None = None) -> int:
    """Failures since ``since``, of this name and/or from this address (None: any)."""
    f = schema.login_failures
    where = [f.c.at >= since]
    if username is not None:
        where.append(f.c.username == username)
    if address is not None:
        where.append(f.c.address == address)
    return cast(int, conn.execute(select(func.count()).select_from(f).where(*where)).scalar())


def lockout_held(conn: Connection, scope: str, user: str | None, address: str | None, now: datetime) -> bool:
    """Whether a lockout of this scope on exactly this name and address (None: none) is in force."""
    lk = schema.login_lockouts
    return conn.execute(select(lk.c.id).where(lk.c.scope == scope, lk.c.until > now,
                                              lk.c.username.is_(None) if user is None else lk.c.username == user,
                                              lk.c.address.is_(None) if address is None else lk.c.address == address)
                        ).first() is not None


def insert_lockout(conn: Connection, **values) -> None:
    conn.execute(schema.login_lockouts.insert().values(**values))
