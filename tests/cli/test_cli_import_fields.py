"""`--fields FIELD=COLUMN` on every import command: a file with a bureau's own column names imports once mapped,
and a mapping naming an unknown field or a column the file lacks is refused (exit 2) naming it, with the file's
columns listed."""

from __future__ import annotations

import pytest
from shapely.geometry import box
from sqlalchemy import func, select

from shuibao.cli.main import run
from shuibao.services.platform.database import init
from shuibao.store import Store, schema

from tests.helpers import STATIONS, patch_row, project_row, square, write_csv, write_layer


def _run(capsys, *args):
    code = run(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _count(db, table) -> int:
    with Store(db) as store, store.reading() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar()


def _renamed(row: dict, names: dict[str, str]) -> dict:
    return {names.get(k, k): v for k, v in row.items()}


@pytest.fixture
def db(tmp_path):
    path = str(tmp_path / "s.gpkg")
    init(path, boundaries=False)
    return path


def test_projects_the_issue_file_refused_then_imported_with_the_area_computed(db, tmp_path, capsys):
    row = _renamed(project_row("WZ-1", district="万州区"), {"code": "project_id", "approval_number": "approval_no"})
    row.pop("total_area_hm2")
    path = write_layer(tmp_path / "bureau.gpkg", [row], [square(0, 0, 300)])
    code, _, err = _run(capsys, "--db", db, "supervise", "projects", "import", str(path))
    assert code == 2 and "missing field 'code'" in err and "missing field 'approval_number'" in err
    assert "the file's columns: project_id, name" in err and _count(db, schema.projects) == 0
    code, out, err = _run(capsys, "--db", db, "supervise", "projects", "import", str(path),
                          "--fields", "code=project_id", "--fields", "approval_number=approval_no")
    assert code == 0, err
    assert "1 new" in out and "1 total area(s) computed from the polygon" in out
    assert "total_area_hm2 computed from the polygon: 9.0000 hm²" in out  # the row's report
    with Store(db) as store, store.reading() as conn:
        p = conn.execute(select(schema.projects)).one()
    assert (p.code, p.approval_number, p.total_area_computed) == ("WZ-1", "渝水许〔2024〕WZ-1", True)


def test_projects_a_bad_mapping_is_refused_naming_each_problem(db, tmp_path, capsys):
    path = write_layer(tmp_path / "p.gpkg", [project_row("P1")], [square(0, 0, 100)])
    code, _, err = _run(capsys, "--db", db, "supervise", "projects", "import", str(path),
                        "--fields", "cod=code,approval_number=批复文号")
    assert code == 2 and "'cod' is not a field of this import" in err
    assert "field mapping approval_number=批复文号: the file has no column '批复文号'" in err
    assert "the file's columns: code, name, builder" in err and _count(db, schema.projects) == 0
    code, _, err = _run(capsys, "--db", db, "supervise", "projects", "import", str(path), "--fields", "code")
    assert code == 2 and "'code' is not FIELD=COLUMN" in err


def test_patches(db, tmp_path, capsys):
    names = {"patch_id": "图斑号", "period": "期", "image_date": "拍摄日期"}
    path = write_layer(tmp_path / "t.gpkg", [_renamed(patch_row("T1"), names), _renamed(patch_row("T2"), names)],
                       [square(0, 0, 50), square(100, 0, 50)])
    code, _, err = _run(capsys, "--db", db, "supervise", "patches", "import", str(path))
    assert code == 2 and "missing field 'patch_id'" in err and "图斑号" in err
    code, out, err = _run(capsys, "--db", db, "supervise", "patches", "import", str(path),
                          "--fields", "patch_id=图斑号,period=期,image_date=拍摄日期")
    assert code == 0 and "period 2025H1: 2 patch(es)" in out, err
    with Store(db) as store, store.reading() as conn:
        assert sorted(conn.execute(select(schema.disturbance_patches.c.patch_code)).scalars()) == ["T1", "T2"]


def test_treatment(db, tmp_path, capsys):
    names = {"patch_code": "小班号", "project_code": "工程编号", "measure": "措施"}
    rows = [_renamed(dict(patch_code=f"Z{i}", project_code="XLY", project_name="渝北小流域", kind="small_watershed",
                          measure="afforestation", year=2025, status="completed"), names) for i in (1, 2)]
    path = write_layer(tmp_path / "z.gpkg", rows, [box(106.60 + 0.02 * i, 29.70, 106.61 + 0.02 * i, 29.71)
                                                   for i in range(2)], crs="EPSG:4490")
    code, _, err = _run(capsys, "--db", db, "governance", "import", str(path))
    assert code == 2 and "missing field 'patch_code'" in err and "missing field 'measure'" in err
    code, out, err = _run(capsys, "--db", db, "governance", "import", str(path),
                          "--fields", "patch_code=小班号,project_code=工程编号,measure=措施")
    assert code == 0 and "2 patch(es)" in out and "2 new" in out, err
    assert _count(db, schema.treatment_patches) == 2


def test_stations_and_observations(db, tmp_path, capsys):
    names = {"code": "测站编码", "name": "测站名称", "kind": "站型", "district": "所在区县", "lon": "东经",
             "lat": "北纬"}
    path = write_csv(tmp_path / "s.csv", [_renamed(s, names) for s in STATIONS])
    code, _, err = _run(capsys, "--db", db, "stations", "import", str(path))
    assert code == 2 and "missing field 'lon'" in err and "the file's columns: 测站编码, 测站名称" in err
    code, out, err = _run(capsys, "--db", db, "stations", "import", str(path), "--fields",
                          "code=测站编码,name=测站名称,kind=站型,district=所在区县,lon=东经,lat=北纬")
    assert code == 0 and "3 station(s): 3 new" in out, err
    obs = write_csv(tmp_path / "o.csv", [{"测站编码": s["code"], "观测日期": f"2025-07-0{d}", "日雨量": "3.5"}
                                         for s in STATIONS for d in (1, 2, 3)])
    code, _, err = _run(capsys, "--db", db, "stations", "observations", str(obs), "--fields", "station=测站编码")
    assert code == 2 and "missing field 'date'" in err and "missing field 'value'" in err
    code, out, err = _run(capsys, "--db", db, "stations", "observations", str(obs),
                          "--fields", "station=测站编码,date=观测日期,value=日雨量")
    assert code == 0 and "9 row(s) of rain_mm at 3 station(s)" in out, err
    assert _count(db, schema.station_observations) == 9
