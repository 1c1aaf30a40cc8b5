"""`shuibao demo` end to end on a coarse grid: two synthetic years over the real districts, compared."""

from __future__ import annotations

import csv
import subprocess
import sys

import rasterio

SHUIBAO = [sys.executable, "-m", "shuibao.cli.main"]


def test_demo_runs_two_years_and_labels_everything_synthetic(tmp_path):
    out = tmp_path / "demo"
    proc = subprocess.run(SHUIBAO + ["demo", "--out", str(out), "--resolution", "2000"], capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "SYNTHETIC" in proc.stdout
    for year in (2024, 2025):
        run = out / "output" / str(year)
        with rasterio.open(run / "rasters" / "grade.tif") as src:
            assert src.tags()["SHUIBAO_SYNTHETIC"].startswith("yes")
        with open(run / "tables" / "erosion_by_unit.csv", encoding="utf-8-sig") as fh:
            rows = list(csv.DictReader(fh))
        assert "SYNTHETIC" in (run / "tables" / "erosion_by_unit.csv-metadata.json").read_text(encoding="utf-8")
        districts = [r for r in rows if r["level"] == "district"]
        assert len(districts) == 38  # 38 polygons; 綦江区 stands with 万盛经开区
        assert any("万盛经开区" in r["name"] for r in districts)
        city = next(r for r in rows if r["level"] == "city")
        # the city at 2 km cells: within 1 % of the polygons' 82,381.5 km²
        assert abs(float(city["total_km2"]) - 82381.5) / 82381.5 < 0.01
    listed = subprocess.run(SHUIBAO + ["--db", str(out / "shuibao.gpkg"), "monitor", "list", "--format", "csv"],
                            capture_output=True, text=True)
    lines = listed.stdout.strip().splitlines()
    assert len(lines) == 3 and all(",yes," in line for line in lines[1:])
    assert "SYNTHETIC" in (out / "compare-2024-2025" / "changes_by_unit.csv-metadata.json").read_text(encoding="utf-8")
    with open(out / "compare-2024-2025" / "changes_by_unit.csv", encoding="utf-8-sig") as fh:
        changes = list(csv.DictReader(fh))
    assert {r["level"] for r in changes} == {"district", "region", "three_gorges", "city"}
    assert (out / "compare-2024-2025" / "comparison.xlsx").is_file()
    # the web account for browsing the demo: the password in the file logs in, and only its owner reads it
    login = out / "web-login.txt"
    assert str(login) in proc.stdout and (login.stat().st_mode & 0o077) == 0
    fields = dict(line.split(": ", 1) for line in login.read_text(encoding="utf-8").splitlines() if ": " in line)
    from shuibao.services.platform import auth

    who = auth.authenticate(str(out / "shuibao.gpkg"), fields["username"], fields["password"])
    assert who.role == "city_admin"
    # every synthetic project and patch lies in Chongqing (none in Sichuan or Hubei on the map)
    import shapely

    from shuibao.services.platform import features

    db = str(out / "shuibao.gpkg")
    city = shapely.union_all([shapely.geometry.shape(f["geometry"])
                              for f in features.items(db, "districts", limit=1000)["features"]])
    for cid in ("patches", "projects", "treatment"):
        geoms = [shapely.geometry.shape(f["geometry"]) for f in features.items(db, cid, limit=10_000)["features"]]
        assert geoms and all(city.contains(g) for g in geoms), cid
    # the first year against the plan's 2020 picture: printed, and written beside the runs; the plan's values are
    # 附表1's (100 − 30.52 % lost for the city, the grade shares as printed) and 表2's two largest loss classes
    check = out / "plan-2020-check-2024.csv"
    assert str(check) in proc.stdout
    assert "SYNTHETIC" in check.with_name(check.name + "-metadata.json").read_text(encoding="utf-8")
    with open(check, encoding="utf-8-sig") as fh:
        rows = {r["label"]: r for r in csv.DictReader(fh)}
    assert rows["全市 水土保持率 %"]["plan_2020"] == "69.48"
    assert rows["主城都市区 水土保持率 %"]["plan_2020"] == "74.66"
    assert [rows[f"{g} share of the loss area %"]["plan_2020"] for g in ("轻度", "中度", "强烈", "极强烈", "剧烈")] \
        == ["75.04", "14.36", "8.28", "2.06", "0.25"]
    assert rows["two largest loss classes"]["plan_2020"] == "林地、耕地"
    assert {r["holds"] for r in rows.values()} <= {"是", "否"}
    stored = next(r for r in csv.DictReader((out / "output" / "2024" / "tables" / "erosion_by_unit.csv")
                                                 .read_text(encoding="utf-8-sig").splitlines()) if r["level"] == "city")
    assert abs(float(rows["全市 水土保持率 %"]["demo"]) - float(stored["slight_pct"])) <= 0.006  # 微度 share = rate
    # every CSV the demo wrote (inputs, run tables, comparisons, checks) opens in a default reader: a BOM for
    # Excel, then the header on the first line, and every row as wide as the header (no comment lines)
    written = sorted(out.rglob("*.csv"))
    assert len(written) >= 10
    for path in written:
        assert path.read_bytes().startswith(b"\xef\xbb\xbf"), path.relative_to(out)
        with open(path, encoding="utf-8-sig", newline="") as fh:
            table = list(csv.reader(fh))
        assert table and not table[0][0].startswith("#"), path.relative_to(out)
        assert all(len(row) == len(table[0]) for row in table[1:]), path.relative_to(out)

    # and every workbook names its sheets in Chinese (the bureau's report tables), none by a file stem
    import re

    import openpyxl

    books = sorted(out.rglob("*.xlsx"))
    assert len(books) == 3
    for path in books:
        names = openpyxl.load_workbook(path, read_only=True).sheetnames
        assert names and all(re.search(r"[\u4e00-\u9fff]", n) for n in names), (path.relative_to(out), names)
