"""Maps and charts of the bulletin, drawn with matplotlib into SVG files (vector; text kept as text).

Labels are Chinese, so a CJK font must be installed (Debian ``fonts-wqy-zenhei``); without one
matplotlib would draw empty boxes, and :func:`require_cjk_font` refuses instead.

Every map carries what a published thematic map carries: a legend, a scale bar
(drawn in the run's CRS, whose unit is the metre), a north arrow, district labels, and a note naming the
coordinate reference system and the data.  The grade raster is embedded in the SVG at :data:`RASTER_DPI`
(nearest-neighbour), so the PDF holds it at ≥ 300 ppi; boundaries, text and the choropleths are vectors.
District colours come from :mod:`shuibao.plan.map_classes`, the classes the web map uses.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.colors import BoundaryNorm, ListedColormap  # noqa: E402
from matplotlib.patches import PathPatch, Patch, Polygon, Rectangle  # noqa: E402
from matplotlib.path import Path as MplPath  # noqa: E402

from ..core.csle import GRADE_COLOURS  # noqa: E402
from ..errors import DataError, N_  # noqa: E402
from ..io.atomic import atomic_path  # noqa: E402
from ..plan.map_classes import ClassScale  # noqa: E402

CJK_FONTS = ["WenQuanYi Zen Hei", "Noto Sans CJK SC", "Source Han Sans SC"]
# SL 190-2007 grades 1…6: 微度 green to 剧烈 dark red (the colours bulletins commonly use)
RASTER_DPI = 450  # the grade raster inside the SVG: a 7.5 in wide map printed at 170 mm is then ≥ 300 ppi
DRAW_TOLERANCE = 0.0005  # outlines simplified to 1/2000 of the map's width (0.09 mm at 170 mm): invisible in print
NOTE_CHARS = 78  # characters per line of the note under a map (CJK characters count one each)
LEGEND_ANCHOR = (0.0, 0.84)  # legend's upper left, under the north arrow, where Chongqing has no land
NICE_KM = (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500)  # scale-bar lengths to choose from


def require_cjk_font() -> str:
    """The first installed CJK font family, or DataError saying how to install one."""
    for rescan in (False, True):
        if rescan:  # matplotlib's font cache may predate the font's installation
            for path in font_manager.findSystemFonts():
                if any(k in Path(path).name.lower() for k in ("wqy", "notosanscjk", "sourcehansans")):
                    font_manager.fontManager.addfont(path)
        names = {f.name for f in font_manager.fontManager.ttflist}
        for family in CJK_FONTS:
            if family in names:
                return family
    raise DataError(N_("no CJK font for the report's Chinese labels: install one, e.g. "
                    "`apt-get install fonts-wqy-zenhei` (scripts/check.sh and scripts/demo.sh do)"))


def _setup() -> None:
    family = require_cjk_font()
    # WenQuanYi Zen Hei has one weight, 500: asking for it avoids a fallback warning on every label
    plt.rcParams.update({"font.family": "sans-serif", "font.sans-serif": [family, "DejaVu Sans"],
                         "font.weight": "medium", "axes.titleweight": "medium", "axes.labelweight": "medium",
                         "figure.titleweight": "medium", "axes.unicode_minus": False,
                         "svg.fonttype": "none", "svg.hashsalt": "shuibao"})  # text as text; stable ids


def _save(fig, path: Path) -> Path:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=RASTER_DPI, format="svg", metadata={"Date": None, "Creator": None},
                    bbox_inches="tight")
    plt.close(fig)
    return path


def _polygon_path(geom, tolerance: float = 0.0) -> MplPath:
    """The polygon's rings as one path; ``tolerance`` (map units) simplifies them for drawing."""
    if tolerance > 0:
        geom = geom.simplify(tolerance, preserve_topology=True)
    verts, codes = [], []
    for poly in getattr(geom, "geoms", [geom]):
        for ring in [poly.exterior, *poly.interiors]:
            xy = np.asarray(ring.coords)
            verts.append(xy)
            codes.append(np.r_[MplPath.MOVETO, np.full(len(xy) - 2, MplPath.LINETO), MplPath.CLOSEPOLY])
    return MplPath(np.concatenate(verts), np.concatenate(codes))


def scale_bar_km(width_m: float) -> float:
    """The longest 'nice' length (km) not over a quarter of the map's width."""
    fits = [k for k in NICE_KM if k * 1000 <= width_m / 4]
    return float(fits[-1] if fits else NICE_KM[0])


