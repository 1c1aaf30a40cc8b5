"""The queries behind the small maps of the project and case pages: every version of a project's responsibility
area with its geometry, and a case's head (what it is about)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, Row, select

from shuibao.store import schema


def area_versions(conn: Connection, project_id: int) -> Sequence[Row]:
    """Every version of a project's responsibility area, with its geometry, by version."""
    a = schema.responsibility_areas
    return conn.execute(select(a.c.fid, a.c.version, a.c.area_kind, a.c.area_m2, a.c.recorded_at, a.c.superseded_at,
                               a.c.geom).where(a.c.project_id == project_id).order_by(a.c.version)).all()


def case_head(conn: Connection, case_no: str) -> Row | None:
    """A case's patch, project and district (None for an unknown case number)."""
    c = schema.cases
    return conn.execute(select(c.c.case_no, c.c.patch_fid, c.c.project_id, c.c.district_code)
                        .where(c.c.case_no == case_no)).first()
