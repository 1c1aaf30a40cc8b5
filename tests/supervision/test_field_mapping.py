"""The imports' shared field mapping (字段映射): the resolver alone (aliases, a mapping over an alias, every problem
at once), and the acceptance case of issue 19 — a bureau's projects file with ``project_id``, ``approval_no`` and
no area is refused as it is, and imports once mapped, its total area computed from the polygon and flagged."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from shuibao.errors import InputError
from shuibao.services.supervision import projects as project_service
from shuibao.store import Store, schema
from shuibao.supervision.imports import FieldSpec, parse_field_mapping, resolve_columns

from tests.helpers import project_row, square, write_layer

SPECS = (FieldSpec("code", "text", True, ("项目编号", "项目代码")), FieldSpec("name", "text", True, ("项目名称",)),
         FieldSpec("industry", "text", False, ("项目类型", "行业类别")), FieldSpec("area", "number", False, ("面积",)))


def test_columns_resolve_by_name_and_alias():
    got = resolve_columns(["项目编号", "name", "面积", "备注"], SPECS)
    assert got.ok and got.columns == {"code": "项目编号", "name": "name", "area": "面积"}


def test_a_mapping_comes_before_the_alias_and_takes_its_column():
    # 项目类型 is industry's alias; mapped to name it is name's, and industry falls to its other alias
    got = resolve_columns(["项目编号", "项目类型", "行业类别", "name"], SPECS, {"name": "项目类型"})
    assert got.ok and got.columns == {"code": "项目编号", "name": "项目类型", "industry": "行业类别"}
    # mapped to nothing: the file has no such field, even where an alias matches
    got = resolve_columns(["项目编号", "name", "面积"], SPECS, {"area": ""})
    assert got.ok and "area" not in got.columns


def test_every_problem_is_reported_at_once_with_the_file_columns():
    got = resolve_columns(["project_id", "title", "kind"], SPECS,
                          {"cod": "project_id", "name": "项目名", "industry": "kind", "area": "kind"})
    text = [str(p) for p in got.problems]
    assert not got.ok and len(text) == 5, text
    assert text[0] == ("field mapping: 'cod' is not a field of this import; its fields are: code, name, industry, "
                       "area")
    assert text[1] == "field mapping name=项目名: the file has no column '项目名'"
    assert text[2] == "field mapping: column 'kind' is mapped to industry, area; map a column to one field"
    assert text[3].startswith("missing field 'code': no column named code / 项目编号 / 项目代码")
    assert text[4] == "the file's columns: project_id, title, kind"
    assert "industry" not in got.columns and "area" not in got.columns  # neither of the two reads the column


def test_a_default_stands_in_for_a_missing_required_field():
    assert resolve_columns(["name"], SPECS, defaults={"code": "X"}).ok


def test_the_option_text_is_parsed_comma_separated_or_repeated():
    assert parse_field_mapping(["code=项目编号,approval_number=批复文号", "total_area_hm2="]) == {
        "code": "项目编号", "approval_number": "批复文号", "total_area_hm2": ""}
    with pytest.raises(InputError) as err:
        parse_field_mapping(["code", "name=a,name=b"])
    assert "'code' is not FIELD=COLUMN" in str(err.value) and "field 'name' is given twice" in str(err.value)


def _bureau_file(tmp_path):
    """The issue's file: the bureau's own column names, no area field."""
    rows = []
    for r in (project_row("WZ-1", district="万州区"), project_row("WZ-2", district="万州区")):
        r["project_id"], r["approval_no"] = r.pop("code"), r.pop("approval_number")
        r.pop("total_area_hm2")
        rows.append(r)
    return write_layer(tmp_path / "bureau.gpkg", rows, [square(0, 0, 200), square(1000, 0, 100)])


def test_a_bureau_file_is_refused_unmapped_and_imports_mapped_with_the_area_computed(sdb, tmp_path):
    path = _bureau_file(tmp_path)
    with pytest.raises(InputError) as err:
        project_service.import_projects(sdb, path)
    assert "missing field 'code'" in str(err.value) and "missing field 'approval_number'" in str(err.value)
    assert "the file's columns: " in str(err.value) and "project_id" in str(err.value)
    assert "total_area_hm2" not in str(err.value)  # no area is no problem: the polygon gives it
    r = project_service.import_projects(sdb, path, fields={"code": "project_id", "approval_number": "approval_no"})
    assert (r.created, r.computed_areas) == (2, 2)
    assert [row["messages"] for row in r.rows] == [
        "total_area_hm2 computed from the polygon: 4.0000 hm² (the file gives no area)",
        "total_area_hm2 computed from the polygon: 1.0000 hm² (the file gives no area)"]
    with Store(sdb) as store, store.reading() as conn:
        got = {p.code: p for p in conn.execute(select(schema.projects))}
        area = {a.project_id: a for a in conn.execute(select(schema.responsibility_areas))}
    assert got["WZ-1"].approval_number == "渝水许〔2024〕WZ-1" and got["WZ-1"].total_area_computed is True
    # the flag's area is the stored polygon's (200 m × 200 m in EPSG:4545)
    assert got["WZ-1"].total_area_hm2 == pytest.approx(area[got["WZ-1"].id].area_m2 / 1e4, abs=1e-4)
    assert got["WZ-2"].total_area_hm2 == pytest.approx(1.0, rel=1e-3)


def test_a_declared_area_is_not_flagged_and_a_row_without_area_or_polygon_is_refused(sdb, tmp_path):
    declared = write_layer(tmp_path / "d.gpkg", [project_row("D1")], [square(0, 0, 100)])
    r = project_service.import_projects(sdb, declared)
    assert r.computed_areas == 0
    with Store(sdb) as store, store.reading() as conn:
        assert conn.execute(select(schema.projects.c.total_area_computed)).scalar() is False
    row = project_row("D2")
    row.pop("total_area_hm2")
    bare = tmp_path / "bare.csv"
    bare.write_text(",".join(row) + "\n" + ",".join(str(v) for v in row.values()) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="total_area_hm2: empty, and no polygon to compute it from"):
        project_service.import_projects(sdb, bare)


def test_a_bad_area_value_is_refused_not_replaced_by_the_polygon(sdb, tmp_path):
    path = write_layer(tmp_path / "b.gpkg", [project_row("B1", total_area_hm2="lots")], [square(0, 0, 100)])
    with pytest.raises(InputError) as err:
        project_service.import_projects(sdb, path)
    assert "total_area_hm2: 'lots' is not a number" in str(err.value) and "computed" not in str(err.value)
