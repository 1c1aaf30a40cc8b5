"""Monitoring stations (监测站点): the registry, daily observations with quality flags, annual summaries
with rainfall erosivity, and the daily rain that feeds the monitoring run.

Imports follow the house rule: every row is judged, every problem reported at once with its
row (as a spreadsheet numbers it, header = row 1), and a file with any rejected row stores
nothing.  Observations are never dropped: a bad value is stored with its QC flag, a day
without a record is stored as a ``gap`` row (value NULL).  See docs/stations.md.
"""

from __future__ import annotations

import csv
import json
import logging
import math
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from shuibao.errors import Joined, InputError, N_, Text
from shuibao.plan.reference import load_reference
from shuibao.stations.erosivity import R_UNIT, annual_erosivity, days_in_year
from shuibao.stations.qc import GAP, check_series, gap_days, load_qc_rules
from shuibao.store import Store
from shuibao.store.repositories import stations as station_rows
from shuibao.supervision.imports import FeatureReport, FieldSpec, ValidatedLayer, parse_date, resolve_columns
from shuibao.services.supervision.common import (
    actor as who,
    district_lookup,
    now,
    report_hint,
    record_import,
    refusal,
    write_csv_rows,
    write_report,
)

log = logging.getLogger(__name__)

KIND_ZH = {"comprehensive": "小流域综合监测站", "runoff_plot": "径流小区", "rain_gauge": "雨量站",
           "hydrological": "水文站"}
KINDS = {**{k: k for k in KIND_ZH}, **{v: k for k, v in KIND_ZH.items()}, "综合监测站": "comprehensive",
         "综合站": "comprehensive", "径流场": "runoff_plot", "雨量监测站": "rain_gauge", "水文监测站": "hydrological"}
PLAN_KINDS = {"small_watershed_station": "comprehensive", **{k: k for k in KIND_ZH}}
STATUSES = {"planned": "planned", "operating": "operating", "closed": "closed", "规划": "planned", "拟建": "planned",
            "运行": "operating", "在用": "operating", "停用": "closed", "撤销": "closed"}
BOX = (105.0, 28.0, 110.5, 32.5)  # Chongqing: lon 105.0–110.5 E, lat 28.0–32.5 N
STATION_FIELDS_SPEC = (
    FieldSpec("code", "text", True, ("站码", "站号", "编码")), FieldSpec("name", "text", True, ("站名", "名称")),
    FieldSpec("kind", "text", True, ("类型", "站类")), FieldSpec("district", "text", True, ("district_code", "区县")),
    FieldSpec("lon", "number", True, ("longitude", "经度")), FieldSpec("lat", "number", True, ("latitude", "纬度")),
    FieldSpec("elevation_m", "number", False, ("高程",)), FieldSpec("status", "text", False, ("状态",)),
    FieldSpec("established_on", "date", False, ("建站日期",)))
"""The registry's fields and the column names read as them (the officer's mapping comes first)."""
FUTURE_DAYS = 1
"""An observation may be dated at most this many days after the server's date: the gauges' days are Beijing
time (UTC+8) while a server may run on UTC.  A later date is a typing error whose gap-filling would add a row
per day up to it (the review's 2038-01-01 added 4,384 rows, L3)."""
VALUE_ALIASES = {"rain_mm": ("降雨量", "降水量", "雨量"), "runoff_mm": ("径流深",), "sediment_kg": ("产沙量", "泥沙量")}


# --------------------------------------------------------------------------- shared
def _read_csv(path: Path, role: str) -> tuple[list[str], list[dict]]:
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            return [f.strip() for f in reader.fieldnames or []], list(reader)
    except FileNotFoundError:
        raise InputError(N_("{role}: {path} does not exist", role=role, path=path)) from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InputError(N_("{role}: {path} is not a UTF-8 CSV file ({exc})", role=role, path=path, exc=exc)) from None


def _columns(fields: list[str], specs: tuple[FieldSpec, ...], mapping: dict[str, str] | None,
             problems: list[Text | str]) -> dict[str, str]:
    """field → column (the shared resolver: the mapping, then the names and aliases); problems appended."""
    resolved = resolve_columns(fields, specs, mapping)
    problems += resolved.problems
    return resolved.columns


