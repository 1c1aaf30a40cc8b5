"""Versioned schema migrations, the same list for both backends.

A migration is a numbered function ``(conn, backend) -> None`` that runs inside one transaction (PostgreSQL and
SQLite both have transactional DDL), so a failed upgrade leaves the database at the previous version.  Applied
versions are rows of ``schema_migrations``.  Why not Alembic: see docs/adr/0002-embedded-geopackage-store.md.

Each migration lives in its own frozen module of ``store/versions/`` that declares the tables as they were at
that version and never imports ``schema.py``, so editing the live schema cannot change what upgrading an older
database does.  Never edit a released migration; add a new module and a new entry here (and the change to
``schema.py`` and ``latest.py``, which create a fresh database: docs/adr/0010-frozen-migrations.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection

from .versions import (
    v0001_reference, v0002_monitoring, v0003_supervision, v0004_governance, v0005_web, v0006_case_corrections,
    v0007_logins, v0008_layers, v0009_approvals, v0010_fees, v0011_import_mappings,
)


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    apply: Callable[[Connection, str], None]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "reference data: regions, districts, boundaries, plan tables", v0001_reference.apply),
    Migration(2, "monitoring runs: provenance, unit/land-use tables, small watersheds", v0002_monitoring.apply),
    Migration(3, "supervision: projects, patches, compliance, cases, inspections, reports, fees, credit",
              v0003_supervision.apply),
    Migration(4, "governance, stations, warnings, assessment, scenarios", v0004_governance.apply),
    Migration(5, "web: users, API keys, sessions, audit log", v0005_web.apply),
    Migration(6, "case corrections: void and correct steps (case_events.voids_seq)", v0006_case_corrections.apply),
    Migration(7, "logins: throttling, audit client address and user agent, API key collections", v0007_logins.apply),
    Migration(8, "layers: operational tables out of the GeoPackage contents, spatial indexes, stations as points",
              v0008_layers.apply),
    Migration(9, "approvals: applications, units, steps, review, decisions, re-checks, zones, consultations",
              v0009_approvals.apply),
    Migration(10, "fees: assessment periods (one per project, period and basis), exemptions, refunds, allocations",
              v0010_fees.apply),
    Migration(11, "import field mappings: remembered per kind and source; projects.total_area_computed",
              v0011_import_mappings.apply),
)

LATEST = MIGRATIONS[-1].version
