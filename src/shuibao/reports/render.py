"""Lay out the bulletin (:mod:`shuibao.reports.bulletin_model`) as HTML, figures and PDF: an output adapter like
:mod:`shuibao.io.tables`; files are written atomically."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import TYPE_CHECKING, cast

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from ..io.atomic import atomic_path
from ..plan.map_classes import GAP_CLASSES, RATE_CLASSES

if TYPE_CHECKING:  # the data classes only
    from .bulletin_model import Bulletin, DistrictSheet

TITLE = "重庆市水土保持公报"


def _num(value, decimals: int = 2) -> str:
    """Fixed decimals; '—' for a missing value (never a zero in its place); no '-0.00'."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    text = f"{value:,.{decimals}f}"
    return text[1:] if text.startswith("-") and not text.strip("-0.,") else text


def _signed(value, decimals: int = 2) -> str:
    if value is None:
        return "—"
    text = f"{value:+,.{decimals}f}"
    return text[1:] if not text.strip("+-0.,") else text  # no sign on a zero change


def _qty(value) -> str:
    """A count or quantity of a record section: integers as they are, other numbers to 2 decimals."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return _num(value, 2)
    return str(value)


def _unit(text) -> str:
    """A unit as printed: km2 → km², hm2 → hm², m3 → m³ (records carry the ASCII spelling)."""
    return re.sub(r"(?<=[a-z])([23])\b", lambda m: "²" if m.group(1) == "2" else "³", str(text or ""))


_DIGITS = "零一二三四五六七八九"


def zh_numeral(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 20 → 二十 (chapter and section numbers, 1…99)."""
    if not 1 <= n <= 99:
        raise ValueError(f"chapter number {n}: expected 1–99")
    tens, ones = divmod(n, 10)
    return (("" if tens == 1 else _DIGITS[tens]) + "十" if tens else "") + (_DIGITS[ones] if ones else "")


# The run parameters of the appendix, for readers: label, and how a code or an empty value reads
# (monitoring/spec.py PARAMETERS gives their meaning and units).
PARAMETER_ZH = {
    "tolerance_t_km2": "容许土壤流失量", "channel_threshold_m2": "坡长终止的汇流面积（沟道起点）",
    "watershed_threshold_km2": "小流域划分汇流面积阈值", "watershed_min_km2": "小流域最小面积（小于者并入相邻单元）",
    "routing": "汇流算法", "slope_for_factors": "S、m 因子所用坡度", "max_slope_length_m": "坡长上限",
    "cutoff_low": "坡长截断系数（坡度 < 5%）", "cutoff_high": "坡长截断系数（坡度 ≥ 5%）",
    "cutoff_selector": "截断判定所用坡度", "l_form": "坡长因子计算方式", "ndvi_soil": "裸土 NDVI 端元",
    "ndvi_veg": "全覆盖 NDVI 端元", "soil_percentile": "裸土端元累计频率百分位",
    "veg_percentile": "全覆盖端元累计频率百分位", "fvc_endmember_scope": "NDVI 端元取值范围",
    "rotation_zone": "轮作区（T 因子表）", "idw_power": "降雨侵蚀力站点插值（IDW）幂次",
    "idw_neighbours": "IDW 参与插值的最近站点数", "k_correction": "K 因子中国修正（张科利等，2007）",
    "r_model": "日降雨侵蚀力模型",
}
VALUE_ZH = {
    ("routing", "d8"): "D8 单流向", ("routing", "mfd"): "多流向（MFD）",
    ("slope_for_factors", "horn"): "Horn 法坡度", ("slope_for_factors", "downslope"): "D8 下坡方向坡度",
    ("cutoff_selector", "downstream"): "下游像元", ("cutoff_selector", "upstream"): "上游像元",
    ("l_form", "segment"): "坡段公式", ("l_form", "cell"): "逐像元",
    ("fvc_endmember_scope", "pooled"): "裸地与植被地类合并取值", ("fvc_endmember_scope", "per_class"): "按地类分别取值",
    ("r_model", "zhang2002"): "半月模型（章文波、谢云、刘宝元，2002）",
    ("r_model", "xie2016_seasonal"): "冷暖季模型（全国水土流失普查）",
    ("ndvi_soil", None): "按数据确定（裸土地类 NDVI 的累计频率百分位）",
    ("ndvi_veg", None): "按数据确定（植被地类 NDVI 的累计频率百分位）",
    ("rotation_zone", None): "T 因子表中唯一或第一个轮作区", ("idw_neighbours", None): "全部站点",
}
INPUT_ZH = {"dem": "数字高程模型", "landuse": "土地利用", "measures": "水土保持措施", "ndvi": "归一化植被指数（NDVI）",
            "rain": "降雨观测", "soil": "土壤", "soil_table": "土壤属性表", "districts": "区县边界"}


