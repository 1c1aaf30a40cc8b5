"""The web load benchmark keeps working (a small store, few clients; the real run is in docs/benchmarks.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


def test_bench_web_runs_on_a_small_store(tmp_path):
    proc = subprocess.run([sys.executable, str(BENCH / "bench_web.py"), "--patches", "300", "--projects", "200",
                           "--clients", "5", "--requests", "2", "--workers", "1", "--work", str(tmp_path),
                           "--results", str(tmp_path / "results")], capture_output=True, text=True, cwd=BENCH,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    row = json.loads(proc.stdout.strip().splitlines()[-1])
    assert row["extent_requests"]["errors"] == 0 and row["extent_requests"]["requests"] == 10
    edits = row["concurrent_edits"]
    assert (edits["steps_added"], edits["lost_writes"], edits["duplicates"]) == (5, 0, 0) and edits["seq_gapless"]
