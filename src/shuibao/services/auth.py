"""Users, roles, sessions, API keys and the audit log — the platform's access rules live here, in the services
layer, so the web app, the CLI and any other caller are held to the same rules.

Roles (权限):

==================  ===========================================================================
city_admin          市级管理员: everything, including users and imports
district_officer    区县监管人员: reads everything; writes only records of their own district
inspector           检查人员: reads everything; records verification steps and inspection results
viewer              浏览: reads everything, writes nothing
external            other departments' API keys: read-only
==================  ===========================================================================

Passwords are hashed with argon2id; session tokens and API keys are random (256 bits) and only
their SHA-256 is stored.  Every write through an audited service adds an ``audit_log`` row in the
same transaction as the write (who, when, what, before, after).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, select

from ..errors import AuthenticationError, InputError, PermissionDeniedError
from ..store import Store, schema

ROLES = ("city_admin", "district_officer", "inspector", "viewer", "external")
ROLE_ZH = {"city_admin": "市级管理员", "district_officer": "区县监管人员", "inspector": "检查人员", "viewer": "浏览",
           "external": "外部门（只读）", "command_line": "命令行"}
_HASHER = PasswordHasher()
MIN_PASSWORD = 8


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user, or an API key (role external)."""

    name: str
    role: str
    district_code: str | None = None
    user_id: int | None = None


SYSTEM = Principal("system", "city_admin")


def command_line_principal(actor: str | None = None) -> Principal:
    """Who a command-line write is audited as: ``--actor``/``SHUIBAO_ACTOR`` or the operating-system user, with
    the role ``command_line`` (命令行) — whoever can open the database file holds every right, so no check is made,
    but the write is recorded like a web write."""
    from .supervision_common import actor as os_actor

    return Principal(os_actor(actor), "command_line")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def require(principal: Principal | None, permission: str, *, district: str | None = None) -> Principal:
    """Check ``permission`` ('read', 'write', 'verify', 'admin'); 401 without a principal, 403 if not allowed.

    ``district``: the district of the record to be written; a district officer may write only their own.
    """
    if principal is None:
        raise AuthenticationError("log in (or send an API key) first")
    role = principal.role
    if permission == "read":
        return principal
    allowed = {
        "admin": role == "city_admin",
        "write": role == "city_admin" or (role == "district_officer" and (district is None
                                                                          or district == principal.district_code)),
        "verify": role in ("city_admin", "inspector") or (role == "district_officer"
                                                         and (district is None or district == principal.district_code)),
    }.get(permission)
    if allowed is None:
        raise ValueError(f"unknown permission {permission!r}")
    if not allowed:
        where = f" in district {district}" if district and role == "district_officer" else ""
        raise PermissionDeniedError(f"{principal.name} ({ROLE_ZH.get(role, role)}) may not {permission}{where}")
    return principal


def batch_actor(principal: Principal | None, actor: str | None) -> str | None:
    """Who a batch write (an import, an analysis run) records: ``actor`` from the command line, or — through
    the web — the principal's name once it is allowed (city administrators only; 403 before anything is read)."""
    if principal is None:
        return actor
    require(principal, "admin")
    return principal.name


def audit(conn: Connection, principal: Principal, action: str, kind: str, object_id, before=None, after=None, *,
          request_id: str | None = None) -> None:
    """One audit_log row, in the caller's transaction."""
    conn.execute(schema.audit_log.insert().values(
        at=datetime.now(UTC), actor=principal.name, role=principal.role, action=action, object_kind=kind,
        object_id=None if object_id is None else str(object_id),
        before_json=None if before is None else json.dumps(before, ensure_ascii=False, default=str, sort_keys=True),
        after_json=None if after is None else json.dumps(after, ensure_ascii=False, default=str, sort_keys=True),
        request_id=request_id))