def observation_fields(variable: str) -> tuple[FieldSpec, ...]:
    """The observation file's fields: station, date and the variable's value (its name or usual column names)."""
    return (FieldSpec("station", "text", True, ("站码", "站号", "station_code")),
            FieldSpec("date", "date", True, ("日期", "obs_date")),
            FieldSpec("value", "number", True, (variable, *VALUE_ALIASES.get(variable, ()))))


def _cell(row: dict, col: str | None) -> str:
    return (row.get(col) or "").strip() if col else ""


def _refuse(role: str, path: Path, problems: list[Text | str], reports: list[FeatureReport], report: Path | None,
            rows: int) -> InputError:
    bad = [r for r in reports if r.status in ("rejected", "conflict")]
    hints: list[Text | str] = []
    if any(r.status == "conflict" for r in bad):
        hints.append(N_("a re-import replaces nothing: remove the rows already stored from the file"))
    if role == "observations":
        hints.append(report_hint(report))
    return refusal(role, path, problems, bad, rows, unit="row(s)", verb="refused", hints=hints)


def _number(text: str, what: str, rep: FeatureReport, lo: float, hi: float) -> float | None:
    try:
        v = float(text)
    except ValueError:
        rep.reject(N_("{what}: {text!r} is not a number", what=what, text=text))
        return None
    if not (math.isfinite(v) and lo <= v <= hi):
        rep.reject(N_("{what}: {text} is outside {lo:g}…{hi:g}", what=what, text=text, lo=lo, hi=hi))
        return None
    return v


# --------------------------------------------------------------------------- registry
def _station_record(n: int, row: dict, col: dict[str, str], districts: dict, seen: dict) -> tuple[dict, FeatureReport]:
    """One CSV row (spreadsheet row ``n``) as a ``stations`` record and its report (rejected with every reason)."""
    code = _cell(row, col["code"])
    rep = FeatureReport(n, code)
    if not code:
        rep.reject(N_("code: empty"))
    elif code in seen:
        rep.reject(N_("code: {code!r} is also in row {value1}", code=code, value1=seen[code]))
    seen.setdefault(code, n)
    rec: dict[str, Any] = {"code": code, "name": _cell(row, col["name"]), "kind": KINDS.get(_cell(row, col["kind"]))}
    if not rec["name"]:
        rep.reject(N_("name: empty"))
    if rec["kind"] is None:
        rep.reject(N_("kind: {cell!r} is not one of {KINDS}", cell=_cell(row, col['kind']), KINDS=', '.join(KINDS)))
    rec["district_code"] = districts.get(_cell(row, col["district"]))
    if rec["district_code"] is None:
        rep.reject(N_("district: {cell!r} is not a district name or code", cell=_cell(row, col['district'])))
    status = _cell(row, col.get("status")) or "operating"
    rec["status"] = STATUSES.get(status)
    if rec["status"] is None:
        rep.reject(N_("status: {status!r} is not one of {STATUSES}", status=status, STATUSES=', '.join(STATUSES)))
    lon, lat = _cell(row, col["lon"]), _cell(row, col["lat"])
    if lon or lat or rec["status"] != "planned":
        rec["lon"] = _number(lon, "lon", rep, BOX[0], BOX[2])
        rec["lat"] = _number(lat, "lat", rep, BOX[1], BOX[3])
    elev = _cell(row, col.get("elevation_m"))
    rec["elevation_m"] = _number(elev, "elevation_m", rep, -100, 9000) if elev else None
    est = _cell(row, col.get("established_on"))
    try:
        rec["established_on"] = parse_date(est) if est else None
    except ValueError:
        rep.reject(N_("established_on: {est!r} is not a date (YYYY-MM-DD)", est=est))
    return rec, rep


STATION_FIELDS = ("name", "kind", "district_code", "lon", "lat", "elevation_m", "status", "established_on")
"""The fields whose change updates a stored station."""


