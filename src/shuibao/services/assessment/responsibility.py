"""District target-responsibility assessment (水土保持目标责任考核) from the platform's records.

Each leaf of the indicator tree (assessment/data/assessment.toml) is computed per district from the
records of the assessed year, and stored with the ids of the records it came from: the monitoring
run and its unit row, treatment patches, compliance findings, cases, inspections, fee assessments,
monitoring reports, stations.  A project spanning several districts counts in each.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from shuibao.assessment.scoring import LEAVES as _LEAVES, load_scheme, score_district
from shuibao.errors import InputError, N_
from shuibao.store import Store
from shuibao.store.repositories import assessment as rows_of, cases as case_rows, reference, stations as station_rows
from shuibao.services.supervision.case_views import case_views
from shuibao.services.supervision.common import actor as who, dumps, now, write_csv_rows

LEAVES = _LEAVES
"""The indicators the platform computes from its records, in the order of the assessment table's columns."""


def _share(num: dict, den: dict, evidence: dict) -> tuple[dict, dict]:
    values = {d: (num.get(d, 0.0) / den[d]) if den[d] else None for d in den}
    return values, evidence


def _rate_progress(conn: Connection, run_id: int | None) -> tuple[dict, dict]:
    if run_id is None:
        return {}, {}
    values, ev = {}, {}
    targets = reference.district_targets(conn)
    for r in rows_of.district_units(conn, run_id):
        t = targets.get(r.code)
        if r.rate_pct is None or t is None:
            continue
        base, target = t.rate_2020_pct, t.target_2025_pct
        if r.rate_pct >= target:
            v = 1.0
        elif target > base:
            v = (r.rate_pct - base) / (target - base)
        else:
            v = r.rate_pct / target
        values[r.code] = max(0.0, min(1.0, v))
        ev[r.code] = {"monitoring_run": run_id, "unit_row": r.id, "rate_pct": round(r.rate_pct, 4),
                      "rate_2020_pct": base, "target_2025_pct": target}
    return values, ev


def _treatment(conn: Connection, year: int) -> tuple[dict, dict]:
    done: defaultdict[str, float] = defaultdict(float)
    total: defaultdict[str, float] = defaultdict(float)
    ev: defaultdict[str, list] = defaultdict(list)
    for r in rows_of.treatment_of_year(conn, year):
        if not r.district_code:
            continue
        total[r.district_code] += r.area_m2
        if r.status in ("completed", "accepted"):
            done[r.district_code] += r.area_m2
        ev[r.district_code].append(r.fid)
    return _share(done, total, {d: {"treatment_patches": v} for d, v in ev.items()})


def _approval(conn: Connection, year: int) -> tuple[dict, dict]:
    periods = _periods_of_year(conn, year)
    ok: defaultdict[str, float] = defaultdict(float)
    n: defaultdict[str, float] = defaultdict(float)
    ev: defaultdict[str, dict] = defaultdict(lambda: {"analyses": set(), "unapproved": []})
    for period in periods:
        rid = rows_of.newest_analysis(conn, period)
        if rid is None:
            continue
        for row in rows_of.project_findings(conn, rid):
            if not row.district_code:
                continue
            n[row.district_code] += 1
            ev[row.district_code]["analyses"].add(rid)
            if row.category == "unapproved":
                ev[row.district_code]["unapproved"].append(row.id)
            else:
                ok[row.district_code] += 1
    evidence = {k: {"compliance_analyses": sorted(v["analyses"]), "unapproved_findings": v["unapproved"]}
                for k, v in ev.items()}
    return _share(ok, n, evidence)


def _periods_of_year(conn: Connection, year: int) -> list[str]:
    return sorted({p for p, day in rows_of.patch_periods(conn) if day.year == year})


def _cases(conn: Connection, year: int) -> tuple[dict, dict]:
    end = date(year, 12, 31)
    closed: defaultdict[str, float] = defaultdict(float)
    n: defaultdict[str, float] = defaultdict(float)
    ev: defaultdict[str, list] = defaultdict(list)
    for v in case_views(conn, case_rows.all_cases(conn), end, until=end):
        if v.events[0]["on_date"].year != year or not v.header["district_code"]:
            continue
        dc = v.header["district_code"]
        n[dc] += 1
        closed[dc] += v.state == "closed"
        ev[dc].append(v.case_no)
    return _share(closed, n, {d: {"cases": v} for d, v in ev.items()})


