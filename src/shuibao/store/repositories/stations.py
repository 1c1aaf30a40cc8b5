"""Monitoring stations (监测站点): the registry and the daily observations with their QC flags."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import shapely
from sqlalchemy import Connection, Row, bindparam, func, select

from .. import gpkg, schema


# --------------------------------------------------------------------------- registry
def _located(values: dict) -> dict:
    """The row with its point (``geom``) made from its ``lon``/``lat`` (CGCS2000 degrees, like the geometry), or
    NULL when it has no coordinates: the stations layer is read by GIS from ``geom`` and by the code from
    ``lon``/``lat``, and every station write goes through here so the two agree (migration 8)."""
    lon, lat = values.get("lon"), values.get("lat")
    return {**values, "geom": shapely.Point(lon, lat) if lon is not None and lat is not None else None}


def _refresh_extent(conn: Connection) -> None:
    """The stations layer's extent in the GeoPackage contents (QGIS zooms to it)."""
    if conn.dialect.name != "sqlite":
        return
    t = schema.stations
    box = conn.execute(select(func.min(t.c.lon), func.min(t.c.lat), func.max(t.c.lon), func.max(t.c.lat)).where(
        t.c.lon.is_not(None), t.c.lat.is_not(None))).one()
    gpkg.update_extent(conn, t, None if box[0] is None else tuple(box))


def stations_by_code(conn: Connection, codes: list[str]) -> dict:
    """code → stored row of the stations among ``codes``."""
    t = schema.stations
    return {r.code: r for r in conn.execute(select(t).where(t.c.code.in_(list(codes))))}


def add_station(conn: Connection, **values) -> None:
    conn.execute(schema.stations.insert().values(**_located(values)))
    _refresh_extent(conn)


def add_stations(conn: Connection, rows: list[dict]) -> None:
    if rows:
        conn.execute(schema.stations.insert(), [_located(r) for r in rows])
        _refresh_extent(conn)


def update_station(conn: Connection, station_id: int, **values) -> None:
    """Change a station; a change of ``lon`` or ``lat`` moves its point."""
    t = schema.stations
    if "lon" in values or "lat" in values:
        old = conn.execute(select(t.c.lon, t.c.lat).where(t.c.id == station_id)).one()
        values = _located({"lon": old.lon, "lat": old.lat, **values})
    conn.execute(t.update().where(t.c.id == station_id).values(**values))
    _refresh_extent(conn)


def planned_codes(conn: Connection) -> set[str]:
    """Codes of the stations registered from the plan (``PLAN-…``)."""
    t = schema.stations
    return set(conn.execute(select(t.c.code).where(t.c.code.like("PLAN-%"))).scalars())


def all_stations(conn: Connection) -> list[dict]:
    """Every station's columns but its point (``lon``/``lat`` say the same), by code."""
    t = schema.stations
    return [dict(r._mapping) for r in conn.execute(select(*[c for c in t.c if c.name != "geom"]).order_by(t.c.code))]


def station_ids(conn: Connection) -> dict[str, int]:
    """code → id of every registered station."""
    t = schema.stations
    return dict(conn.execute(select(t.c.code, t.c.id)).all())


def station_registered(conn: Connection, code: str) -> bool:
    t = schema.stations
    return conn.execute(select(t.c.id).where(t.c.code == code)).first() is not None


def registry(conn: Connection) -> Sequence[Row]:
    """(kind, status, plan_item) of every station."""
    s = schema.stations
    return conn.execute(select(s.c.kind, s.c.status, s.c.plan_item)).all()


def planned_station_status(conn: Connection) -> Sequence[Row]:
    """(plan_item, status) of the stations registered from the plan."""
    t = schema.stations
    return conn.execute(select(t.c.plan_item, t.c.status).where(t.c.plan_item.is_not(None))).all()


def operating_stations(conn: Connection) -> Sequence[Row]:
    """(id, code, district_code) of the operating stations."""
    s = schema.stations
    return conn.execute(select(s.c.id, s.c.code, s.c.district_code).where(s.c.status == "operating")).all()


# --------------------------------------------------------------------------- observations
def _year_filter(q, col, year: int | None):
    return q if year is None else q.where(col >= date(year, 1, 1), col <= date(year, 12, 31))


