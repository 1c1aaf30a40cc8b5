"""Import lineage (``supervision_imports``): one row per accepted file — source, checksum, layer, CRS, report."""

from __future__ import annotations

from sqlalchemy import Connection

from shuibao.store import schema

from ._keys import inserted_id


def record_import(conn: Connection, *, kind: str, source_path: str, source_sha256: str, layer: str,
                  source_crs, period: str | None, features: int, repaired: int, report_json: str, recorded_at,
                  recorded_by: str) -> int:
    """Store the lineage row of an accepted import; its id."""
    return inserted_id(conn.execute(schema.supervision_imports.insert().values(
        kind=kind, source_path=source_path, source_sha256=source_sha256, layer=layer, source_crs=source_crs,
        period=period, features=features, repaired=repaired, report_json=report_json, recorded_at=recorded_at,
        recorded_by=recorded_by)))
