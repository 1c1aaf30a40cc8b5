"""Scenarios (情景分析) and their unit rows: the SQL of the scenario service.

Every function takes a SQLAlchemy ``Connection`` (:meth:`shuibao.store.Store.transaction` for writes,
:meth:`~shuibao.store.Store.reading` for reads).  A scenario's baseline is a monitoring run, whose spec and
unit rows are read here too, for the scenario's sake.
"""

from __future__ import annotations

from sqlalchemy import Connection, Row, func, select

from shuibao.store import schema

from ._keys import inserted_id
from shuibao.store.schema import MAX_ROW_ID


def base_run_spec_json(conn: Connection, run_id: int) -> str:
    """The spec (JSON text) the baseline monitoring run was made from."""
    t = schema.monitoring_runs
    return conn.execute(select(t.c.spec_json).where(t.c.id == run_id)).scalar_one()


def insert_scenario(conn: Connection, values: dict, units: list[dict]) -> int:
    """A scenario (name, base_run_id, selection_json, …) and its unit rows; its id."""
    sid = inserted_id(conn.execute(schema.scenario_runs.insert().values(**values)))
    conn.execute(schema.scenario_units.insert(), [dict(scenario_id=sid, **u) for u in units])
    return sid


def latest_scenario_id(conn: Connection) -> int | None:
    return conn.execute(select(func.max(schema.scenario_runs.c.id))).scalar()


def scenario_exists(conn: Connection, scenario_id: int) -> bool:
    t = schema.scenario_runs
    return scenario_id <= MAX_ROW_ID and conn.execute(select(t.c.id).where(t.c.id == scenario_id)).scalar() is not None


def scenario_summaries(conn: Connection) -> list[tuple[dict, Row | None]]:
    """Every scenario, oldest first, with its baseline's year, synthetic flag and name (``base_name``), and its
    city unit row (None if it has none)."""
    s, u, r = schema.scenario_runs, schema.scenario_units, schema.monitoring_runs
    city = {row.scenario_id: row for row in conn.execute(select(u).where(u.c.level == "city"))}
    q = select(s, r.c.year, r.c.synthetic, r.c.name.label("base_name")).join(r, r.c.id == s.c.base_run_id)
    return [(dict(row._mapping), city.get(row._mapping["id"])) for row in conn.execute(q.order_by(s.c.id))]


def scenario_with_units(conn: Connection, scenario_id: int) -> tuple[dict, list[dict], dict]:
    """A scenario's record, its unit rows (in stored order) and its baseline's unit rows by (level, code)."""
    s, u, mu = schema.scenario_runs, schema.scenario_units, schema.monitoring_units
    row = dict(conn.execute(select(s).where(s.c.id == scenario_id)).one()._mapping)
    units = [dict(x._mapping) for x in conn.execute(select(u).where(u.c.scenario_id == scenario_id).order_by(u.c.id))]
    base = {(x.level, x.code): dict(x._mapping)
            for x in conn.execute(select(mu).where(mu.c.run_id == row["base_run_id"]))}
    return row, units, base


__all__ = ["base_run_spec_json", "insert_scenario", "latest_scenario_id", "scenario_exists", "scenario_summaries",
           "scenario_with_units"]