def parameter_rows(parameters: dict) -> list[tuple[str, str]]:
    """(label, value with its unit) for each run parameter: codes as labels, no Python literals."""
    from ..monitoring.spec import PARAMETERS

    units = {p.key: p.units for p in PARAMETERS}
    rows = []
    for name, value in sorted(parameters.items()):
        label = PARAMETER_ZH.get(name, name.replace("_", " "))
        if (name, value) in VALUE_ZH:
            text = VALUE_ZH[(name, value)]
        elif value is None:
            text = "未设置（按默认）"
        elif isinstance(value, bool):
            text = "是" if value else "否"
        elif isinstance(value, (int, float)):
            unit = units.get(name, "—")
            text = f"{value:,.10g}" + ("" if unit in ("—", "") else f" {unit}")
        else:
            text = str(value)
        rows.append((label, text))
    return rows


def input_rows(inputs: dict) -> list[dict]:
    """Each input by label, with its file name (never the folder it was read from) and digests."""
    rows = []
    for name, v in sorted(inputs.items()):
        path = v.get("path")
        rows.append({"label": INPUT_ZH.get(name, name), "file": Path(path).name if path else "—",
                     "sha256": v.get("sha256") or "—", "fingerprint": v.get("fingerprint") if "fingerprint" in v
                     else None, "only": v.get("sha256") if "fingerprint" not in v else None})
    return rows


def outline(b: Bulletin) -> list[dict]:
    """The chapters and sections, numbered 一、… and （一）… in order; the 目录 and the headings use it."""
    chapters: list[dict] = [{"key": "status", "title": "水土流失状况", "sections": [
        ("city", "全市水土流失状况"), ("regions", "“一区两群”与三峡库区"),
        ("rates", "各区县水土保持率与“十四五”目标"), ("districts", "各区县水土流失面积"),
        ("landuse", "不同土地利用类型水土流失")]}]
    for sec in b.sections:
        chapters.append({"key": sec.key, "title": sec.title, "sections": []})
    for i, ch in enumerate(chapters, start=1):
        ch["numeral"] = f"{zh_numeral(i)}、"
        ch["sections"] = [{"key": k, "title": t, "numeral": f"（{zh_numeral(j)}）"}
                          for j, (k, t) in enumerate(ch["sections"], start=1)]
    return chapters


def _environment() -> Environment:
    env = Environment(loader=PackageLoader("shuibao.reports", "templates"), autoescape=select_autoescape(["html"]),
                      undefined=StrictUndefined, trim_blocks=False, keep_trailing_newline=True)
    env.filters["num"] = _num
    env.filters["signed"] = _signed
    env.filters["qty"] = _qty
    env.filters["unit"] = _unit
    env.filters["zh"] = zh_numeral
    return env


def bulletin_html(b: Bulletin, figures: dict[str, str] | None = None) -> str:
    units = sorted([*b.districts, *b.regions, *([b.three_gorges] if b.three_gorges else []), b.city,
                    *([b.outside] if b.outside else [])], key=lambda u: u["seq"])
    keys = ["total_km2", "loss_km2", *(f"{g}_km2" for g, _ in b.grades)]
    landuse_total = {k: sum(r[k] for r in b.landuse) for k in keys}
    chapters = outline(b)
    return _environment().get_template("bulletin.html").render(
        b=b, units=units, landuse_total=landuse_total, title=TITLE, figures=figures or {}, chapters=chapters,
        sections={s.key: s for s in b.sections}, parameters=parameter_rows(b.provenance.get("parameters", {})),
        inputs=input_rows(b.provenance.get("inputs", {})), sec={s["key"]: s for s in chapters[0]["sections"]})


def _pdf(html: Path) -> Path:
    """The PDF of an HTML file beside it (images resolved from its folder), written atomically."""
    from weasyprint import HTML

    target = html.with_suffix(".pdf")
    with atomic_path(target) as tmp:
        HTML(filename=str(html), base_url=str(html.parent)).write_pdf(str(tmp))
    return target


