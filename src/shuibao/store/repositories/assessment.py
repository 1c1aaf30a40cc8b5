"""District target-responsibility assessment (目标责任考核): the stored runs and scores, and the records each
leaf of the indicator tree is computed from (read here, judged in the service)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import Connection, Row, func, select

from .. import schema

from ._keys import inserted_id


# --------------------------------------------------------------------------- the stored assessments
def add_assessment(conn: Connection, **values) -> int:
    """Insert one ``assessment_runs`` row; returns its id."""
    return inserted_id(conn.execute(schema.assessment_runs.insert().values(**values)))


def add_scores(conn: Connection, rows: list[dict]) -> None:
    conn.execute(schema.assessment_scores.insert(), rows)


def assessment_head(conn: Connection, assessment_id: int):
    """The ``assessment_runs`` row, None if there is none."""
    a = schema.assessment_runs
    return conn.execute(select(a).where(a.c.id == assessment_id)).first()


def scores_of(conn: Connection, assessment_id: int) -> list[dict]:
    """Every score row of an assessment, in the order stored."""
    s = schema.assessment_scores
    return [dict(r._mapping) for r in conn.execute(select(s).where(s.c.run_id == assessment_id).order_by(s.c.id))]


def newest_assessment_id(conn: Connection, year: int | None = None) -> int | None:
    a = schema.assessment_runs
    q = select(func.max(a.c.id))
    if year is not None:
        q = q.where(a.c.year == year)
    return conn.execute(q).scalar()


def assessed_years(conn: Connection) -> list[int]:
    a = schema.assessment_runs
    return sorted({int(y) for y in conn.execute(select(a.c.year).distinct()).scalars()})


def newest_total(conn: Connection, district_code: str):
    """(id, year, score, evidence_json) of a district's total in the newest assessment, None if never assessed."""
    ar, sc = schema.assessment_runs, schema.assessment_scores
    return conn.execute(select(ar.c.id, ar.c.year, sc.c.score, sc.c.evidence_json)
                        .join(sc, sc.c.run_id == ar.c.id)
                        .where(sc.c.district_code == district_code, sc.c.indicator == "total")
                        .order_by(ar.c.id.desc()).limit(1)).first()


# --------------------------------------------------------------------------- the records behind the leaves
def newest_run_of_year(conn: Connection, year: int) -> int | None:
    m = schema.monitoring_runs
    return conn.execute(select(func.max(m.c.id)).where(m.c.year == year)).scalar()


def project_districts(conn: Connection) -> dict[int, list[str]]:
    """project id → the codes of the districts it spans."""
    p = schema.projects
    return {r.id: r.district_codes.split(",") for r in conn.execute(select(p.c.id, p.c.district_codes))}


def district_units(conn: Connection, run_id: int) -> Sequence[Row]:
    """The district rows of a monitoring run's unit table."""
    u = schema.monitoring_units
    return conn.execute(select(u).where(u.c.run_id == run_id, u.c.level == "district")).all()


def treatment_of_year(conn: Connection, year: int) -> Sequence[Row]:
    """(fid, district_code, status, area_m2) of the treatment patches of ``year``."""
    t = schema.treatment_patches
    return conn.execute(select(t.c.fid, t.c.district_code, t.c.status, t.c.area_m2).where(t.c.year == year)).all()


def patch_periods(conn: Connection) -> Sequence[Row]:
    """The distinct (period, image_date) of the disturbance patches."""
    d = schema.disturbance_patches
    return conn.execute(select(d.c.period, d.c.image_date).distinct()).all()


def newest_analysis(conn: Connection, period: str) -> int | None:
    """The newest compliance analysis of a period."""
    r = schema.compliance_runs
    return conn.execute(select(func.max(r.c.id)).where(r.c.period == period)).scalar()


def project_findings(conn: Connection, analysis_id: int) -> Sequence[Row]:
    """(id, category, district_code) of an analysis' findings other than ``not_project``."""
    d, f = schema.disturbance_patches, schema.compliance_findings
    return conn.execute(select(f.c.id, f.c.category, d.c.district_code).join(d, d.c.fid == f.c.patch_fid)
                        .where(f.c.run_id == analysis_id, f.c.category != "not_project")).all()


def inspection_dates(conn: Connection) -> dict[int, date]:
    """inspection id → the day its result was recorded."""
    r = schema.inspection_results
    return {x.inspection_id: x.inspected_on for x in conn.execute(select(r.c.inspection_id, r.c.inspected_on))}


def inspections(conn: Connection) -> Sequence[Row]:
    """(id, project_id, recorded_at) of every drawn inspection."""
    i = schema.inspections
    return conn.execute(select(i.c.id, i.c.project_id, i.c.recorded_at)).all()


def monitoring_reports(conn: Connection) -> Sequence[Row]:
    """(id, project_id, period_end, colour) of every monitoring report."""
    m = schema.monitoring_reports
    return conn.execute(select(m.c.id, m.c.project_id, m.c.period_end, m.c.colour)).all()
