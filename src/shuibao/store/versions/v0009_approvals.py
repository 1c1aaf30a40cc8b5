"""Version 9 (issue 19, 2026-12-08): 方案审批 — plan applications, their units, steps, technical review,
decisions, re-checks, zone evaluations (区域评价) and consultations (征求意见).

* ``applications``: one row per application with its polygon (a feature layer); ``state`` and ``project_id`` are
  the only columns a step changes (the state is also every ``application_events`` row's, which is the history).
* ``application_units``, ``application_events``, ``review_assignments``, ``review_records``, ``decisions``,
  ``recheck_samples``, ``recheck_results``, ``consultations``: append-only history.
* ``zone_evaluations``: development zones with a 区域水土保持方案 on record (polygon, validity).
* Documents (plan files, opinions, revisions) are ``evidence_files`` rows, stored once by SHA-256.

Frozen: the tables as this migration made them.  Never edit; add a new version.
"""

from __future__ import annotations

from sqlalchemy import (
    Column, Connection, Date, DateTime, Float, ForeignKey, Integer, MetaData, Table, Text, UniqueConstraint,
)

from ..geometry import Geometry
from . import _ddl

STORAGE_SRID = 4490  # CGCS2000 geographic

metadata = MetaData()
_ddl.stub(metadata, "projects")
_ddl.stub(metadata, "evidence_files")
_ddl.stub(metadata, "responsibility_areas", "fid")


def _stamp() -> list[Column]:
    return [Column("recorded_at", DateTime(timezone=True), nullable=False),
            Column("recorded_by", Text, nullable=False)]


