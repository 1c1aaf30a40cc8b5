"""The 公报 to publication standard (issue 18 item 5), read back from the demo bulletin's PDF with poppler:
nothing internal in the text, consecutive numbering, every table inside the page's text area, map furniture on
every map page, ≥ 300 ppi rasters, and the district colour classes that the web map uses."""

from __future__ import annotations

import html as html_lib
import json
import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest

from shuibao.plan.map_classes import GAP_CLASSES, RATE_CLASSES
from shuibao.reports.render import bulletin_html, write_bulletin, zh_numeral
from shuibao.services.reporting.bulletin import bulletin_data

MM = 72 / 25.4  # PDF points per millimetre
SIDE_MARGIN_MM = 17  # bulletin.html's @page side margin
NUMERALS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
CRS_NAME = "CGCS2000 / Chongqing Albers equal-area"  # ADR 0009


def _poppler():
    pytest.importorskip("weasyprint")
    if shutil.which("pdftotext") is None or shutil.which("pdfimages") is None:
        pytest.skip("poppler-utils (pdftotext, pdfimages) not installed; scripts/check.sh installs it")


@pytest.fixture(scope="module")
def published(demo, tmp_path_factory) -> Path:
    """The demo's bulletin (2025 against 2024) as PDF, written once for this module."""
    _poppler()
    out = tmp_path_factory.mktemp("published")
    write_bulletin(bulletin_data(demo, "latest", "previous"), out)
    return out


def _pages(pdf: Path, layout: bool = False) -> list[str]:
    args = ["pdftotext", *(["-layout"] if layout else []), str(pdf), "-"]
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout.split("\f")[:-1]


def _body(pages: list[str]) -> list[str]:
    """The pages after the 目录 (the 目录 lists the chapter numerals once more)."""
    toc = next(i for i, p in enumerate(pages) if re.search(r"^目\s*录\s*$", p, re.M))
    return pages[toc + 1:]


def _zh(numeral: str) -> int:
    """一 → 1 … 十九 → 19 (an oracle independent of render.zh_numeral)."""
    if numeral.startswith("十"):
        return 10 + (NUMERALS[numeral[1:]] if numeral[1:] else 0)
    if "十" in numeral:
        tens, _, ones = numeral.partition("十")
        return NUMERALS[tens] * 10 + (NUMERALS[ones] if ones else 0)
    return NUMERALS[numeral]


def test_chinese_numerals():
    assert [zh_numeral(k) for k in (1, 5, 10, 11, 19, 20, 23, 99)] == ["一", "五", "十", "十一", "十九", "二十",
                                                                        "二十三", "九十九"]
    assert all(_zh(zh_numeral(k)) == k for k in range(1, 30))


def test_the_pdf_text_shows_nothing_internal(published, demo):
    text = "\n".join(_pages(published / "bulletin.pdf", layout=True))
    for literal in ("None", "True", "False", "nan", "{'", "':"):
        assert not re.search(rf"(?<![A-Za-z]){re.escape(literal)}(?![A-Za-z])", text), literal
    assert not re.search(r"(^|[\s(（:：])(/[\w.+-]+){2,}", text, re.M), "a POSIX path in the PDF"
    assert not re.search(r"[A-Za-z]:\\", text), "a Windows path in the PDF"
    assert str(Path(demo).parent) not in text
    for code in ("zhang2002", "d8", "horn", "downstream", "pooled", "segment"):  # parameter codes: labels instead
        assert not re.search(rf"(?<![\w]){code}(?![\w])", text), code
    assert "-0.00" not in text
    assert not re.search(r"(?<![A-Za-z])[kh]?m[23](?!\d)", text), "a unit spelt km2/hm2/m3 (km² etc. expected)"
    assert "重庆市水利局" in text and "前" in text and "目" in text


