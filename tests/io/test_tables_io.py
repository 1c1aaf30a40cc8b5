"""Report tables as CSV and XLSX: round-trips, fixed-point text, byte-identical rewrites, atomic writes."""

from __future__ import annotations

import csv
import time
from datetime import datetime

import numpy as np
import pytest
from openpyxl import load_workbook

from shuibao.errors import InputError
from shuibao.io.tables import Column, Table, write_csv, write_xlsx

STAMP = datetime(2024, 12, 31, 8, 0, 0)


def _table(synthetic: bool = False, rows: list[dict] | None = None) -> Table:
    columns = [
        Column("district", "区县", "District"),
        Column("code", "代码", "Code"),
        Column("area_km2", "水土流失面积", "Erosion area", "km²", 2),
        Column("share", "占比", "Share", "%", 1),
        Column("loss_t", "土壤流失量", "Soil loss", "t", 0),
    ]
    rows = rows if rows is not None else [
        {"district": "莲湖区", "code": 610104, "area_km2": 12.345678, "share": 0.04, "loss_t": 1234.5},
        {"district": "灞桥区, 东", "code": 610111, "area_km2": 0.00001, "share": -0.04, "loss_t": None},
        {"district": 'say "hi"', "code": np.int64(610112), "area_km2": np.float32(1e-7), "share": float("nan"),
         "loss_t": np.float64(2.5e6)},
    ]
    return Table("annex1", "附表1 水土流失面积统计", columns, rows, notes=["注：面积按投影面积计。"],
                 synthetic=synthetic)


def test_csv_round_trip_rounded_fixed_point(tmp_path):
    path = write_csv(tmp_path / "annex1.csv", _table())
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" not in raw
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["district", "code", "area_km2", "share", "loss_t"]
    assert rows[1] == ["莲湖区", "610104", "12.35", "0.0", "1235"]  # 四舍五入: half away from zero
    assert rows[2] == ["灞桥区, 东", "610111", "0.00", "0.0", ""]  # no '-0.0', no '1e-05'
    assert rows[3] == ['say "hi"', "610112", "0.00", "", "2500000"]
    assert "e-" not in raw.decode("utf-8-sig")


def test_written_files_get_the_usual_mode(tmp_path):
    (tmp_path / "plain.txt").write_text("x")
    written = write_csv(tmp_path / "t.csv", _table())
    assert written.stat().st_mode == (tmp_path / "plain.txt").stat().st_mode


def test_csv_starts_with_a_bom_and_its_header_and_the_label_lies_beside_it(tmp_path):
    import csv
    import json

    from shuibao.io.tables import metadata_path

    path = write_csv(tmp_path / "s.csv", _table(synthetic=True))
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfdistrict,code,")  # a BOM, then the header: no comment line
    with open(path, encoding="utf-8-sig", newline="") as fh:  # a default reader reads every row
        assert len(list(csv.DictReader(fh))) == len(_table().rows)
    meta = json.loads(metadata_path(path).read_text(encoding="utf-8"))
    assert metadata_path(path).name == "s.csv-metadata.json" and meta["url"] == "s.csv"
    assert meta["dc:title"] == "附表1 水土流失面积统计" and meta["shuibao:synthetic"].startswith("SYNTHETIC 合成数据")
    assert [c["name"] for c in meta["tableSchema"]["columns"]] == [c.key for c in _table().columns]
    plain = json.loads(metadata_path(write_csv(tmp_path / "o.csv", _table())).read_text(encoding="utf-8"))
    assert "shuibao:synthetic" not in plain


def test_xlsx_round_trip(tmp_path):
    second = Table("annex2", "附表2 其他", [Column("x", "数值", "Value", "", 3)], [{"x": 1.23456}], synthetic=True)
    path = write_xlsx(tmp_path / "report.xlsx", [_table(), second], timestamp=STAMP)
    wb = load_workbook(path)
    assert wb.sheetnames == ["annex1", "annex2"]
    assert wb.properties.creator == "shuibao"
    assert wb.properties.created == STAMP and wb.properties.modified == STAMP
    ws = wb["annex1"]
    assert ws["A1"].value == "附表1 水土流失面积统计"
    assert [c.value for c in ws[2]] == ["区县", "代码", "水土流失面积（km²）", "占比（%）", "土壤流失量（t）"]
    assert [c.value for c in ws[3]] == ["District", "Code", "Erosion area (km²)", "Share (%)", "Soil loss (t)"]
    assert [c.value for c in ws[4]] == ["莲湖区", 610104, 12.35, 0, 1235]
    assert [c.number_format for c in ws[4]] == ["General", "General", "0.00", "0.0", "0"]
    assert ws[6][3].value is None  # NaN → empty
    assert ws.freeze_panes == "A4"
    assert ws["A8"].value == "注：面积按投影面积计。"
    assert ws.column_dimensions["C"].width >= len("Erosion area (km²)")
    assert wb["annex2"]["A1"].value == "附表2 其他 — 合成数据 SYNTHETIC"
    assert wb["annex2"]["A4"].value == 1.235 and wb["annex2"]["A4"].number_format == "0.000"


