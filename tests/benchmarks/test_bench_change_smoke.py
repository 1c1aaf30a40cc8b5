"""The change-detection benchmark keeps working (tiny scene; the real runs are in docs/change-detection.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


def test_bench_change_runs_on_a_small_scene(tmp_path):
    proc = subprocess.run([sys.executable, str(BENCH / "bench_change.py"), "--size", "300", "--work", str(tmp_path),
                           "--results", str(tmp_path / "results")], capture_output=True, text=True, cwd=BENCH,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    row = json.loads(proc.stdout.strip().splitlines()[-1])
    assert row["grid"] == "300²" and row["planted"] >= 10 and row["detections"] > 0
    assert 0 <= row["precision"] <= 1 and 0 <= row["recall"] <= 1 and row["detect_s"] > 0 and row["peak_rss_mib"] > 0
    assert (tmp_path / "results" / "change_300.json").exists()
    assert (tmp_path / "300_0" / "patches.gpkg").exists()
