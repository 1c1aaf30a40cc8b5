"""Shared fixtures: a fresh database on each backend.

The PostGIS backend runs when ``SHUIBAO_TEST_POSTGIS_URL`` names a server with
the postgis extension (``scripts/check.sh`` starts one); each test gets its own
schema.  With ``SHUIBAO_REQUIRE_POSTGIS=1`` (set in CI) a missing server fails
the run instead of skipping those tests.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest

from shuibao.plan.reference import data_dir, load_reference

POSTGIS_URL = os.environ.get("SHUIBAO_TEST_POSTGIS_URL")
REQUIRE_POSTGIS = os.environ.get("SHUIBAO_REQUIRE_POSTGIS") == "1"


def pytest_configure(config):
    if REQUIRE_POSTGIS and not POSTGIS_URL:
        raise pytest.UsageError("SHUIBAO_REQUIRE_POSTGIS=1 but SHUIBAO_TEST_POSTGIS_URL is not set")


def _postgis_schema_url() -> tuple[str, str]:
    import psycopg
    from sqlalchemy.engine import make_url

    schema = f"t_{uuid.uuid4().hex[:12]}"
    url = make_url(POSTGIS_URL)
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    url = url.update_query_dict({"options": f"-csearch_path={schema},public"})
    return url.render_as_string(hide_password=False), schema


def _drop_schema(schema: str) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    dsn = make_url(POSTGIS_URL).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", pytest.param("postgis", marks=pytest.mark.postgis)])
def db_url(request, tmp_path):
    """A database that does not exist yet (sqlite) or an empty schema (PostGIS)."""
    if request.param == "sqlite":
        yield str(tmp_path / "shuibao.gpkg")
        return
    if not POSTGIS_URL:
        pytest.skip("no PostGIS server: set SHUIBAO_TEST_POSTGIS_URL (scripts/check.sh does)")
    url, schema = _postgis_schema_url()
    try:
        yield url
    finally:
        _drop_schema(schema)


@pytest.fixture
def ref():
    return load_reference()


@pytest.fixture
def data_copy(tmp_path, monkeypatch):
    """A writable copy of the reference data, selected through SHUIBAO_PLAN_DATA."""
    folder = tmp_path / "plan-data"
    shutil.copytree(data_dir(), folder)
    monkeypatch.setenv("SHUIBAO_PLAN_DATA", str(folder))
    return folder


def edit_csv(path: Path, match: dict[str, str], changes: dict[str, str]) -> None:
    """Change the cells of the one row whose columns equal ``match``."""
    import csv

    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        fields = reader.fieldnames
        rows = list(reader)
    hits = [r for r in rows if all(r[k] == v for k, v in match.items())]
    assert len(hits) == 1, f"{match} matched {len(hits)} rows of {path.name}"
    hits[0].update(changes)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fields, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


@pytest.fixture
def sdb(db_url):
    """An initialised store (both backends) without district polygons (fast)."""
    from shuibao.services.platform.database import init

    init(db_url, boundaries=False)
    return db_url


@pytest.fixture(scope="session")
def demo(tmp_path_factory) -> str:
    """The demo's two synthetic runs at 2 km (its database), shared by the report and plan-progress tests."""
    from shuibao.demo.run import run_demo

    out = tmp_path_factory.mktemp("report-demo")
    run_demo(out, resolution_m=2000)
    return str(out / "shuibao.gpkg")


@pytest.fixture(scope="session")
def area(tmp_path_factory) -> Path:
    """Inputs of two years (the second with greener NDVI) and a districts file, in one folder."""
    import numpy as np

    from shuibao.demo.scene import make_scene
    from shuibao.demo.scene_files import write_scene
    from tests.helpers import COLS, ROWS, write_districts_file

    folder = tmp_path_factory.mktemp("area")
    scene = make_scene(ROWS, COLS, seed=3)
    write_scene(scene, folder / "inputs", stations=5, years=(2022, 2023))
    greener = make_scene(ROWS, COLS, seed=3)
    greener.ndvi = np.clip(greener.ndvi + 0.08, -0.2, 0.95).astype(np.float32)
    write_scene(greener, folder / "inputs-2", stations=5, years=(2022, 2023))
    write_districts_file(folder, scene)
    return folder


@pytest.fixture(autouse=True)
def english_messages(monkeypatch):
    """Tests match the English messages: the CLI's and the web's error messages default to English here (the
    tables keep their own language, zh by default); a test of the Chinese rendering sets zh itself
    (tests/test_messages.py).  A test that runs the CLI in a subprocess passes ``--lang en`` where it reads a
    message."""
    from shuibao.cli import common
    from shuibao.web import i18n

    monkeypatch.setattr(common, "ERROR_LANGUAGE", "en")

    monkeypatch.setattr(i18n, "ERROR_LANGUAGE", "en")
