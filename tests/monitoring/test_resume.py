"""A run killed (SIGKILL) at any point and started again ends with byte-identical outputs.

The kills are triggered by what the run has written so far — the first temporary
file of an output being written, a step's manifest, the GeoPackage being
written — so they land inside a write, between steps and late in the run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from shuibao.services.platform import database
from shuibao.services.monitoring.annual_run import run_monitoring
from shuibao.store import Store, schema

SHUIBAO = [sys.executable, "-m", "shuibao.cli.main"]


def _files(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and p.relative_to(out).parts[0] != ".steps" and p.name != "provenance.json"}


def _run_until(args: list[str], out: Path, trigger, timeout: float = 120.0) -> bool:
    """Start the CLI and SIGKILL it as soon as ``trigger(out)`` holds; False if it finished first."""
    # the with block closes the stderr pipe (an open one is a ResourceWarning, an error under pytest)
    with subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          env={**os.environ, "PYTHONUNBUFFERED": "1"}) as proc:
        deadline = time.monotonic() + timeout
        while proc.poll() is None and time.monotonic() < deadline:
            if out.exists() and trigger(out):
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
                return True
            time.sleep(0.002)
        proc.wait(timeout=timeout)
        assert proc.returncode == 0, proc.stderr.read().decode()
        return False


def _temporary(out: Path) -> bool:
    return any(p.name.startswith(".") and ".tmp" in p.name for p in out.rglob("*"))


def _manifest(name: str):
    return lambda out: (out / ".steps" / f"{name}.json").exists()


def _gpkg_started(out: Path) -> bool:
    return any(".monitoring.gpkg." in p.name for p in out.iterdir())


@pytest.mark.parametrize("triggers", [
    (_temporary, _manifest("zones"), _gpkg_started),
    (_manifest("erosion"), _manifest("counts"), _manifest("tables")),
], ids=["inside-writes", "between-steps"])
def test_killed_and_resumed_run_is_byte_identical(area, write_spec, tmp_path, triggers):
    db = str(tmp_path / "runs.gpkg")
    database.init(db, boundaries=False)
    reference = run_monitoring(write_spec(output=f"ref-{tmp_path.name}"), db)
    expected = _files(reference.output)

    spec = write_spec(output=f"killed-{tmp_path.name}")
    out = area / f"killed-{tmp_path.name}"
    args = SHUIBAO + ["-q", "--db", db, "monitor", "run", str(spec)]
    kills = sum(_run_until(args, out, trigger) for trigger in triggers)
    assert kills >= 2, "the run finished before the kills it was meant to receive"
    proc = subprocess.run(args, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert not _temporary(out), "temporary files of killed writes must be removed"
    got = _files(out)
    assert sorted(got) == sorted(expected)
    for rel, data in expected.items():
        assert got[rel] == data, f"{rel} differs after kill and resume"
    prov = json.loads((out / "provenance.json").read_text(encoding="utf-8"))
    assert prov["steps"]["erosion"]["reused"] is True, "the finished erosion step must be reused"
    with Store(db) as store, store.reading() as conn:
        t = schema.monitoring_runs
        assert conn.execute(select(func.count()).select_from(t)).scalar() == 2  # the reference and this run
        keys = {r.output_dir for r in conn.execute(select(t.c.output_dir))}
        assert str(out) in keys
