"""Version 3 (3826bfc, as fixed by 4a611da, 2026-11-30): supervision — projects, responsibility areas, patches,
compliance, cases, inspections, reports, fees, credit.

Frozen: the tables as this migration created them (``case_events.voids_seq`` came with version 6).  Text, not
VARCHAR(n): PostgreSQL would refuse a long value with an error that names no row.  Money is stored in fen
(0.01 元) as integers.  Event and file tables are append-only (triggers refuse UPDATE and DELETE).  Never edit;
add a new version.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Connection, Date, DateTime, Float, ForeignKey, Integer
from sqlalchemy import LargeBinary, MetaData, Table, Text, UniqueConstraint

from ..geometry import Geometry
from . import _ddl

STORAGE_SRID = 4490  # CGCS2000 geographic

metadata = MetaData()


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

acceptance_samples = Table(
    "acceptance_samples", metadata,
    Column("id", Integer, primary_key=True),
    Column("seed", BigInteger, nullable=False),
    Column("ratio", Float, nullable=False),
    Column("population_json", Text, nullable=False),
    Column("selected_json", Text, nullable=False),
    *_stamp(),
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

DESCRIPTIONS = {
    'supervision_imports': 'Lineage of each project or patch import: file, checksum, per-feature report',
    'projects': '生产建设项目: approved soil and water conservation plans (水土保持方案)',
    'project_events': 'Append-only history of each project: creation, attribute changes, status changes',
    'responsibility_areas': '防治责任范围: versioned project polygons (the current one is not superseded)',
    'disturbance_patches': '扰动图斑: remotely sensed disturbance patches by period, with lineage',
    'compliance_runs': '合规性分析: one row per analysis with its rule version and parameters',
    'compliance_findings': 'Category of each patch in an analysis, with its evidence',
    'compliance_project_findings': 'Projects expected to be under way with no disturbance seen, or no area',
    'evidence_files': 'Evidence files (photos, documents) of cases, content-addressed',
    'cases': "台账: one case per suspected violation; its state is the last event's",
    'case_events': 'Append-only steps of each case: verification, rectification, review, closure (销号)',
    'inspectors': 'Inspectors available to 双随机一公开 draws',
    'inspection_draws': '双随机一公开: seeded random draws of projects and inspectors',
    'inspections': 'Inspections assigned by a draw (or entered directly)',
    'inspection_results': 'Published results of inspections',
    'monitoring_reports': '监测季报 with the 绿黄红 traffic-light score',
    'acceptance_samples': 'Seeded samples of acceptance filings drawn for verification (核查)',
    'acceptance_filings': '设施验收报备',
    'acceptance_verifications': '核查 results of sampled acceptance filings',
    'fee_assessments': '水土保持补偿费 assessed per project, with the rate entry used (fen)',
    'fee_payments': 'Payments against fee assessments (fen)',
    'credit_entries': '重点关注名单 and 失信黑名单 entries with their rule, validity and evidence',
}

TABLES = (
    supervision_imports, projects, project_events, responsibility_areas, disturbance_patches, compliance_runs,
    compliance_findings, compliance_project_findings, evidence_files, cases, case_events, inspectors,
    inspection_draws, inspections, inspection_results, monitoring_reports, acceptance_samples, acceptance_filings,
    acceptance_verifications, fee_assessments, fee_payments, credit_entries,
)
APPEND_ONLY = (project_events, evidence_files, case_events, inspection_results, fee_payments, credit_entries,
               compliance_findings, compliance_project_findings)
INDEXES = (("case_events_case_id_idx", "case_events", "case_id"),
           ("disturbance_patches_period_idx", "disturbance_patches", "period"),
           ("compliance_findings_run_id_idx", "compliance_findings", "run_id"),
           ("responsibility_areas_project_id_idx", "responsibility_areas", "project_id"))


def apply(conn: Connection, backend: str) -> None:
    """Supervision: projects, responsibility areas, patches, compliance, cases, inspections, reports, fees, credit."""
    _ddl.create(conn, backend, TABLES, DESCRIPTIONS)
    _ddl.append_only_function(conn, backend)
    for name in ("responsibility_areas", "disturbance_patches"):
        _ddl.gist_index(conn, backend, name)
    for table in APPEND_ONLY:
        _ddl.append_only(conn, backend, table.name)
    _ddl.case_header_triggers(conn, backend)
    for name, table_name, columns in INDEXES:
        _ddl.index(conn, name, table_name, columns)
