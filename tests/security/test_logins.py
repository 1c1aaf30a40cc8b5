"""M3: login throttling with lockouts stored in the database, constant-time answers, the password policy.

Every test here failed on the code before the fix: no 429 was ever answered (266 wrong passwords in 45 s, then the
right one worked), unknown users skipped argon2 (36 ms against 204 ms), and `12345678` was a valid password."""

from __future__ import annotations

import statistics
import time
from datetime import timedelta

import pytest

from shuibao.errors import InputError
from shuibao.services.platform import auth
from shuibao.web import Settings

from .accounts_world import PASSWORDS, clients, login, make_db

PAIR_LIMIT, ADDRESS_LIMIT, LOCK_S = 5, 20, 15 * 60  # the limits: 5 per name+address, 20 per address


@pytest.fixture
def db(tmp_path):
    return make_db(str(tmp_path / "logins.gpkg"))


def test_five_failures_lock_the_name_from_that_address_even_for_the_right_password(db):
    here, there = clients(db, "127.0.0.1", "127.0.0.2")
    for _ in range(PAIR_LIMIT):
        assert login(here, "offa", "wrong-password-guess").status_code == 401
    r = login(here, "offa")  # the right password
    assert r.status_code == 429, r.text
    assert 0 < int(r.headers["Retry-After"]) <= LOCK_S
    assert "try again in 15 minute(s)" in r.json()["detail"] and "even with the right password" in r.json()["detail"]
    assert "token" not in r.json() and "set-cookie" not in r.headers
    assert login(there, "offa").status_code == 200  # the same user from another address is not affected
    assert login(here, "admin").status_code == 200  # nor another user from this address


def test_the_lock_ends_after_its_window(db, monkeypatch):
    from shuibao.services.platform import logins

    here, = clients(db, "127.0.0.1")
    for _ in range(PAIR_LIMIT):
        login(here, "offa", "wrong-password-guess")
    assert login(here, "offa").status_code == 429
    later = logins._now() + timedelta(seconds=LOCK_S + 1)
    monkeypatch.setattr(logins, "_now", lambda: later)
    assert login(here, "offa").status_code == 200


def test_an_address_trying_many_names_is_locked_for_every_name(db):
    here, there = clients(db, "127.0.0.1", "127.0.0.2")
    for i in range(ADDRESS_LIMIT):  # unknown names too: each costs a verification and counts
        assert login(here, f"guess{i}", "wrong-password-guess").status_code == 401
    r = login(here, "look")
    assert r.status_code == 429 and "from 127.0.0.1" in r.json()["detail"]
    assert login(there, "look").status_code == 200


def test_forwarded_for_counts_only_behind_a_trusted_proxy(db):
    proxy, stranger = clients(db, "127.0.0.1", "127.0.0.3", trusted_proxies="127.0.0.1")
    for _ in range(PAIR_LIMIT):
        login(proxy, "offa", "wrong-password-guess", headers={"X-Forwarded-For": "10.1.1.1"})
    assert login(proxy, "offa", headers={"X-Forwarded-For": "10.1.1.1"}).status_code == 429
    assert login(proxy, "offa", headers={"X-Forwarded-For": "10.2.2.2"}).status_code == 200  # another person
    for i in range(PAIR_LIMIT):  # not a proxy: a forged header changes nothing
        login(stranger, "look", "wrong-password-guess", headers={"X-Forwarded-For": f"10.9.9.{i}"})
    assert login(stranger, "look", headers={"X-Forwarded-For": "10.8.8.8"}).status_code == 429


def test_a_name_guessed_from_many_addresses_is_locked_except_where_its_user_logs_in(db, monkeypatch):
    from shuibao.services.platform import logins

    monkeypatch.setattr(logins, "USER_LIMIT", 6)  # the rule, at a size a test can reach (100 in service)
    proxy, = clients(db, "127.0.0.1", trusted_proxies="127.0.0.1")
    via = lambda address: {"headers": {"X-Forwarded-For": address}}  # noqa: E731
    assert login(proxy, "offa", **via("10.0.0.9")).status_code == 200  # the user's own desk
    for i in range(6):
        login(proxy, "offa", "wrong-password-guess", **via(f"10.0.1.{i % 3}"))
    r = login(proxy, "offa", **via("10.0.2.1"))
    assert r.status_code == 429 and "for 'offa'" in r.json()["detail"]
    assert login(proxy, "offa", **via("10.0.0.9")).status_code == 200


