"""The bulletin from the demo's two runs: every table total equals the stored run, absent records say so."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser

import numpy as np
import pytest

from shuibao.reports.render import bulletin_html, write_bulletin
from shuibao.services.reporting.bulletin import bulletin_data

SHUIBAO = [sys.executable, "-m", "shuibao.cli.main"]


class Tables(HTMLParser):
    """Rows of cell texts for every <table id=...>, and the text of every element with an id."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.texts: dict[str, str] = {}
        self._table = None
        self._cell = None
        self._open_ids: list[str | None] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self._table = a.get("id")
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self.tables[self._table].append([])
        elif tag in ("td", "th") and self._table:
            self._cell = ""
        if tag in ("p", "h2") or (tag == "table"):
            self._open_ids.append(a.get("id"))
            if a.get("id"):
                self.texts[a["id"]] = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._table and self._cell is not None:
            self.tables[self._table][-1].append(self._cell.strip())
            self._cell = None
        if tag == "table":
            self._table = None
        if tag in ("p", "h2", "table") and self._open_ids:
            self._open_ids.pop()

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data
        for i in self._open_ids:
            if i:
                self.texts[i] += data


def parse(html: str) -> Tables:
    t = Tables()
    t.feed(html)
    return t


def number(text: str) -> float:
    return float(text.replace(",", ""))


# ---------------------------------------------------------------- a tiny run whose numbers are known by hand
# Grades 1…6 (微度…剧烈, 0 = nodata) of a 3 × 10 grid of 500 m cells (0.25 km² each); zone 1 is 涪陵区,
# zone 2 万州区, zone 0 outside both.  Counted by hand:
#   涪陵区 10 cells: 微度 6, 轻度 2, 中度 1, 强烈 1            → 2.50 km², loss 1.00 km² (40.00 %), rate 60.00 %
#   万州区  8 cells: 微度 3, 轻度 1, 极强烈 1, 剧烈 3           → 2.00 km², loss 1.25 km² (62.50 %), rate 37.50 %
#   outside 2 cells: 轻度 2                                    → 0.50 km², not in 全市
#   全市 18 cells: 微度 9, 轻度 3, 中度 1, 强烈 1, 极强烈 1, 剧烈 3 → 4.50 km², loss 2.25 km², rate 50.00 %
TINY_GRADES = np.array([[1, 1, 1, 1, 1, 1, 2, 2, 3, 4],
                        [1, 1, 1, 2, 5, 6, 6, 6, 0, 0],
                        [2, 2, 0, 0, 0, 0, 0, 0, 0, 0]], np.uint8)
TINY_ZONES = np.array([[1] * 10, [2] * 8 + [0, 0], [0] * 10], np.int32)
TINY_LANDUSE = np.array([[1] * 10, [3] * 10, [1] * 10], np.uint8)  # row 0 耕地, row 1 林地 (表2 classes)
CELL_KM2 = 0.25
TINY_KM2 = {  # unit: (土地总面积, 微度, 轻度, 中度, 强烈, 极强烈, 剧烈, 水土流失面积, 水土流失占比 %)
    "涪陵区": ("2.50", "1.50", "0.50", "0.25", "0.25", "0.00", "0.00", "1.00", "40.00"),
    "万州区": ("2.00", "0.75", "0.25", "0.00", "0.00", "0.25", "0.75", "1.25", "62.50"),
    "全市": ("4.50", "2.25", "0.75", "0.25", "0.25", "0.25", "0.75", "2.25", "50.00"),
    "区县边界外": ("0.50", "0.00", "0.50", "0.00", "0.00", "0.00", "0.00", "0.50", "100.00"),
}
FUBIAO1 = ("土地总面积", "微度面积", "轻度面积", "中度面积", "强烈面积", "极强烈面积", "剧烈面积", "水土流失面积",
           "水土流失占比 (%)")
