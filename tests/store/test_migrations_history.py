"""The frozen migrations create what each migration created when it was released (docs/adr/0010-frozen-migrations.md).

For each release commit a database is made with that commit's own code (``git archive`` into a temporary folder,
run in a subprocess) and compared with the frozen migrations' database at the same version; then it is upgraded by
this code and compared with a fresh database.  Opt-in (``SHUIBAO_TEST_MIGRATION_HISTORY=1``): it needs the git
history and runs old code.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from shuibao.store import Store

from . import test_migrations_frozen as frozen_test
from .test_migrations_frozen import _pg_shape, _sqlite_shape, differences, fresh

databases = frozen_test.databases  # the same fixture: SQLite and PostGIS

ROOT = Path(__file__).resolve().parents[2]
RELEASES = [("913b5ae", 1), ("7a05112", 2), ("4a611da", 3), ("826b547", 4), ("c4260d9", 5), ("3fcf33f", 6),
            ("f3dc429", 7), ("10c480f", 7), ("1e54077", 7)]
"""Commit and the version its code creates.  f3dc429 came from a line of work without migration 6 (merged later);
10c480f is the last code that built every table from the live schema; 1e54077 the last before migration 8, whose
fresh databases came from ``store/latest.py``."""

MAKE = "import sys\nfrom shuibao.store import Store\nwith Store(sys.argv[1], create=True) as s:\n    s.upgrade()\n"

pytestmark = pytest.mark.skipif(os.environ.get("SHUIBAO_TEST_MIGRATION_HISTORY") != "1",
                                reason="set SHUIBAO_TEST_MIGRATION_HISTORY=1 (needs the git history)")


def _shape(url: str) -> dict:
    with Store(url) as store, store.reading() as conn:
        out = _pg_shape(conn) if store.backend == "postgresql" else _sqlite_shape(conn)
        out["versions"] = [tuple(r) for r in conn.exec_driver_sql(
            "SELECT version, name FROM schema_migrations ORDER BY version")]
    return out


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    def extract(commit: str) -> Path:
        folder = tmp_path_factory.getbasetemp() / f"src-{commit}"
        if not folder.exists():
            folder.mkdir()
            archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit, "src"], capture_output=True)
            if archive.returncode:
                pytest.skip(f"commit {commit} is not in this checkout's history")
            subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)
        return folder / "src"
    return extract


@pytest.mark.parametrize(("commit", "version"), RELEASES)
def test_a_release_database_is_the_frozen_one_and_upgrades_to_the_fresh_one(databases, sources, commit, version):
    old = databases.new()
    subprocess.run([sys.executable, "-c", MAKE, old], env={**os.environ, "PYTHONPATH": str(sources(commit))},
                   check=True, capture_output=True)
    frozen = databases.new()
    with Store(frozen, create=True) as store:
        store.upgrade(to=version)
    released = _shape(old)
    frozen_shape = _shape(frozen)
    if commit == "f3dc429":  # its line had no migration 6: the column came from the live schema
        assert [v for v, _ in released["versions"]] == [1, 2, 3, 4, 5, 7]
    else:
        assert differences(released, frozen_shape) == []
    with Store(old) as store:
        store.upgrade()
    assert differences(_shape(fresh(databases)), _shape(old)) == []
