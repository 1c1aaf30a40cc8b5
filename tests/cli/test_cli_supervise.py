"""`shuibao supervise`: the documented commands end to end on the embedded store, and bad input → exit 2."""

from __future__ import annotations

import csv
import json

from shuibao.cli.main import run
from shuibao.services.platform.database import init

from tests.helpers import patch_row, project_row, square, write_layer


def _run(capsys, *args):
    code = run(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_import_compliance_case_credit(tmp_path, capsys):
    db = str(tmp_path / "s.gpkg")
    init(db, boundaries=False)
    base = ("--db", db, "supervise", "--actor", "审核员甲")
    write_layer(tmp_path / "projects.gpkg", [project_row("P1")], [square(0, 0, 1000)])
    write_layer(tmp_path / "patches.gpkg", [patch_row("T1"), patch_row("T2")], [square(900, 0, 300), square(0, 0, 50)])
    code, out, err = _run(capsys, *base, "projects", "import", str(tmp_path / "projects.gpkg"))
    assert code == 0 and "1 new" in out, err
    code, out, _ = _run(capsys, *base, "patches", "import", str(tmp_path / "patches.gpkg"))
    assert code == 0 and "2 patch(es)" in out
    code, out, _ = _run(capsys, *base, "compliance", "-o", str(tmp_path / "out.csv"))
    assert code == 0 and "疑似超出防治责任范围 1" in out and "合规 1" in out  # the categories by their labels
    rows = list(csv.DictReader((tmp_path / "out.csv").read_text(encoding="utf-8-sig").splitlines()))
    assert [(r["patch_id"], r["category"], r["category_zh"]) for r in rows] == [
        ("T1", "out_of_bounds", "疑似超出防治责任范围"), ("T2", "compliant", "合规")]
    assert set(rows[0]) >= {"patch_id", "category", "project_id", "outside_m2", "overlap_m2", "rules_version"}
    code, out, _ = _run(capsys, *base, "compliance", "-o", str(tmp_path / "out.gpkg"))
    assert code == 0 and (tmp_path / "out.gpkg").exists()
    code, out, _ = _run(capsys, *base, "cases", "open-from-findings", "--on", "2025-07-01")
    assert code == 0 and "1 case(s) opened" in out
    code, out, _ = _run(capsys, *base, "cases", "list", "--format", "json")
    no = json.loads(out)[0]["case_no"]
    for step in (["verify", "--outcome", "confirmed", "--note", "属实", "--on", "2025-07-02"],
                 ["order_rectification", "--deadline", "2025-08-01", "--on", "2025-07-03"]):
        code, out, err = _run(capsys, *base, "cases", "step", no, *step)
        assert code == 0, err
    code, _, err = _run(capsys, *base, "cases", "step", no, "close", "--on", "2025-07-04")
    assert code == 2 and "cannot take the step Closure" in err
    photo = tmp_path / "site.jpg"
    photo.write_bytes(b"\xff\xd8 site photo")
    code, out, err = _run(capsys, *base, "cases", "step", no, "note", "--evidence", str(photo), "--on", "2025-07-04")
    assert code == 0, err
    code, out, _ = _run(capsys, *base, "cases", "show", no, "--format", "json")
    shown = json.loads(out)
    assert shown["state"] == "rectification_ordered" and shown["events"][1]["recorded_by"] == "审核员甲"
    sha = shown["events"][-1]["evidence"][0]["sha256"]
    code, out, _ = _run(capsys, *base, "cases", "evidence", sha, "-o", str(tmp_path / "back.jpg"))
    assert code == 0 and (tmp_path / "back.jpg").read_bytes() == photo.read_bytes()
    code, out, _ = _run(capsys, *base, "credit", "update", "--as-of", "2025-09-01", "--format", "json")
    assert code == 0 and json.loads(out)[0]["rule_id"] == "watch_confirmed_violation"
    # the table is for people: the list's and rule's labels, the evidence as 案件 · id, never a repr or a code
    code, out, _ = _run(capsys, *base, "credit", "list", "--as-of", "2025-09-01")
    assert code == 0 and "重点关注名单" in out and "一年内经核实违法违规" in out and "案件 · " in out, out
    assert "[[" not in out and "watch_list" not in out and "watch_confirmed_violation" not in out, out
    assert "┃ 名单 " in out and "List" not in out  # headers in one language: Chinese by default (--lang en)
    code, out, _ = _run(capsys, *base, "credit", "list", "--as-of", "2025-09-01", "--format", "csv")
    assert out.startswith("\ufeff")
    row = next(csv.DictReader(out.removeprefix("\ufeff").splitlines()))  # CSV keeps the codes for scripts, but no repr
    assert row["list_kind"] == "watch_list" and row["evidence"].startswith("案件 · ") and "[" not in row["evidence"]


def test_bad_uploads_exit_2_with_the_row_named(tmp_path, capsys):
    db = str(tmp_path / "s.gpkg")
    init(db, boundaries=False)
    write_layer(tmp_path / "p.gpkg", [patch_row("T1"), patch_row("T1")], [square(0, 0, 50), square(60, 0, 50)])
    code, _, err = _run(capsys, "--db", db, "supervise", "patches", "import", str(tmp_path / "p.gpkg"),
                        "--report", str(tmp_path / "r.csv"))
    assert code == 2 and "row 1 (T1)" in err and "nothing was imported" in err
    assert (tmp_path / "r.csv").exists()
    code, _, err = _run(capsys, "--db", db, "supervise", "patches", "import", str(tmp_path / "missing.gpkg"))
    assert code == 2 and "does not exist" in err
    code, _, err = _run(capsys, "--db", db, "supervise", "compliance")
    assert code == 2 and "no disturbance patches" in err


def test_detected_candidates_import_as_patches(tmp_path, capsys):
    from shuibao.demo.change import make_change_scene

    scene = make_change_scene(tmp_path / "scene", size=200, seed=3)
    db = str(tmp_path / "s.gpkg")
    init(db, boundaries=False)
    out = tmp_path / "candidates.gpkg"
    code, text, err = _run(capsys, "--db", db, "supervise", "detect", str(scene.before), str(scene.after), "-o",
                           str(out), "--period", "2025H2")
    assert code == 0, err
    n = int(text.split()[0])
    assert n > 0 and out.exists()
    code, text, err = _run(capsys, "--db", db, "supervise", "patches", "import", str(out))
    assert code == 0 and f"{n} patch(es)" in text, err