def test_sheet_names_are_chinese_and_checked(tmp_path):
    zh = Table("annex1", "附表1", [Column("x", "数值", "Value")], [{"x": 1}], sheet="附表1 水土流失")
    assert load_workbook(write_xlsx(tmp_path / "zh.xlsx", [zh], timestamp=STAMP)).sheetnames == ["附表1 水土流失"]
    for bad in ("附表/1", "长" * 32):
        with pytest.raises(InputError, match="sheet name"):
            write_xlsx(tmp_path / "bad.xlsx", [Table("a", "t", zh.columns, zh.rows, sheet=bad)], timestamp=STAMP)
    with pytest.raises(InputError, match="distinct"):
        write_xlsx(tmp_path / "two.xlsx", [zh, Table("b", "t", zh.columns, zh.rows, sheet="附表1 水土流失")],
                   timestamp=STAMP)


def test_formula_like_text_stays_text(tmp_path):
    table = Table("t", "表", [Column("a", "甲", "A")], [{"a": "=1+1"}])
    ws = load_workbook(write_xlsx(tmp_path / "f.xlsx", [table], timestamp=STAMP))["t"]
    assert ws["A4"].value == "=1+1" and ws["A4"].data_type == "s"


def test_double_writes_are_byte_identical(tmp_path):
    tables = [_table(), _table(synthetic=True)]
    tables[1].name = "annex1s"
    write_csv(tmp_path / "a.csv", tables[0])
    write_xlsx(tmp_path / "a.xlsx", tables, timestamp=STAMP)
    time.sleep(1.1)  # zip entries carry 2-second timestamps; a naive writer would differ
    write_csv(tmp_path / "b.csv", tables[0])
    write_xlsx(tmp_path / "b.xlsx", tables, timestamp=STAMP)
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()
    write_xlsx(tmp_path / "c.xlsx", tables, timestamp=datetime(2025, 1, 1))
    assert (tmp_path / "c.xlsx").read_bytes() != (tmp_path / "a.xlsx").read_bytes()


@pytest.mark.parametrize("writer", ["csv", "xlsx"])
def test_failed_write_leaves_nothing(tmp_path, writer):
    rows = _table().rows + [{"district": "x", "code": 1, "area_km2": "twelve", "share": 1, "loss_t": 1}]
    table = _table(rows=rows)
    target = tmp_path / f"out.{writer}"
    with pytest.raises(InputError, match=r"row 4, column 'area_km2' is 'twelve'; expected a number"):
        if writer == "csv":
            write_csv(target, table)  # fails after three rows are already in the temporary file
        else:
            write_xlsx(target, [table], timestamp=STAMP)
    assert list(tmp_path.iterdir()) == []


def test_failed_rewrite_keeps_the_previous_file(tmp_path):
    good = write_csv(tmp_path / "t.csv", _table()).read_bytes()
    bad = _table(rows=[{"district": object(), "code": 1, "area_km2": 1, "share": 1, "loss_t": 1}])
    with pytest.raises(InputError, match="column 'district' is a object"):
        write_csv(tmp_path / "t.csv", bad)
    assert (tmp_path / "t.csv").read_bytes() == good
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv", "t.csv-metadata.json"]  # no temporary left


def test_bad_tables_are_refused(tmp_path):
    with pytest.raises(InputError, match="row 1 has no value for column"):
        write_csv(tmp_path / "m.csv", _table(rows=[{"district": "x"}]))
    with pytest.raises(InputError, match="ASCII"):
        write_xlsx(tmp_path / "n.xlsx", [Table("附表", "表", [], [])], timestamp=STAMP)
    with pytest.raises(InputError, match="distinct"):
        write_xlsx(tmp_path / "d.xlsx", [_table(), _table()], timestamp=STAMP)
    with pytest.raises(InputError, match="finite"):
        write_csv(tmp_path / "i.csv", _table(rows=[{"district": "x", "code": 1, "area_km2": float("inf"),
                                                   "share": 1, "loss_t": 1}]))
    assert list(tmp_path.iterdir()) == []
