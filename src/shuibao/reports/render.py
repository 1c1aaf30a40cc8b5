"""Lay out the bulletin (:mod:`shuibao.reports.bulletin_model`) as HTML, figures and PDF: an output adapter like
:mod:`shuibao.io.tables`; files are written atomically."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, cast

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from ..io.atomic import atomic_path

if TYPE_CHECKING:  # the data classes only
    from .bulletin_model import Bulletin, DistrictSheet

TITLE = "重庆市水土保持公报"


def _num(value, decimals: int = 2) -> str:
    """Fixed decimals; '—' for a missing value (never a zero in its place)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    return f"{value:,.{decimals}f}"


def _signed(value, decimals: int = 2) -> str:
    return "—" if value is None else f"{value:+,.{decimals}f}"


def _environment() -> Environment:
    env = Environment(loader=PackageLoader("shuibao.reports", "templates"), autoescape=select_autoescape(["html"]),
                      undefined=StrictUndefined, trim_blocks=False, keep_trailing_newline=True)
    env.filters["num"] = _num
    env.filters["signed"] = _signed
    return env


def bulletin_html(b: Bulletin, figures: dict[str, str] | None = None) -> str:
    units = sorted([*b.districts, *b.regions, *([b.three_gorges] if b.three_gorges else []), b.city,
                    *([b.outside] if b.outside else [])], key=lambda u: u["seq"])
    keys = ["total_km2", "loss_km2", *(f"{g}_km2" for g, _ in b.grades)]
    landuse_total = {k: sum(r[k] for r in b.landuse) for k in keys}
    return _environment().get_template("bulletin.html").render(b=b, units=units, landuse_total=landuse_total,
                                                               title=TITLE, figures=figures or {})


def _pdf(html: Path) -> Path:
    """The PDF of an HTML file beside it (images resolved from its folder), written atomically."""
    from weasyprint import HTML

    target = html.with_suffix(".pdf")
    with atomic_path(target) as tmp:
        HTML(filename=str(html), base_url=str(html.parent)).write_pdf(str(tmp))
    return target


def draw_figures(b: Bulletin, folder: Path) -> dict[str, str]:
    """The bulletin's PNGs in ``folder``; returns name → path relative to the bulletin."""
    from . import figures

    figs: dict[str, str] = {}
    year = b.run["year"]
    names = [zh for _, zh in b.grades]
    if b.maps.grades is not None:
        extent = cast(tuple[float, float, float, float], b.maps.extent)  # read with the grades
        figures.grade_map(b.maps.grades, extent, names, folder / "grade_map.png",
                          f"{year}年土壤侵蚀强度分布（运行 #{b.run['id']}）")
        figs["grade_map"] = "figures/grade_map.png"
    if b.maps.district_geoms is not None:
        by_code = {u["code"]: u for u in b.districts}
        rows = [by_code.get(c) for c in cast(list[str], b.maps.district_codes)]  # set with the geometries
        figures.choropleth(b.maps.district_geoms, [r["rate_pct"] if r else None for r in rows],
                           folder / "rate_map.png", f"{year}年各区县水土保持率（运行 #{b.run['id']}）", "水土保持率 (%)")
        figures.choropleth(b.maps.district_geoms, [r["gap_pp"] if r else None for r in rows], folder / "gap_map.png",
                           f"{year}年各区县距2025年目标（运行 #{b.run['id']}）", "距目标（百分点，负值为已超过）",
                           reverse=True)
        figs.update(rate_map="figures/rate_map.png", gap_map="figures/gap_map.png")
    units = [*b.regions, *([b.three_gorges] if b.three_gorges else []), b.city]
    figures.composition(units, list(b.grades), folder / "composition.png",
                        f"{year}年各区域土壤侵蚀强度构成（运行 #{b.run['id']}）")
    figs["composition"] = "figures/composition.png"
    if b.trend:
        figures.rate_trend([t[0] for t in b.trend], [t[2] for t in b.trend], 2025, b.city["target_2025_pct"],
                           folder / "rate_trend.png", "全市水土保持率变化（各年最新运行）")
        figs["rate_trend"] = "figures/rate_trend.png"
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
                                 out / "figures" / f"district-{code}.png",
                                 f"{s.unit['name']} {s.run['year']}年土壤侵蚀强度")
            fig = f"figures/district-{code}.png"
            written.append(out / fig)
        path = out / f"district-{code}.html"
        with atomic_path(path) as tmp:
            Path(tmp).write_text(district_html(s, fig), encoding="utf-8")
        written.append(path)
        if pdf:
            written.append(_pdf(path))
    return written
