"""`shuibao terrain …`: conditioned DEM, D8 directions, accumulation, slope, aspect, LS."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from shuibao.services.monitoring import erosion as service
from shuibao.services.monitoring.erosion import SlopeLengthParams, TerrainParams

app = typer.Typer(help="Terrain and hydrology rasters from a DEM (projected CRS, metres).", no_args_is_help=True)

OUT = typer.Option(..., "--out", "-o", help="Output GeoTIFF (Cloud-Optimized).")
TARGET_CRS = typer.Option(None, "--target-crs", help="Reproject a geographic DEM to this CRS first, e.g. EPSG:4545.")


def _done(out: Path, info: dict) -> None:
    extra = ", ".join(f"{k} {v}" for k, v in info.items() if not isinstance(v, dict))
    typer.echo(f"wrote {out}" + (f" ({extra})" if extra else ""))


@app.command()
def fill(dem: Path, out: Path = OUT, target_crs: Optional[str] = TARGET_CRS) -> None:
    """Conditioned DEM: depressions filled (Priority-Flood+ε) so every cell drains; flowdir routes on it."""
    _done(out, service.terrain_step("fill", dem, out, target_crs=target_crs))


@app.command()
def flowdir(dem: Path, out: Path = OUT, target_crs: Optional[str] = TARGET_CRS) -> None:
    """D8 flow direction (steepest descent on the conditioned DEM), ESRI codes 1…128, 0 = outlet."""
    _done(out, service.terrain_step("flowdir", dem, out, target_crs=target_crs))


@app.command()
def accumulation(
    dem: Path, out: Path = OUT,
    routing: str = typer.Option("d8", "--routing", help="d8 or mfd."),
    mfd_method: str = typer.Option("quinn", "--mfd-method", help="quinn (contour-weighted) or freeman (p = 1.1)."),
    units: str = typer.Option("cells", "--units", help="cells, m2 or km2 (contributing area)."),
    target_crs: Optional[str] = TARGET_CRS,
) -> None:
    """Flow accumulation, counting the cell itself."""
    if routing not in ("d8", "mfd") or units not in ("cells", "m2", "km2"):
        raise typer.BadParameter("--routing must be d8|mfd and --units cells|m2|km2")
    _done(out, service.terrain_step("accumulation", dem, out, routing=routing, mfd_method=mfd_method, units=units,
                                    target_crs=target_crs))


@app.command()
def slope(dem: Path, out: Path = OUT, target_crs: Optional[str] = TARGET_CRS) -> None:
    """Slope in degrees (Horn 3×3) of the conditioned DEM."""
    _done(out, service.terrain_step("slope", dem, out, target_crs=target_crs))


@app.command()
def aspect(dem: Path, out: Path = OUT, target_crs: Optional[str] = TARGET_CRS) -> None:
    """Aspect in degrees clockwise from north (−1 on flats)."""
    _done(out, service.terrain_step("aspect", dem, out, target_crs=target_crs))


def terrain_options(
    channel_threshold: Optional[float], cutoff_low: float, cutoff_high: float, cutoff_selector: str,
    max_length: float, l_form: str, slope_for_factors: str,
) -> TerrainParams:
    try:
        return TerrainParams(
            channel_threshold_m2=channel_threshold, slope_for_factors=slope_for_factors,
            ls=SlopeLengthParams(cutoff_low=cutoff_low, cutoff_high=cutoff_high, cutoff_selector=cutoff_selector,
                                 max_length_m=max_length, l_form=l_form),
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc


CHANNEL = typer.Option(None, "--channel-threshold", help="Contributing area (m²) from which a cell is a channel "
                                                          "and stops slope length; default: no channels.")
CUT_LOW = typer.Option(0.7, "--cutoff-low", help="Slope-length cut-off ratio where the slope is below 5 % (2.8624°).")
CUT_HIGH = typer.Option(0.5, "--cutoff-high", help="Cut-off ratio where the slope is 5 % or more.")
CUT_SEL = typer.Option("downstream", "--cutoff-selector",
                       help="Whose slope picks the ratio: downstream (receiving cell, AML) or upstream.")
MAX_LEN = typer.Option(333.0, "--max-length", help="Maximum slope length λ in metres.")
L_FORM = typer.Option("segment", "--l-form", help="segment (Foster–Wischmeier) or cell ((λ/22.13)^m).")
SLOPE_SRC = typer.Option("horn", "--slope-for-factors", help="Slope for S and m: horn or downslope (D8 angle).")


@app.command()
def ls(
    dem: Path, out: Path = OUT, channel_threshold: Optional[float] = CHANNEL, cutoff_low: float = CUT_LOW,
    cutoff_high: float = CUT_HIGH, cutoff_selector: str = CUT_SEL, max_length: float = MAX_LEN,
    l_form: str = L_FORM, slope_for_factors: str = SLOPE_SRC, target_crs: Optional[str] = TARGET_CRS,
) -> None:
    """CSLE LS factor: cumulative slope length with cut-offs, L (m classes in degrees), S (Liu's steep branch)."""
    params = terrain_options(channel_threshold, cutoff_low, cutoff_high, cutoff_selector, max_length, l_form,
                             slope_for_factors)
    _done(out, service.terrain_step("ls", dem, out, params=params, target_crs=target_crs))