_GRADE_KM2 = [f"{g}_km2" for g in ("slight", "light", "moderate", "intense", "very_intense", "severe")]
_UNIT_COLUMNS = ("seq", "level", "code", "name", "covers", "total_km2", *_GRADE_KM2, "loss_km2", "rate_pct",
                 "target_2025_pct", "gap_pp", "gap_km2", "mean_modulus_t_km2", "soil_loss_t")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> str:
    """A database holding one stored run counted from ``TINY_GRADES`` (no grade raster: no maps)."""
    from datetime import UTC, datetime

    from shuibao.monitoring.blocks import count_block
    from shuibao.monitoring.units import landuse_rows, make_zone, unit_rows
    from shuibao.plan.reference import load_reference
    from shuibao.services.platform import database
    from shuibao.store import Store, schema

    folder = tmp_path_factory.mktemp("tiny-run")
    db = str(folder / "tiny.gpkg")
    database.init(db, boundaries=False)
    ref = load_reference()
    zones = [make_zone(1, (ref.district("涪陵区"),)), make_zone(2, (ref.district("万州区"),))]
    modulus = np.where(TINY_GRADES > 0, 100.0, 0.0).astype(np.float32)
    p = count_block(TINY_GRADES, modulus, TINY_ZONES, np.zeros_like(TINY_ZONES), TINY_LANDUSE, n_zones=2,
                    n_sheds=0)
    units = [u.record() for u in unit_rows(ref, zones, p.zone_grade, p.zone_loss, CELL_KM2)]
    names = {c.code: c.name for c in ref.landuse_classes}
    landuse = landuse_rows(p.class_grade, {1: (1, "耕地"), 3: (3, "林地")}, names, CELL_KM2)
    city = next(u for u in units if u["level"] == "city")
    with Store(db) as store, store.transaction() as conn:
        rid = conn.execute(schema.monitoring_runs.insert().values(
            run_key="tiny", name="tiny", year=2025, synthetic=True, created_at=datetime(2025, 1, 1, tzinfo=UTC),
            software_version="test", spec_path="-", output_dir=str(folder), grid_crs="EPSG:4547",
            cell_size_m=500.0, rows=3, cols=10, valid_cells=20, total_km2=city["total_km2"],
            slight_km2=city["slight_km2"], conservation_rate_pct=city["rate_pct"], spec_json="{}",
            provenance_json="{}")).inserted_primary_key[0]
        conn.execute(schema.monitoring_units.insert(),
                     [dict(run_id=rid, **{k: u[k] for k in _UNIT_COLUMNS}) for u in units])
        conn.execute(schema.monitoring_landuse.insert(), [dict(
            run_id=rid, **{k: r[k] for k in ("class_code", "name", "total_km2", *_GRADE_KM2, "loss_km2")})
            for r in landuse])
    return db


def test_fubiao1_shows_the_hand_counted_areas(tiny):
    doc = parse(bulletin_html(bulletin_data(tiny, "latest")))
    header, *body = doc.tables["table-fubiao1"]
    rows = {r[0]: r for r in body}
    for unit, expected in TINY_KM2.items():
        assert tuple(rows[unit][header.index(col)] for col in FUBIAO1) == expected, unit


def test_city_grades_and_summary_by_hand(tiny):
    doc = parse(bulletin_html(bulletin_data(tiny, "latest")))
    grades = {r[0]: r[1:] for r in doc.tables["city-grades"][1:]}
    # 微度 as a share of the land (9/18), every loss grade as a share of the loss area (附表1's 口径)
    assert grades["微度"] == ["2.25", "50.00"]
    assert grades["轻度"] == ["0.75", "33.33"]  # 3/9
    assert grades["中度"] == ["0.25", "11.11"]  # 1/9
    assert grades["剧烈"] == ["0.75", "33.33"]  # 3/9
    assert grades["水土流失合计"] == ["2.25", "50.00"]
    summary = doc.texts["city-summary"]
    assert "土地总面积 4.50 km²" in summary and "水土流失面积 2.25 km²" in summary
    # target: 附表2's 63.50 (涪陵区, 2941 km²) and 62.00 (万州区, 3453 km²) weighted by 附表1's areas:
    # (63.50 × 2941 + 62.00 × 3453) / 6394 = 400839.5 / 6394 = 62.6899… %
    assert "水土保持率 50.00%" in summary and "2025年目标 62.69%" in summary
    assert "距目标 12.69 个百分点" in summary


def test_fubiao2_gaps_by_hand(tiny):
    doc = parse(bulletin_html(bulletin_data(tiny, "latest")))
    header, *body = doc.tables["table-fubiao2"]
    rows = {r[0]: r for r in body}
    # 万州区: 62.00 − 37.50 = 24.50 pp; 0.62 × 2.00 − 0.75 = 0.49 km² more 微度 needed
    assert rows["万州区"][1:5] == ["37.50", "62.00", "24.50", "0.49"]
    assert rows["涪陵区"][1:4] == ["60.00", "63.50", "3.50"]  # 63.50 − 60.00


