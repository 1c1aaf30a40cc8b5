"""Users, roles, sessions, API keys and the audit log — the platform's access rules live here, in the services
layer, so the web app, the CLI and any other caller are held to the same rules.

Roles (权限):

==================  ===========================================================================
city_admin          市级管理员: everything, including users and imports
district_officer    区县监管人员: reads everything; writes only records of their own district
inspector           检查人员: reads everything; records verification steps and inspection results
viewer              浏览: reads everything, writes nothing
external            other departments' API keys: read-only, and only the collections the key was issued for
==================  ===========================================================================

Passwords are hashed with argon2id; session tokens and API keys are random (256 bits) and only
their SHA-256 is stored.  Every write through an audited service adds an ``audit_log`` row in the
same transaction as the write (who, when, what, before, after).
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from sqlalchemy import Connection

from shuibao.errors import AuthenticationError, InputError, N_, NotFoundError, PermissionDeniedError, Text, raise_issues
from shuibao.vocabulary import LabelText
from shuibao.store import Store
from shuibao.store.repositories import accounts, audit as audit_records
from shuibao.services.platform import passwords

ROLES = ("city_admin", "district_officer", "inspector", "viewer", "external")
ROLE_ZH = {"city_admin": "市级管理员", "district_officer": "区县监管人员", "inspector": "检查人员", "viewer": "浏览",
           "external": "外部门（只读）", "command_line": "命令行"}


@lru_cache(maxsize=1)
def _hasher():
    """argon2id (the web extra): imported when a password is hashed or checked, so the command line's audited
    writes work on an install without the web platform."""
    try:
        from argon2 import PasswordHasher
    except ImportError as exc:
        from shuibao.errors import ShuibaoError

        raise ShuibaoError(N_("user accounts need the web extra (argon2-cffi is missing): pip install -e '.[web]'")) from exc
    return PasswordHasher()
MIN_PASSWORD = passwords.MIN_LENGTH
USERNAME = re.compile(r"^[\w.@-]{2,64}$")  # letters (any script), digits and . _ @ -; no spaces
USER_AGENT_CHARS = 200  # enough to tell browsers and scripts apart; the rest is noise in an append-only table

# What an API key can be limited to (`users api-key DEPT --collections …`): the OGC/download collections, the
# monitoring runs (their products, tables and map tiles), the assessment, the rain warnings.  Cases, evidence, the
# audit log, users and the supervision dossiers are never open to keys.
KEY_COLLECTIONS = {"districts": "区县", "watersheds": "小流域", "patches": "扰动图斑", "projects": "生产建设项目",
                   "treatment": "治理图斑", "stations": "监测站点", "runs": "监测成果（含瓦片）",
                   "assessment": "目标责任考核", "warnings": "暴雨预警"}
# a key issued without --collections: the public reference geography only (boundaries and small watersheds, no
# enforcement or personal data); migration 7 gives older keys the same
DEFAULT_KEY_COLLECTIONS = ("districts", "watersheds")


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user, or an API key (role external, limited to ``collections``)."""

    name: str
    role: str
    district_code: str | None = None
    user_id: int | None = None
    collections: frozenset[str] | None = None  # None: every collection (users)


SYSTEM = Principal("system", "city_admin")


@dataclass
class RequestContext:
    """The web request being served, for the audit rows it writes (set by the web platform's middleware; mutable
    so the caller found by the route can be named in the access log)."""

    request_id: str
    client_address: str | None = None
    user_agent: str | None = None
    user: str | None = None


REQUEST: ContextVar[RequestContext | None] = ContextVar("shuibao_request", default=None)
_EPOCH = [0]  # bumped by every change that ends sessions or keys in this process (see credentials_epoch)


def credentials_epoch() -> int:
    """Changes whenever this process ends a session, revokes a key, deactivates a user or resets a password, so
    a cache of resolved credentials can drop everything at once."""
    return _EPOCH[0]


def _credentials_changed() -> None:
    _EPOCH[0] += 1


def command_line_principal(actor: str | None = None) -> Principal:
    """Who a command-line write is audited as: ``--actor``/``SHUIBAO_ACTOR`` or the operating-system user, with
    the role ``command_line`` (命令行) — whoever can open the database file holds every right, so no check is made,
    but the write is recorded like a web write."""
    from shuibao.services.platform.actors import actor as os_actor

    return Principal(os_actor(actor), "command_line")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


PERMISSION_TEXT = {"admin": N_("administer the platform (city administrators only)"),
                   "write": N_("change these records"), "verify": N_("record a verification")}
"""What a refused permission allows, for the refusal's message."""