def test_numbering_is_consecutive_and_of_one_style(published):
    pages = _pages(published / "bulletin.pdf")
    body = "\n".join(_body(pages))
    chapters = [_zh(m) for m in re.findall(r"^([一二三四五六七八九十]+)、", body, re.M)]
    assert chapters == list(range(1, len(chapters) + 1)) and len(chapters) == 4  # status + 3 record chapters
    sections = [_zh(m) for m in re.findall(r"^（([一二三四五六七八九十]+)）", body, re.M)]
    assert sections == [1, 2, 3, 4, 5]
    assert not re.search(r"^\d+、", body, re.M), "an Arabic chapter number (the old 6、7、8、)"
    tables = [int(m) for m in re.findall(r"^表(\d+)\s", body, re.M)]
    figures = [int(m) for m in re.findall(r"^图(\d+)\s", body, re.M)]
    assert tables == list(range(1, len(tables) + 1)) and len(tables) >= 10
    assert figures == list(range(1, len(figures) + 1)) and len(figures) == 5
    # the 目录 lists the chapters in the same order, and the front matter comes first
    toc = next(p for p in pages if re.search(r"^目\s*录\s*$", p, re.M))
    assert [_zh(m) for m in re.findall(r"^([一二三四五六七八九十]+)、", toc, re.M)] == chapters
    assert "前言" in toc and "附录" in toc
    first = pages[0]
    assert "重庆市水土保持公报" in first and "重庆市水利局" in first and re.search(r"20\d\d年\d{1,2}月", first)


def _words(pdf: Path) -> list[tuple[int, float, float, float, str]]:
    """(page, page width, xMin, xMax, word) of every word, from `pdftotext -bbox-layout`."""
    xml = subprocess.run(["pdftotext", "-bbox-layout", str(pdf), "-"], capture_output=True, text=True,
                         check=True).stdout
    out = []
    for k, (width, body) in enumerate(re.findall(r"<page width=\"([\d.]+)\"[^>]*>(.*?)</page>", xml, re.S), 1):
        for x0, x1, word in re.findall(r"<word xMin=\"([\d.-]+)\" yMin=\"[\d.-]+\" xMax=\"([\d.-]+)\" "
                                       r"yMax=\"[\d.-]+\">([^<]*)</word>", body):
            out.append((k, float(width), float(x0), float(x1), html_lib.unescape(word)))
    return out


def test_every_table_stays_inside_the_text_area(published):
    words = _words(published / "bulletin.pdf")
    assert len(words) > 2000
    margin = SIDE_MARGIN_MM * MM - 1.0  # a point of slack for glyph side bearings
    outside = [(p, w, x0, x1) for p, width, x0, x1, w in words if x0 < margin or x1 > width - margin]
    assert outside == []
    # the long tables run over pages: each page they reach repeats their header
    pages = _pages(published / "bulletin.pdf", layout=True)
    for caption, header, last in (("各区县土壤侵蚀强度面积", "剧烈面积", "区县边界外"),
                                  ("各区县水土保持率与2025年目标", "距目标面积", "全市")):
        first = next(i for i, p in enumerate(pages) if re.search(rf"表\d+\s+{caption}", p))
        end = next(i for i in range(first, len(pages)) if re.search(rf"^\s*{last}\s+[\d,.]+", pages[i], re.M))
        assert end > first, f"{caption}: expected the table to continue on a second page"
        assert all(header in pages[i] for i in range(first, end + 1)), caption


def test_every_map_page_has_scale_bar_north_arrow_legend_and_crs(published):
    pages = _pages(published / "bulletin.pdf", layout=True)
    caption = re.compile(r"^\s*图\d+\s+(\S*(?:土壤侵蚀强度分布|各区县水土保持率|各区县距2025年水土保持率目标))\s*$", re.M)
    maps = [(i, caption.search(p).group(1)) for i, p in enumerate(pages) if caption.search(p)]
    assert len(maps) == 3
    for i, title in maps:
        page, flat = pages[i], re.sub(r"\s+", " ", pages[i])
        assert "比例尺" in page and re.search(r"(^|\s)\d+ km(\s|$)", page, re.M), title  # the bar's end label
        assert re.search(r"(^|\s)N(\s|$)", page, re.M), title  # the north arrow's letter
        assert "图例" in page, title
        assert "坐标系" in page and CRS_NAME in flat, title
        assert "万州区" in page and "黔江区" in page, title  # district labels
        assert "示意图" in flat, title
        scale = RATE_CLASSES if title.endswith("水土保持率") else GAP_CLASSES if "距" in title else None
        if scale is not None:
            assert all(c.label_zh in page for c in scale.classes), title


def test_the_maps_are_vector_with_rasters_at_300_ppi_or_more(published):
    figures = sorted((published / "figures").glob("*"))
    assert figures and all(f.suffix == ".svg" for f in figures)
    listing = subprocess.run(["pdfimages", "-list", str(published / "bulletin.pdf")], capture_output=True,
                             text=True, check=True).stdout.splitlines()[2:]
    ppi = [(int(cols[12]), int(cols[13])) for cols in (line.split() for line in listing)]
    assert ppi and all(x >= 300 and y >= 300 for x, y in ppi), ppi


