"""Plan indicators against the records: the rate from the stored run, unrecorded quantities say so."""

from __future__ import annotations

import csv
import io
import subprocess
import sys

from shuibao.plan.reference import load_reference
from shuibao.services.platform import database
from shuibao.services.monitoring.runs import get_run
from shuibao.services.assessment.plan_progress import NO_RECORDS, plan_progress

SHUIBAO = [sys.executable, "-m", "shuibao.cli.main"]


def test_the_rate_comes_from_the_run_and_the_rest_say_no_records(demo):
    rows = plan_progress(demo, "latest")
    ref = load_reference()
    assert len(rows) == len(ref.indicators) + len(ref.governance) + len({(s.item, s.kind) for s in ref.stations})
    rate = next(r for r in rows if r["key"] == "conservation_rate")
    city = next(u for u in get_run(demo, "latest")["units"] if u["level"] == "city")
    # one value for one target: 附表2's 全市 72.23 % (专栏1 rounds it to 72.2), as the run (and the dashboard) has it
    assert rate["value"] == round(city["rate_pct"], 2) and rate["target_2025"] == 72.23 == round(city["target_2025_pct"], 2)
    assert rate["status_2020"] == 69.48  # 附表1 全市
    assert rate["status"] == ("已达到" if city["gap_pp"] <= 0 else f"未达到（差 {city['gap_pp']:.2f} 个百分点）")
    assert "#2" in rate["evidence"] and "SYNTHETIC" in rate["evidence"]
    # the demo's treatment patches fill 专栏3 and 专栏1's treatment areas from the progress of the patches
    from shuibao.services.governance.treatment import progress

    kinds = {k["key"]: k for k in progress(demo, year=2025)["by_kind"]}
    for r in rows:
        if r["key"] in kinds and kinds[r["key"]]["patches"]:
            assert r["value"] == round(kinds[r["key"]]["done"], 2) and "治理图斑" in r["evidence"]
        elif r["key"] in kinds:
            assert r["value"] is None and r["status"] == NO_RECORDS  # e.g. demonstration parks: none recorded
    new = next(r for r in rows if r["key"] == "new_treatment_area")
    assert new["value"] == round(sum(k["done"] for k in kinds.values()
                                     if k["counts_toward_new_treatment"] and k["unit"] == "km2"), 2)
    stations = next(r for r in rows if r["source"] == "专栏4")
    assert stations["target_2025"] == sum(s.count for s in ref.stations if s.kind == stations["key"])
    assert stations["value"] == 0.0 and "规划站点 9 个" in stations["evidence"]  # registered, none operating


def test_an_empty_store_says_no_records_everywhere(tmp_path):
    db = str(tmp_path / "empty.gpkg")
    database.init(db, boundaries=False)
    rows = plan_progress(db)
    assert all(r["value"] is None and r["status"] == NO_RECORDS for r in rows)


def test_without_a_run_the_rate_says_why(tmp_path):
    db = str(tmp_path / "empty.gpkg")
    database.init(db)
    rate = next(r for r in plan_progress(db) if r["key"] == "conservation_rate")
    assert rate["value"] is None and rate["status"] == NO_RECORDS and "no monitoring run" in rate["evidence"]


def test_cli_csv(demo):
    proc = subprocess.run(SHUIBAO + ["--db", demo, "report", "plan-progress", "--format", "csv"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(proc.stdout.removeprefix("\ufeff"))))
    assert rows[0]["key"] == "conservation_rate" and rows[0]["value"] != ""
    assert {r["key"] for r in rows if r["value"] == ""} >= {"demonstration_parks", "eco_clean_watersheds"}
