"""Run specs over the small synthetic study area (the area itself: the `area` fixture, tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from shuibao.services.platform import database
from tests.helpers import spec_text


@pytest.fixture
def write_spec(area):
    """Write a spec beside the inputs; returns its path."""
    counter = iter(range(10_000))

    def write(**kw) -> Path:
        path = area / f"spec-{next(counter)}-{kw.get('output', 'out').replace('/', '_')}.toml"
        path.write_text(spec_text(**kw), encoding="utf-8")
        return path
    return write


@pytest.fixture
def empty_db(tmp_path) -> str:
    """A current schema without boundaries (the tests' districts come from a file)."""
    db = str(tmp_path / "runs.gpkg")
    database.init(db, boundaries=False)
    return db
