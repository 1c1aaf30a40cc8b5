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

from sqlalchemy import Connection, inspect

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


def _create(conn: Connection, backend: str, tables) -> None:
    """Create tables; in the embedded store also register them in gpkg_contents (QGIS lists them)."""
    for table in tables:
        table.create(conn)
        if backend == "sqlite":
            gpkg.register(conn, table, schema.DESCRIPTIONS.get(table.name, ""))


def _m0002_monitoring(conn: Connection, backend: str) -> None:
    """Annual monitoring runs: run provenance, unit and land-use tables, small watersheds."""
    _create(conn, backend, schema.MONITORING_TABLES)
    if backend == "postgresql":
        conn.exec_driver_sql("CREATE INDEX IF NOT EXISTS monitoring_watersheds_geom_idx "
                             "ON monitoring_watersheds USING gist (geom)")


def _append_only(conn: Connection, backend: str, table: str) -> None:
    """Refuse UPDATE and DELETE on a history table (a correction is a new row)."""
    if backend == "postgresql":
        conn.exec_driver_sql(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                             "FOR EACH ROW EXECUTE FUNCTION shuibao_append_only()")
        conn.exec_driver_sql(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                             "FOR EACH STATEMENT EXECUTE FUNCTION shuibao_append_only()")
        return
    for op in ("UPDATE", "DELETE"):
        conn.exec_driver_sql(f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
                             f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: add a new row instead'); END")


def _m0003_supervision(conn: Connection, backend: str) -> None:
    """Supervision: projects, responsibility areas, patches, compliance, cases, inspections, reports, fees, credit."""
    _create(conn, backend, schema.SUPERVISION_TABLES)
    if backend == "postgresql":
        conn.exec_driver_sql(
            "CREATE OR REPLACE FUNCTION shuibao_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "RAISE EXCEPTION USING MESSAGE = TG_TABLE_NAME || ' is append-only: add a new row instead'; END $$")
        for name in ("responsibility_areas", "disturbance_patches"):
            conn.exec_driver_sql(f"CREATE INDEX IF NOT EXISTS {name}_geom_idx ON {name} USING gist (geom)")
    for table in schema.APPEND_ONLY_TABLES:
        _append_only(conn, backend, table.name)
    # a case header is written once: only its placeholder number is replaced, in the transaction that opens it
    pending = "OLD.case_no NOT LIKE 'pending-%%'" if backend == "postgresql" else "OLD.case_no NOT LIKE 'pending-%'"
    if backend == "postgresql":
        conn.exec_driver_sql(f"CREATE TRIGGER cases_append_only BEFORE UPDATE ON cases FOR EACH ROW "
                             f"WHEN ({pending}) EXECUTE FUNCTION shuibao_append_only()")
        conn.exec_driver_sql("CREATE TRIGGER cases_no_delete BEFORE DELETE ON cases FOR EACH ROW "
                             "EXECUTE FUNCTION shuibao_append_only()")
        conn.exec_driver_sql("CREATE TRIGGER cases_no_truncate BEFORE TRUNCATE ON cases "
                             "FOR EACH STATEMENT EXECUTE FUNCTION shuibao_append_only()")
    else:
        conn.exec_driver_sql(f"CREATE TRIGGER cases_no_update BEFORE UPDATE ON cases WHEN {pending} "
                             "BEGIN SELECT RAISE(ABORT, 'cases is append-only: add a new row instead'); END")
        conn.exec_driver_sql("CREATE TRIGGER cases_no_delete BEFORE DELETE ON cases "
                             "BEGIN SELECT RAISE(ABORT, 'cases is append-only: add a new row instead'); END")
    for table, cols in ((schema.case_events, "case_id"), (schema.disturbance_patches, "period"),
                        (schema.compliance_findings, "run_id"), (schema.responsibility_areas, "project_id")):
        conn.exec_driver_sql(f"CREATE INDEX IF NOT EXISTS {table.name}_{cols}_idx ON {table.name} ({cols})")


def _m0004_governance(conn: Connection, backend: str) -> None:
    """Governance patches, stations and observations, warnings, assessment, scenarios."""
    _create(conn, backend, schema.GOVERNANCE_TABLES)
    if backend == "postgresql":
        for name in ("treatment_patches", "warning_footprints"):
            conn.exec_driver_sql(f"CREATE INDEX IF NOT EXISTS {name}_geom_idx ON {name} USING gist (geom)")
    for table in (schema.warning_hits, schema.assessment_scores):
        _append_only(conn, backend, table.name)
    conn.exec_driver_sql("CREATE INDEX IF NOT EXISTS station_observations_station_idx "
                         "ON station_observations (station_id, variable, obs_date)")


def _m0005_web(conn: Connection, backend: str) -> None:
    """Users, API keys, sessions and the append-only audit log of the web platform."""
    _create(conn, backend, schema.WEB_TABLES)
    _append_only(conn, backend, schema.audit_log.name)
    conn.exec_driver_sql("CREATE INDEX IF NOT EXISTS audit_log_object_idx ON audit_log (object_kind, object_id)")


def _m0006_case_corrections(conn: Connection, backend: str) -> None:
    """Corrections of the case ledger (作废/更正): ``case_events.voids_seq`` names the step a void/correct event
    voids.  ``case_events`` stays append-only (its triggers are untouched).  A store created at this version or
    later already has the column (migration 3 creates tables from the current schema), so it is added only if
    missing."""
    if "voids_seq" not in {c["name"] for c in inspect(conn).get_columns("case_events")}:
        conn.exec_driver_sql("ALTER TABLE case_events ADD COLUMN voids_seq INTEGER")
def _m0007_logins(conn: Connection, backend: str) -> None:
    """Login throttling tables; the audit log's client address and user agent; an API key's collections; a user's
    last login.  Migration 5 creates its tables from the current definitions, so a database made after this
    migration was written already has the columns: add each only where it is missing."""
    from sqlalchemy import inspect

    for table, columns in schema.MIGRATION_7_COLUMNS.items():
        have = {c["name"] for c in inspect(conn).get_columns(table)}
        for name in columns:
            if name not in have:
                column = schema.metadata.tables[table].c[name]
                kind = column.type.compile(dialect=conn.dialect)
                conn.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")
    # keys issued before scopes existed keep only the public reference collections (fail closed; the same
    # default as services.auth.DEFAULT_KEY_COLLECTIONS)
    conn.exec_driver_sql("UPDATE api_keys SET collections = 'districts,watersheds' WHERE collections IS NULL")
    _create(conn, backend, schema.THROTTLE_TABLES)
    for name, table, cols in (("login_failures_username_idx", "login_failures", "username, at"),
                              ("login_failures_address_idx", "login_failures", "address, at"),
                              ("login_lockouts_until_idx", "login_lockouts", "until")):
        conn.exec_driver_sql(f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({cols})")


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "reference data: regions, districts, boundaries, plan tables", _m0001_reference),
    Migration(2, "monitoring runs: provenance, unit/land-use tables, small watersheds", _m0002_monitoring),
    Migration(3, "supervision: projects, patches, compliance, cases, inspections, reports, fees, credit",
              _m0003_supervision),
    Migration(4, "governance, stations, warnings, assessment, scenarios", _m0004_governance),
    Migration(5, "web: users, API keys, sessions, audit log", _m0005_web),
    Migration(6, "case corrections: void and correct steps (case_events.voids_seq)", _m0006_case_corrections),
    Migration(7, "logins: throttling, audit client address and user agent, API key collections", _m0007_logins),
)

LATEST = MIGRATIONS[-1].version