def test_biao2_landuse_by_hand(tiny):
    doc = parse(bulletin_html(bulletin_data(tiny, "latest")))
    header, *body = doc.tables["table-biao2"]
    rows = {r[0]: dict(zip(header, r)) for r in body}
    # 耕地 is row 0 (10 cells, all in 涪陵区) and the 2 outside cells of row 2, which 表2 leaves out
    assert rows["耕地"]["土地面积"] == "2.50" and rows["耕地"]["水土流失面积"] == "1.00"
    assert rows["林地"]["土地面积"] == "2.00" and rows["林地"]["剧烈面积"] == "0.75"
    assert rows["合计"]["土地面积"] == "4.50" and rows["合计"]["水土流失面积"] == "2.25"


def test_the_demo_bulletin_lists_every_district(demo):
    doc = parse(bulletin_html(bulletin_data(demo, "latest")))
    header, *body = doc.tables["table-fubiao1"]
    rows = {r[0]: r for r in body}
    districts = bulletin_data(demo, "latest").districts
    assert len(districts) == 38 and all(u["name"] in rows for u in districts)  # 39 units; 綦江区 holds 万盛经开区
    city = rows["全市"]
    # the city's land is its loss plus its 微度 area, whatever the run computed
    assert number(city[header.index("土地总面积")]) == pytest.approx(
        number(city[header.index("微度面积")]) + number(city[header.index("水土流失面积")]), abs=0.011)
    assert "监测运行 #" in bulletin_html(bulletin_data(demo, "latest"))


def test_sections_without_records_say_so(demo, tmp_path):
    from dataclasses import replace

    from shuibao.services.platform import database
    from shuibao.services.reporting.bulletin import _sections

    empty = str(tmp_path / "empty.gpkg")
    database.init(empty, boundaries=False)
    sections = _sections(empty, 2025)
    assert [s.rows for s in sections] == [None, None, None]
    b = replace(bulletin_data(demo, "latest"), sections=sections)
    html = bulletin_html(b)
    for s in sections:
        assert s.absent in html and "尚无" in s.absent
    assert not any(f"table-{s.key}" in parse(html).tables for s in sections)  # no table of zeros stands in
    assert [s.key for s in bulletin_data(demo, "latest").sections if s.rows is None] == []  # the demo has all


def test_the_governance_section_adds_up_hand_built_treatment(tiny, tmp_path):
    """Four treatment patches of known size (squares at the central meridian of EPSG:4545, where the conformal
    projection keeps areas to < 1e-6): the section shows the completed km² per plan type, by hand."""
    import shutil

    from shapely.geometry import box

    from shuibao.services.governance.treatment import import_treatment
    from tests.helpers import X0, Y0, square, write_layer

    rows = [dict(patch_code=code, project_code=proj, project_name=f"项目{proj}", kind=kind, measure=measure,
                 year=year, status=status)
            for code, proj, kind, measure, year, status in (
                ("A", "P1", "small_watershed", "afforestation", 2024, "completed"),        # 1.0 km²
                ("B", "P1", "small_watershed", "enclosure", 2025, "accepted"),             # 0.5 km²
                ("C", "P2", "rocky_desertification", "grass_shrub", 2023, "completed"),    # 2.0 km²
                ("D", "P1", "small_watershed", "conservation_tillage", 2025, "planned"))]  # not done
    geoms = [square(0, 0, 1000), box(X0 + 2000, Y0, X0 + 3000, Y0 + 500), box(X0 + 5000, Y0, X0 + 7000, Y0 + 1000),
             square(9000, 0, 1000)]
    db = str(tmp_path / "treated.gpkg")
    shutil.copy(tiny, db)  # the module's tiny run stays without treatment records
    import_treatment(db, write_layer(tmp_path / "t.gpkg", rows, geoms), actor="tester")
    b = bulletin_data(db, "latest")
    shown = {r["item"]: r["value"] for r in next(s for s in b.sections if s.key == "governance").rows}
    # 专栏3 (plan text lines 348, 359): 01 小流域水土流失综合治理, 03 石漠化综合治理
    assert shown.keys() == {"小流域水土流失综合治理", "石漠化综合治理"}
    assert shown["小流域水土流失综合治理"] == pytest.approx(1.0 + 0.5, rel=1e-4)
    assert shown["石漠化综合治理"] == pytest.approx(2.0, rel=1e-4)
    assert "table-governance" in parse(bulletin_html(b)).tables


