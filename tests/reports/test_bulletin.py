"""The bulletin from the demo's two runs: every table total equals the stored run, absent records say so."""

from __future__ import annotations

import shutil
import subprocess
import sys
from html.parser import HTMLParser

import pytest

from shuibao.reports.render import bulletin_html, write_bulletin
from shuibao.services.reporting.bulletin import bulletin_data
from shuibao.services.monitoring.runs import get_run

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


def test_table_totals_equal_the_stored_run(demo):
    stored = get_run(demo, "latest")
    city = next(u for u in stored["units"] if u["level"] == "city")
    doc = parse(bulletin_html(bulletin_data(demo, "latest")))
    fubiao1 = doc.tables["table-fubiao1"]
    header = fubiao1[0]
    rows = {r[0]: r for r in fubiao1[1:]}
    assert number(rows[city["name"]][header.index("土地总面积")]) == pytest.approx(city["total_km2"], abs=0.005)
    assert number(rows[city["name"]][header.index("水土流失面积")]) == pytest.approx(city["loss_km2"], abs=0.005)
    districts = [u for u in stored["units"] if u["level"] == "district"]
    assert len(districts) == 38 and all(u["name"] in rows for u in districts)
    for u in districts:  # every district row shows its stored areas
        assert number(rows[u["name"]][header.index("微度面积")]) == pytest.approx(u["slight_km2"], abs=0.005)
    # 表2's total row is the city's land, by grade
    biao2 = doc.tables["table-biao2"]
    total = dict(zip(biao2[0], biao2[-1]))
    assert total["土地利用类型"] == "合计"
    for col, key in (("土地面积", "total_km2"), ("剧烈面积", "severe_km2"), ("水土流失面积", "loss_km2")):
        assert number(total[col]) == pytest.approx(city[key], abs=0.02)
    assert f"{city['rate_pct']:.2f}%" in doc.texts["city-summary"]
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


def test_the_governance_section_equals_the_treatment_progress(demo):
    from shuibao.services.governance.treatment import progress

    b = bulletin_data(demo, "latest")
    rows = next(s for s in b.sections if s.key == "governance").rows
    kinds = {k["label"]: k for k in progress(demo, year=2025)["by_kind"] if k["patches"]}
    assert {r["item"]: r["value"] for r in rows} == {k: v["done"] for k, v in kinds.items()} and len(rows) >= 5
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
    bad = subprocess.run(SHUIBAO + ["--db", demo, "report", "bulletin", "--run", "99", "-o", str(tmp_path / "x")],
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
    assert {"bulletin.html", "bulletin.pdf", "grade_map.png", "rate_map.png", "gap_map.png", "composition.png",
            "rate_trend.png"} <= names
    text = subprocess.run(["pdftotext", "-layout", str(tmp_path / "bulletin.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout
    city = b.city
    assert f"{city['rate_pct']:.2f}%" in text and f"{city['total_km2']:,.2f}" in text
    assert "图1 土壤侵蚀强度分布" in text and "图4 各区县水土保持率" in text
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

    b.maps = Maps(missing="run 2: /nowhere/grade.tif no longer exists; the maps need the run's output folder")
    html = bulletin_html(b, {})
    assert "本期无土壤侵蚀强度分布图" in html and "/nowhere/grade.tif" in html


def test_district_sheets_carry_the_stored_numbers(demo, tmp_path):
    from shuibao.reports.render import district_html, write_district_sheets
    from shuibao.services.reporting.bulletin import district_sheets

    stored = {u["name"]: u for u in get_run(demo, "latest")["units"] if u["level"] == "district"}
    sheets = district_sheets(demo, "latest", ["万州区", "yuzhong"])
    assert [s.unit["name"] for s in sheets] == ["万州区", "渝中区"]
    for s in sheets:
        doc = parse(district_html(s, None))
        rows = {r[0]: r for r in doc.tables["district-grades"][1:]}
        u = stored[s.unit["name"]]
        assert number(rows["微度"][1]) == pytest.approx(u["slight_km2"], abs=0.005)
        assert number(rows["水土流失合计"][1]) == pytest.approx(u["loss_km2"], abs=0.005)
        assert f"{u['rate_pct']:.2f}%" in doc.texts["district-summary"]
        assert s.change is not None and "较 2024 年" in doc.texts["district-summary"]
        assert s.grades is not None and s.outline is not None
    with pytest.raises(Exception, match="不存在区"):
        district_sheets(demo, "latest", ["不存在区"])
    written = write_district_sheets(district_sheets(demo, "latest"), tmp_path, pdf=False)
    assert len([p for p in written if p.suffix == ".html"]) == len(stored) == 38
    assert len([p for p in written if p.suffix == ".png"]) == 38


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
    both = subprocess.run(SHUIBAO + ["--db", demo, "report", "district", "万州区", "--all", "-o", str(tmp_path)],
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
        col = header.index("土地总面积")
        assert sum(number(r[col]) for r in members) == pytest.approx(number(total[col]), abs=0.01 * len(members))
        assert number(total[col]) == pytest.approx(u["total_km2"], abs=0.005)
    assert len(b.members[("three_gorges", "three_gorges")]) == 22
    assert sum(len(b.members[("region", r["code"])]) for r in b.regions) == len(b.districts)
