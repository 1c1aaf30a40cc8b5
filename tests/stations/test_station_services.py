"""Station services on both backends: registry, observation import with QC, summaries, rain export."""

from __future__ import annotations

import csv
import json
from datetime import date, timedelta

import numpy as np
import pytest
import typer
from sqlalchemy import func, select
from typer.testing import CliRunner

from shuibao.cli import stations as stations_cli
from shuibao.cli.common import State
from shuibao.erosion.inputs import read_daily_rain, station_erosivity
from shuibao.erosion.tables import r_model
from shuibao.errors import InputError
from shuibao.services.stations import records as svc
from shuibao.store import Store, schema
from tests.helpers import STATIONS, write_csv

def counts(db) -> dict:
    with Store(db) as store, store.reading() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar()
                for t in (schema.stations, schema.station_observations, schema.supervision_imports)}


def stored(db, code: str, variable: str = "rain_mm") -> dict:
    t, o = schema.stations, schema.station_observations
    with Store(db) as store, store.reading() as conn:
        q = (select(o.c.obs_date, o.c.value, o.c.flag, o.c.flag_note, o.c.source_row).join(t, t.c.id == o.c.station_id)
             .where(t.c.code == code, o.c.variable == variable))
        return {r.obs_date: r for r in conn.execute(q)}


@pytest.fixture
def registered(sdb, tmp_path):
    svc.import_stations(sdb, write_csv(tmp_path / "stations.csv", STATIONS), actor="tester")
    return sdb


# --------------------------------------------------------------------------- registry
def test_import_stations_creates_and_updates(sdb, tmp_path):
    r = svc.import_stations(sdb, write_csv(tmp_path / "s.csv", STATIONS), actor="tester")
    assert (r["rows"], r["created"], r["updated"], r["unchanged"]) == (3, 3, 0, 0)
    rows = {s["code"]: s for s in svc.list_stations(sdb)}
    assert (rows["S1"]["kind"], rows["S1"]["district_code"], rows["S1"]["status"]) == ("rain_gauge", "beibei",
                                                                                       "operating")
    assert rows["S3"]["kind"] == "comprehensive" and rows["S1"]["elevation_m"] == 250.0
    changed = [dict(STATIONS[0], name="北碚雨量站（新）", status="closed", established_on="2001-05-01")]
    r = svc.import_stations(sdb, write_csv(tmp_path / "s2.csv", changed + STATIONS[1:]), actor="tester")
    assert (r["created"], r["updated"], r["unchanged"]) == (0, 1, 2)
    s1 = {s["code"]: s for s in svc.list_stations(sdb)}["S1"]
    assert (s1["name"], s1["status"], s1["established_on"]) == ("北碚雨量站（新）", "closed", date(2001, 5, 1))
    assert counts(sdb)["supervision_imports"] == 2


def test_bad_station_file_reports_every_row_and_stores_nothing(sdb, tmp_path):
    bad = [STATIONS[0],
           dict(STATIONS[1], lon="104.5"),  # west of Chongqing
           dict(STATIONS[2], kind="气象站", district="成都市"),
           dict(STATIONS[0], name="again"),  # S1 twice
           dict(code="S9", name="x", kind="水文站", district="万州区", lon="108.4", lat="30.8",
                established_on="yesterday")]
    with pytest.raises(InputError) as err:
        svc.import_stations(sdb, write_csv(tmp_path / "bad.csv", bad), actor="tester")
    msg = str(err.value)
    assert "nothing was imported" in msg and "4 of 5 row(s)" in msg
    for part in ("row 3 (S2): lon: 104.5 is outside 105…110.5", "row 4 (S3): kind: '气象站'",
                 "district: '成都市'", "row 5 (S1): code: 'S1' is also in row 2", "row 6 (S9): established_on"):
        assert part in msg, part
    assert counts(sdb) == {"stations": 0, "station_observations": 0, "supervision_imports": 0}
    with pytest.raises(InputError, match="missing field 'lat'"):
        svc.import_stations(sdb, write_csv(tmp_path / "cols.csv", [{"code": "A", "name": "a", "kind": "雨量站",
                                                                   "district": "北碚区", "lon": "106"}]))


