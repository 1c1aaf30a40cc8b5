"""Uploads of projects and patches: every malformed case is refused or repaired with a per-row report,
and a refused import stores nothing (both backends)."""

from __future__ import annotations

import csv
from datetime import date

import pytest
import shapely
from shapely.geometry import Polygon
from sqlalchemy import func, select

from shuibao.errors import InputError
from shuibao.services.supervision import patches as patch_service
from shuibao.services.supervision import projects as project_service
from shuibao.store import Store, schema

from tests.helpers import X0, Y0, patch_row, project_row, square, write_layer

BOWTIE = Polygon([(X0, Y0), (X0 + 100, Y0 + 100), (X0 + 100, Y0), (X0, Y0 + 100)])


def counts(db) -> dict:
    with Store(db) as store, store.reading() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar()
                for t in schema.SUPERVISION_TABLES}


def read_report(path):
    with open(path, encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_patches_are_stored_with_lineage_and_repairs_reported(sdb, tmp_path):
    src = write_layer(tmp_path / "p.gpkg", [patch_row("A", kind="弃土（渣）场", area_m2=10_000.0),
                                            patch_row("B")], [square(0, 0, 100), BOWTIE])
    r = patch_service.import_patches(sdb, src, report=tmp_path / "report.csv", actor="tester")
    assert (r.period, r.features, r.repaired) == ("2025H1", 2, 1)
    rows = {x["key"]: x for x in read_report(tmp_path / "report.csv")}
    assert rows["A"]["status"] == "ok" and rows["B"]["status"] == "repaired"
    assert "Self-intersection" in rows["B"]["messages"]
    with Store(sdb) as store, store.reading() as conn:
        got = {p.patch_code: p for p in conn.execute(select(schema.disturbance_patches))}
        imp = conn.execute(select(schema.supervision_imports)).one()
    assert got["A"].area_m2 == pytest.approx(10_000, rel=2e-3) and got["A"].kind == "弃土（渣）场"
    assert got["B"].repaired and got["B"].geom.is_valid and got["B"].area_m2 == pytest.approx(5_000, rel=2e-3)
    assert (got["B"].source_row, got["B"].import_id, got["B"].image_date) == (2, imp.id, date(2025, 6, 30))
    assert imp.source_path == str(src) and len(imp.source_sha256) == 64 and imp.recorded_by == "tester"


@pytest.mark.parametrize("case, expected", [
    ("empty_geometry", "no geometry"),
    ("duplicate", "also used in row"),
    ("missing_date", "image_date: empty"),
    ("bad_date", "is not a date"),
    ("bad_kind", "kind:"),
    ("wrong_crs", "outside Chongqing"),
    ("line", "expected a polygon"),
])
def test_a_bad_feature_refuses_the_whole_file(sdb, tmp_path, case, expected):
    rows = [patch_row("A"), patch_row("B"), patch_row("C")]
    geoms = [square(0, 0, 50), square(100, 0, 50), square(200, 0, 50)]
    crs = "EPSG:4545"
    if case == "empty_geometry":
        geoms[1] = None
    elif case == "duplicate":
        rows[2]["patch_id"] = "A"
    elif case == "missing_date":
        rows[1]["image_date"] = None
    elif case == "bad_date":
        rows[1]["image_date"] = "June"
    elif case == "bad_kind":
        rows[1]["kind"] = "挖掘"
    elif case == "wrong_crs":
        crs = "EPSG:4326"  # metres read as degrees
    elif case == "line":
        geoms[1] = shapely.LineString([(X0, Y0), (X0 + 10, Y0 + 10)])
    src = write_layer(tmp_path / "p.gpkg", rows, geoms, crs=crs,
                      ) if case != "line" else _mixed(tmp_path, rows, geoms)
    before = counts(sdb)
    with pytest.raises(InputError) as err:
        patch_service.import_patches(sdb, src, report=tmp_path / "r.csv")
    assert expected in str(err.value) and "nothing was imported" in str(err.value)
    assert counts(sdb) == before
    statuses = [r["status"] for r in read_report(tmp_path / "r.csv")]
    assert "rejected" in statuses


def _mixed(tmp_path, rows, geoms):
    import json

    feats = [{"type": "Feature", "properties": r, "geometry": shapely.geometry.mapping(g)} for r, g in zip(rows, geoms)]
    path = tmp_path / "p.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats,
                                "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4545"}}}),
                    encoding="utf-8")
    return path


def test_missing_field_and_missing_crs_are_file_problems(sdb, tmp_path):
    src = write_layer(tmp_path / "p.gpkg", [{"patch_id": "A", "period": "2025H1"}], [square(0, 0, 50)])
    with pytest.raises(InputError, match="missing field.*image_date"):
        patch_service.import_patches(sdb, src)
    write_layer(tmp_path / "n.shp", [patch_row("A")], [square(0, 0, 50)])
    (tmp_path / "n.prj").unlink()  # a Shapefile without its .prj has no CRS
    with pytest.raises(InputError, match="no CRS"):
        patch_service.import_patches(sdb, tmp_path / "n.shp")
    assert counts(sdb)["disturbance_patches"] == 0


