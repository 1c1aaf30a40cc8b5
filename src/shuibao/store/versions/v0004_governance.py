"""Version 4 (826b547, 2026-11-30): governance patches, stations and observations, warnings, assessment,
scenarios.

Frozen: the tables as this migration created them.  Never edit; add a new version.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Connection, Date, DateTime, Float, ForeignKey, Integer
from sqlalchemy import MetaData, Table, Text, UniqueConstraint

from ..geometry import Geometry
from . import _ddl

STORAGE_SRID = 4490  # CGCS2000 geographic
_GRADE_COLUMNS = ("slight", "light", "moderate", "intense", "very_intense", "severe")

metadata = MetaData()
_ddl.stub(metadata, "supervision_imports")  # version 3
_ddl.stub(metadata, "monitoring_runs")  # version 2


def _stamp() -> list[Column]:
    """Who recorded a row and when."""
    return [Column("recorded_at", DateTime(timezone=True), nullable=False),
            Column("recorded_by", Text, nullable=False)]


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

DESCRIPTIONS = {
    'treatment_projects': "综合治理项目 by the plan's types (专栏3)",
    'treatment_patches': '治理图斑: treatment patches with measure, year, status, cost and funding',
    'treatment_samples': 'Seeded samples of treatment patches drawn for re-check',
    'stations': '监测站点: comprehensive stations, runoff plots, rain gauges, hydrological stations',
    'station_observations': 'Daily observations with their quality flag (gaps and bad values kept, flagged)',
    'warning_runs': "暴雨预警: one row per warning computed for a day's rain",
    'warning_footprints': "Areas where the day's rain reached each warning level",
    'warning_hits': 'Projects, open cases and high-grade erosion areas under a warning, each with a task',
    'assessment_runs': '目标责任考核: one row per assessment with its indicator tree',
    'assessment_scores': 'Score of each district on each indicator, with the records behind it',
    'scenario_runs': 'What-if scenarios of planned treatment against a monitoring run',
    'scenario_units': 'Grade areas and 水土保持率 per unit under a scenario, beside the baseline',
}

TABLES = (
    treatment_projects, treatment_patches, treatment_samples, stations, station_observations, warning_runs,
    warning_footprints, warning_hits, assessment_runs, assessment_scores, scenario_runs, scenario_units,
)


def apply(conn: Connection, backend: str) -> None:
    """Governance patches, stations and observations, warnings, assessment, scenarios."""
    _ddl.create(conn, backend, TABLES, DESCRIPTIONS)
    for name in ("treatment_patches", "warning_footprints"):
        _ddl.gist_index(conn, backend, name)
    for table in (warning_hits, assessment_scores):
        _ddl.append_only(conn, backend, table.name)
    _ddl.index(conn, "station_observations_station_idx", "station_observations", "station_id, variable, obs_date")