def _write_stations(conn, records: list[dict], codes) -> tuple[int, int]:
    """Insert the new stations, update the changed ones; returns (created, updated)."""
    stored = station_rows.stations_by_code(conn, list(codes))
    created = updated = 0
    for rec in records:
        old = stored.get(rec["code"])
        if old is None:
            station_rows.add_station(conn, **rec, created_at=now())
            created += 1
        elif any(getattr(old, k) != v for k, v in rec.items() if k in STATION_FIELDS):
            station_rows.update_station(conn, old.id, **rec)
            updated += 1
    return created, updated


def import_stations(db: str | None, path: Path, *, actor: str | None = None, principal=None,
                    fields: dict[str, str] | None = None) -> dict:
    """Add stations from a CSV and update known ones (by code); any rejected row stores nothing.

    ``fields``: the officer's field → column mapping, before the aliases (字段映射).

    With a ``principal`` (the web platform): city administrators only, audited in the import's transaction.
    """
    from shuibao.services.platform.auth import batch_actor

    actor = batch_actor(principal, actor)
    path = Path(path)
    columns, rows = _read_csv(path, "stations")
    problems: list[Text | str] = [] if rows else [N_("the file holds no rows")]
    col = _columns(columns, STATION_FIELDS_SPEC, fields, problems)
    by = who(actor)
    with Store(db) as store, store.transaction() as conn:
        store.require_current(conn)
        districts = district_lookup(conn)
        records: list[dict] = []
        reports: list[FeatureReport] = []
        seen: dict[str, int] = {}
        for n, row in enumerate(rows if not problems else [], start=2):
            rec, rep = _station_record(n, row, col, districts, seen)
            records.append(rec)
            reports.append(rep)
        if problems or any(r.status == "rejected" for r in reports):
            raise _refuse("stations", path, problems, reports, None, len(rows))
        created, updated = _write_stations(conn, records, seen)
        checked = ValidatedLayer(records, [None] * len(records), reports, [], "EPSG:4490")
        import_id = record_import(conn, "stations", path, "stations", checked, None, now(), by)
        from shuibao.services.platform.auth import audit, writer  # the command line: audited as the operating-system user
        audit(conn, writer(principal, actor), "stations.import", "import", import_id, None,
              {"rows": len(records), "created": created, "updated": updated, "source": path.name})
    return {"import_id": import_id, "rows": len(records), "created": created, "updated": updated,
            "unchanged": len(records) - created - updated}


def register_planned_stations(db: str | None) -> int:
    """One ``stations`` row (status planned) per new station of 专栏4; idempotent.  Returns the rows added."""
    planned = []
    for s in load_reference().stations:
        kind = PLAN_KINDS.get(s.kind)
        if kind is None:
            raise InputError(N_("专栏4 item {item} ({label}): kind {kind!r} has no station kind; "
                             "known: {PLAN_KINDS}", item=s.item, label=s.label, kind=s.kind, PLAN_KINDS=', '.join(PLAN_KINDS)))
        for n in range(1, s.count + 1):
            planned.append(dict(code=f"PLAN-{s.item}-{s.district_code}-{n}", kind=kind, status="planned",
                                name=f"{s.label}{KIND_ZH[kind]}" + (f"{n}" if s.count > 1 else "") + "（规划）",
                                district_code=s.district_code, plan_item=f"{s.source}-{s.item}"))
    with Store(db) as store, store.transaction() as conn:
        store.require_current(conn)
        known = station_rows.planned_codes(conn)
        new = [dict(p, created_at=now()) for p in planned if p["code"] not in known]
        station_rows.add_stations(conn, new)
    return len(new)


def list_stations(db: str | None) -> list[dict]:
    with Store(db) as store, store.reading() as conn:
        store.require_current(conn)
        return station_rows.all_stations(conn)


