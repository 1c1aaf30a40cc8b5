"""DDL helpers shared by the frozen migrations.

Released migrations call these, so their behaviour is frozen too: never change what one emits; add a new
helper beside it.  (Migration 3 once changed under its users when the TRUNCATE trigger was added to the
shared append-only helper; see docs/adr/0010-frozen-migrations.md.)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import Column, Connection, Integer, MetaData, Table, bindparam, inspect, text
from sqlalchemy.types import TypeEngine

from .. import gpkg


def stub(metadata: MetaData, name: str, key: str = "id", kind=Integer) -> Table:
    """A table an earlier version created, declared only so this version's foreign keys resolve; never created."""
    return Table(name, metadata, Column(key, kind, primary_key=True))


def create(conn: Connection, backend: str, tables: Iterable[Table], descriptions: Mapping[str, str]) -> None:
    """Create tables; in the embedded store also register them in gpkg_contents (QGIS lists them)."""
    for table in tables:
        table.create(conn)
        if backend == "sqlite":
            gpkg.register(conn, table, descriptions.get(table.name, ""))


def gist_index(conn: Connection, backend: str, table: str) -> None:
    """A PostGIS spatial index on ``geom`` (the embedded store has none yet, ADR 0002)."""
    if backend == "postgresql":
        conn.exec_driver_sql(f"CREATE INDEX IF NOT EXISTS {table}_geom_idx ON {table} USING gist (geom)")


