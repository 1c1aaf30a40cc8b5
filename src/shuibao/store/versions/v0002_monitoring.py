"""Version 2 (7a05112, 2026-11-30): annual monitoring runs — provenance, unit and land-use tables, small watersheds.

Frozen: the tables as this migration created them.  Never edit; add a new version.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Connection, DateTime, Float, ForeignKey, Integer, MetaData, String, Table, Text
from sqlalchemy import UniqueConstraint

from ..geometry import Geometry
from . import _ddl

STORAGE_SRID = 4490  # CGCS2000 geographic
_GRADE_COLUMNS = ("slight", "light", "moderate", "intense", "very_intense", "severe")

metadata = MetaData()


def _run_fk() -> Column:
    return Column("run_id", Integer, ForeignKey("monitoring_runs.id", ondelete="CASCADE"), nullable=False)


def _grade_area_columns() -> list[Column]:
    return [Column(f"{g}_km2", Float, nullable=False) for g in _GRADE_COLUMNS]


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

DESCRIPTIONS = {
    'monitoring_runs': '年度水土流失动态监测: one row per monitoring run, with its provenance',
    'monitoring_units': 'Area by SL 190 grade and 水土保持率 per district, region, 三峡库区 and city (附表1 layout)',
    'monitoring_landuse': 'Area by grade per land-use class (表2 layout)',
    'monitoring_watersheds': 'Small watersheds (小流域) of each run with their grades and district',
}

TABLES = (monitoring_runs, monitoring_units, monitoring_landuse, monitoring_watersheds)


def apply(conn: Connection, backend: str) -> None:
    """Annual monitoring runs: run provenance, unit and land-use tables, small watersheds."""
    _ddl.create(conn, backend, TABLES, DESCRIPTIONS)
    _ddl.gist_index(conn, backend, "monitoring_watersheds")