def test_unknown_and_inactive_users_cost_the_same_argon2_verification(db, monkeypatch):
    auth.set_active(db, "insp", False)
    verified = []
    real = auth._hasher()

    class Counting:
        def verify(self, hashed, password):
            verified.append(hashed)
            return real.verify(hashed, password)

        def hash(self, password):
            return real.hash(password)

    here, = clients(db, "127.0.0.1")
    times = {}
    for name in ("offa", "nobody-here", "insp"):
        spent = []
        for _ in range(2):
            monkeypatch.setattr(auth, "_hasher", lambda: Counting())
            started = time.perf_counter()
            assert login(here, name, "wrong-password-guess").status_code == 401
            spent.append(time.perf_counter() - started)
        times[name] = statistics.median(spent)
    assert len(verified) == 6 and all(h.startswith("$argon2id$") for h in verified)
    # the same work shows in the time (the review measured 204 against 36 ms); loose against a busy machine
    assert times["nobody-here"] > 0.5 * times["offa"] and times["insp"] > 0.5 * times["offa"]
    assert login(here, "insp", PASSWORDS["insp"]).status_code == 401  # inactive: even the right password


@pytest.mark.parametrize("password, reason", [
    ("12345678", "at least 15 characters"),
    ("aaaaaaaaaaaaaaaaaaaa", "too few characters"),
    ("                    ", "only spaces"),
    ("weak3weak3weak3weak3", "user name"),
    ("my-WEAK3-password-1", "user name"),
    ("qwertyuiopasdfghjkl", "commonly used"),
    ("Password2024!!!!!!", "commonly used"),
    ("shuibao-login-2026", "platform's name"),
])
def test_weak_passwords_are_refused_with_the_reason(password, reason):
    from shuibao.services.platform import passwords

    assert any(reason in p for p in passwords.problems(password, "weak3")), passwords.problems(password, "weak3")


def test_creating_or_resetting_applies_the_policy(db):
    with pytest.raises(InputError, match="at least 15 characters"):  # was accepted for a city administrator
        auth.create_user(db, "weak3", "12345678", "city_admin")
    with pytest.raises(InputError, match="user name"):
        auth.set_password(db, "look", "Look-Look-Look-2026")
    with pytest.raises(InputError, match="commonly used"):
        auth.set_password(db, "look", "Password2024!!!!!!")
    assert "weak3" not in {u["username"] for u in auth.list_users(db)}


def test_user_names_are_trimmed_and_checked(db):
    with pytest.raises(InputError, match="'offa' is taken"):
        auth.create_user(db, " offa", "a-fresh-river-stone-7", "viewer")  # was a raw UNIQUE constraint error
    with pytest.raises(InputError, match="'OFFA' is taken"):
        auth.create_user(db, "OFFA", "a-fresh-river-stone-7", "viewer")
    with pytest.raises(InputError, match="no spaces"):
        auth.create_user(db, "two words", "a-fresh-river-stone-7", "viewer")
    auth.create_user(db, " newcomer ", "a-fresh-river-stone-7", "viewer")
    assert "newcomer" in {u["username"] for u in auth.list_users(db)}


def test_trusted_proxies_are_read_and_checked_from_the_environment():
    assert Settings.from_env({"SHUIBAO_TRUSTED_PROXIES": "10.0.0.1, 192.168.0.0/16"}).proxies()[1].prefixlen == 16
    with pytest.raises(InputError, match="SHUIBAO_TRUSTED_PROXIES: 'proxy.local' is not an address"):
        Settings.from_env({"SHUIBAO_TRUSTED_PROXIES": "proxy.local"})