# --------------------------------------------------------------------------- observations
def _read_observations(rows: list[dict], col: dict[str, str], ids: dict[str, int]
                       ) -> tuple[dict[str, list], list[FeatureReport]]:
    """The readable rows by station (code → [(row, date, value, report)]) and every row's report."""
    series: dict[str, list] = defaultdict(list)
    reports: list[FeatureReport] = []
    for n, row in enumerate(rows, start=2):
        code, when, text = _cell(row, col["station"]), _cell(row, col["date"]), _cell(row, col["value"])
        rep = FeatureReport(n, f"{code} {when}")
        reports.append(rep)
        if code not in ids:
            rep.reject(N_("station: {code!r} is not a registered station code", code=code))
        try:
            day = parse_date(when)
        except ValueError:
            rep.reject(N_("date: {when!r} is not a date (YYYY-MM-DD)", when=when))
        else:
            latest = date.today() + timedelta(days=FUTURE_DAYS)
            if day > latest:
                rep.reject(N_("date: {day} is in the future (the latest accepted is {latest}, today + "
                           "{FUTURE_DAYS} day)", day=day, latest=latest, FUTURE_DAYS=FUTURE_DAYS))
        value = float("nan")
        if text:
            try:
                value = float(text)
            except ValueError:
                rep.reject(N_("{value}: {text!r} is not a number", value=col['value'], text=text))
        if rep.status != "rejected":
            series[code].append((n, day, value, rep))
    return series, reports


def _stored_days(conn, series: dict[str, list], ids: dict[str, int], variable: str) -> dict:
    """(station id, date) → stored row of the stations in ``series``; a stored non-gap day is a conflict."""
    stored = {}
    for code in series:
        for r in station_rows.stored_observations(conn, ids[code], variable):
            stored[ids[code], r.obs_date] = r
    for code, recs in series.items():
        for _n, day, _value, rep in recs:
            old = stored.get((ids[code], day))
            if old is not None and old.flag != GAP:
                rep.status = "conflict"
                rep.messages.append(N_("{variable} of {code} on {day} is already stored "
                                    "({flag}, import {import_id})", variable=variable, code=code, day=day, flag=old.flag, import_id=old.import_id))
    return stored


def _flag_notes(recs: list, flags, notes: list[str], counts: dict) -> None:
    """Count the flags; a duplicate's note names the row kept (and the kept row's the one left out); every
    non-ok record's report takes its flag and note."""
    first: dict[date, int] = {}
    for i, ((n, day, value, rep), flag) in enumerate(zip(recs, flags)):
        counts[flag] += 1
        if flag == "duplicate":
            k = first[day]
            said = "no value" if math.isnan(value) else f"{value:g}"
            notes[i] = f"second record of {day}: row {recs[k][0]} is kept, this one ({said}) is not stored"
            extra = f"duplicate record in row {n} ({said}) not stored"
            notes[k] = f"{notes[k]}; {extra}" if notes[k] else extra
        else:
            first[day] = i
        if flag != "ok":
            rep.status = flag
            rep.messages.append(notes[i])


def _series_rows(sid: int, recs: list, mine: dict, rule, variable: str, counts: dict
                 ) -> tuple[list[dict], list[dict]]:
    """QC of one station's new records (its stored ok values join the spike scale): (inserts, gap fills),
    the gap days of the whole series included."""
    scale = [r.value for r in mine.values() if r.flag == "ok"]
    qc = check_series([r[1] for r in recs], [r[2] for r in recs], rule, scale_values=scale)
    notes = list(qc.notes)
    _flag_notes(recs, qc.flags, notes, counts)
    inserts, fills = [], []
    for i, ((n, day, value, _rep), flag) in enumerate(zip(recs, qc.flags)):
        if flag == "duplicate":
            continue
        row = dict(value=None if math.isnan(value) else value, flag=str(flag), flag_note=notes[i] or None,
                   source_row=n)
        if day in mine:  # a stored gap day, filled
            fills.append({"_" + k: v for k, v in dict(row, id=mine[day].id).items()})
        else:
            inserts.append(dict(row, station_id=sid, variable=variable, obs_date=day))
    recorded = list(mine) + [r[1] for r in recs]
    gaps = [g.item() for g in gap_days(recorded)]
    counts[GAP] += len([g for g in gaps if g not in mine])
    inserts += [dict(station_id=sid, variable=variable, obs_date=g, value=None, flag=GAP,
                     flag_note="no record for this day", source_row=None) for g in gaps if g not in mine]
    return inserts, fills


