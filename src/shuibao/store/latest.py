"""The schema at the latest version, for a fresh database: the tables of ``schema.py`` and their indexes and
triggers, the GeoPackage contents (data tables only: ``schema.OPERATIONAL_TABLES`` stay out) and the spatial
indexes.

A new database is created from here in one transaction and stamped with every migration (ADR 0010); an existing
one is upgraded by the frozen migrations of ``store/versions/``.  ``tests/store/test_migrations_frozen.py``
checks that both give the same database.  A schema change therefore touches three places: ``schema.py``, the
lists below, and a new migration.
"""

from __future__ import annotations

from sqlalchemy import Connection

from . import gpkg, schema
from .geometry import Geometry
from .versions import _ddl

TABLES = (schema.regions, schema.districts, schema.district_boundaries, schema.plan_erosion_2020, schema.plan_targets,
          schema.plan_landuse_2020, schema.plan_indicators, schema.plan_governance_targets, schema.plan_stations,
          schema.reference_loads, *schema.MONITORING_TABLES, *schema.SUPERVISION_TABLES, *schema.GOVERNANCE_TABLES, *schema.WEB_TABLES, *schema.THROTTLE_TABLES,
          *schema.APPROVAL_TABLES, *schema.FEE_TABLES, *schema.IMPORT_TABLES)
"""Every table but ``schema_migrations``, in the order the migrations add them (foreign keys point backwards)."""

FEATURE_TABLES = tuple(t for t in TABLES if any(isinstance(c.type, Geometry) for c in t.columns))
"""The tables with a geometry column: each gets a spatial index (GeoPackage RTree; PostGIS GiST)."""

APPEND_ONLY = (*schema.APPEND_ONLY_TABLES, schema.warning_hits, schema.assessment_scores, schema.audit_log,
               *schema.APPROVAL_APPEND_ONLY, *schema.FEE_TABLES)
"""History tables whose rows are never changed or deleted (``cases`` has its own rule)."""

INDEXES = (
    ("case_events_case_id_idx", "case_events", "case_id"),
    ("disturbance_patches_period_idx", "disturbance_patches", "period"),
    ("compliance_findings_run_id_idx", "compliance_findings", "run_id"),
    ("responsibility_areas_project_id_idx", "responsibility_areas", "project_id"),
    ("station_observations_station_idx", "station_observations", "station_id, variable, obs_date"),
    ("audit_log_object_idx", "audit_log", "object_kind, object_id"),
    ("login_failures_username_idx", "login_failures", "username, at"),
    ("login_failures_address_idx", "login_failures", "address, at"),
    ("login_lockouts_until_idx", "login_lockouts", "until"),
    ("application_events_application_idx", "application_events", "application_id"),
    ("application_units_name_idx", "application_units", "name"),
)
"""B-tree indexes beside the unique constraints; every feature table also gets a spatial index."""


def create(conn: Connection, backend: str) -> None:
    """Create every table, index and trigger of the latest schema in an empty database."""
    if backend == "postgresql":
        if not conn.exec_driver_sql("SELECT 1 FROM pg_extension WHERE extname = 'postgis'").first():
            conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS postgis")
    else:
        gpkg.create_core(conn)
    for table in TABLES:
        table.create(conn)
        if backend == "sqlite" and table not in schema.OPERATIONAL_TABLES:  # the data layers QGIS lists
            gpkg.register(conn, table, schema.DESCRIPTIONS.get(table.name, ""))
    for table in FEATURE_TABLES:
        _ddl.spatial_index(conn, backend, table.name, table.primary_key.columns.values()[0].name)
    _ddl.append_only_function(conn, backend)
    for table in APPEND_ONLY:
        _ddl.append_only(conn, backend, table.name)
    _ddl.case_header_triggers(conn, backend)
    for name, table_name, columns in INDEXES:
        _ddl.index(conn, name, table_name, columns)
