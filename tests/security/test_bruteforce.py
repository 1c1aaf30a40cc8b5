"""The bounded brute-force run of issue 15: the real server (`shuibao serve`, uvicorn) on 127.0.0.1 against a
temporary database; wrong passwords from 127.0.0.1 until it locks (at most 30 tries, 60 s), the right password
during the lockout refused, and the same users logging in from another address (a socket bound to 127.0.0.2 —
the loopback range) unaffected.  About 10 s: each failure costs one argon2 verification (~0.2 s)."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .accounts_world import PASSWORDS, make_db
from tests.helpers import free_port

PAIR_LIMIT, ADDRESS_LIMIT = 5, 20  # the limits: per name+address, per address
DEADLINE_S = 60.0
MAX_TRIES = 30


def post_login(port: int, user: str, password: str, source: str) -> tuple[int, dict, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source, 0))
    try:
        conn.request("POST", "/api/login", json.dumps({"username": user, "password": password}),
                     {"Content-Type": "application/json"})
        r = conn.getresponse()
        return r.status, dict(r.getheaders()), json.loads(r.read() or b"{}")
    finally:
        conn.close()


@pytest.fixture
def server(tmp_path):
    try:
        socket.create_connection(("127.0.0.1", 9), timeout=0.1, source_address=("127.0.0.2", 0)).close()
    except ConnectionRefusedError:
        pass  # bound fine, nothing listens on 9
    except OSError as exc:
        pytest.skip(f"cannot bind a client socket to 127.0.0.2: {exc}")
    db = make_db(str(tmp_path / "brute.gpkg"))
    port = free_port()
    src = str(Path(__file__).resolve().parents[2] / "src")
    env = dict(os.environ, SHUIBAO_PRELOAD="0", SHUIBAO_LANGUAGE="en", PYTHONPATH=src + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("SHUIBAO_TRUSTED_PROXIES", None)
    log = open(tmp_path / "server.log", "w+")
    proc = subprocess.Popen([sys.executable, "-m", "shuibao.cli.main", "--db", db, "serve", "--host", "127.0.0.1",
                             "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(150):
            probe = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            try:
                probe.request("GET", "/healthz")
                break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail(f"the server stopped: {(tmp_path / 'server.log').read_text()}")
                time.sleep(0.1)
            finally:
                probe.close()
        yield port, tmp_path / "server.log"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def test_bounded_brute_force_gets_locked_out_and_others_are_unaffected(server):
    port, log_path = server
    started, tries, status = time.monotonic(), 0, None
    while tries < MAX_TRIES and time.monotonic() - started < DEADLINE_S:
        status, headers, body = post_login(port, "offa", f"guess-number-{tries:04d}", "127.0.0.1")
        if status == 429:
            break
        assert status == 401, body
        tries += 1
    assert status == 429 and tries == PAIR_LIMIT, (status, tries)
    assert int(headers["retry-after"]) > 0 and "try again" in body["detail"]

    status, headers, body = post_login(port, "offa", PASSWORDS["offa"], "127.0.0.1")
    assert status == 429 and "token" not in body  # the right password during the lockout does not log in
    assert post_login(port, "offa", PASSWORDS["offa"], "127.0.0.2")[0] == 200  # the user from another address

    for i in range(ADDRESS_LIMIT - PAIR_LIMIT):  # other names from the same address
        assert post_login(port, f"someone{i}", "guess-number-x", "127.0.0.1")[0] == 401
    assert post_login(port, "look", PASSWORDS["look"], "127.0.0.1")[0] == 429  # the address is locked
    assert post_login(port, "look", PASSWORDS["look"], "127.0.0.2")[0] == 200
    assert time.monotonic() - started < DEADLINE_S

    time.sleep(0.3)  # the access log is written after each answer
    lines = [line for line in log_path.read_text().splitlines() if '"POST /api/login"' in line]
    assert sum(' 429 ' in line for line in lines) == 3 and sum(' 200 ' in line for line in lines) == 2
    assert all("127.0.0.1" in line or "127.0.0.2" in line for line in lines)
