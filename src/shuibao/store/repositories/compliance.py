"""Compliance analyses (合规性分析): runs, their patch findings and project findings — never changed once stored."""

from __future__ import annotations

from collections.abc import Sequence
from sqlalchemy import Connection, Row, func, select

from shuibao.store import schema

from ._keys import inserted_id


def insert_run(conn: Connection, **values) -> int:
    """Store one ``compliance_runs`` row (period, rules, counts, who, when); its id."""
    return inserted_id(conn.execute(schema.compliance_runs.insert().values(**values)))


def insert_findings(conn: Connection, rows: list[dict]) -> None:
    conn.execute(schema.compliance_findings.insert(), rows)


def insert_project_findings(conn: Connection, rows: list[dict]) -> None:
    conn.execute(schema.compliance_project_findings.insert(), rows)


def analysis_exists(conn: Connection, analysis: int) -> bool:
    t = schema.compliance_runs
    return conn.execute(select(t.c.id).where(t.c.id == analysis)).scalar() is not None


def latest_analysis(conn: Connection, period: str | None = None) -> int | None:
    """The id of the newest analysis (of ``period`` when given); None when there is none."""
    t = schema.compliance_runs
    q = select(func.max(t.c.id))
    if period:
        q = q.where(t.c.period == period)
    return conn.execute(q).scalar()


def latest_run_of_period(conn: Connection, period: str):
    """The newest run row of a period (None when it was never analysed)."""
    r = schema.compliance_runs
    return conn.execute(select(r).where(r.c.period == period).order_by(r.c.id.desc()).limit(1)).first()


def finding_rows(conn: Connection, run_id: int, category: str | None = None) -> list:
    """The findings of one run with their patch (code, period, image date, district, kind, geometry), the run's
    rules version and the matched project's code and name, ordered by patch code."""
    f, p, r, pr = (schema.compliance_findings, schema.disturbance_patches, schema.compliance_runs,
                   schema.projects)
    q = (select(f, p.c.patch_code, p.c.period, p.c.image_date, p.c.district_code, p.c.kind, p.c.geom,
                r.c.rules_version, pr.c.code.label("project_code"), pr.c.name.label("project_name"))
         .join(p, p.c.fid == f.c.patch_fid).join(r, r.c.id == f.c.run_id)
         .join(pr, pr.c.id == f.c.project_id, isouter=True).where(f.c.run_id == run_id).order_by(p.c.patch_code))
    if category:
        q = q.where(f.c.category == category)
    return [x._mapping for x in conn.execute(q)]


def project_finding_rows(conn: Connection, run_id: int) -> list[dict]:
    """The project findings of one run with the project's code, name and builder, by code."""
    t, pr = schema.compliance_project_findings, schema.projects
    q = (select(t.c.project_id, pr.c.code, pr.c.name, pr.c.builder, t.c.finding, t.c.status, t.c.reason,
                t.c.evidence_json).join(pr, pr.c.id == t.c.project_id).where(t.c.run_id == run_id)
         .order_by(pr.c.code))
    return [dict(r._mapping) for r in conn.execute(q)]


def suspect_findings(conn: Connection, run_id: int, categories) -> Sequence[Row]:
    """Findings of ``categories`` in one run, with their patch and (where matched) project, by patch code."""
    f, p, pr = schema.compliance_findings, schema.disturbance_patches, schema.projects
    q = (select(f.c.id, f.c.patch_fid, f.c.category, f.c.project_id, f.c.reason, p.c.patch_code, p.c.period,
                p.c.image_date, p.c.district_code, pr.c.builder, pr.c.district_codes,
                pr.c.name.label("project_name"))
         .join(p, p.c.fid == f.c.patch_fid).join(pr, pr.c.id == f.c.project_id, isouter=True)
         .where(f.c.run_id == run_id, f.c.category.in_(categories)).order_by(p.c.patch_code))
    return conn.execute(q).all()