def import_observations(db: str | None, path: Path, *, variable: str = "rain_mm", report: Path | None = None,
                        actor: str | None = None, rules: Path | None = None, principal=None,
                        fields: dict[str, str] | None = None) -> dict:
    """Store one variable's daily observations (``station,date,value``) with their QC flags.

    Unknown stations and unreadable dates or values are rejected rows; a date already stored
    for the station and variable is a conflict (a stored ``gap`` day is filled instead).  Any
    rejected or conflicting row refuses the file: nothing is stored.  With a ``principal`` (the web
    platform): city administrators only, audited in the import's transaction.  ``fields``: the officer's
    field → column mapping (station, date, value), before the aliases.
    """
    from shuibao.services.platform.auth import batch_actor

    actor = batch_actor(principal, actor)
    path = Path(path)
    qc_rules = load_qc_rules(rules)
    rule = qc_rules.rule(variable)
    columns, rows = _read_csv(path, "observations")
    problems: list[Text | str] = [] if rows else [N_("the file holds no rows")]
    col = _columns(columns, observation_fields(variable), fields, problems)
    by = who(actor)
    with Store(db) as store, store.transaction() as conn:
        store.require_current(conn)
        ids = station_rows.station_ids(conn)
        series, reports = _read_observations(rows if not problems else [], col, ids)
        stored = _stored_days(conn, series, ids, variable)
        if problems or any(r.status in ("rejected", "conflict") for r in reports):
            write_report(report, reports, problems)
            raise _refuse("observations", path, problems, reports, report, len(rows))
        counts = {f: 0 for f in ("ok", "missing", "negative", "impossible", "spike", "duplicate", GAP)}
        inserts, fills, n_rows, dates = [], [], 0, []
        for code, recs in series.items():
            sid = ids[code]
            new, filled = _series_rows(sid, recs, {d: r for (s, d), r in stored.items() if s == sid}, rule,
                                       variable, counts)
            inserts += new
            fills += filled
            n_rows += len(recs)
            dates += [r[1] for r in recs]
        write_report(report, [r for r in reports if r.status != "ok"], problems)
        checked = ValidatedLayer([{}] * n_rows, [None] * n_rows, [r for r in reports if r.status != "ok"], [], None)
        import_id = record_import(conn, "observations", path, variable, checked, f"{min(dates)}/{max(dates)}",
                                  now(), by)
        station_rows.add_observations(conn, [dict(r, import_id=import_id) for r in inserts])
        station_rows.fill_observations(conn, fills, import_id)
        from shuibao.services.platform.auth import audit, writer  # the command line: audited as the operating-system user
        audit(conn, writer(principal, actor), "observations.import", "import", import_id, None,
              {"variable": variable, "rows": n_rows, "stations": len(series), "filled_gaps": len(fills),
               "period": f"{min(dates)}/{max(dates)}", "counts": counts, "source": path.name})
    return {"import_id": import_id, "variable": variable, "rows": n_rows, "stations": len(series),
            "filled_gaps": len(fills), "counts": counts, "rules_version": qc_rules.version}


# --------------------------------------------------------------------------- reading
def qc_report(db: str | None, *, station: str | None = None, year: int | None = None,
              variable: str = "rain_mm") -> list[dict]:
    """Every non-ok observation (station, date, value, flag, note), gaps included, in station and date order.

    Duplicate records cannot be stored (one row per station, variable and day); they are read
    back from the reports of the imports that met them.
    """
    with Store(db) as store, store.reading() as conn:
        store.require_current(conn)
        if station is not None and not station_rows.station_registered(conn, station):
            raise InputError(N_("station {station!r} is not registered", station=station))
        rows = station_rows.flagged_observations(conn, variable, year, station)
        for imp_id, text in station_rows.observation_reports(conn, variable):
            for r in json.loads(text):
                if r["status"] != "duplicate":
                    continue
                code, day = r["key"].rsplit(" ", 1)
                day = parse_date(day)
                if (station is None or code == station) and (year is None or day.year == year):
                    rows.append({"station": code, "date": day, "value": None, "flag": "duplicate",
                                 "note": r["messages"], "source_row": r["row"], "import_id": imp_id})
    rows.sort(key=lambda r: (r["station"], r["date"], r["flag"] == "duplicate", r["source_row"] or 0))
    return rows