def _inspections(conn: Connection, year: int, districts_of: dict) -> tuple[dict, dict]:
    done: defaultdict[str, float] = defaultdict(float)
    n: defaultdict[str, float] = defaultdict(float)
    ev: defaultdict[str, list] = defaultdict(list)
    results = rows_of.inspection_dates(conn)
    for x in rows_of.inspections(conn):
        if x.recorded_at.year != year:
            continue
        for dc in districts_of.get(x.project_id, []):
            n[dc] += 1
            done[dc] += x.id in results and results[x.id].year == year
            ev[dc].append(x.id)
    return _share(done, n, {d: {"inspections": v} for d, v in ev.items()})


def _fees(conn: Connection, year: int, districts_of: dict) -> tuple[dict, dict]:
    from shuibao.services.supervision.programs import fee_ledger

    paid: defaultdict[str, float] = defaultdict(float)
    due: defaultdict[str, float] = defaultdict(float)
    ev: defaultdict[str, list] = defaultdict(list)
    for x in fee_ledger(conn, date(year, 12, 31)):
        owed = x["amount_yuan"] - x["exempted_yuan"]  # 免征 lowers what is due; 退费 what was paid
        if x["assessed_on"].year != year or owed <= 0:
            continue
        for dc in districts_of.get(x["project_id"], []):
            due[dc] += float(owed)
            paid[dc] += float(min(x["paid_yuan"] - x["refunded_yuan"], owed))
            ev[dc].append(x["assessment_id"])
    return _share(paid, due, {d: {"fee_assessments": v} for d, v in ev.items()})


def _reports(conn: Connection, year: int, districts_of: dict) -> tuple[dict, dict]:
    good: defaultdict[str, float] = defaultdict(float)
    n: defaultdict[str, float] = defaultdict(float)
    ev: defaultdict[str, list] = defaultdict(list)
    for x in rows_of.monitoring_reports(conn):
        if x.period_end.year != year:
            continue
        for dc in districts_of.get(x.project_id, []):
            n[dc] += 1
            good[dc] += x.colour != "red"
            ev[dc].append(x.id)
    return _share(good, n, {d: {"monitoring_reports": v} for d, v in ev.items()})


def _stations(conn: Connection, year: int) -> tuple[dict, dict]:
    days = (date(year, 12, 31) - date(year, 1, 1)).days + 1
    ok = station_rows.ok_rain_days(conn, date(year, 1, 1), date(year, 12, 31))
    shares: defaultdict[str, list] = defaultdict(list)
    ev: defaultdict[str, dict] = defaultdict(dict)
    for x in station_rows.operating_stations(conn):
        if x.district_code:
            share = ok.get(x.id, 0) / days
            shares[x.district_code].append(share)
            ev[x.district_code][x.code] = round(share, 4)
    return ({d: sum(v) / len(v) for d, v in shares.items()}, {d: {"stations": v} for d, v in ev.items()})


def _leaves(conn: Connection, year: int, run_id: int | None) -> dict[str, tuple[dict, dict]]:
    """Every leaf's (values by district, evidence by district) for ``year``."""
    districts_of = rows_of.project_districts(conn)
    return {"rate_progress": _rate_progress(conn, run_id), "treatment_completion": _treatment(conn, year),
            "approval_coverage": _approval(conn, year), "case_closure": _cases(conn, year),
            "inspections_done": _inspections(conn, year, districts_of),
            "fee_collection": _fees(conn, year, districts_of),
            "report_not_red": _reports(conn, year, districts_of), "station_completeness": _stations(conn, year)}


def _score_rows(scheme, aid: int, districts: list[tuple[str, str]], leaves: dict) -> tuple[list[dict], list[dict]]:
    """The score rows to store (each leaf and the total of each district) and the table shown."""
    rows, table = [], []
    for code, name in districts:
        scored = score_district(scheme, {k: v[0].get(code) for k, v in leaves.items()})
        for leaf in scored["leaves"]:
            rows.append(dict(run_id=aid, district_code=code, indicator=leaf["indicator"], value=leaf["value"],
                             score=leaf["score"], max_score=leaf["max_score"],
                             evidence_json=dumps(leaves[leaf["indicator"]][1].get(code, {}))))
        rows.append(dict(run_id=aid, district_code=code, indicator="total", value=None, score=scored["total"],
                         max_score=100.0, evidence_json=dumps({"grade": scored["grade"],
                                                              "points_with_data": scored["points_with_data"]})))
        table.append({"district_code": code, "district": name,  # a leaf without records is blank, not 0
                      **{lf["indicator"]: None if lf["value"] is None else lf["score"] for lf in scored["leaves"]},
                      "total": scored["total"], "grade": scored["grade"]})
    return rows, table


