"""Maps and charts of the bulletin, drawn with matplotlib (Agg) into PNG files.

Labels are Chinese, so a CJK font must be installed (Debian ``fonts-wqy-zenhei``); without one
matplotlib would draw empty boxes, and :func:`require_cjk_font` refuses instead.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.collections import PatchCollection  # noqa: E402
from matplotlib.colors import BoundaryNorm, ListedColormap  # noqa: E402
from matplotlib.patches import PathPatch, Patch  # noqa: E402
from matplotlib.path import Path as MplPath  # noqa: E402

from ..core.csle import GRADE_COLOURS  # noqa: E402
from ..errors import DataError  # noqa: E402
from ..io.atomic import atomic_path  # noqa: E402

CJK_FONTS = ["WenQuanYi Zen Hei", "Noto Sans CJK SC", "Source Han Sans SC"]
# SL 190-2007 grades 1…6: 微度 green to 剧烈 dark red (the colours bulletins commonly use)
DPI = 150


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
    raise DataError("no CJK font for the report's Chinese labels: install one, e.g. "
                    "`apt-get install fonts-wqy-zenhei` (scripts/check.sh and scripts/demo.sh do)")


def _setup() -> None:
    family = require_cjk_font()
    # WenQuanYi Zen Hei has one weight, 500: asking for it avoids a fallback warning on every label
    plt.rcParams.update({"font.family": "sans-serif", "font.sans-serif": [family, "DejaVu Sans"],
                         "font.weight": "medium", "axes.titleweight": "medium", "axes.labelweight": "medium",
                         "figure.titleweight": "medium", "axes.unicode_minus": False})


def _save(fig, path: Path) -> Path:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=DPI, format="png", metadata={"Software": None}, bbox_inches="tight")
    plt.close(fig)
    return path


def grade_map(grades: np.ndarray, extent: tuple[float, float, float, float], names: list[str], path: Path,
              title: str) -> Path:
    """The grade raster (0 = nodata, 1…6 = 微度…剧烈), already decimated for display."""
    _setup()
    fig, ax = plt.subplots(figsize=(8, 6.5))
    cmap = ListedColormap(["#ffffff00", *GRADE_COLOURS])
    ax.imshow(grades, cmap=cmap, norm=BoundaryNorm(np.arange(-0.5, 7), cmap.N), extent=extent,
              interpolation="nearest")
    ax.legend(handles=[Patch(color=c, label=n) for c, n in zip(GRADE_COLOURS, names)], loc="lower right",
              title="土壤侵蚀强度", fontsize=8, title_fontsize=9)
    ax.set_title(title)
    ax.set_axis_off()
    return _save(fig, path)


def _polygon_path(geom) -> MplPath:
    verts, codes = [], []
    for poly in getattr(geom, "geoms", [geom]):
        for ring in [poly.exterior, *poly.interiors]:
            xy = np.asarray(ring.coords)
            verts.append(xy)
            codes.append(np.r_[MplPath.MOVETO, np.full(len(xy) - 2, MplPath.LINETO), MplPath.CLOSEPOLY])
    return MplPath(np.concatenate(verts), np.concatenate(codes))


def choropleth(geoms: list, values: list[float | None], path: Path, title: str, label: str,
               cmap: str = "RdYlGn", reverse: bool = False) -> Path:
    """Districts coloured by ``values`` (None: hatched grey, 'no value')."""
    _setup()
    fig, ax = plt.subplots(figsize=(8, 6.5))
    known = [v for v in values if v is not None]
    lo, hi = (min(known), max(known)) if known else (0.0, 1.0)
    colours = plt.get_cmap(cmap + ("_r" if reverse else ""))
    patches = [PathPatch(_polygon_path(g)) for g in geoms]
    coll = PatchCollection(patches, cmap=colours, edgecolor="#444", linewidths=0.4)
    coll.set_array(np.array([np.nan if v is None else v for v in values], float))
    coll.set_clim(lo, hi if hi > lo else lo + 1)
    ax.add_collection(coll)
    ax.autoscale_view()
    ax.set_aspect("equal")
    fig.colorbar(coll, ax=ax, shrink=0.7, label=label)
    ax.set_title(title)
    ax.set_axis_off()
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
    ax.set_ylabel("%")
    ax.legend(fontsize=8)
    ax.set_title(title)
    return _save(fig, path)


def district_map(grades: np.ndarray, extent: tuple, outline, names: list[str], path: Path, title: str) -> Path:
    """One district's part of the grade raster, cells outside it faded, with its boundary."""
    _setup()
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    cmap = ListedColormap(["#ffffff00", *GRADE_COLOURS])
    ax.imshow(grades, cmap=cmap, norm=BoundaryNorm(np.arange(-0.5, 7), cmap.N), extent=extent,
              interpolation="nearest", alpha=0.35)
    clip = PathPatch(_polygon_path(outline), transform=ax.transData, facecolor="none")
    img = ax.imshow(grades, cmap=cmap, norm=BoundaryNorm(np.arange(-0.5, 7), cmap.N), extent=extent,
                    interpolation="nearest")
    img.set_clip_path(clip)
    ax.add_patch(PathPatch(_polygon_path(outline), facecolor="none", edgecolor="#222", linewidth=1.0))
    ax.legend(handles=[Patch(color=c, label=n) for c, n in zip(GRADE_COLOURS, names)], loc="lower right",
              fontsize=7, title="土壤侵蚀强度", title_fontsize=8)
    ax.set_title(title)
    ax.set_axis_off()
    return _save(fig, path)