def require(principal: Principal | None, permission: str, *, district: str | None = None) -> Principal:
    """Check ``permission`` ('read', 'write', 'verify', 'admin'); 401 without a principal, 403 if not allowed.

    ``district``: the district of the record to be written; a district officer may write only their own.
    """
    if principal is None:
        raise AuthenticationError(N_("log in (or send an API key) first"))
    role = principal.role
    if permission == "read" or role == "command_line":  # whoever opens the database file holds every right
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
        role_text = LabelText("role", role)
        if district and role == "district_officer":
            raise PermissionDeniedError(N_("{name} ({role}) may not {permission} in district {district}",
                                           name=principal.name, role=role_text, permission=PERMISSION_TEXT[permission],
                                           district=LabelText("district", district)))
        raise PermissionDeniedError(N_("{name} ({role}) may not {permission}", name=principal.name, role=role_text,
                                       permission=PERMISSION_TEXT[permission]))
    return principal


def batch_actor(principal: Principal | None, actor: str | None) -> str | None:
    """Who a batch write (an import, an analysis run) records: ``actor`` from the command line, or — through
    the web — the principal's name once it is allowed (city administrators only; 403 before anything is read)."""
    if principal is None:
        return actor
    require(principal, "admin")
    return principal.name


def may_read(principal: Principal, collection: str) -> bool:
    """Whether ``principal`` may read ``collection`` (users: every one; a key: those it was issued for)."""
    return principal.collections is None or collection in principal.collections


def require_collection(principal: Principal, collection: str) -> Principal:
    """403 for a key not issued for ``collection``, naming what it may read."""
    if not may_read(principal, collection):
        held = ", ".join(sorted(principal.collections or ())) or "nothing"
        raise PermissionDeniedError(N_("the key of {name} may read {held}, not {collection!r}; ask the "
                                    "city administrator for a key with --collections {collection}", name=principal.name, held=held, collection=collection))
    return principal


def writer(principal: Principal | None, actor: str | None = None) -> Principal:
    """Who a write is audited as: the web caller, or on the command line the operating-system user."""
    return principal if principal is not None else command_line_principal(actor)


def audit(conn: Connection, principal: Principal, action: str, kind: str, object_id, before=None, after=None, *,
          request_id: str | None = None) -> None:
    """One audit_log row, in the caller's transaction; a web request adds its id, client address and agent."""
    ctx = REQUEST.get()
    audit_records.append_audit(
        conn, at=datetime.now(UTC), actor=principal.name, role=principal.role, action=action, object_kind=kind,
        object_id=None if object_id is None else str(object_id),
        before_json=None if before is None else json.dumps(before, ensure_ascii=False, default=str, sort_keys=True),
        after_json=None if after is None else json.dumps(after, ensure_ascii=False, default=str, sort_keys=True),
        request_id=request_id or (ctx.request_id if ctx else None),
        client_address=ctx.client_address if ctx else None,
        user_agent=(ctx.user_agent or "")[:USER_AGENT_CHARS] or None if ctx else None)


def username_problems(username: str) -> list[str]:
    """What is wrong with a (trimmed) user name, in words."""
    if not username:
        return ["username: empty"]
    if not USERNAME.match(username):
        return [f"username {username!r}: 2–64 letters, digits or . _ @ - (no spaces)"]
    return []