def stored_observations(conn: Connection, station_id: int, variable: str) -> Sequence[Row]:
    """(id, obs_date, value, flag, import_id) of one station's stored observations of ``variable``."""
    o = schema.station_observations
    return conn.execute(select(o.c.id, o.c.obs_date, o.c.value, o.c.flag, o.c.import_id).where(
        o.c.station_id == station_id, o.c.variable == variable)).all()


def add_observations(conn: Connection, rows: list[dict]) -> None:
    if rows:
        conn.execute(schema.station_observations.insert(), rows)


def fill_observations(conn: Connection, fills: list[dict], import_id: int) -> None:
    """Update stored (gap) days: each dict has ``_id``, ``_value``, ``_flag``, ``_flag_note``, ``_source_row``."""
    o = schema.station_observations
    if fills:
        conn.execute(o.update().where(o.c.id == bindparam("_id")).values(
            {**{k: bindparam("_" + k) for k in ("value", "flag", "flag_note", "source_row")},
             "import_id": import_id}), fills)


def flagged_observations(conn: Connection, variable: str, year: int | None, station: str | None) -> list[dict]:
    """Every non-ok stored observation: station, date, value, flag, note, source_row, import_id."""
    t, o = schema.stations, schema.station_observations
    q = (select(t.c.code.label("station"), o.c.obs_date.label("date"), o.c.value, o.c.flag,
                o.c.flag_note.label("note"), o.c.source_row, o.c.import_id)
         .join(t, t.c.id == o.c.station_id).where(o.c.variable == variable, o.c.flag != "ok"))
    q = _year_filter(q, o.c.obs_date, year)
    return [dict(r._mapping) for r in conn.execute(q if station is None else q.where(t.c.code == station))]


def observation_reports(conn: Connection, variable: str) -> Sequence[Row]:
    """(import id, report_json) of the observation imports of ``variable``."""
    imp = schema.supervision_imports
    return conn.execute(select(imp.c.id, imp.c.report_json).where(
        imp.c.kind == "observations", imp.c.layer == variable)).all()


def series_of_year(conn: Connection, variable: str, year: int | None) -> Sequence[Row]:
    """code, name, kind, district_code, obs_date, value, flag of every observation, by station and date."""
    t, o = schema.stations, schema.station_observations
    q = (select(t.c.code, t.c.name, t.c.kind, t.c.district_code, o.c.obs_date, o.c.value, o.c.flag)
         .join(t, t.c.id == o.c.station_id).where(o.c.variable == variable).order_by(t.c.code, o.c.obs_date))
    return conn.execute(_year_filter(q, o.c.obs_date, year)).all()


def ok_rain(conn: Connection, year: int | None) -> Sequence[Row]:
    """code, lon, lat, obs_date, value of the ok-flagged daily rain, by station and date."""
    t, o = schema.stations, schema.station_observations
    q = (select(t.c.code, t.c.lon, t.c.lat, o.c.obs_date, o.c.value).join(t, t.c.id == o.c.station_id)
         .where(o.c.variable == "rain_mm", o.c.flag == "ok").order_by(t.c.code, o.c.obs_date))
    return conn.execute(_year_filter(q, o.c.obs_date, year)).all()


def rain_of_day(conn: Connection, day: date) -> Sequence[Row]:
    """code, lon, lat, value of the ok-flagged rain of one day at the stations with coordinates."""
    s, o = schema.stations, schema.station_observations
    return conn.execute(select(s.c.code, s.c.lon, s.c.lat, o.c.value).join(o, o.c.station_id == s.c.id).where(
        o.c.variable == "rain_mm", o.c.obs_date == day, o.c.flag == "ok", s.c.lon.is_not(None))).all()


def newest_observation_date(conn: Connection):
    o = schema.station_observations
    return conn.execute(select(func.max(o.c.obs_date))).scalar()


def ok_rain_days(conn: Connection, first: date, last: date) -> dict[int, int]:
    """station id → number of ok-flagged rain days in first…last."""
    o = schema.station_observations
    return dict(conn.execute(select(o.c.station_id, func.count()).where(
        o.c.variable == "rain_mm", o.c.flag == "ok", o.c.obs_date >= first,
        o.c.obs_date <= last).group_by(o.c.station_id)).all())