def test_planned_stations_of_column4(sdb):
    assert svc.register_planned_stations(sdb) == 9
    assert svc.register_planned_stations(sdb) == 0  # idempotent
    rows = {s["code"]: s for s in svc.list_stations(sdb)}
    s = rows["PLAN-01-wushan-1"]
    assert (s["kind"], s["status"], s["plan_item"], s["district_code"], s["lon"]) == (
        "comprehensive", "planned", "专栏4-01", "wushan", None)
    assert s["name"] == "巫山小流域综合监测站（规划）"
    assert sorted(c for c in rows if c.startswith("PLAN-")) == sorted(
        f"PLAN-01-{d}-1" for d in ("wushan", "fengjie", "yunyang", "kaizhou", "zhongxian", "fuling", "yongchuan",
                                   "hechuan", "wansheng"))


# --------------------------------------------------------------------------- observations
def hand_rows() -> list[dict]:
    """S1: the erosivity hand example (test_erosivity) plus two bad values; S2: three wet days and a blank."""
    s1 = [("2024-03-10", "20"), ("2024-03-11", "11.9"), ("2024-03-12", "-1"), ("2024-06-20", "40"),
          ("2024-06-21", "300"), ("2024-08-15", "5"), ("2024-08-16", "12.0")]
    s2 = [("2024-07-01", "50.0"), ("2024-07-02", "49.9"), ("2024-07-03", "120"), ("2024-07-04", "")]
    return [{"station": "S1", "date": d, "rain_mm": v} for d, v in s1] + \
           [{"station": "S2", "date": d, "rain_mm": v} for d, v in s2]


def test_observations_are_stored_with_flags_and_gaps(registered, tmp_path):
    rows = hand_rows() + [{"station": "S2", "date": "2024-07-02", "rain_mm": "7"}]  # a duplicate date
    r = svc.import_observations(registered, write_csv(tmp_path / "obs.csv", rows), report=tmp_path / "rep.csv",
                                actor="tester")
    # S1 spans 10 Mar – 16 Aug (160 days) with records on 7 of them: 153 gap days
    assert r["counts"] == {"ok": 8, "missing": 1, "negative": 1, "impossible": 0, "spike": 1, "duplicate": 1,
                           "gap": 153}
    assert (r["rows"], r["stations"], r["filled_gaps"]) == (12, 2, 0)
    s1 = stored(registered, "S1")
    assert len(s1) == 160
    assert (s1[date(2024, 3, 12)].value, s1[date(2024, 3, 12)].flag) == (-1.0, "negative")  # kept, flagged
    assert (s1[date(2024, 6, 21)].value, s1[date(2024, 6, 21)].flag) == (300.0, "spike")
    assert (s1[date(2024, 5, 1)].value, s1[date(2024, 5, 1)].flag, s1[date(2024, 5, 1)].source_row) == (None, "gap",
                                                                                                       None)
    s2 = stored(registered, "S2")
    assert (s2[date(2024, 7, 2)].value, s2[date(2024, 7, 2)].flag) == (49.9, "ok")  # the first record is kept
    assert "duplicate record in row 13 (7) not stored" in s2[date(2024, 7, 2)].flag_note
    assert (s2[date(2024, 7, 4)].value, s2[date(2024, 7, 4)].flag) == (None, "missing")
    report = list(csv.DictReader((tmp_path / "rep.csv").read_text(encoding="utf-8-sig").splitlines()))
    assert {(x["row"], x["status"]) for x in report} == {("4", "negative"), ("6", "spike"), ("12", "missing"),
                                                         ("13", "duplicate")}
    qc = svc.qc_report(registered, station="S2", year=2024)
    assert [(x["date"], x["flag"]) for x in qc] == [(date(2024, 7, 2), "duplicate"), (date(2024, 7, 4), "missing")]
    assert len(svc.qc_report(registered)) == 153 + 4 and svc.qc_report(registered, year=2023) == []
    with pytest.raises(InputError, match="not registered"):
        svc.qc_report(registered, station="nope")


