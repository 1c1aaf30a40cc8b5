"""Versioned schema migrations, the same list for both backends.

A migration is a numbered function ``(conn, backend) -> None`` that runs inside
one transaction (PostgreSQL and SQLite both have transactional DDL), so a
failed upgrade leaves the database at the previous version.  Applied versions
are rows of ``schema_migrations``.  Never edit a released migration; add a new
one.  Why not Alembic: see docs/adr/0002-embedded-geopackage-store.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection

from . import gpkg, schema


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    apply: Callable[[Connection, str], None]


def _m0001_reference(conn: Connection, backend: str) -> None:
    """Plan reference data: regions, districts, boundaries and the plan's tables."""
    if backend == "postgresql":
        exists = conn.exec_driver_sql("SELECT 1 FROM pg_extension WHERE extname = 'postgis'").first()
        if not exists:
            conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS postgis")
    else:
        gpkg.create_core(conn)
    tables = [schema.regions, schema.districts, schema.district_boundaries, schema.plan_erosion_2020,
              schema.plan_targets, schema.plan_landuse_2020, schema.plan_indicators,
              schema.plan_governance_targets, schema.plan_stations, schema.reference_loads]
    for table in tables:
        table.create(conn)
        if backend == "sqlite":
            gpkg.register(conn, table, schema.DESCRIPTIONS.get(table.name, ""))
    if backend == "postgresql":
        conn.exec_driver_sql(
            "CREATE INDEX IF NOT EXISTS district_boundaries_geom_idx ON district_boundaries USING gist (geom)"
        )


def _m0002_monitoring(conn: Connection, backend: str) -> None:
    """Annual monitoring runs: run provenance, unit and land-use tables, small watersheds."""
    for table in schema.MONITORING_TABLES:
        table.create(conn)
        if backend == "sqlite":
            gpkg.register(conn, table, schema.DESCRIPTIONS.get(table.name, ""))
    if backend == "postgresql":
        conn.exec_driver_sql("CREATE INDEX IF NOT EXISTS monitoring_watersheds_geom_idx "
                             "ON monitoring_watersheds USING gist (geom)")


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "reference data: regions, districts, boundaries, plan tables", _m0001_reference),
    Migration(2, "monitoring runs: provenance, unit/land-use tables, small watersheds", _m0002_monitoring),
)

LATEST = MIGRATIONS[-1].version
