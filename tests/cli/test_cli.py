"""The command line: output formats, exit codes, one-line errors."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys

import pytest

from shuibao.store.migrations import LATEST
from shuibao import __version__
from shuibao.cli.main import run

SHUIBAO = [sys.executable, "-m", "shuibao.cli.main"]
SHUIBAO_EN = SHUIBAO + ["--lang", "en"]  # where a test reads an error message (Chinese by default)


def _run(capsys, *args):
    code = run(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_version(capsys):
    code, out, _ = _run(capsys, "--version")
    assert code == 0 and out.strip() == f"shuibao {__version__}"


def test_rates_csv_has_the_documented_columns_and_plan_values(capsys):
    code, out, _ = _run(capsys, "plan", "rates", "--format", "csv")
    assert code == 0 and out.startswith("\ufeff")  # a BOM, as every CSV Shuibao writes (Excel on Chinese Windows)
    rows = list(csv.DictReader(io.StringIO(out.removeprefix("\ufeff"))))
    assert list(rows[0]) == ["unit", "level", "total_km2", "slight_km2", "rate_2020_pct", "target_2025_pct",
                             "gap_pp", "gap_km2"]
    by_unit = {r["unit"]: r for r in rows}
    assert (by_unit["全市"]["rate_2020_pct"], by_unit["全市"]["target_2025_pct"]) == ("69.48", "72.23")
    assert by_unit["全市"]["level"] == "city" and by_unit["三峡库区"]["level"] == "three_gorges"
    assert [r["level"] for r in rows].count("district") == 39
    assert [r["level"] for r in rows].count("region") == 3


def test_audit_json_exits_zero_with_summary(capsys):
    code, out, _ = _run(capsys, "plan", "audit", "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["summary"]["inconsistent"] == len([f for f in doc["findings"] if f["status"] == "inconsistent"]) > 0
    finding = doc["findings"][0]
    assert set(finding) == {"rule", "table", "row", "column", "stated", "derived", "status", "detail"}


def test_audit_table_ends_with_a_summary(capsys):
    code, out, _ = _run(capsys, "plan", "audit")
    assert code == 0
    assert "inconsistent" in out.splitlines()[-1] and "checks" in out.splitlines()[-1]
    assert "丰都区" in out


def test_boundaries_json(capsys):
    code, out, _ = _run(capsys, "plan", "boundaries", "--format", "json")
    doc = json.loads(out)
    assert code == 0 and doc["summary"]["matched_polygons"] == 38
    assert abs(doc["summary"]["total_deviation_pct"]) < 0.5


def test_db_init_and_status(capsys, tmp_path):
    db = str(tmp_path / "x.gpkg")
    code, out, _ = _run(capsys, "--db", db, "db", "init")
    assert code == 0 and "districts 39" in out
    code, out, _ = _run(capsys, "--db", db, "db", "status")
    assert code == 0 and f"schema version: {LATEST}" in out and "pending migrations: none" in out


def test_db_from_environment(capsys, tmp_path, monkeypatch):
    db = tmp_path / "env.gpkg"
    monkeypatch.setenv("SHUIBAO_DB", str(db))
    assert _run(capsys, "-q", "db", "init")[0] == 0
    assert db.exists()


@pytest.mark.parametrize("args, message", [
    (["--db", "/no/such/folder/x.gpkg", "db", "init"], "folder /no/such/folder does not exist"),
    (["--db", "missing.gpkg", "db", "status"], "database does not exist"),
    (["--db", "mysql://u@h/d", "db", "status"], "unsupported database"),
    (["plan", "district", "丰都区"], "unknown district '丰都区'"),
])
def test_errors_are_one_line_with_exit_code_2(args, message, tmp_path):
    proc = subprocess.run(SHUIBAO_EN + args, capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("error: ") and message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_verbose_shows_the_traceback(tmp_path):
    proc = subprocess.run(SHUIBAO + ["-v", "--db", "missing.gpkg", "db", "status"], capture_output=True,
                          text=True, cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" in proc.stderr


def test_malformed_reference_file_is_exit_2(tmp_path, data_copy):
    (data_copy / "regions.csv").write_text("code,seq\nmetro,x\n", encoding="utf-8")
    proc = subprocess.run(SHUIBAO_EN + ["plan", "rates"], capture_output=True, text=True, cwd=tmp_path,
                          env={**os.environ, "SHUIBAO_PLAN_DATA": str(data_copy)})
    assert proc.returncode == 2 and "regions.csv" in proc.stderr and "missing column" in proc.stderr


def test_usage_error_is_exit_2(capsys):
    code, _, err = _run(capsys, "plan", "rates", "--format", "xml")
    assert code == 2 and "xml" in err


def test_district_by_adcode(capsys):
    code, out, _ = _run(capsys, "plan", "district", "500240", "--format", "json")
    doc = json.loads(out)
    assert code == 0 and doc["name"] == "石柱县" and doc["full_name"] == "石柱土家族自治县"
    assert doc["target_2025_pct"] == "87.00" and doc["three_gorges"] is True


def test_wansheng_shows_both_printed_rates(capsys):
    code, out, _ = _run(capsys, "plan", "district", "万盛经开区", "-f", "json")
    doc = json.loads(out)
    assert (doc["rate_2020_pct"], doc["rate_2020_pct_schedule2"]) == ("85.56", "79.70")
    assert doc["parent"] == "綦江区" and doc["adcode"] is None


def test_serve_without_the_web_extra_says_which_extra_to_install(capsys, monkeypatch, tmp_path):
    import sys

    monkeypatch.setitem(sys.modules, "uvicorn", None)  # as if `pip install shuibao` had no web extra
    code, _, err = _run(capsys, "--db", str(tmp_path / "x.gpkg"), "serve")
    assert code == 2 and "uvicorn is missing" in err and ".[web]" in err