def test_annual_summary_matches_hand_counts(registered, tmp_path):
    svc.import_observations(registered, write_csv(tmp_path / "obs.csv", hand_rows()), actor="tester")
    rows = {r["station"]: r for r in svc.annual_summary(registered, 2024)}
    s1, s2 = rows["S1"], rows["S2"]
    assert (s1["days_in_year"], s1["days_ok"], s1["gaps"], s1["flagged"], s1["no_record"]) == (366, 5, 153, 2, 206)
    assert s1["total"] == pytest.approx(20 + 11.9 + 40 + 5 + 12) and s1["max_daily"] == 40.0
    assert s1["days_ge_50"] == 0 and s1["completeness"] == pytest.approx(5 / 366) and s1["complete"] is False
    # the hand example of test_erosivity: the negative and the spike day stay out of R
    beta = 0.8363 + 18.144 / 24 + 24.455 / 72
    r_hand = 21.586 * beta ** -7.1891 * (20 ** beta + 40 ** beta + 12 ** beta)
    assert s1["r"] == pytest.approx(r_hand, rel=1e-12) and s1["r"] == pytest.approx(321.130, abs=5e-4)
    assert s1["erosive_days"] == 3 and s1["r_unit"] == "MJ·mm/(hm²·h·a)"
    assert (s2["days_ok"], s2["gaps"], s2["flagged"], s2["days_ge_50"], s2["max_daily"]) == (3, 0, 1, 2, 120.0)
    assert s2["total"] == pytest.approx(219.9)
    assert "S3" not in rows and svc.annual_summary(registered, 2023) == []


def test_bad_observation_file_stores_nothing(registered, tmp_path):
    before = counts(registered)
    rows = hand_rows() + [{"station": "S7", "date": "2024-07-05", "rain_mm": "1"},
                          {"station": "S2", "date": "2024-13-01", "rain_mm": "1"},
                          {"station": "S2", "date": "2024-07-06", "rain_mm": "1,5"}]
    with pytest.raises(InputError) as err:
        svc.import_observations(registered, write_csv(tmp_path / "bad.csv", rows), report=tmp_path / "rep.csv")
    msg = str(err.value)
    assert "nothing was imported" in msg and "3 of 14 row(s)" in msg
    for part in ("row 13 (S7 2024-07-05): station: 'S7'", "row 14 (S2 2024-13-01): date",
                 "row 15 (S2 2024-07-06): rain_mm: '1,5' is not a number"):
        assert part in msg, part
    assert counts(registered) == before
    assert {x["status"] for x in csv.DictReader((tmp_path / "rep.csv").read_text(encoding="utf-8-sig").splitlines())} >= {"rejected"}
    with pytest.raises(InputError, match="missing field 'date'"):
        svc.import_observations(registered, write_csv(tmp_path / "c.csv", [{"station": "S1", "day": "2024-01-01",
                                                                             "value": "1"}]))
    assert counts(registered) == before


def test_reimport_is_a_conflict_and_gaps_are_filled(registered, tmp_path):
    first = [{"站码": "S1", "日期": f"2024-01-0{d}", "降雨量": "1.0"} for d in (1, 2, 3, 7, 8)]
    r = svc.import_observations(registered, write_csv(tmp_path / "a.csv", first))
    assert r["counts"]["gap"] == 3
    before = counts(registered)
    again = [{"station": "S1", "date": "2024/01/03", "value": "2.0"}, {"station": "S1", "date": "2024-01-05",
                                                                       "value": "4.0"}]
    with pytest.raises(InputError) as err:
        svc.import_observations(registered, write_csv(tmp_path / "b.csv", again))
    assert "nothing was imported" in str(err.value) and "already stored" in str(err.value)
    assert "a re-import replaces nothing" in str(err.value)
    assert counts(registered) == before and stored(registered, "S1")[date(2024, 1, 5)].flag == "gap"
    r = svc.import_observations(registered, write_csv(tmp_path / "c.csv", again[1:]))  # a stored gap is filled
    assert r["filled_gaps"] == 1 and r["counts"]["gap"] == 0
    s1 = stored(registered, "S1")
    assert (s1[date(2024, 1, 5)].value, s1[date(2024, 1, 5)].flag) == (4.0, "ok") and len(s1) == 8
    # a later file beyond the stored span: the days between become gaps
    r = svc.import_observations(registered, write_csv(tmp_path / "d.csv", [{"station": "S1", "date": "2024-01-12",
                                                                             "value": "0"}]))
    assert r["counts"]["gap"] == 3 and len(stored(registered, "S1")) == 12


