"""benchmarks/validate_terrain.py: skips cleanly without SAGA, and with SAGA reproduces the recorded figures."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "validate_terrain.py"


def test_script_says_why_and_exits_0_without_saga(tmp_path):
    env = {**os.environ, "PATH": str(tmp_path)}  # an empty PATH: no saga_cmd
    proc = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "saga_cmd not found" in proc.stdout and "apt-get install saga" in proc.stdout


@pytest.mark.skipif(shutil.which("saga_cmd") is None, reason="saga_cmd not installed (Debian: apt-get install saga)")
def test_script_with_saga_matches_the_recorded_agreement(tmp_path):
    out = tmp_path / "v.json"
    proc = subprocess.run([sys.executable, str(SCRIPT), "--out", str(out)], capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    res = json.loads(out.read_text())
    assert res["slope_horn"]["equal"] >= 0.999
    assert res["d8_area_edge_rule_matched"]["equal"] >= 0.998
    assert res["slope_length_saga_rule"]["equal_up_to_start_value"] >= 0.99
    assert res["ls_saga_formula_reproduced"]["equal"] >= 0.999
    assert res["s_below_10deg_on_saga_slope"]["equal"] >= 0.999