def test_the_supervision_section_counts_what_the_store_holds(demo):
    import json

    from sqlalchemy import func, select

    from shuibao.services.supervision.cases import list_cases
    from shuibao.store import Store, schema

    b = bulletin_data(demo, "latest")
    rows = {r["item"]: r for r in next(s for s in b.sections if s.key == "supervision").rows}
    with Store(demo) as store, store.reading() as conn:
        n_patches = conn.execute(select(func.count()).select_from(schema.disturbance_patches)).scalar()
        counts = json.loads(conn.execute(select(schema.compliance_runs.c.counts_json)).scalar())
        paid = conn.execute(select(func.sum(schema.fee_payments.c.amount_fen))).scalar()
        approved = conn.execute(select(func.count()).where(schema.projects.c.approval_date >= "2025-01-01")).scalar()
    period = next(k for k in rows if k.startswith("扰动图斑"))
    assert rows[period]["value"] == n_patches == sum(counts.values())
    assert rows["当年批复水土保持方案"]["value"] == approved
    assert f"疑似未批先建 {counts['unapproved']}" in rows[period.replace("扰动图斑", "合规性分析")]["note"]
    closed = [c for c in list_cases(demo, as_of=None) if c["state"] == "closed"]
    assert rows["当年销号"]["value"] == len(closed) > 0
    assert rows["征收水土保持补偿费"]["value"] == round(paid / 100 / 1e4, 2)
    assert "table-supervision" in parse(bulletin_html(b)).tables


def test_comparison_and_synthetic_label(demo):
    html = bulletin_html(bulletin_data(demo, "latest", "1"))
    doc = parse(html)
    assert "SYNTHETIC" in html
    header = doc.tables["table-fubiao2"][0]
    assert "较2024年 (百分点)" in header and "趋势" in header
    trends = {r[header.index("趋势")] for r in doc.tables["table-fubiao2"][1:]}
    assert trends <= {"已达目标", "向目标靠近", "偏离目标", "持平", "—"} and trends != {"—"}


