"""The benchmark scripts keep working (tiny grid; the real runs are recorded in docs/benchmarks.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


def test_bench_engine_runs_on_a_tiny_grid(tmp_path):
    proc = subprocess.run([sys.executable, str(BENCH / "bench_engine.py"), "--sizes", "64", "--work", str(tmp_path),
                           "--results", str(tmp_path / "results")], capture_output=True, text=True, cwd=BENCH,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    row = json.loads(proc.stdout.splitlines()[0])
    assert row["grid"] == "64²" and row["CSLE run s"] > 0 and row["fill+d8+acc s"] >= 0
    assert (tmp_path / "results" / "engine_64.json").exists()


def test_bench_monitoring_runs_on_a_coarse_grid(tmp_path):
    proc = subprocess.run([sys.executable, str(BENCH / "bench_monitoring.py"), "--resolution", "3000", "--work",
                           str(tmp_path), "--results", str(tmp_path / "results")], capture_output=True, text=True,
                          cwd=BENCH, timeout=600)
    assert proc.returncode == 0, proc.stderr
    row = json.loads(proc.stdout.strip().splitlines()[-1])
    assert row["cells_with_data"] > 5000 and row["wall_s"] > 0 and row["peak_rss_mib"] > 0
    assert set(row["steps_s"]) >= {"validate", "erosion", "watersheds", "counts", "tables", "vectors"}
