"""Logging in to the web platform, throttled: failures are counted in the database (so every worker sees them)
per attempted user name and client address, per address, and per user name; past a limit the pair, the address or
the name is locked for a while, and during a lockout even the right password is refused (429, with when to retry).

Limits (NIST SP 800-63B-4 §3.2.2 asks that failed attempts on one account be limited to at most 100):

* 5 failures of one name from one address in 15 minutes lock that pair for 15 minutes — a person mistyping gets
  five tries; a guesser at one address gets 20 an hour for that name.
* 20 failures from one address in 15 minutes, whatever the names, lock that address for 15 minutes — a guesser
  who tries many names at once.
* 100 failures of one name in 24 hours, from any addresses, lock the name for an hour — a guesser spread over
  many addresses.  Trade-off: anyone can then lock a known user out for an hour (denial of service), so an address
  from which the user logged in successfully in the last 30 days is exempt: the user at their usual desk still
  gets in; a stranger's addresses do not.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from shuibao.errors import AuthenticationError, RateLimitedError, N_
from shuibao.store import Store
from shuibao.store.repositories import accounts, logins as login_records
from shuibao.services.platform import auth

PAIR_LIMIT, PAIR_WINDOW, PAIR_LOCK = 5, timedelta(minutes=15), timedelta(minutes=15)
ADDRESS_LIMIT, ADDRESS_WINDOW, ADDRESS_LOCK = 20, timedelta(minutes=15), timedelta(minutes=15)
USER_LIMIT, USER_WINDOW, USER_LOCK = 100, timedelta(hours=24), timedelta(hours=1)
KNOWN_ADDRESS_DAYS = 30  # a successful login from an address in this many days exempts it from the user lock
NAME_CHARS = 80  # attempted names are stored truncated (they are typed by anyone)
ANONYMOUS = "anonymous"  # the audit role of a failed or refused login (匿名)


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def throttle_key(username: str) -> str:
    return (username or "").strip().lower()[:NAME_CHARS]


def _lockout(conn, key: str, address: str, now: datetime) -> tuple[str, datetime] | None:
    """The lockout (scope, until) that refuses this name from this address now, or None."""
    for row in login_records.live_lockouts(conn, key, address, now):
        if row.scope == "user" and _known_address(conn, key, address, now):
            continue
        return row.scope, _aware(row.until)
    return None


def _known_address(conn, key: str, address: str, now: datetime) -> bool:
    return login_records.logged_in_from(conn, key, address, now - timedelta(days=KNOWN_ADDRESS_DAYS))


def _refusal(scope: str, until: datetime, name: str, address: str, now: datetime) -> RateLimitedError:
    seconds = math.ceil((until - now).total_seconds())
    who = {"user_address": N_("for {name!r} from {address}", name=name, address=address),
           "address": N_("from {address}", address=address), "user": N_("for {name!r}", name=name)}[scope]
    return RateLimitedError(N_("too many failed logins {who}: logins are refused, even with the right password, "
                            "until {until:%Y-%m-%d %H:%M:%S} UTC; try again in {ceil} "
                            "minute(s)", who=who, until=until, ceil=math.ceil(seconds / 60)), seconds)


def log_in(db: str | None, username: str, password: str, *, address: str, hours: float = 12.0
           ) -> tuple[auth.Principal, str]:
    """The user and a new session token; 401 for a wrong name or password (one argon2 verification either way),
    429 during a lockout.  Success, failure and a new lockout are audited (the attempted name, never the
    password); refusals during a lockout are not (they cost nothing and would flood the append-only log)."""
    name = (username or "").strip()[:NAME_CHARS]
    key, address, now = throttle_key(name), address or "unknown", _now()
    with Store(db) as store, store.reading() as conn:
        store.require_current(conn)
        locked = _lockout(conn, key, address, now)
        row = None if locked else auth.user_row(conn, name)
    if locked:
        raise _refusal(*locked, name, address, now)
    if auth.verify_password(row, password):  # outside any transaction: argon2 takes a fifth of a second
        assert row is not None  # verify_password refuses a missing user
        who = auth.Principal(row.username, row.role, row.district_code, row.id)
        with Store(db) as store, store.transaction() as conn:
            login_records.forget_failures(conn, key, address)
            accounts.update_user(conn, row.id, last_login_at=now)
            token = auth.open_session(db, who, hours=hours, conn=conn)
            auth.audit(conn, who, "login.success", "user", row.username)
        return who, token
    with Store(db) as store, store.transaction() as conn:
        _record_failure(conn, name, key, address, now)
    raise AuthenticationError(N_("wrong username or password"))


def _record_failure(conn, name: str, key: str, address: str, now: datetime) -> None:
    login_records.record_failure(conn, key, address, now, keep=max(PAIR_WINDOW, ADDRESS_WINDOW, USER_WINDOW))
    stranger = auth.Principal(name or "(empty)", ANONYMOUS)
    auth.audit(conn, stranger, "login.failure", "user", name, None, {"reason": "wrong username or password"})

    def count(window, **who) -> int:
        return login_records.failures_since(conn, now - window, **who)

    checks = (("user_address", count(PAIR_WINDOW, username=key, address=address), PAIR_LIMIT, PAIR_LOCK, key,
               address),
              ("address", count(ADDRESS_WINDOW, address=address), ADDRESS_LIMIT, ADDRESS_LOCK, None, address),
              ("user", count(USER_WINDOW, username=key), USER_LIMIT, USER_LOCK, key, None))
    for scope, failures, limit, lock, user, addr in checks:
        held = login_records.lockout_held(conn, scope, user, addr, now)
        if failures >= limit and not held:  # (a known address may go on failing during a user lock)
            until = now + lock
            login_records.insert_lockout(conn, scope=scope, username=user, address=addr, since=now, until=until)
            auth.audit(conn, stranger, "login.lockout", "user", name, None,
                       {"scope": scope, "failures": failures, "address": addr, "until": until.isoformat()})
