"""`shuibao supervise detect`: candidate disturbance patches from a before and an after image.

Only the command function lives here; the ``supervise`` group registers it.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Optional

import typer

from ..errors import InputError, N_


def detect(ctx: typer.Context,
           before: Path = typer.Argument(..., help="Earlier multiband GeoTIFF (surface reflectance)."),
           after: Path = typer.Argument(..., help="Later multiband GeoTIFF on the same grid."),
           out: Path = typer.Option(..., "-o", "--out", help="Output GeoPackage (layer 'patches')."),
           period: Optional[str] = typer.Option(
               None, "--period", help="Supervision period labelling the patches (patch_id CD<period>-00001); "
                                      "default: the after image's year and month, e.g. 2024-09."),
           after_date: Optional[str] = typer.Option(
               None, "--after-date", help="Acquisition date of the after image, YYYY-MM-DD (default: its "
                                          "ACQUISITIONDATETIME or TIFFTAG_DATETIME tag)."),
           t_ndvi: float = typer.Option(0.2, "--t-ndvi", help="NDVI drop that counts as vegetation loss."),
           t_bsi: float = typer.Option(0.1, "--t-bsi", help="Bare-soil-index rise that counts as soil exposure."),
           min_area_m2: float = typer.Option(400.0, "--min-area-m2", help="Smallest patch kept, m²."),
           min_ndvi_before: Optional[float] = typer.Option(
               0.3, "--min-ndvi-before", help="The cell must have been vegetated: NDVI before ≥ this; "
                                              "--no-ndvi-floor turns it off."),
           no_ndvi_floor: bool = typer.Option(False, "--no-ndvi-floor", help="Flag cells whatever their NDVI before."),
           opening: int = typer.Option(1, "--opening", help="Radius in cells of the opening that removes speckle."),
           bands: str = typer.Option("red,nir,swir", "--bands",
                                     help="Band names in file order: red, nir, swir, optional blue, '-' to skip "
                                          "(e.g. 'blue,-,red,nir,swir').")) -> None:
    """Flag cells whose NDVI fell and bare-soil index rose, clean them and write candidate 扰动图斑 polygons."""
    from shuibao.services.supervision.change_detection import BandOrder, DetectionParams, detect_changes

    when = None
    if after_date is not None:
        try:
            when = date.fromisoformat(after_date.strip())
        except ValueError:
            raise InputError(N_("--after-date {after_date!r}: expected a date as YYYY-MM-DD, e.g. 2024-09-25", after_date=after_date)) from None
    params = DetectionParams(t_ndvi=t_ndvi, t_bsi=t_bsi, opening_cells=opening, min_area_m2=min_area_m2,
                             min_ndvi_before=None if no_ndvi_floor else min_ndvi_before,
                             bands=BandOrder.parse(bands))
    result = detect_changes(before, after, out, params=params, period=period, image_date=when)
    note = " (SYNTHETIC inputs)" if result.synthetic else ""
    typer.echo(f"{result.patches} candidate disturbance patches, {result.total_area_m2 / 10_000:.2f} hm² "
               f"({result.total_area_m2:.0f} m²), period {result.period}, image date {result.image_date}{note}")
    typer.echo(str(result.out))