def create_user(db: str | None, username: str, password: str, role: str, *, display_name: str | None = None,
                district: str | None = None, by: Principal | None = None) -> int:
    """Add a user (city administrators; ``by`` None: the command line); a district officer needs a district.
    The name is trimmed; the password must pass :func:`shuibao.services.platform.passwords.problems`."""
    from shuibao.store.repositories.district_codes import district_lookup

    by = require(writer(by), "admin")
    username = (username or "").strip()
    problems: list[Text | str] = [*username_problems(username), *passwords.problems(password, username)]
    if role not in ROLES or role == "external":
        problems.append(N_("role {role!r}: expected one of {value1}", role=role, value1=', '.join(r for r in ROLES if r != 'external')))
    with Store(db) as store, store.transaction() as conn:
        store.require_current(conn)
        code = None
        if district:
            code = district_lookup(conn).get(district)
            if code is None:
                problems.append(N_("district {district!r} is not known", district=district))
        if role == "district_officer" and not district:
            problems.append(N_("a district officer needs --district"))
        taken = accounts.username_taken(conn, username)
        if taken:
            problems.append(N_("username {username!r} is taken (by {taken!r})", username=username, taken=taken)
                            if taken != username else N_("username {username!r} is taken", username=username))
        raise_issues(problems, N_("user"))
        uid = accounts.insert_user(
            conn, username=username, display_name=(display_name or "").strip() or username,
            password_hash=_hasher().hash(password),
            role=role, district_code=code, active=True, created_at=datetime.now(UTC))
        audit(conn, by, "user.create", "user", uid, None, {"username": username, "role": role, "district": code})
    return int(uid)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A hash no password matches, verified for unknown and inactive users so they cost the same time."""
    return _hasher().hash(secrets.token_urlsafe(32))


def verify_password(row, password: str) -> bool:
    """Whether ``password`` is that of the active user ``row``; always one argon2 verification (a missing or
    inactive user is checked against a dummy hash), so the answer's time does not tell whether a name exists."""
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        _hasher().verify(row.password_hash if row is not None and row.active else _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return False
    return row is not None and bool(row.active)


def user_row(conn: Connection, username: str):
    """The stored user named ``username`` (trimmed), or None."""
    return accounts.user_row(conn, (username or "").strip())


def authenticate(db: str | None, username: str, password: str) -> Principal:
    """The user with this name and password, or 401 (no throttling: the web logs in through logins.log_in)."""
    with Store(db) as store, store.reading() as conn:
        row = user_row(conn, username)
    if not verify_password(row, password):
        raise AuthenticationError(N_("wrong username or password"))
    return Principal(row.username, row.role, row.district_code, row.id)


def open_session(db: str | None, principal: Principal, *, hours: float = 12.0, conn: Connection | None = None) -> str:
    """A new session token for a user (only its SHA-256 is stored); in ``conn``'s transaction when given."""
    token = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    row = dict(token_hash=_digest(token), user_id=principal.user_id, created_at=now,
               expires_at=now + timedelta(hours=hours))
    if conn is not None:
        accounts.insert_session(conn, **row)
        return token
    with Store(db) as store, store.transaction() as c:
        accounts.insert_session(c, **row)
    return token


def resolve_session(db: str | None, token: str) -> Principal:
    """The user of a live session; 401 for an unknown, ended or expired one (or an inactive user)."""
    with Store(db) as store, store.reading() as conn:
        row = accounts.session_user(conn, _digest(token))
    if row is None or not row.active:
        raise AuthenticationError(N_("the session is not valid; log in again"))
    expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=UTC)
    if expires < datetime.now(UTC):
        raise AuthenticationError(N_("the session has expired; log in again"))
    return Principal(row.username, row.role, row.district_code, row.id)


def close_session(db: str | None, token: str) -> bool:
    """End a session (logout), audited as its user; False if the token was not a session."""
    with Store(db) as store, store.transaction() as conn:
        row = accounts.session_user(conn, _digest(token))
        if row is None:
            return False
        accounts.delete_session(conn, _digest(token))
        audit(conn, Principal(row.username, row.role, row.district_code, row.id), "logout", "user", row.username)
    _credentials_changed()
    return True


