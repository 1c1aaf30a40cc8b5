"""Reads of the web platform's page models that span aggregates: a project's page (its areas, events,
compliance findings, cases, acceptance), a district's page (its runs' rows, projects, cases) and a run's
stored fields.  Writes never go through here."""

from __future__ import annotations

from collections.abc import Sequence
from sqlalchemy import Connection, Row, func, select

from .. import schema


def district_names(conn: Connection) -> dict[str, str]:
    """code → name of every district."""
    d = schema.districts
    return dict(conn.execute(select(d.c.code, d.c.name)).all())


def latest_analyses(conn: Connection) -> list[int]:
    """The newest compliance analysis of each period."""
    t = schema.compliance_runs
    return [int(r[0]) for r in conn.execute(select(func.max(t.c.id)).group_by(t.c.period))]


# --------------------------------------------------------------------------- a project's page
def project_by_code(conn: Connection, code: str):
    p = schema.projects
    return conn.execute(select(p).where(p.c.code == code)).first()


def project_areas(conn: Connection, project_id: int) -> list[dict]:
    """Every version of a project's responsibility area (without geometry)."""
    a = schema.responsibility_areas
    return [dict(r._mapping) for r in conn.execute(
        select(a.c.fid, a.c.version, a.c.area_kind, a.c.area_m2, a.c.repaired, a.c.recorded_at, a.c.superseded_at)
        .where(a.c.project_id == project_id).order_by(a.c.version))]


def project_events(conn: Connection, project_id: int) -> Sequence[Row]:
    e = schema.project_events
    return conn.execute(select(e).where(e.c.project_id == project_id).order_by(e.c.id)).all()


def project_findings_of_patches(conn: Connection, project_id: int, analyses: list[int]) -> list:
    """The patch findings naming a project in ``analyses``, with their patch and the analysis' rules version."""
    f, dp, cr = schema.compliance_findings, schema.disturbance_patches, schema.compliance_runs
    return [x._mapping for x in conn.execute(
        select(f, dp.c.patch_code, dp.c.period, dp.c.image_date, dp.c.district_code, cr.c.rules_version)
        .join(dp, dp.c.fid == f.c.patch_fid).join(cr, cr.c.id == f.c.run_id)
        .where(f.c.project_id == project_id, f.c.run_id.in_(analyses)).order_by(f.c.run_id.desc(), dp.c.patch_code))]


def project_level_findings(conn: Connection, project_id: int, analyses: list[int]) -> Sequence[Row]:
    """analysis_id, finding, status, reason, evidence_json of the project-level findings in ``analyses``."""
    pf = schema.compliance_project_findings
    return conn.execute(
        select(pf.c.run_id.label("analysis_id"), pf.c.finding, pf.c.status, pf.c.reason, pf.c.evidence_json)
        .where(pf.c.project_id == project_id, pf.c.run_id.in_(analyses)).order_by(pf.c.run_id.desc())).all()


def cases_of_project(conn: Connection, project_id: int) -> Sequence[Row]:
    c = schema.cases
    return conn.execute(select(c).where(c.c.project_id == project_id).order_by(c.c.id)).all()


def acceptance_of_project(conn: Connection, project_id: int) -> list[dict]:
    """A project's acceptance filings with their verification (if any)."""
    af, av = schema.acceptance_filings, schema.acceptance_verifications
    return [dict(r._mapping) for r in conn.execute(
        select(af.c.id, af.c.filed_on, af.c.reference, af.c.sample_id, av.c.verified_on, av.c.result, av.c.notes)
        .join(av, av.c.filing_id == af.c.id, isouter=True).where(af.c.project_id == project_id).order_by(af.c.id))]


# --------------------------------------------------------------------------- a district's page
def district_head(conn: Connection, code: str):
    """A district's fields with its region's name."""
    d, r = schema.districts, schema.regions
    return conn.execute(select(d.c.code, d.c.name, d.c.full_name, d.c.name_en, d.c.adcode, d.c.kind,
                               d.c.region_code, r.c.name.label("region"), d.c.three_gorges)
                        .join(r, r.c.code == d.c.region_code).where(d.c.code == code)).one()


def district_plan_target(conn: Connection, code: str):
    """(rate_2020_pct, target_2025_pct) of a district in 附表2, None if it has no row."""
    pt = schema.plan_targets
    return conn.execute(select(pt.c.rate_2020_pct, pt.c.target_2025_pct).where(pt.c.district_code == code)).first()


def district_trend(conn: Connection, code: str) -> list[dict]:
    """The district's unit row in every stored run, oldest first."""
    u, t = schema.monitoring_units, schema.monitoring_runs
    return [dict(x._mapping) for x in conn.execute(
        select(t.c.id.label("run_id"), t.c.name.label("run_name"), t.c.year, t.c.synthetic, u.c.id.label("unit_id"),
               u.c.total_km2, u.c.slight_km2, u.c.loss_km2, u.c.rate_pct, u.c.target_2025_pct, u.c.gap_pp,
               u.c.gap_km2).join(t, t.c.id == u.c.run_id)
        .where(u.c.level == "district", u.c.code == code).order_by(t.c.id))]


def newest_run_id(conn: Connection) -> int | None:
    t = schema.monitoring_runs
    return conn.execute(select(func.max(t.c.id))).scalar()


def project_statuses(conn: Connection) -> Sequence[Row]:
    """(status, district_codes) of every project."""
    p = schema.projects
    return conn.execute(select(p.c.status, p.c.district_codes)).all()


def cases_of_district(conn: Connection, code: str) -> Sequence[Row]:
    c = schema.cases
    return conn.execute(select(c).where(c.c.district_code == code).order_by(c.c.id)).all()


# --------------------------------------------------------------------------- a run
def run_fields(conn: Connection, run_id: int):
    """spec_json, spec_path, grid_crs, rows, cols, valid_cells of a stored run."""
    t = schema.monitoring_runs
    return conn.execute(select(t.c.spec_json, t.c.spec_path, t.c.grid_crs, t.c.rows, t.c.cols, t.c.valid_cells)
                        .where(t.c.id == run_id)).one()
