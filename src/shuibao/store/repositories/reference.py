"""Reads of the plan's reference tables (districts, targets, boundaries) as the platform stores them.

They are written by :func:`shuibao.store.reference_loader.load_reference` from plain rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from sqlalchemy import Connection, select

from .. import schema


def boundary_geoms(conn: Connection) -> Sequence[Any]:
    """The stored district boundaries' geometries (EPSG:4490)."""
    return conn.execute(select(schema.district_boundaries.c.geom)).scalars().all()


def district_targets(conn: Connection) -> dict:
    """district code → its ``plan_targets`` row (附表2: 2020 rate and 2025 target)."""
    t = schema.plan_targets
    return {r.district_code: r for r in conn.execute(select(t).where(t.c.district_code.is_not(None)))}


def districts_in_order(conn: Connection) -> list[tuple[str, str]]:
    """(code, name) of every district in the order of 附表1."""
    d = schema.districts
    return [(r.code, r.name) for r in conn.execute(select(d.c.code, d.c.name).order_by(d.c.seq))]
