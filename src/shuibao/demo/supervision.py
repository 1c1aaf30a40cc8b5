"""The demo's supervision year, on SYNTHETIC records over the real districts.

A tenth of the city's scale (650 projects, 1,100 disturbance patches of one
period), each project placed in the district its rectangle falls in; then the
same services a bureau uses: import (files written and read back), compliance
analysis with its export, cases opened from the suspect findings and a few
taken through to closure, quarterly reports, a 双随机 draw, fees and the credit
lists.  Every name says 合成 (synthetic).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import shapely
from pyproj import Transformer

from shuibao.io.features import FeatureSet, write_features
from shuibao.plan.boundaries import EQUAL_AREA_CRS
from shuibao.store import Store
from shuibao.store.reference_loader import read_boundaries
from shuibao.demo.supervision_records import make_supervision_scene
from shuibao.services.supervision import cases, compliance, patches, projects
from shuibao.services.supervision import programs

GREEN = {"organisation": 2, "plan_and_design": 4, "rectification": 3, "disclosure": 4, "records": 2,
         "spoil_location": 8, "spoil_stacking": 4, "spoil_site_protection": 8, "spoil_dumping_cleanup": 10,
         "disturbance_control": 10, "topsoil": 7, "temporary_measures": 8, "engineering_measures": 10,
         "vegetation_measures": 10, "soil_loss": 10}


@dataclass
class SupervisionDemo:
    files: list[Path]
    counts: dict[str, int]
    cases_opened: int
    cases_closed: int
    credit_entries: int
    governance: object | None = None
    stations: object | None = None
    scenario: object | None = None


def _place_in_districts(db: str, scene) -> None:
    """Each project's district: the boundary its rectangle's centre falls in (else the nearest)."""
    with Store(db) as store, store.reading() as conn:
        bounds = read_boundaries(conn)
    names = [b["name"] for b in bounds]
    polys = np.array([b["geom"] for b in bounds], dtype=object)
    tf = Transformer.from_crs(EQUAL_AREA_CRS, "EPSG:4490", always_xy=True)
    centres = [shapely.Point(tf.transform(*g.centroid.coords[0])) for g in scene.project_geoms]
    tree = shapely.STRtree(polys)
    nearest = tree.query_nearest(centres, all_matches=False)[1]
    for p, j in zip(scene.projects, nearest.tolist()):
        p["district"] = names[j]


def _city_inside(db: str):
    """The districts' union in the scene's equal-area CRS, 2 km in from the city's edge, so every synthetic
    project and patch lies in Chongqing (a patch in Sichuan on the map would mislead more than it shows)."""
    with Store(db) as store, store.reading() as conn:
        bounds = read_boundaries(conn)
    tf = Transformer.from_crs("EPSG:4490", EQUAL_AREA_CRS, always_xy=True)
    city = shapely.union_all([shapely.transform(b["geom"], lambda xy: np.column_stack(tf.transform(xy[:, 0], xy[:, 1])))
                             for b in bounds])
    return city.buffer(-2000)


def run_supervision_demo(db: str, out: Path, *, year: int, seed: int = 0) -> SupervisionDemo:
    """The supervision records of ``year`` in the demo database; files under ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    period = f"{year}H1"
    scene = make_supervision_scene(650, 1100, seed=seed, period=period, image_date=f"{year}-06-30",
                                   inside=_city_inside(db))
    for k, p in enumerate(scene.projects):  # half approved the year before, half early this year
        p["approval_date"] = f"{year - 1}-{k % 12 + 1:02d}-15" if k % 2 else f"{year}-{k % 5 + 1:02d}-10"
    _place_in_districts(db, scene)
    pf, tf = out / "projects-synthetic.gpkg", out / "patches-synthetic.gpkg"
    write_features(pf, [FeatureSet("projects", scene.projects, scene.project_geoms)], scene.crs)
    write_features(tf, [FeatureSet("patches", scene.patches, scene.patch_geoms)], scene.crs)
    who = "demo（合成数据）"
    projects.import_projects(db, pf, actor=who)
    patches.import_patches(db, tf, actor=who)
    result = compliance.run_compliance(db, period=period, out=out / "compliance-synthetic.gpkg", actor=who)
    files = [pf, tf, *result.outputs]
    on = date(year, 7, 10)
    opened = cases.open_cases_from_findings(db, period=period, on=on, actor=who)
    closed = 0
    for k, no in enumerate(opened[:60]):  # the first sixty are worked on; the rest wait for verification
        day = on + timedelta(days=5)
        if k % 4 == 3:
            cases.add_step(db, no, "verify", on=day, outcome="not_confirmed", note="核查不属实（合成）", actor=who)
            cases.add_step(db, no, "close", on=day + timedelta(days=2), note="销号", actor=who)
            closed += 1
            continue
        cases.add_step(db, no, "verify", on=day, outcome="confirmed", note="现场核实（合成）", actor=who)
        cases.add_step(db, no, "order_rectification", on=day + timedelta(days=3), note="限期整改", actor=who)
        if k % 2 == 0:
            photo = out / f"evidence-{no}.txt"
            photo.write_text(f"合成整改照片说明 {no}\n", encoding="utf-8")
            cases.add_step(db, no, "rectify", on=day + timedelta(days=40), evidence=[photo], actor=who)
            cases.add_step(db, no, "review", on=day + timedelta(days=45), outcome="passed", note="复核通过",
                           actor=who)
            cases.add_step(db, no, "close", on=day + timedelta(days=46), note="销号", actor=who)
            photo.unlink()
            closed += 1
    for k, p in enumerate(scene.projects[:40]):  # quarterly reports: every tenth red
        scores = dict(GREEN, disturbance_control=0, spoil_dumping_cleanup=0, soil_loss=0, vegetation_measures=2,
                      engineering_measures=2) if k % 10 == 0 else GREEN
        programs.submit_report(db, p["code"], f"{year}Q2", date(year, 6, 30), scores, actor=who)
    inspectors = out / "inspectors-synthetic.csv"
    districts = sorted({p["district"] for p in scene.projects})
    inspectors.write_text("code,name,district\n" + "".join(f"I{i:02d},合成检查员{i},{d}\n"
                                                           for i, d in enumerate(districts * 2)), encoding="utf-8-sig")
    programs.import_inspectors(db, inspectors)
    draw = programs.draw(db, seed=year * 1000 + 701, ratio=0.05, actor=who)
    for k, inspection in enumerate(range(1, len(draw["assignments"]) + 1)):
        programs.record_inspection(db, inspection, on=date(year, 9, 1), result="problems" if k % 5 == 0 else "pass",
                                   findings="临时防护措施不到位（合成）" if k % 5 == 0 else "", actor=who)
    files.append(programs.publish_draw(db, draw["draw_id"], out / "inspections-public-synthetic.csv"))
    for k, p in enumerate(scene.projects[:30]):
        a = programs.assess_fee(db, p["code"], on=date(year, 3, 1), actor=who)
        if k % 3:
            programs.pay_fee(db, a["assessment_id"], paid_on=date(year, 3, 20), amount_yuan=a["amount_yuan"],
                             receipt=f"SYN-{year}-{k:04d}", actor=who)
    entries = programs.update_credit(db, as_of=date(year, 12, 31), actor=who)
    return SupervisionDemo(files, result.counts, len(opened), closed, len(entries))