def run_assessment(db: str | None, year: int, *, run: str | None = None, scheme_path: Path | None = None,
                   out: Path | None = None, actor: str | None = None, principal=None) -> dict:
    """Score every district for ``year``; store the scores with their evidence; optionally export them (CSV).

    With a ``principal`` (the web platform): city administrators only; the scores are audited in the
    transaction that stores them (the optional export is written afterwards and is not part of it).
    """
    from shuibao.services.monitoring.runs import resolve_run

    from shuibao.services.platform.auth import batch_actor

    actor = batch_actor(principal, actor)

    scheme = load_scheme(scheme_path)
    by, at = who(actor), now()
    with Store(db) as store, store.transaction() as conn:
        store.require_current(conn)
        run_id = resolve_run(conn, run) if run is not None else rows_of.newest_run_of_year(conn, year)
        leaves = _leaves(conn, year, run_id)
        districts = reference.districts_in_order(conn)
        aid = rows_of.add_assessment(conn, year=year, scheme_version=scheme.version,
                                     scheme_json=dumps(scheme.as_dict()), monitoring_run_id=run_id,
                                     recorded_at=at, recorded_by=by)
        rows, table = _score_rows(scheme, aid, districts, leaves)
        rows_of.add_scores(conn, rows)
        from shuibao.services.platform.auth import audit, writer  # the command line: audited as the operating-system user
        audit(conn, writer(principal, actor), "assessment.run", "assessment", aid, None,
              {"year": year, "monitoring_run": run_id, "scheme_version": scheme.version,
               "districts": len(table), "grades": dict(Counter(r["grade"] for r in table))})
    result: dict[str, Any] = {"assessment_id": aid, "year": year, "monitoring_run": run_id,
                              "scheme_version": scheme.version, "districts": table}
    if out is not None:
        result["outputs"] = export_assessment(db, aid, out)
    return result


def get_assessment(db: str | None, assessment_id: int) -> dict:
    """An assessment's head and its score rows (``evidence`` decoded), in the order stored."""
    with Store(db) as store, store.reading() as conn:
        store.require_current(conn)
        head = rows_of.assessment_head(conn, assessment_id)
        if head is None:
            raise InputError(N_("assessment {assessment_id} does not exist", assessment_id=assessment_id))
        scores = rows_of.scores_of(conn, assessment_id)
    for r in scores:
        r["evidence"] = json.loads(r.pop("evidence_json"))
    return {"head": dict(head._mapping), "scores": scores}


def export_assessment(db: str | None, assessment_id: int, out: Path) -> list[Path]:
    """OUT.csv: one row per district and indicator (score, value, evidence); OUT.summary.csv: one per district."""
    if out.suffix.lower() != ".csv":
        raise InputError(N_("-o {out}: expected a .csv file", out=out))
    from shuibao import vocabulary as v
    from shuibao.plan.reference import load_reference

    data = get_assessment(db, assessment_id)
    adcodes = {d.code: d.adcode for d in load_reference().districts}
    h = {k: v.label("field", k) for k in ("adcode", "district", "indicator", "value", "score", "max_score",
                                            "total", "grade", "evidence_records")}
    h["evidence"] = h.pop("evidence_records")
    # labels for people (the 6-digit 行政区划代码 is the district's code); evidence as labelled text, not JSON
    long = [{h["adcode"]: adcodes.get(r["district_code"]), h["district"]: v.label("district", r["district_code"]),
             h["indicator"]: v.label("assessment_indicator", r["indicator"]), h["value"]: r["value"],
             h["score"]: r["score"], h["max_score"]: r["max_score"], h["evidence"]: v.record_text(r["evidence"])}
            for r in data["scores"]]
    totals = [{h["adcode"]: adcodes.get(r["district_code"]), h["district"]: v.label("district", r["district_code"]),
               h["total"]: r["score"], h["grade"]: r["evidence"]["grade"]}
              for r in data["scores"] if r["indicator"] == "total"]
    cols = [h[k] for k in ("adcode", "district", "indicator", "value", "score", "max_score", "evidence")]
    return [write_csv_rows(out, cols, long),
            write_csv_rows(out.with_name(out.stem + ".summary.csv"), [h[k] for k in ("adcode", "district", "total",
                                                                                   "grade")], totals)]
