"""Lay out the bulletin (:mod:`shuibao.services.bulletin`) as HTML with Jinja2; files are written atomically."""

from __future__ import annotations

import math
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from ..io.atomic import atomic_path
from ..services.bulletin import Bulletin

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


def bulletin_html(b: Bulletin) -> str:
    units = sorted([*b.districts, *b.regions, *([b.three_gorges] if b.three_gorges else []), b.city,
                    *([b.outside] if b.outside else [])], key=lambda u: u["seq"])
    keys = ["total_km2", "loss_km2", *(f"{g}_km2" for g, _ in b.grades)]
    landuse_total = {k: sum(r[k] for r in b.landuse) for k in keys}
    return _environment().get_template("bulletin.html").render(b=b, units=units, landuse_total=landuse_total,
                                                               title=TITLE)


def write_bulletin(b: Bulletin, out_dir: Path | str) -> Path:
    """``bulletin.html`` in ``out_dir`` (created), written under a temporary name and renamed."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "bulletin.html"
    with atomic_path(path) as tmp:
        Path(tmp).write_text(bulletin_html(b), encoding="utf-8")
    return path