def test_the_gap_classes_never_colour_a_shortfall_green():
    def green(hex_colour: str) -> bool:  # green dominates red and blue
        r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
        return g > r + 40 and g > b

    assert GAP_CLASSES.colour(0.0) == GAP_CLASSES.colour(-3.0) and green(GAP_CLASSES.colour(0.0))
    for gap in (0.01, 0.5, 1.0, 2.0, 3.0, 4.35, 5.0, 6.5, 15.0):
        assert not green(GAP_CLASSES.colour(gap)), gap
    assert GAP_CLASSES.colour(None) == GAP_CLASSES.no_data_colour
    # the classes tile the line: each class starts where the one before ends
    for scale in (RATE_CLASSES, GAP_CLASSES):
        bounds = [(c.lo, c.hi) for c in scale.classes]
        assert bounds[0][0] is None and bounds[-1][1] is None
        assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:]))
    assert RATE_CLASSES.classify(80.0).label_zh == "80%–90%" and RATE_CLASSES.classify(79.99).label_zh == "70%–80%"


def _map_page(tmp_path, lang: str) -> str:
    from fastapi.testclient import TestClient

    from shuibao.services.platform import auth, database
    from shuibao.web import Settings, create_app

    db = str(tmp_path / "web.gpkg")
    if not Path(db).exists():
        database.init(db, boundaries=False)
        auth.create_user(db, "look", "paper-mountain-2754", "viewer")
    client = TestClient(create_app(Settings(db=db)))
    assert client.post("/api/login", json={"username": "look", "password": "paper-mountain-2754"}).status_code == 200
    r = client.get(f"/map?lang={lang}")
    assert r.status_code == 200
    return r.text


def _scale_in_page(page: str, name: str) -> tuple[str, dict]:
    line = next(x for x in page.splitlines() if x.startswith(f"const {name} = "))
    return line, json.loads(re.search(r"\{scale: (\{.*\})\}\);", line).group(1))


def test_the_web_map_reads_the_same_classes_as_the_bulletin(tmp_path):
    from shuibao.services.monitoring.run_rasters import district_classes

    for lang in ("zh", "en"):
        page = _map_page(tmp_path, lang)
        assert _scale_in_page(page, "rateColour")[1] == RATE_CLASSES.as_json(lang) == district_classes(lang)["rate"]
        assert _scale_in_page(page, "gapColour")[1] == GAP_CLASSES.as_json(lang) == district_classes(lang)["gap"]
    from shuibao.reports import render

    assert render.RATE_CLASSES is RATE_CLASSES and render.GAP_CLASSES is GAP_CLASSES  # what draw_figures uses


def test_the_web_map_colour_functions_agree_with_the_python_classes(tmp_path):
    node = shutil.which("node")
    if node is None:
        pytest.skip("node not installed")
    page = _map_page(tmp_path, "zh")
    values = [None, -5.0, 0.0, 0.001, 0.5, 1.0, 1.5, 3.0, 4.99, 5.0, 7.0, 49.9, 50.0, 69.99, 70.0, 80.0, 90.0, 100.0]
    script = "\n".join([_scale_in_page(page, "rateColour")[0], _scale_in_page(page, "gapColour")[0],
                        f"const vs = {json.dumps(values)};",
                        "console.log(JSON.stringify(vs.map(v => [rateColour(v), gapColour(v)])));"])
    out = subprocess.run([node, "-e", script], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == [[RATE_CLASSES.colour(v), GAP_CLASSES.colour(v)] for v in values]


def test_the_bulletin_svgs_use_the_class_colours(published, demo):
    b = bulletin_data(demo, "latest", "previous")
    svg = (published / "figures" / "gap_map.svg").read_text(encoding="utf-8")
    by_code = {u["code"]: u for u in b.districts}
    expected = {GAP_CLASSES.colour(by_code[c]["gap_pp"]) for c in b.maps.district_codes if c in by_code}
    fills = set(re.findall(r"fill: (#[0-9a-f]{6})", svg))
    assert expected <= fills and len(expected) >= 2


def test_cover_issuer_and_date_are_configurable(demo):
    html = bulletin_html(bulletin_data(demo, "latest", issuer="重庆市水土保持监测总站", issued=date(2026, 6, 30)))
    assert html.count("重庆市水土保持监测总站") >= 2  # cover and 前言
    assert "2026年6月" in html and "重庆市水利局" not in html
    default = bulletin_html(bulletin_data(demo, "latest"))
    assert '<p class="issuer" id="issuer">重庆市水利局</p>' in default
