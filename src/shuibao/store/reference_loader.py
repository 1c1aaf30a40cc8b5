"""Write the plan's reference data (and district boundaries) into a store, from plain rows.

Loading replaces the reference tables' rows inside the caller's transaction,
so ``db init`` is idempotent: running it twice leaves the same rows, and a
failure half-way leaves the previous load in place.  The rows are prepared from the plan's
data classes by the service (:func:`shuibao.services.platform.database.reference_rows`).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from sqlalchemy import Connection, delete, select

from .. import __version__
from ..datafiles import plan_data_dir
from . import gpkg, schema


def data_checksum() -> str:
    """SHA-256 over the reference CSV files, for provenance."""
    h = hashlib.sha256()
    for path in sorted(plan_data_dir().glob("*.csv")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def load_reference(conn: Connection, rows: dict[str, list[dict]], *,
                   extent: tuple[float, ...] | None, boundary_source: str | None) -> dict[str, int]:
    """Replace the reference tables' content with ``rows`` (table name → rows, written in the order given);
    returns the number of rows written per table.

    On SQLite the boundaries' ``extent`` goes into the GeoPackage's contents; one ``reference_loads`` row
    records the load (``boundary_source`` None: no boundaries were loaded).
    """
    for table in schema.REFERENCE_TABLES:
        conn.execute(delete(table))
    counts: dict[str, int] = {}
    for name, table_rows in rows.items():
        table = schema.metadata.tables[name]
        if table_rows:
            conn.execute(table.insert(), table_rows)
        counts[table.name] = len(table_rows)
    if conn.dialect.name == "sqlite":  # the GeoPackage's contents carry the extent; PostGIS has none
        gpkg.update_extent(conn, schema.district_boundaries, extent)
    conn.execute(schema.reference_loads.insert().values(
        loaded_at=datetime.now(UTC), software_version=__version__, data_checksum=data_checksum(),
        boundaries=boundary_source is not None, boundary_source=boundary_source,
    ))
    return counts


def read_boundaries(conn: Connection) -> list[dict]:
    """District boundaries as stored (shapely geometries in EPSG:4490)."""
    t = schema.district_boundaries
    return [dict(row._mapping) for row in conn.execute(select(t).order_by(t.c.fid))]