def _scale_bar(ax, extent: tuple[float, float, float, float]) -> None:
    """Two-segment black/white bar at the lower left, labelled 0, half and full length in km."""
    left, right, bottom, top = extent
    km = scale_bar_km(right - left)
    x0, y0 = left + 0.04 * (right - left), bottom + 0.05 * (top - bottom)
    h = 0.012 * (top - bottom)
    half = km * 500
    for i, face in enumerate(("#000000", "#ffffff")):
        ax.add_patch(Rectangle((x0 + i * half, y0), half, h, facecolor=face, edgecolor="#000000", linewidth=0.6,
                               zorder=5))
    for x, text in ((x0, "0"), (x0 + half, f"{km / 2:g}"), (x0 + 2 * half, f"{km:g} km")):
        ax.text(x, y0 + 1.8 * h, text, ha="center", va="bottom", fontsize=7, zorder=5)
    ax.text(x0, y0 - 1.2 * h, "比例尺", ha="left", va="top", fontsize=7, zorder=5)


def _north_arrow(ax, extent: tuple[float, float, float, float]) -> None:
    """An arrow with 'N' at the upper left; it points to grid north of the map's CRS."""
    left, right, bottom, top = extent
    w, h = 0.025 * (right - left), 0.07 * (top - bottom)
    cx, ty = left + 0.05 * (right - left), top - 0.06 * (top - bottom)
    ax.add_patch(Polygon([(cx, ty), (cx - w / 2, ty - h), (cx, ty - 0.7 * h)], closed=True, facecolor="#000000",
                         edgecolor="#000000", linewidth=0.6, zorder=5))
    ax.add_patch(Polygon([(cx, ty), (cx + w / 2, ty - h), (cx, ty - 0.7 * h)], closed=True, facecolor="#ffffff",
                         edgecolor="#000000", linewidth=0.6, zorder=5))
    ax.text(cx, ty + 0.01 * (top - bottom), "N", ha="center", va="bottom", fontsize=10, zorder=5)


def _labels(ax, geoms: list, names: list[str], size: float = 5.0) -> None:
    for geom, name in zip(geoms, names):
        p = geom.representative_point()
        ax.text(p.x, p.y, name, ha="center", va="center", fontsize=size, color="#222222", zorder=4)


def _frame(ax, extent: tuple[float, float, float, float], geoms: list | None, names: list[str] | None,
           note: str, fig) -> None:
    """Outlines, labels, scale bar, north arrow and the CRS/data note under the map."""
    if geoms is not None:
        tol = DRAW_TOLERANCE * (extent[1] - extent[0])
        for g in geoms:
            ax.add_patch(PathPatch(_polygon_path(g, tol), facecolor="none", edgecolor="#444444", linewidth=0.4,
                                   zorder=3))
        if names is not None:
            _labels(ax, geoms, names)
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_aspect("equal")
    _scale_bar(ax, extent)
    _north_arrow(ax, extent)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_linewidth(0.6)
    ax.text(0, -0.015, "\n".join(textwrap.wrap(note, NOTE_CHARS)), transform=ax.transAxes, ha="left", va="top",
            fontsize=6.5, color="#444444", linespacing=1.4)


def _extent_of(geoms: list, pad: float = 0.03) -> tuple[float, float, float, float]:
    lefts, bottoms, rights, tops = zip(*(g.bounds for g in geoms))
    left, bottom, right, top = min(lefts), min(bottoms), max(rights), max(tops)
    p = pad * max(right - left, top - bottom)
    return left - p, right + p, bottom - p, top + p


def grade_map(grades: np.ndarray, extent: tuple[float, float, float, float], names: list[str], path: Path,
              title: str, note: str, geoms: list | None = None, labels: list[str] | None = None) -> Path:
    """The grade raster (0 = nodata, 1…6 = 微度…剧烈), already decimated for display, with district outlines."""
    _setup()
    fig, ax = plt.subplots(figsize=(7.5, 6.8))
    cmap = ListedColormap(["#ffffff00", *GRADE_COLOURS])
    ax.imshow(grades, cmap=cmap, norm=BoundaryNorm(np.arange(-0.5, 7), cmap.N), extent=extent,
              interpolation="nearest", zorder=1)
    ax.legend(handles=[Patch(facecolor=c, edgecolor="#555555", linewidth=0.4, label=n)
                       for c, n in zip(GRADE_COLOURS, names)],
              title="图例　土壤侵蚀强度", fontsize=8, title_fontsize=8, framealpha=0.9, loc="upper left",
              bbox_to_anchor=LEGEND_ANCHOR)
    ax.set_title(title)
    _frame(ax, extent, geoms, labels, note, fig)
    return _save(fig, path)