def test_the_cli_writes_the_same_bytes_twice_and_refuses_an_unknown_run(demo, tmp_path):
    outs = []
    for k in range(2):
        proc = subprocess.run(SHUIBAO + ["--db", demo, "report", "bulletin", "--run", "latest", "--compare", "1",
                                         "--no-pdf", "-o", str(tmp_path / str(k))], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        outs.append((tmp_path / str(k) / "bulletin.html").read_bytes())
    assert outs[0] == outs[1]
    bad = subprocess.run(SHUIBAO + ["--lang", "en", "--db", demo, "report", "bulletin", "--run", "99", "-o", str(tmp_path / "x")],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "run 99" in bad.stderr and not (tmp_path / "x" / "bulletin.html").exists()


def test_the_pdf_has_the_figures_and_numbers_of_the_run(demo, tmp_path):
    pytest.importorskip("weasyprint")
    if shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None:
        pytest.skip("poppler-utils (pdftotext, pdftoppm) not installed; scripts/check.sh installs it")
    b = bulletin_data(demo, "latest", "previous")
    assert b.previous is not None and b.previous["year"] == 2024
    written = write_bulletin(b, tmp_path)
    names = {p.name for p in written}
    assert {"bulletin.html", "bulletin.pdf", "grade_map.svg", "rate_map.svg", "gap_map.svg", "composition.svg",
            "rate_trend.svg"} <= names
    text = subprocess.run(["pdftotext", "-layout", str(tmp_path / "bulletin.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout
    city = b.city
    assert f"{city['rate_pct']:.2f}%" in text and f"{city['total_km2']:,.2f}" in text
    assert re.search(r"图1\s+2025年重庆市土壤侵蚀强度分布", text) and re.search(r"图4\s+2025年各区县水土保持率", text)
    assert "生产建设项目监管" in text and "综合治理进展" in text and "降雨侵蚀力" in text  # the record sections
    assert "SYNTHETIC" in text
    subprocess.run(["pdftoppm", "-r", "30", "-png", "-f", "1", "-l", "3", str(tmp_path / "bulletin.pdf"),
                    str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) == 3 and all(p.stat().st_size > 2000 for p in pages)
    fonts = subprocess.run(["pdffonts", str(tmp_path / "bulletin.pdf")], capture_output=True, text=True).stdout
    assert "WenQuanYi" in fonts  # the Chinese text is set in an embedded CJK font, not in boxes


def test_maps_are_skipped_with_a_reason_when_the_run_folder_is_gone(demo, tmp_path):
    b = bulletin_data(demo, "latest")
    from shuibao.services.reporting.bulletin import Maps

    from shuibao.services.reporting.bulletin import _missing_zh

    why = "run 2: /nowhere/grade.tif no longer exists"
    b.maps = Maps(missing=f"{why}; the maps need the run's output folder", missing_zh=_missing_zh(2, why))
    html = bulletin_html(b, {})
    # the reader learns what happened, in Chinese, without the folder's path
    assert "本期无土壤侵蚀强度分布图：监测运行 #2 的输出文件夹（侵蚀强度栅格）已不存在" in html
    assert "/nowhere" not in html


def test_district_sheets_carry_the_hand_counted_numbers(tiny):
    from shuibao.reports.render import district_html
    from shuibao.services.reporting.bulletin import district_sheets

    sheets = district_sheets(tiny, "latest", ["万州区", "fuling"])
    assert [s.unit["name"] for s in sheets] == ["万州区", "涪陵区"]
    expected = {"万州区": ("0.75", "1.25", "37.50%"), "涪陵区": ("1.50", "1.00", "60.00%")}
    for s in sheets:
        doc = parse(district_html(s, None))
        rows = {r[0]: r for r in doc.tables["district-grades"][1:]}
        slight, loss, rate = expected[s.unit["name"]]
        assert rows["微度"][1] == slight and rows["水土流失合计"][1] == loss
        assert rate in doc.texts["district-summary"]
        assert s.missing is not None and "no longer exists" in s.missing  # the tiny run has no grade raster
        assert s.missing_zh is not None and "已不存在" in s.missing_zh and "/" not in s.missing_zh
        assert s.missing_zh in district_html(s, None)
    wanzhou = district_html(sheets[0], None)  # 万州区's 行政区划代码 is 500101 (GB/T 2260), not its slug
    assert "行政区划代码 500101" in wanzhou and "wanzhou" not in wanzhou
    with pytest.raises(Exception, match="不存在区"):
        district_sheets(tiny, "latest", ["不存在区"])


def test_district_sheets_of_the_demo(demo, tmp_path):
    from shuibao.reports.render import district_html, write_district_sheets
    from shuibao.services.reporting.bulletin import district_sheets

    sheets = district_sheets(demo, "latest", ["万州区", "yuzhong"])
    assert [s.unit["name"] for s in sheets] == ["万州区", "渝中区"]
    for s in sheets:
        doc = parse(district_html(s, None))
        assert s.change is not None and "较 2024 年" in doc.texts["district-summary"]
        assert s.grades is not None and s.outline is not None
    written = write_district_sheets(district_sheets(demo, "latest"), tmp_path, pdf=False)
    assert len([p for p in written if p.suffix == ".html"]) == 38
    assert len([p for p in written if p.suffix == ".svg"]) == 38


def test_one_district_sheet_as_pdf_is_one_page(demo, tmp_path):
    pytest.importorskip("weasyprint")
    if shutil.which("pdfinfo") is None:
        pytest.skip("poppler-utils not installed")
    proc = subprocess.run(SHUIBAO + ["--db", demo, "report", "district", "万州区", "-o", str(tmp_path)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    pdf = next(tmp_path.glob("district-*.pdf"))
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    assert "Pages:           1" in info
    both = subprocess.run(SHUIBAO + ["--lang", "en", "--db", demo, "report", "district", "万州区", "--all", "-o", str(tmp_path)],
                          capture_output=True, text=True)
    assert both.returncode == 2 and "not both" in both.stderr


def test_each_region_and_the_three_gorges_have_a_section_whose_districts_add_up(demo):
    b = bulletin_data(demo, "latest", "previous")
    doc = parse(bulletin_html(b))
    for u in [*b.regions, b.three_gorges]:
        rows = doc.tables[f"members-{u['code']}"]
        members, total = rows[1:-1], rows[-1]
        assert len(members) == len(b.members[(u["level"], u["code"])]) > 0
        header = rows[0]
        col = header.index("土地总面积 (km²)")
        assert sum(number(r[col]) for r in members) == pytest.approx(number(total[col]), abs=0.01 * len(members))
        assert number(total[col]) == pytest.approx(u["total_km2"], abs=0.005)
    assert len(b.members[("three_gorges", "three_gorges")]) == 22
    assert sum(len(b.members[("region", r["code"])]) for r in b.regions) == len(b.districts)