def test_a_patch_id_already_stored_for_the_period_is_refused(sdb, tmp_path):
    patch_service.import_patches(sdb, write_layer(tmp_path / "a.gpkg", [patch_row("A")], [square(0, 0, 50)]))
    with pytest.raises(InputError, match="already stored for period 2025H1"):
        patch_service.import_patches(sdb, write_layer(tmp_path / "b.gpkg", [patch_row("A"), patch_row("Z")],
                                                      [square(0, 0, 50), square(90, 0, 50)]))
    assert counts(sdb)["disturbance_patches"] == 1
    other = patch_service.import_patches(sdb, write_layer(tmp_path / "c.gpkg", [patch_row("A", period="2025H2")],
                                                          [square(0, 0, 50)]))
    assert other.period == "2025H2"


def test_chinese_headers_and_the_period_option(sdb, tmp_path):
    rows = [{"图斑编号": "甲-1", "影像日期": "2025年6月30日", "扰动类型": "取土（石）场"}]
    r = patch_service.import_patches(sdb, write_layer(tmp_path / "zh.gpkg", rows, [square(0, 0, 50)]),
                                     period="2025Q2")
    assert r.period == "2025Q2"
    with Store(sdb) as store, store.reading() as conn:
        p = conn.execute(select(schema.disturbance_patches)).one()
    assert (p.patch_code, p.kind, p.image_date) == ("甲-1", "取土（石）场", date(2025, 6, 30))


def test_projects_update_by_code_with_events_and_area_versions(sdb, tmp_path):
    first = write_layer(tmp_path / "p1.gpkg", [project_row("P1"), project_row("P2", district="江北区、渝北区")],
                        [square(0, 0, 100), square(500, 0, 100)])
    r = project_service.import_projects(sdb, first)
    assert (r.created, r.new_areas) == (2, 2)
    again = project_service.import_projects(sdb, first)
    assert (again.created, again.updated, again.unchanged, again.new_areas) == (0, 0, 2, 0)
    moved = write_layer(tmp_path / "p2.gpkg", [project_row("P1", builder="新建设公司")], [square(0, 0, 150)])
    r = project_service.import_projects(sdb, moved)
    assert (r.updated, r.new_areas) == (1, 1)
    history = project_service.project_history(sdb, "P1")
    assert [e["event"] for e in history] == ["created", "area", "updated", "area"]
    assert '"builder": "P1建设公司"' in history[2]["before_json"]
    with Store(sdb) as store, store.reading() as conn:
        t = schema.responsibility_areas
        versions = conn.execute(select(t.c.version, t.c.superseded_at, t.c.area_m2)
                                .where(t.c.project_id == 1).order_by(t.c.version)).all()
    assert [v.version for v in versions] == [1, 2] and versions[0].superseded_at is not None
    assert versions[1].superseded_at is None and versions[1].area_m2 == pytest.approx(22_500, rel=2e-3)
    listed = {p["code"]: p for p in project_service.list_projects(sdb)}
    assert listed["P2"]["district_codes"] == "jiangbei,yubei" and listed["P1"]["area_version"] == 2


def test_project_rows_with_unknown_district_or_reversed_dates_are_rejected(sdb, tmp_path):
    src = write_layer(tmp_path / "p.gpkg", [project_row("P1", district="火星区"),
                                            project_row("P2", construction_start="2025-05-01",
                                                        construction_end="2024-01-01")],
                      [square(0, 0, 100), square(500, 0, 100)])
    with pytest.raises(InputError) as err:
        project_service.import_projects(sdb, src)
    assert "火星区 not known" in str(err.value) and "before construction_start" in str(err.value)
    assert counts(sdb)["projects"] == 0


def test_status_lifecycle_is_enforced(sdb, tmp_path):
    project_service.import_projects(sdb, write_layer(tmp_path / "p.gpkg", [project_row("P1", status="approved")],
                                                     [square(0, 0, 100)]))
    with pytest.raises(InputError, match="cannot go from approved to verified"):
        project_service.set_status(sdb, "P1", "verified")
    for status in ("under_construction", "completed", "acceptance_filed", "verified"):
        project_service.set_status(sdb, "P1", status)
    with pytest.raises(InputError, match="final status"):
        project_service.set_status(sdb, "P1", "under_construction")


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson", ".shp", ".csv"])
def test_project_export_reimports_unchanged(sdb, tmp_path, suffix):
    src = write_layer(tmp_path / "p.gpkg", [project_row("P1", construction_start="2024-03-01", spoil_m3=1200.5),
                                            project_row("P2", district="江北区")],
                      [square(0, 0, 100), square(500, 0, 100)])
    project_service.import_projects(sdb, src)
    out = tmp_path / f"export{suffix}"
    project_service.export_projects(sdb, out)
    r = project_service.import_projects(sdb, out)
    assert (r.created, r.updated, r.unchanged, r.new_areas) == (0, 0, 2, 0)