def annual_summary(db: str | None, year: int, *, variable: str = "rain_mm", rules: Path | None = None) -> list[dict]:
    """Per station with observations in ``year``: day counts by flag, completeness, totals and (rain) R.

    R (MJ·mm/(hm²·h·a)) by the half-month daily model from the ok days only; a station-year
    whose completeness (ok days / days of the year) is below the variable's ``min_completeness``
    is reported with ``complete`` False.
    """
    from shuibao.erosion.tables import r_model

    rule = load_qc_rules(rules).rule(variable)
    params = r_model() if variable == "rain_mm" else None
    with Store(db) as store, store.reading() as conn:
        store.require_current(conn)
        data = station_rows.series_of_year(conn, variable, year)
    groups: dict[str, list] = defaultdict(list)
    for r in data:
        groups[r.code].append(r)
    n_days, out = days_in_year(year), []
    for code, recs in groups.items():
        ok = [r.value for r in recs if r.flag == "ok"]
        row = {"station": code, "name": recs[0].name, "kind": recs[0].kind, "district_code": recs[0].district_code,
               "year": year, "days_in_year": n_days, "days_ok": len(ok),
               "gaps": sum(r.flag == GAP for r in recs), "flagged": sum(r.flag not in ("ok", GAP) for r in recs),
               "no_record": n_days - len(recs), "completeness": len(ok) / n_days,
               "unit": rule.unit, "total": float(sum(ok)), "max_daily": max(ok) if ok else None,
               "days_ge_50": sum(v >= 50 for v in ok) if variable == "rain_mm" else None,
               "r": None, "r_unit": None, "erosive_days": None, "half_month_r": None}
        row["complete"] = row["completeness"] >= rule.min_completeness
        if params is not None:
            (er,) = annual_erosivity([r.obs_date for r in recs], [math.nan if r.value is None else r.value
                                                                  for r in recs],
                                     [r.flag for r in recs], params=params, min_completeness=rule.min_completeness,
                                     years=[year])
            row.update(r=None if math.isnan(er.r) else er.r, r_unit=R_UNIT, erosive_days=er.erosive_days,
                       half_month_r=[None if math.isnan(v) else float(v) for v in er.half_month])
        out.append(row)
    return out


def export_rain(db: str | None, year: int, out_csv: Path, *, left_out: list[str] | None = None) -> Path:
    """The year's ok-flagged daily rain as the monitoring run's ``rain`` CSV (station,date,rain_mm,lon,lat).

    Stations without coordinates are left out: logged, and appended to ``left_out`` if given.
    """
    with Store(db) as store, store.reading() as conn:
        store.require_current(conn)
        data = station_rows.ok_rain(conn, year)
    skipped = sorted({r.code for r in data if r.lon is None or r.lat is None})
    if skipped:
        log.warning("export-rain %s: station(s) without coordinates left out: %s", year, ", ".join(skipped))
        if left_out is not None:
            left_out += skipped
    rows = [{"station": r.code, "date": r.obs_date.isoformat(), "rain_mm": float(r.value), "lon": float(r.lon),
             "lat": float(r.lat)} for r in data if r.code not in skipped]
    if not rows:
        raise InputError(Joined((
            N_("export-rain: no ok-flagged daily rain with station coordinates is stored for {year}", year=year),
            N_(" (left out, no coordinates: {skipped})", skipped=", ".join(skipped)) if skipped else "")))
    return write_csv_rows(Path(out_csv), ["station", "date", "rain_mm", "lon", "lat"], rows)


def read_csv_header(path: Path, role: str) -> list[str]:
    """The columns of a CSV as the station imports read it (for the web form's mapping step)."""
    return _read_csv(Path(path), role)[0]