def append_only_function(conn: Connection, backend: str) -> None:
    """The PostgreSQL trigger function that refuses a change to a history table."""
    if backend == "postgresql":
        conn.exec_driver_sql(
            "CREATE OR REPLACE FUNCTION shuibao_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "RAISE EXCEPTION USING MESSAGE = TG_TABLE_NAME || ' is append-only: add a new row instead'; END $$")


def append_only(conn: Connection, backend: str, table: str) -> None:
    """Refuse UPDATE and DELETE (and on PostgreSQL TRUNCATE) on a history table: a correction is a new row."""
    if backend == "postgresql":
        conn.exec_driver_sql(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                             "FOR EACH ROW EXECUTE FUNCTION shuibao_append_only()")
        conn.exec_driver_sql(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                             "FOR EACH STATEMENT EXECUTE FUNCTION shuibao_append_only()")
        return
    for op in ("UPDATE", "DELETE"):
        conn.exec_driver_sql(f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
                             f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: add a new row instead'); END")


def case_header_triggers(conn: Connection, backend: str) -> None:
    """A case header is written once: only its placeholder number is replaced, in the transaction that opens it."""
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


def index(conn: Connection, name: str, table: str, columns: str) -> None:
    """A b-tree index (both backends)."""
    conn.exec_driver_sql(f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({columns})")


def add_columns(conn: Connection, table: str, columns: Mapping[str, TypeEngine]) -> None:
    """ALTER TABLE … ADD COLUMN for each column the table lacks (types compiled for the connection's dialect)."""
    have = {c["name"] for c in inspect(conn).get_columns(table)}
    for name, kind in columns.items():
        if name not in have:
            conn.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN {name} {kind.compile(dialect=conn.dialect)}")



# --------------------------------------------------------------------------- version 8 on (docs/adr/0011-store-layers.md)
def _rtree_triggers(table: str, key: str, column: str) -> tuple[str, ...]:
    """The RTree extension's triggers (OGC 12-128r18 Annex F.3, GeoPackage 1.4: update6/update7 instead of the
    older update1/update3), as GDAL 3.12 writes them."""
    rt, t, k, g = f'"rtree_{table}_{column}"', f'"{table}"', f'"{key}"', f'"{column}"'
    box = f"ST_MinX(NEW.{g}), ST_MaxX(NEW.{g}), ST_MinY(NEW.{g}), ST_MaxY(NEW.{g})"
    new_has = f"(NEW.{g} NOTNULL AND NOT ST_IsEmpty(NEW.{g}))"
    new_none = f"(NEW.{g} ISNULL OR ST_IsEmpty(NEW.{g}))"
    name = f'"rtree_{table}_{column}'
    return (
        f'CREATE TRIGGER {name}_insert" AFTER INSERT ON {t} WHEN {new_has} '
        f"BEGIN INSERT OR REPLACE INTO {rt} VALUES (NEW.{k}, {box}); END",
        f'CREATE TRIGGER {name}_update6" AFTER UPDATE OF {g} ON {t} WHEN OLD.{k} = NEW.{k} AND {new_has} '
        f"AND (OLD.{g} NOTNULL AND NOT ST_IsEmpty(OLD.{g})) BEGIN UPDATE {rt} SET minx = ST_MinX(NEW.{g}), "
        f"maxx = ST_MaxX(NEW.{g}), miny = ST_MinY(NEW.{g}), maxy = ST_MaxY(NEW.{g}) WHERE id = NEW.{k}; END",
        f'CREATE TRIGGER {name}_update7" AFTER UPDATE OF {g} ON {t} WHEN OLD.{k} = NEW.{k} AND {new_has} '
        f"AND (OLD.{g} ISNULL OR ST_IsEmpty(OLD.{g})) BEGIN INSERT INTO {rt} VALUES (NEW.{k}, {box}); END",
        f'CREATE TRIGGER {name}_update2" AFTER UPDATE OF {g} ON {t} WHEN OLD.{k} = NEW.{k} AND {new_none} '
        f"BEGIN DELETE FROM {rt} WHERE id = OLD.{k}; END",
        f'CREATE TRIGGER {name}_update5" AFTER UPDATE ON {t} WHEN OLD.{k} != NEW.{k} AND {new_has} '
        f"BEGIN DELETE FROM {rt} WHERE id = OLD.{k}; INSERT OR REPLACE INTO {rt} VALUES (NEW.{k}, {box}); END",
        f'CREATE TRIGGER {name}_update4" AFTER UPDATE ON {t} WHEN OLD.{k} != NEW.{k} AND {new_none} '
        f"BEGIN DELETE FROM {rt} WHERE id IN (OLD.{k}, NEW.{k}); END",
        f'CREATE TRIGGER {name}_delete" AFTER DELETE ON {t} WHEN OLD.{g} NOT NULL '
        f"BEGIN DELETE FROM {rt} WHERE id = OLD.{k}; END",
    )


def spatial_index(conn: Connection, backend: str, table: str, key: str, column: str = "geom") -> None:
    """A spatial index on a feature table's geometry column, filled from the rows it holds.

    * GeoPackage: the RTree extension (``rtree_<table>_<column>`` and its triggers, a ``gpkg_extensions`` row);
      the triggers need the store's ``ST_*`` SQL functions (``gpkg.register_functions``).
    * PostGIS: a GiST index (``<table>_<column>_idx``; the name ``gist_index`` gives ``geom``)."""
    if backend == "postgresql":
        conn.exec_driver_sql(f"CREATE INDEX IF NOT EXISTS {table}_{column}_idx ON {table} USING gist ({column})")
        return
    conn.exec_driver_sql(gpkg.EXTENSIONS_DDL)
    conn.exec_driver_sql(f'CREATE VIRTUAL TABLE "rtree_{table}_{column}" USING rtree(id, minx, maxx, miny, maxy)')
    for ddl in _rtree_triggers(table, key, column):
        conn.exec_driver_sql(ddl)
    conn.exec_driver_sql(
        f'INSERT OR REPLACE INTO "rtree_{table}_{column}" SELECT "{key}", ST_MinX("{column}"), ST_MaxX("{column}"), '
        f'ST_MinY("{column}"), ST_MaxY("{column}") FROM "{table}" WHERE "{column}" NOT NULL '
        f'AND NOT ST_IsEmpty("{column}")')
    conn.exec_driver_sql("INSERT OR REPLACE INTO gpkg_extensions VALUES (?, ?, ?, ?, ?)",
                         (table, column, *gpkg.RTREE_EXTENSION))


def unregister(conn: Connection, backend: str, tables: Iterable[str]) -> None:
    """Take tables out of the GeoPackage contents (GDAL and QGIS then do not list them; the data stays)."""
    if backend != "sqlite":
        return
    names = list(tables)
    for meta in ("gpkg_geometry_columns", "gpkg_contents"):  # the geometry columns first: they point at contents
        conn.execute(text(f"DELETE FROM {meta} WHERE table_name IN :names").bindparams(
            bindparam("names", expanding=True)), {"names": names})