def map_note(b: Bulletin | DistrictSheet, crs_note: str, boundary_note: str = "") -> str:
    """The note under each map: CRS, data, and that boundaries are not authoritative."""
    cell = b.run["cell_size_m"]
    grid = f"{cell / 1000:g} km" if cell >= 1000 else f"{cell:g} m"
    parts = [crs_note, f"数据：{b.run['year']}年水土流失动态监测（{grid} 栅格）"]
    if boundary_note:
        parts.append(boundary_note)
    text = "；".join(parts) + "。示意图，界线不作为权属争议的依据。"
    return ("合成数据演示（SYNTHETIC），不代表实际情况。" if b.synthetic else "") + text


def draw_figures(b: Bulletin, folder: Path) -> dict[str, str]:
    """The bulletin's SVGs in ``folder``; returns name → path relative to the bulletin."""
    from . import figures

    figs: dict[str, str] = {}
    year = b.run["year"]
    names = [zh for _, zh in b.grades]
    note = map_note(b, b.maps.crs_note, b.maps.boundary_note)
    by_code = {u["code"]: u for u in b.districts}
    codes = b.maps.district_codes or []
    labels = [by_code[c]["name"].split("（")[0] if c in by_code else "" for c in codes]
    if b.maps.grades is not None:
        extent = cast(tuple[float, float, float, float], b.maps.extent)  # read with the grades
        figures.grade_map(b.maps.grades, extent, names, folder / "grade_map.svg", f"{year}年重庆市土壤侵蚀强度分布",
                          note, b.maps.district_geoms, labels if b.maps.district_geoms is not None else None)
        figs["grade_map"] = "figures/grade_map.svg"
    if b.maps.district_geoms is not None:
        rows = [by_code.get(c) for c in codes]  # set with the geometries
        figures.choropleth(b.maps.district_geoms, [r["rate_pct"] if r else None for r in rows], RATE_CLASSES,
                           folder / "rate_map.svg", f"{year}年各区县水土保持率", note, labels)
        figures.choropleth(b.maps.district_geoms, [r["gap_pp"] if r else None for r in rows], GAP_CLASSES,
                           folder / "gap_map.svg", f"{year}年各区县距2025年水土保持率目标", note, labels)
        figs.update(rate_map="figures/rate_map.svg", gap_map="figures/gap_map.svg")
    units = [*b.regions, *([b.three_gorges] if b.three_gorges else []), b.city]
    figures.composition(units, list(b.grades), folder / "composition.svg", f"{year}年各区域土壤侵蚀强度构成")
    figs["composition"] = "figures/composition.svg"
    if b.trend:
        figures.rate_trend([t[0] for t in b.trend], [t[2] for t in b.trend], 2025, b.city["target_2025_pct"],
                           folder / "rate_trend.svg", "全市水土保持率变化")
        figs["rate_trend"] = "figures/rate_trend.svg"
    return figs


def write_bulletin(b: Bulletin, out_dir: Path | str, pdf: bool = True) -> list[Path]:
    """``bulletin.html``, its ``figures/`` and ``bulletin.pdf`` in ``out_dir``; each file written atomically."""
    out = Path(out_dir)
    (out / "figures").mkdir(parents=True, exist_ok=True)
    figs = draw_figures(b, out / "figures")
    path = out / "bulletin.html"
    with atomic_path(path) as tmp:
        Path(tmp).write_text(bulletin_html(b, figs), encoding="utf-8")
    written = [path, *(out / f for f in figs.values())]
    if pdf:
        written.append(_pdf(path))
    return written


def district_html(s: DistrictSheet, figure: str | None) -> str:
    return _environment().get_template("district.html").render(s=s, figure=figure)


def write_district_sheets(sheets: list[DistrictSheet], out_dir: Path | str, pdf: bool = True) -> list[Path]:
    """``district-<code>.html`` (and ``.pdf``) per sheet, maps in ``figures/``; each file written atomically."""
    from . import figures

    out = Path(out_dir)
    (out / "figures").mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for s in sheets:
        code = s.unit["code"]
        fig = None
        if s.grades is not None:
            figures.district_map(s.grades, cast(tuple, s.extent), s.outline, [zh for _, zh in s.grade_names],
                                 out / "figures" / f"district-{code}.svg",
                                 f"{s.unit['name']} {s.run['year']}年土壤侵蚀强度", map_note(s, s.crs_note))
            fig = f"figures/district-{code}.svg"
            written.append(out / fig)
        path = out / f"district-{code}.html"
        with atomic_path(path) as tmp:
            Path(tmp).write_text(district_html(s, fig), encoding="utf-8")
        written.append(path)
        if pdf:
            written.append(_pdf(path))
    return written