zone_evaluations = Table(
    "zone_evaluations", metadata,
    Column("id", Integer, primary_key=True),
    Column("code", Text, nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("district_code", Text, nullable=False),
    Column("approval_no", Text, nullable=False),
    Column("approved_on", Date, nullable=False),
    Column("valid_from", Date, nullable=False),
    Column("valid_to", Date, nullable=False),
    Column("area_m2", Float, nullable=False),
    Column("note", Text, nullable=False),
    *_stamp(),
    Column("geom", Geometry("MULTIPOLYGON", STORAGE_SRID), nullable=False),
)

applications = Table(
    "applications", metadata,
    Column("id", Integer, primary_key=True),
    Column("application_no", Text, nullable=False, unique=True),
    Column("project_code", Text, nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("industry", Text, nullable=False),
    Column("applicant", Text, nullable=False),
    Column("district_code", Text, nullable=False),
    Column("plan_class", Text, nullable=False),
    Column("path", Text, nullable=False),
    Column("land_take_hm2", Float, nullable=False),
    Column("earthwork_m3", Float, nullable=False),
    Column("polygon_area_m2", Float, nullable=False),
    Column("zone_evaluation_id", Integer, ForeignKey("zone_evaluations.id")),
    Column("document_id", Integer, ForeignKey("evidence_files.id")),
    Column("classes_version", Text, nullable=False),
    Column("rules_version", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("project_id", Integer, ForeignKey("projects.id")),
    *_stamp(),
    Column("geom", Geometry("MULTIPOLYGON", STORAGE_SRID), nullable=False),
)

application_units = Table(
    "application_units", metadata,
    Column("id", Integer, primary_key=True),
    Column("application_id", Integer, ForeignKey("applications.id"), nullable=False),
    Column("role", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("credit_code", Text),
    *_stamp(),
)

application_events = Table(
    "application_events", metadata,
    Column("id", Integer, primary_key=True),
    Column("application_id", Integer, ForeignKey("applications.id"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("step", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("outcome", Text),
    Column("on_date", Date, nullable=False),
    Column("note", Text, nullable=False),
    Column("detail_json", Text, nullable=False),
    *_stamp(),
    UniqueConstraint("application_id", "seq", name="uq_application_events"),
)

review_assignments = Table(
    "review_assignments", metadata,
    Column("id", Integer, primary_key=True),
    Column("application_id", Integer, ForeignKey("applications.id"), nullable=False),
    Column("organisation", Text, nullable=False),
    Column("reviewer_kind", Text, nullable=False),
    Column("assigned_on", Date, nullable=False),
    *_stamp(),
)

review_records = Table(
    "review_records", metadata,
    Column("id", Integer, primary_key=True),
    Column("application_id", Integer, ForeignKey("applications.id"), nullable=False),
    Column("assignment_id", Integer, ForeignKey("review_assignments.id"), nullable=False),
    Column("kind", Text, nullable=False),
    Column("on_date", Date, nullable=False),
    Column("outcome", Text),
    Column("conditions", Text, nullable=False),
    Column("document_id", Integer, ForeignKey("evidence_files.id")),
    Column("document_version", Integer),
    *_stamp(),
)

decisions = Table(
    "decisions", metadata,
    Column("id", Integer, primary_key=True),
    Column("application_id", Integer, ForeignKey("applications.id"), nullable=False, unique=True),
    Column("kind", Text, nullable=False),
    Column("decision_no", Text, nullable=False, unique=True),
    Column("decided_on", Date, nullable=False),
    Column("outcome", Text, nullable=False),
    Column("conditions", Text, nullable=False),
    Column("authority", Text, nullable=False),
    Column("approved_area_m2", Float),
    Column("area_fid", Integer, ForeignKey("responsibility_areas.fid")),
    *_stamp(),
)

recheck_samples = Table(
    "recheck_samples", metadata,
    Column("id", Integer, primary_key=True),
    Column("year", Integer, nullable=False),
    Column("ratio", Text, nullable=False),
    Column("seed", Integer, nullable=False),
    Column("population_json", Text, nullable=False),
    Column("selected_json", Text, nullable=False),
    *_stamp(),
)

recheck_results = Table(
    "recheck_results", metadata,
    Column("id", Integer, primary_key=True),
    Column("sample_id", Integer, ForeignKey("recheck_samples.id"), nullable=False),
    Column("application_id", Integer, ForeignKey("applications.id"), nullable=False),
    Column("on_date", Date, nullable=False),
    Column("outcome", Text, nullable=False),
    Column("findings", Text, nullable=False),
    Column("case_no", Text),
    *_stamp(),
    UniqueConstraint("sample_id", "application_id", name="uq_recheck_results"),
)

consultations = Table(
    "consultations", metadata,
    Column("id", Integer, primary_key=True),
    Column("plan_name", Text, nullable=False),
    Column("sector", Text, nullable=False),
    Column("district_code", Text),
    Column("consulted_on", Date, nullable=False),
    Column("opinion", Text, nullable=False),
    Column("document_id", Integer, ForeignKey("evidence_files.id")),
    *_stamp(),
)

TABLES = (zone_evaluations, applications, application_units, application_events, review_assignments,
          review_records, decisions, recheck_samples, recheck_results, consultations)
APPEND_ONLY = ("application_units", "application_events", "review_assignments", "review_records", "decisions",
               "recheck_samples", "recheck_results", "consultations")
FEATURE_TABLES = (("zone_evaluations", "id"), ("applications", "id"))
INDEXES = (("application_events_application_idx", "application_events", "application_id"),
           ("application_units_name_idx", "application_units", "name"))

DESCRIPTIONS = {
    "zone_evaluations": "区域评价: development zones with a 区域水土保持方案 on record, with validity",
    "applications": "方案报批: plan applications with class, path, state and responsibility-area polygon",
    "application_units": "Market subjects of an application by role, with their unified social credit code",
    "application_events": "Append-only steps of each application: who, when, why",
    "review_assignments": "技术评审: assignment to a review organisation or expert panel",
    "review_records": "Review opinions, revisions (versioned documents) and conclusions",
    "decisions": "批复 / 备案: number, date, conditions and the approved responsibility area",
    "recheck_samples": "方案抽查复核: seeded samples of approved plans",
    "recheck_results": "Re-check results of sampled plans, with the case opened against the compiler",
    "consultations": "征求意见: opinions given on sectoral plans",
}


def apply(conn: Connection, backend: str) -> None:
    """Create the approval tables, their spatial and b-tree indexes and the append-only triggers."""
    _ddl.create(conn, backend, TABLES, DESCRIPTIONS)
    for table, key in FEATURE_TABLES:
        _ddl.spatial_index(conn, backend, table, key)
    _ddl.append_only_function(conn, backend)
    for name in APPEND_ONLY:
        _ddl.append_only(conn, backend, name)
    for name, table, columns in INDEXES:
        _ddl.index(conn, name, table, columns)