def key_collections(text: str | list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    """Collections named for a key ("patches,projects"), checked; none named: DEFAULT_KEY_COLLECTIONS."""
    names = [n.strip() for n in (text.split(",") if isinstance(text, str) else text or ()) if n.strip()]
    unknown = [n for n in names if n not in KEY_COLLECTIONS]
    if unknown:
        raise InputError(N_("collections {map}: expected some of "
                         "{KEY_COLLECTIONS}", map=', '.join(map(repr, unknown)), KEY_COLLECTIONS=', '.join(KEY_COLLECTIONS)))
    return tuple(dict.fromkeys(names)) or DEFAULT_KEY_COLLECTIONS


def issue_api_key(db: str | None, name: str, *, collections=None, by: Principal | None = None) -> str:
    """A read-only key for another department, limited to ``collections`` (default: DEFAULT_KEY_COLLECTIONS);
    returned once, only its SHA-256 is kept."""
    by = require(writer(by), "admin")
    name = (name or "").strip()
    if not name:
        raise InputError(N_("API key: name the department it is for"))
    scope = key_collections(collections)
    key = "sbk_" + secrets.token_urlsafe(32)
    with Store(db) as store, store.transaction() as conn:
        store.require_current(conn)
        kid = accounts.insert_api_key(conn, name=name, key_hash=_digest(key), active=True,
                                      created_at=datetime.now(UTC), collections=",".join(scope))
        audit(conn, by, "api_key.issue", "api_key", kid, None, {"name": name, "collections": list(scope)})
    return key


def resolve_api_key(db: str | None, key: str) -> Principal:
    """The department of an active key (role external, limited to its collections); 401 otherwise."""
    with Store(db) as store, store.reading() as conn:
        row = accounts.api_key_row(conn, _digest(key))
    if row is None or not row.active:
        raise AuthenticationError(N_("unknown or revoked API key"))
    scope = frozenset((row.collections or ",".join(DEFAULT_KEY_COLLECTIONS)).split(","))
    return Principal(f"api:{row.name}", "external", collections=scope)


def list_api_keys(db: str | None) -> list[dict]:
    """Every key: id, department, collections, active, issued (never the key)."""
    with Store(db) as store, store.reading() as conn:
        store.require_current(conn)
        return [{"id": r.id, "name": r.name, "collections": (r.collections or "").split(","), "active": r.active,
                 "created_at": r.created_at} for r in accounts.api_keys(conn)]


def revoke_api_key(db: str | None, id_or_name: str, *, by: Principal | None = None) -> list[int]:
    """Revoke a key by its id, or every active key of a department by its name; effective at once in this
    process (see credentials_epoch), within the web cache's lifetime in other processes."""
    by = require(writer(by), "admin")
    text = str(id_or_name).strip()
    with Store(db) as store, store.transaction() as conn:
        store.require_current(conn)
        rows = (accounts.active_api_keys(conn, key_id=int(text)) if text.isdigit()
                else accounts.active_api_keys(conn, name=text))
        if not rows:
            raise NotFoundError(N_("no active API key {text!r} (an id or a department; see `shuibao users api-key "
                                "list`)", text=text))
        for r in rows:
            accounts.deactivate_api_key(conn, r.id)
            audit(conn, by, "api_key.revoke", "api_key", r.id, {"name": r.name, "active": True}, {"active": False})
    _credentials_changed()
    return [r.id for r in rows]


def set_active(db: str | None, username: str, active: bool, *, by: Principal | None = None) -> None:
    """Deactivate (or reactivate) a user; deactivation ends every session of the user at once."""
    by = require(writer(by), "admin")
    with Store(db) as store, store.transaction() as conn:
        store.require_current(conn)
        row = _existing_user(conn, username)
        accounts.update_user(conn, row.id, active=active)
        ended = _end_sessions(conn, row.id) if not active else 0
        audit(conn, by, "user.activate" if active else "user.deactivate", "user", row.username,
              {"active": bool(row.active)}, {"active": active, "sessions_ended": ended})
    _credentials_changed()


def set_password(db: str | None, username: str, password: str, *, by: Principal | None = None) -> None:
    """Reset a user's password (policy checked); every session of the user ends."""
    by = require(writer(by), "admin")
    with Store(db) as store, store.transaction() as conn:
        store.require_current(conn)
        row = _existing_user(conn, username)
        bad = passwords.problems(password, row.username)
        raise_issues(bad, N_("user"))
        accounts.update_user(conn, row.id, password_hash=_hasher().hash(password))
        ended = _end_sessions(conn, row.id)
        audit(conn, by, "user.password", "user", row.username, None, {"sessions_ended": ended})
    _credentials_changed()


def list_users(db: str | None) -> list[dict]:
    """Every user with role and district labels, active, last login."""
    with Store(db) as store, store.reading() as conn:
        store.require_current(conn)
        rows = accounts.users_with_district(conn)
    return [{"username": r.username, "display_name": r.display_name, "role": r.role,
             "role_zh": ROLE_ZH.get(r.role, r.role), "district": r.district, "active": bool(r.active),
             "last_login_at": r.last_login_at} for r in rows]


def _existing_user(conn: Connection, username: str):
    row = user_row(conn, username)
    if row is None:
        raise NotFoundError(N_("no user {username!r} (see `shuibao users list`)", username=str(username).strip()))
    return row


def _end_sessions(conn: Connection, user_id: int) -> int:
    return accounts.end_sessions(conn, user_id)


def audit_entries(db: str | None, *, principal: Principal, kind: str | None = None, object_id: str | None = None,
                  limit: int = 200, offset: int = 0) -> list[dict]:
    """The newest ``limit`` audit rows after ``offset`` (of one object kind and id when given), for any reader."""
    return audit_page(db, principal=principal, kind=kind, object_id=object_id, limit=limit, offset=offset)[0]


def audit_page(db: str | None, *, principal: Principal, kind: str | None = None, object_id: str | None = None,
               limit: int = 200, offset: int = 0) -> tuple[list[dict], int]:
    """One page of the audit log, newest first, and how many rows match (分页): read in one transaction."""
    require(principal, "read")
    with Store(db) as store, store.reading() as conn:
        return (audit_records.audit_entries(conn, kind=kind, object_id=object_id, limit=limit, offset=offset),
                audit_records.audit_count(conn, kind=kind, object_id=object_id))
