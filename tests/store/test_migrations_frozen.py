"""Frozen migrations: a database upgraded through every migration is the database a fresh one is, on both backends.

A fresh database is created from the live schema (``store/latest.py``) and stamped; an older one is upgraded by
the frozen modules of ``store/versions/`` (docs/adr/0010-frozen-migrations.md).  The comparison covers tables,
columns (order, name, declared type, nullability, default, primary key), unique constraints and indexes, foreign
keys, triggers (and the trigger function on PostGIS), the GeoPackage registration (application id, user
version, gpkg_spatial_ref_sys, gpkg_contents, gpkg_geometry_columns, gpkg_extensions and rtree_* tables) and
the recorded versions.  The last tests plant differences to show the comparison can fail.
"""

from __future__ import annotations

import os
import re
import uuid

import pytest
from sqlalchemy import Connection, text

from shuibao.store import Store
from shuibao.store.migrations import MIGRATIONS
from shuibao.store.versions import _ddl, v0003_supervision, v0004_governance, v0007_logins, v0008_layers

POSTGIS_URL = os.environ.get("SHUIBAO_TEST_POSTGIS_URL")
VERSIONS = [m.version for m in MIGRATIONS]


# --------------------------------------------------------------------------- databases
class _Databases:
    """Empty databases of one backend, dropped at the end of the test."""

    def __init__(self, backend: str, tmp_path):
        self.backend, self.tmp_path, self.schemas = backend, tmp_path, []

    def new(self) -> str:
        if self.backend == "sqlite":
            return str(self.tmp_path / f"{uuid.uuid4().hex[:8]}.gpkg")
        import psycopg
        from sqlalchemy.engine import make_url

        name = f"t_{uuid.uuid4().hex[:12]}"
        url = make_url(POSTGIS_URL)
        with psycopg.connect(self._dsn(), autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{name}"')
        self.schemas.append(name)
        return url.update_query_dict({"options": f"-csearch_path={name},public"}).render_as_string(
            hide_password=False)

    def _dsn(self) -> str:
        from sqlalchemy.engine import make_url

        return make_url(POSTGIS_URL).set(drivername="postgresql").render_as_string(hide_password=False)

    def drop(self) -> None:
        if not self.schemas:
            return
        import psycopg

        with psycopg.connect(self._dsn(), autocommit=True) as conn:
            for name in self.schemas:
                conn.execute(f'DROP SCHEMA "{name}" CASCADE')


@pytest.fixture(params=["sqlite", pytest.param("postgis", marks=pytest.mark.postgis)])
def databases(request, tmp_path):
    if request.param == "postgis" and not POSTGIS_URL:
        pytest.skip("no PostGIS server: set SHUIBAO_TEST_POSTGIS_URL (scripts/check.sh does)")
    dbs = _Databases("postgresql" if request.param == "postgis" else "sqlite", tmp_path)
    try:
        yield dbs
    finally:
        dbs.drop()


def fresh(dbs: _Databases) -> str:
    url = dbs.new()
    with Store(url, create=True) as store:
        assert store.upgrade() == [f"{m.version:04d} {m.name}" for m in MIGRATIONS]
    return url


def upgraded(dbs: _Databases, start: int = 1) -> str:
    """Brought to ``start`` by the frozen migrations, then one version per call (a separate session each)."""
    url = dbs.new()
    with Store(url, create=True) as store:
        assert [a.split()[0] for a in store.upgrade(to=start)] == [f"{m.version:04d}" for m in MIGRATIONS
                                                                    if m.version <= start]
    for m in MIGRATIONS:  # by the listed versions: lines of work merged in any order may leave a gap
        if m.version > start:
            with Store(url) as store:
                assert store.upgrade(to=m.version) == [f"{m.version:04d} {m.name}"]
    return url


# --------------------------------------------------------------------------- what a database holds
def _sqlite_shape(conn: Connection) -> dict:
    def rows(sql: str, **params) -> list[tuple]:
        return [tuple(r) for r in conn.execute(text(sql), params)]

    tables = [r[0] for r in rows("SELECT name FROM sqlite_master WHERE type = 'table' "
                                 "AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    shape: dict = {"pragmas": (rows("PRAGMA application_id"), rows("PRAGMA user_version"))}
    for table in tables:
        indexes = {}
        for _, name, unique, origin, partial in rows(f"PRAGMA index_list('{table}')"):
            cols = [r[2] for r in rows(f"PRAGMA index_info('{name}')")]
            sql = rows("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = :n", n=name)
            indexes[name] = (unique, origin, partial, cols, _normal(sql[0][0]) if sql and sql[0][0] else None)
        shape[f"table {table}"] = {
            # cid, name, declared type, not null, default, primary key position, hidden
            "columns": rows(f"PRAGMA table_xinfo('{table}')"),
            "foreign_keys": sorted(r[2:] for r in rows(f"PRAGMA foreign_key_list('{table}')")),
            "indexes": indexes,
        }
    shape["triggers"] = {name: (table, _normal(sql)) for name, table, sql in rows(
        "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger'")}
    shape["views"] = rows("SELECT name, sql FROM sqlite_master WHERE type = 'view' ORDER BY name")
    shape["rtree"] = [t for t in tables if t.startswith("rtree_")]
    shape["gpkg_spatial_ref_sys"] = sorted(rows("SELECT * FROM gpkg_spatial_ref_sys"))
    shape["gpkg_contents"] = sorted(rows(  # last_change is when; the extent is data
        "SELECT table_name, data_type, identifier, description, srs_id FROM gpkg_contents"))
    shape["gpkg_geometry_columns"] = sorted(rows("SELECT * FROM gpkg_geometry_columns"))
    if "gpkg_extensions" in tables:
        shape["gpkg_extensions"] = sorted(rows("SELECT * FROM gpkg_extensions"))
    return shape


def _pg_shape(conn: Connection) -> dict:
    def rows(sql: str) -> list[tuple]:
        return [tuple(_strip_schema(v, here) if isinstance(v, str) else v for v in r)
                for r in conn.execute(text(sql))]

    here = conn.exec_driver_sql("SELECT current_schema()").scalar()
    ns = "(SELECT oid FROM pg_namespace WHERE nspname = current_schema())"
    shape: dict = {}
    for (table,) in rows(f"SELECT relname FROM pg_class WHERE relnamespace = {ns} AND relkind = 'r' ORDER BY 1"):
        rel = f"'{table}'::regclass"
        shape[f"table {table}"] = {
            "columns": rows(
                "SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, "
                "pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated FROM pg_attribute a "
                "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
                f"WHERE a.attrelid = {rel} AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum"),
            "constraints": rows(f"SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
                                f"WHERE conrelid = {rel} ORDER BY conname"),
            "indexes": rows(f"SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
                            f"JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = {rel} ORDER BY 1"),
            "triggers": rows(f"SELECT tgname, pg_get_triggerdef(oid), tgenabled FROM pg_trigger "
                             f"WHERE tgrelid = {rel} AND NOT tgisinternal ORDER BY 1"),
        }
    shape["sequences"] = rows(f"SELECT relname FROM pg_class WHERE relnamespace = {ns} AND relkind = 'S' ORDER BY 1")
    shape["views"] = rows(f"SELECT relname FROM pg_class WHERE relnamespace = {ns} AND relkind IN ('v', 'm') "
                          "ORDER BY 1")
    shape["functions"] = rows(f"SELECT proname, pg_get_functiondef(oid) FROM pg_proc WHERE pronamespace = {ns} "
                              "ORDER BY 1")
    shape["geometry_columns"] = rows(  # PostGIS's registration of spatial columns
        "SELECT f_table_name, f_geometry_column, coord_dimension, srid, type FROM geometry_columns "
        "WHERE f_table_schema = current_schema() ORDER BY 1, 2")
    shape["extensions"] = rows("SELECT extname FROM pg_extension ORDER BY 1")
    return shape


def _normal(sql: str) -> str:
    return re.sub(r"\s+", " ", sql).strip()


def _strip_schema(value: str, schema: str) -> str:
    return value.replace(f'"{schema}".', "").replace(f"{schema}.", "")


def shape(url: str) -> dict:
    """Everything the comparison looks at, backend by backend, plus the recorded versions."""
    with Store(url) as store, store.reading() as conn:
        out = _pg_shape(conn) if store.backend == "postgresql" else _sqlite_shape(conn)
        out["versions"] = [tuple(r) for r in conn.execute(text(
            "SELECT version, name FROM schema_migrations ORDER BY version"))]
        store.require_current(conn)
    return out


def differences(a: dict, b: dict) -> list[str]:
    """What differs between two shapes, one line per item (empty when they agree)."""
    out = []
    for key in sorted(set(a) | set(b)):
        if key not in a or key not in b:
            out.append(f"{key}: only in the {'fresh' if key in a else 'upgraded'} database")
        elif isinstance(a[key], dict) and isinstance(b[key], dict):
            out += [f"{key}: {line}" for line in differences(a[key], b[key])]
        elif a[key] != b[key]:
            out.append(f"{key}: fresh {a[key]!r} != upgraded {b[key]!r}")
    return out


# --------------------------------------------------------------------------- the checks
def test_upgrading_through_every_migration_gives_the_fresh_database(databases):
    assert differences(shape(fresh(databases)), shape(upgraded(databases))) == []


@pytest.mark.parametrize("start", [m.version for m in MIGRATIONS[1:-1]])
def test_upgrading_from_each_version_gives_the_fresh_database(databases, start):
    assert differences(shape(fresh(databases)), shape(upgraded(databases, start))) == []


def test_the_comparison_sees_every_kind_of_object(databases):
    """Not vacuous: the shape holds the tables, columns, indexes and triggers the migrations make."""
    got = shape(fresh(databases))
    voids = [c for c in got["table case_events"]["columns"] if "voids_seq" in c]
    assert len([k for k in got if k.startswith("table ")]) >= 55 and voids
    if databases.backend == "sqlite":
        assert "audit_log_no_update" in got["triggers"] and "cases_no_update" in got["triggers"]
        assert "audit_log_object_idx" in got["table audit_log"]["indexes"]
        assert "uq_fee_assessments_period" in str(got["table fee_assessments"]["indexes"])
        assert ("district_boundaries", "geom", "MULTIPOLYGON", 4490, 0, 0) in got["gpkg_geometry_columns"]
        assert len(got["gpkg_contents"]) == 59  # 66 tables with a description, less the 7 operational ones
        assert ("stations", "geom", "POINT", 4490, 0, 0) in got["gpkg_geometry_columns"]
        assert len(got["rtree"]) == 4 * 9 and len(got["gpkg_extensions"]) == 9  # 9 RTrees (and shadow tables)
        assert "rtree_stations_geom_update6" in got["triggers"]
    else:
        assert [t[0] for t in got["table audit_log"]["triggers"]] == ["audit_log_append_only", "audit_log_no_truncate"]
        assert "district_boundaries_geom_idx" in [i[0] for i in got["table district_boundaries"]["indexes"]]
        assert "stations_geom_idx" in [i[0] for i in got["table stations"]["indexes"]]
        assert [f[0] for f in got["functions"]] == ["shuibao_append_only"]


def _forget_user_agent(monkeypatch):
    columns = {**v0007_logins.ADDED_COLUMNS, "audit_log": {"client_address": v0007_logins.Text()}}
    monkeypatch.setattr(v0007_logins, "ADDED_COLUMNS", columns)
    return "table audit_log: columns"


def _forget_audit_trigger(monkeypatch):
    real = _ddl.append_only
    monkeypatch.setattr(_ddl, "append_only", lambda c, b, t: None if t == "audit_log" else real(c, b, t))
    return "audit_log"


def _forget_index(monkeypatch):
    monkeypatch.setattr(v0003_supervision, "INDEXES", v0003_supervision.INDEXES[:-1])
    return "table responsibility_areas: indexes"


def _forget_spatial_index(monkeypatch):
    monkeypatch.setattr(v0008_layers, "FEATURE_TABLES", v0008_layers.FEATURE_TABLES[:-1])  # not stations
    return "stations_geom"  # the RTree (GeoPackage) or the GiST index (PostGIS)


def _varchar_case_numbers(monkeypatch):
    """Migration 3 as first written (3826bfc): VARCHAR(40), not TEXT."""
    from sqlalchemy import String

    monkeypatch.setattr(v0003_supervision.cases.c.case_no, "type", String(40))
    return "table cases: columns"


@pytest.mark.parametrize("plant", [_forget_user_agent, _forget_audit_trigger, _forget_index,
                                   _forget_spatial_index, _varchar_case_numbers])
def test_a_planted_difference_fails_the_comparison(databases, monkeypatch, plant):
    reference = shape(fresh(databases))
    expected = plant(monkeypatch)
    found = differences(reference, shape(upgraded(databases)))
    assert found and any(expected in line for line in found), found


def test_a_changed_description_fails_the_comparison_in_the_geopackage(tmp_path, monkeypatch):
    dbs = _Databases("sqlite", tmp_path)
    reference = shape(fresh(dbs))
    monkeypatch.setattr(v0004_governance, "DESCRIPTIONS",
                        {**v0004_governance.DESCRIPTIONS, "warning_runs": "someone else's words"})
    found = differences(reference, shape(upgraded(dbs)))
    assert len(found) == 1 and found[0].startswith("gpkg_contents:") and "someone else's words" in found[0]


def test_a_listed_operational_table_fails_the_comparison_in_the_geopackage(tmp_path, monkeypatch):
    dbs = _Databases("sqlite", tmp_path)
    reference = shape(fresh(dbs))
    monkeypatch.setattr(v0008_layers, "OPERATIONAL_TABLES", v0008_layers.OPERATIONAL_TABLES[:-1])
    found = differences(reference, shape(upgraded(dbs)))
    assert len(found) == 1 and found[0].startswith("gpkg_contents:") and "login_lockouts" in found[0]
