"""The supervision benchmark keeps working (a small scene; the real run is in docs/benchmarks.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


def test_bench_supervision_runs_on_a_small_scene(tmp_path):
    proc = subprocess.run([sys.executable, str(BENCH / "bench_supervision.py"), "--patches", "300", "--projects",
                           "200", "--work", str(tmp_path), "--results", str(tmp_path / "results")],
                          capture_output=True, text=True, cwd=BENCH, timeout=300)
    assert proc.returncode == 0, proc.stderr
    row = json.loads(proc.stdout.strip().splitlines()[-1])
    assert row["classify_agrees"] == row["service_agrees"] == 300
    assert row["compliance_service_s"] > 0 and (tmp_path / "results" / "supervision_300x200_geopackage.json").exists()