def choropleth(geoms: list, values: list[float | None], scale: ClassScale, path: Path, title: str,
               note: str, labels: list[str] | None = None) -> Path:
    """Districts coloured by the classes of ``scale`` (the web map's); None values take its no-data colour."""
    _setup()
    fig, ax = plt.subplots(figsize=(7.5, 6.8))
    extent = _extent_of(geoms)
    tol = DRAW_TOLERANCE * (extent[1] - extent[0])
    for g, v in zip(geoms, values):
        ax.add_patch(PathPatch(_polygon_path(g, tol), facecolor=scale.colour(v), edgecolor="none", zorder=2))
    handles = [Patch(facecolor=c.colour, edgecolor="#555555", linewidth=0.4, label=c.label_zh)
               for c in scale.classes]
    if any(scale.classify(v) is None for v in values):
        handles.append(Patch(facecolor=scale.no_data_colour, edgecolor="#555555", linewidth=0.4,
                             label=scale.no_data_zh))
    ax.legend(handles=handles, title=f"图例　{scale.title_zh}", fontsize=8, title_fontsize=8, framealpha=0.9,
              loc="upper left", bbox_to_anchor=LEGEND_ANCHOR)
    ax.set_title(title)
    _frame(ax, extent, geoms, labels, note, fig)
    return _save(fig, path)


def composition(rows: list[dict], grades: list[tuple[str, str]], path: Path, title: str) -> Path:
    """Stacked bars: the share of each grade in the land of each unit (%)."""
    _setup()
    fig, ax = plt.subplots(figsize=(8, 0.6 * len(rows) + 1.4))
    left = np.zeros(len(rows))
    for (g, zh), colour in zip(grades, GRADE_COLOURS):
        share = np.array([r[f"{g}_km2"] / r["total_km2"] * 100 if r["total_km2"] else 0 for r in rows])
        ax.barh([r["name"] for r in rows], share, left=left, color=colour, label=zh, edgecolor="#555",
                linewidth=0.3)
        left += share
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("占土地面积比例 (%)")
    ax.legend(ncol=6, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.25 if len(rows) < 4 else -0.12))
    ax.set_title(title)
    return _save(fig, path)


def rate_trend(years: list[int], rates: list[float], target_year: int, target: float | None, path: Path,
               title: str) -> Path:
    """The city's 水土保持率 by year of the stored runs, with the plan's target."""
    _setup()
    fig, ax = plt.subplots(figsize=(7, 3.6))
    ax.plot(years, rates, marker="o", color="#2a7", label="水土保持率（监测）")
    for x, y in zip(years, rates):
        ax.annotate(f"{y:.2f}", (x, y), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=8)
    if target is not None:
        ax.axhline(target, color="#c33", linestyle="--", label=f"{target_year}年目标 {target:.2f}%")
    ax.set_xticks(sorted(set(years) | ({target_year} if target is not None else set())))
    ax.set_ylabel("水土保持率 (%)")
    ax.legend(fontsize=8)
    ax.set_title(title)
    return _save(fig, path)


def district_map(grades: np.ndarray, extent: tuple, outline, names: list[str], path: Path, title: str,
                 note: str, label: str | None = None) -> Path:
    """One district's part of the grade raster, cells outside it faded, with its boundary."""
    _setup()
    fig, ax = plt.subplots(figsize=(6.5, 5.8))
    cmap = ListedColormap(["#ffffff00", *GRADE_COLOURS])
    ax.imshow(grades, cmap=cmap, norm=BoundaryNorm(np.arange(-0.5, 7), cmap.N), extent=extent,
              interpolation="nearest", alpha=0.35)
    clip = PathPatch(_polygon_path(outline), transform=ax.transData, facecolor="none")
    img = ax.imshow(grades, cmap=cmap, norm=BoundaryNorm(np.arange(-0.5, 7), cmap.N), extent=extent,
                    interpolation="nearest")
    img.set_clip_path(clip)
    ax.add_patch(PathPatch(_polygon_path(outline), facecolor="none", edgecolor="#222", linewidth=1.0))
    ax.legend(handles=[Patch(facecolor=c, edgecolor="#555555", linewidth=0.4, label=n)
                       for c, n in zip(GRADE_COLOURS, names)], loc="lower right",
              fontsize=7, title="图例　土壤侵蚀强度", title_fontsize=7, framealpha=0.9)
    ax.set_title(title)
    _frame(ax, extent, None, None, note, fig)
    return _save(fig, path)