def test_lineage_of_an_observation_import(registered, tmp_path):
    r = svc.import_observations(registered, write_csv(tmp_path / "obs.csv", hand_rows()), actor="tester")
    with Store(registered) as store, store.reading() as conn:
        imp = conn.execute(select(schema.supervision_imports).where(
            schema.supervision_imports.c.id == r["import_id"])).one()
    assert (imp.kind, imp.layer, imp.features, imp.recorded_by) == ("observations", "rain_mm", 11, "tester")
    assert imp.period == "2024-03-10/2024-08-16" and len(imp.source_sha256) == 64
    assert {x["status"] for x in json.loads(imp.report_json)} == {"negative", "spike", "missing"}


# --------------------------------------------------------------------------- export to the monitoring run
def test_export_rain_round_trips_through_the_monitoring_reader(registered, tmp_path):
    rng = np.random.default_rng(3)
    rows = []
    for code in ("S1", "S3"):
        for i in range(365):
            d = date(2023, 1, 1) + timedelta(days=i)
            rows.append({"station": code, "date": d.isoformat(), "rain_mm": f"{rng.gamma(0.5, 14.0):.1f}"})
    rows[40]["rain_mm"] = "-3"  # flagged: not exported
    assert svc.register_planned_stations(registered) == 9
    rows.append({"station": "PLAN-01-wushan-1", "date": "2023-06-01", "rain_mm": "30"})  # no coordinates
    svc.import_observations(registered, write_csv(tmp_path / "obs.csv", rows))
    left_out: list[str] = []
    out = svc.export_rain(registered, 2023, tmp_path / "rain.csv", left_out=left_out)
    assert left_out == ["PLAN-01-wushan-1"]
    problems: list[str] = []
    series = {s.station: s for s in read_daily_rain(out, "EPSG:4545", problems)}
    assert problems == [] and set(series) == {"S1", "S3"}
    assert len(series["S1"].rain_mm) == 364 and len(series["S3"].rain_mm) == 365
    want = [float(r["rain_mm"]) for r in rows[:365] if r["rain_mm"] != "-3"]
    assert series["S1"].rain_mm.tolist() == want
    # the monitoring run's R from the exported file equals the station summary's R
    summary = {r["station"]: r for r in svc.annual_summary(registered, 2023)}
    for s, res in station_erosivity(list(series.values()), r_model()):
        assert res.annual_mean == pytest.approx(summary[s.station]["r"], rel=1e-12)
    assert summary["S3"]["complete"] is True and summary["S1"]["complete"] is True  # 364/365 ≥ 0.9
    with pytest.raises(InputError, match="no ok-flagged daily rain"):
        svc.export_rain(registered, 2020, tmp_path / "none.csv")


# --------------------------------------------------------------------------- command line
def test_cli(sdb, tmp_path):
    root = typer.Typer()

    @root.callback()
    def main(ctx: typer.Context):
        ctx.obj = State(db=sdb, verbose=0, quiet=False)

    root.add_typer(stations_cli.app, name="stations")
    run = CliRunner().invoke
    res = run(root, ["stations", "import", str(write_csv(tmp_path / "s.csv", STATIONS))])
    assert res.exit_code == 0 and "3 new" in res.output, res.output
    assert "9 planned" in run(root, ["stations", "plan"]).output
    res = run(root, ["stations", "observations", str(write_csv(tmp_path / "o.csv", hand_rows()))])
    assert res.exit_code == 0 and "spike 1" in res.output, res.output
    res = run(root, ["stations", "qc", "--station", "S2", "--format", "csv"])
    assert res.output.splitlines()[1].startswith("S2,2024-07-04,,missing"), res.output
    res = run(root, ["stations", "summary", "2024", "--format", "json"])
    assert {r["station"]: round(r["r"], 3) for r in json.loads(res.output) if r["r"]}["S1"] == 321.130
    res = run(root, ["stations", "export-rain", "2024", "-o", str(tmp_path / "r.csv")])
    assert res.exit_code == 0 and (tmp_path / "r.csv").is_file(), res.output