def create_user(db: str | None, username: str, password: str, role: str, *, display_name: str | None = None,
                district: str | None = None, by: Principal = SYSTEM) -> int:
    """Add a user (city administrators only); a district officer needs a district."""
    from .supervision_common import district_lookup

    require(by, "admin")
    problems = []
    if not username or not username.strip():
        problems.append("username: empty")
    if len(password) < MIN_PASSWORD:
        problems.append(f"password: at least {MIN_PASSWORD} characters")
    if role not in ROLES or role == "external":
        problems.append(f"role {role!r}: expected one of {', '.join(r for r in ROLES if r != 'external')}")
    with Store(db) as store, store.transaction() as conn:
        store.require_current(conn)
        code = None
        if district:
            code = district_lookup(conn).get(district)
            if code is None:
                problems.append(f"district {district!r} is not known")
        if role == "district_officer" and not district:
            problems.append("a district officer needs --district")
        if conn.execute(select(schema.users.c.id).where(schema.users.c.username == username)).first():
            problems.append(f"username {username!r} is taken")
        if problems:
            raise InputError("user: " + "; ".join(problems))
        uid = conn.execute(schema.users.insert().values(
            username=username.strip(), display_name=display_name or username, password_hash=_HASHER.hash(password),
            role=role, district_code=code, active=True, created_at=datetime.now(UTC))).inserted_primary_key[0]
        audit(conn, by, "user.create", "user", uid, None, {"username": username, "role": role, "district": code})
    return int(uid)


def authenticate(db: str | None, username: str, password: str) -> Principal:
    t = schema.users
    with Store(db) as store, store.reading() as conn:
        row = conn.execute(select(t).where(t.c.username == username)).first()
    try:
        if row is None or not row.active:
            raise VerificationError
        _HASHER.verify(row.password_hash, password)
    except (VerificationError, InvalidHashError):
        raise AuthenticationError("wrong username or password") from None
    return Principal(row.username, row.role, row.district_code, row.id)


def open_session(db: str | None, principal: Principal, *, hours: float = 12.0) -> str:
    token = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    with Store(db) as store, store.transaction() as conn:
        conn.execute(schema.web_sessions.insert().values(token_hash=_digest(token), user_id=principal.user_id,
                                                         created_at=now, expires_at=now + timedelta(hours=hours)))
    return token


def resolve_session(db: str | None, token: str) -> Principal:
    s, u = schema.web_sessions, schema.users
    with Store(db) as store, store.reading() as conn:
        row = conn.execute(select(u, s.c.expires_at).join(s, s.c.user_id == u.c.id)
                           .where(s.c.token_hash == _digest(token))).first()
    if row is None or not row.active:
        raise AuthenticationError("the session is not valid; log in again")
    expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=UTC)
    if expires < datetime.now(UTC):
        raise AuthenticationError("the session has expired; log in again")
    return Principal(row.username, row.role, row.district_code, row.id)


def close_session(db: str | None, token: str) -> None:
    with Store(db) as store, store.transaction() as conn:
        conn.execute(schema.web_sessions.delete().where(schema.web_sessions.c.token_hash == _digest(token)))


def issue_api_key(db: str | None, name: str, *, by: Principal = SYSTEM) -> str:
    """A read-only key for another department; returned once, only its SHA-256 is kept."""
    require(by, "admin")
    key = "sbk_" + secrets.token_urlsafe(32)
    with Store(db) as store, store.transaction() as conn:
        store.require_current(conn)
        kid = conn.execute(schema.api_keys.insert().values(name=name, key_hash=_digest(key), active=True,
                                                           created_at=datetime.now(UTC))).inserted_primary_key[0]
        audit(conn, by, "api_key.issue", "api_key", kid, None, {"name": name})
    return key


def resolve_api_key(db: str | None, key: str) -> Principal:
    t = schema.api_keys
    with Store(db) as store, store.reading() as conn:
        row = conn.execute(select(t).where(t.c.key_hash == _digest(key))).first()
    if row is None or not row.active:
        raise AuthenticationError("unknown or revoked API key")
    return Principal(f"api:{row.name}", "external")


def audit_entries(db: str | None, *, principal: Principal, kind: str | None = None, object_id: str | None = None,
                  limit: int = 200) -> list[dict]:
    require(principal, "read")
    t = schema.audit_log
    q = select(t).order_by(t.c.id.desc()).limit(limit)
    if kind:
        q = q.where(t.c.object_kind == kind)
    if object_id is not None:
        q = q.where(t.c.object_id == str(object_id))
    with Store(db) as store, store.reading() as conn:
        return [dict(r._mapping) for r in conn.execute(q)]
