"""`shuibao supervise approvals`: each path from the command line, labels in the tables, and exit 2 with the
field named on every bad input (nothing stored)."""

from __future__ import annotations

import json

import pytest
import shapely

from shuibao.cli.main import run
from shuibao.services.platform.database import init

from tests.supervision.approvals_helpers import CHENGDU, hm2, square

BUILDER = "builder=重庆某建设有限公司:91512081MA62K0260E"


def _run(capsys, *args):
    code = run(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _geojson(path, geom):
    path.write_text(json.dumps({"type": "FeatureCollection", "crs": {"type": "name", "properties": {
        "name": "urn:ogc:def:crs:EPSG::4490"}}, "features": [{"type": "Feature", "properties": {},
                                                             "geometry": shapely.geometry.mapping(geom)}]}),
                    encoding="utf-8")
    return str(path)


@pytest.fixture
def cli(tmp_path, capsys):
    db = str(tmp_path / "s.gpkg")
    init(db, boundaries=True)
    base = ("--db", db, "supervise", "--actor", "审批员", "approvals")

    def call(*args):
        return _run(capsys, *base, *args)

    return call


def _register(cli, tmp_path, code, size, *extra, earthwork="0", geom=None, land=None):
    geom = geom if geom is not None else square(size)
    poly = _geojson(tmp_path / f"{code}.geojson", geom)
    return cli("register", code, "--name", f"项目{code}", "--industry", "房地产", "--applicant", "甲",
               "--land-take", str(land if land is not None else round(hm2(geom), 4)), "--earthwork", earthwork,
               "--polygon", poly, "--unit", BUILDER, "--unit", "compiler=某编制院", "--on", "2026-09-21", *extra)


def test_every_path_to_its_end_from_the_command_line(cli, tmp_path):
    code, out, err = _register(cli, tmp_path, "P1", 6)
    assert code == 0, err
    assert "SB-2026-0001 (P1): 报告书, 审批（先审后批）, 已登记待受理; next: 受理" in out
    code, out, err = cli("intake", "SB-2026-0001", "--on", "2026-09-21")
    assert code == 0 and "建设单位" in out and "91512081MA62K0260E" in out and "已受理" in out, err
    for args in (["review", "SB-2026-0001", "assign", "--organisation", "评审中心", "--on", "2026-09-22"],
                 ["review", "SB-2026-0001", "conclude", "--outcome", "pass", "--on", "2026-09-24"]):
        code, out, err = cli(*args)
        assert code == 0, err
    code, out, err = cli("decide", "SB-2026-0001", "--outcome", "approve", "--decision-no", "渝水许可〔2026〕9号",
                         "--on", "2026-09-25")
    assert code == 0 and "已批复" in out, err
    code, out, err = _register(cli, tmp_path, "P2", 1)
    assert "承诺制" in out, err
    code, out, err = cli("intake", "SB-2026-0002", "--on", "2026-09-21", "--decision-no", "承诺-1")
    assert code == 0 and "已批复" in out and "抽查复核" in out, err
    code, out, err = _register(cli, tmp_path, "P3", 0.3, earthwork="500")
    assert "不需编报" in out, err
    code, out, err = cli("intake", "SB-2026-0003", "--on", "2026-09-21")
    assert code == 0 and "不需编报（已办结）" in out, err
    zone = _geojson(tmp_path / "zone.geojson", square(40, dx=0.05))
    code, out, err = cli("zone", "Z1", "--name", "某园区", "--approval-no", "渝水许可〔2022〕90号", "--approved-on",
                         "2022-09-01", "--valid-from", "2022-09-01", "--valid-to", "2027-09-01", "--polygon", zone)
    assert code == 0 and "zone evaluation Z1" in out, err
    code, out, err = _register(cli, tmp_path, "P4", 6, geom=square(6, dx=0.05))
    assert "园区区域评价简化审批" in out, err
    cli("intake", "SB-2026-0004", "--on", "2026-09-21")
    code, out, err = cli("decide", "SB-2026-0004", "--outcome", "approve", "--decision-no", "Z-1", "--on", "2026-09-22")
    assert code == 0 and "已批复" in out, err
    code, out, err = _register(cli, tmp_path, "P5", 1, geom=square(1, dx=0.05))
    assert "备案制" in out, err
    cli("intake", "SB-2026-0005", "--on", "2026-09-21")
    code, out, err = cli("file", "SB-2026-0005", "--filing-no", "备-1", "--on", "2026-09-21")
    assert code == 0 and "已备案" in out, err
    code, out, err = cli("show", "SB-2026-0001", "--format", "json")
    shown = json.loads(out)
    assert [e["step"] for e in shown["events"]] == ["register", "intake", "assign_review", "conclude_review", "decide"]
    assert all(e["recorded_by"] == "审批员" for e in shown["events"])
    code, out, err = cli("show", "SB-2026-0001")
    assert code == 0 and "评审结论" in out and "方案编制单位" in out, err
    code, out, err = cli("recheck", "draw", "--year", "2026", "--seed", "3", "--ratio", "1")
    assert code == 0 and "3 of 3" in out, err  # the approved ones: ordinary, commitment, zone
    code, out, err = cli("recheck", "record", "1", "SB-2026-0002", "--outcome", "fail", "--findings", "表土措施缺漏",
                         "--on", "2026-10-09")
    assert code == 0 and "case SB2026-" in out, err


def test_overdue_list_and_district_counts(cli, tmp_path):
    _register(cli, tmp_path, "P1", 6)
    cli("intake", "SB-2026-0001", "--on", "2026-09-21")
    code, out, err = cli("list", "--overdue", "--as-of", "2026-10-12", "--format", "json")
    assert code == 0 and json.loads(out) == [], err
    code, out, err = cli("list", "--overdue", "--as-of", "2026-10-13", "--format", "json")
    rows = json.loads(out)
    assert [(r["application_no"], r["due_on"], r["counted_days"]) for r in rows] == [("SB-2026-0001", "2026-10-12", 11)]
    code, out, err = cli("list", "--overdue", "--as-of", "2026-10-13")
    assert code == 0 and "超期方案申请" in out and "渝中区" in out and "各区县在办及超期" in out, err
    code, out, err = cli("extend", "SB-2026-0001", "--reason", "需现场核查", "--on", "2026-10-12")
    assert code == 0 and "延长审批期限" not in out.split("next:")[1], err  # once only: no longer offered
    code, out, err = cli("list", "--overdue", "--as-of", "2026-10-13", "--format", "json")
    assert json.loads(out) == []
    code, out, err = cli("list", "--overdue", "--as-of", "2027-01-05")
    assert code == 2 and "holiday table covers 2025, 2026 only" in err


@pytest.mark.parametrize("case, words", [
    ("no_polygon", "polygon: required"),
    ("outside", "outside Chongqing"),
    ("land_take", "land_take_hm2: 20 hm²"),
    ("credit_code", "units[1].credit_code"),
    ("unit_syntax", "--unit 'builder'"),
])
def test_bad_registrations_exit_2_naming_the_field(cli, tmp_path, case, words):
    geom = square(6)
    poly = _geojson(tmp_path / "p.geojson", square(6, at=CHENGDU) if case == "outside" else geom)
    unit = {"credit_code": "builder=甲:91350100M0001TGQXM", "unit_syntax": "builder"}.get(case, BUILDER)
    args = ["register", "P9", "--name", "x", "--industry", "房地产", "--applicant", "甲", "--land-take",
            "20" if case == "land_take" else str(round(hm2(geom), 4)), "--earthwork", "0", "--unit", unit]
    if case != "no_polygon":
        args += ["--polygon", poly]
    code, out, err = cli(*args)
    assert code == 2 and words in err and "Traceback" not in err, err
    code, out, _ = cli("list", "--format", "json")
    assert json.loads(out) == []


def test_a_decision_before_its_review_and_a_step_out_of_order_exit_2(cli, tmp_path):
    _register(cli, tmp_path, "P1", 6)
    code, _, err = cli("review", "SB-2026-0001", "assign", "--organisation", "中心", "--on", "2026-09-21")
    assert code == 2 and "step: assign_review is not allowed" in err
    cli("intake", "SB-2026-0001", "--on", "2026-09-21")
    code, _, err = cli("decide", "SB-2026-0001", "--outcome", "approve", "--decision-no", "D", "--on", "2026-09-22")
    assert code == 2 and "decided_on:" in err and "no review conclusion" in err
    code, _, err = cli("review", "SB-2026-0001", "bogus")
    assert code == 2 and "action: 'bogus'" in err
    code, out, _ = cli("show", "SB-2026-0001", "--format", "json")
    assert [e["step"] for e in json.loads(out)["events"]] == ["register", "intake"]
