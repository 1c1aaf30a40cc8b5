"""`shuibao governance sloping-farmland`: candidate 退耕还林 patches from a DEM and a land-use raster.

Only the command function lives here; the ``governance`` group registers it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..errors import InputError, N_


def _codes(text: str) -> tuple[int, ...]:
    parts = [t.strip() for t in text.replace("，", ",").split(",") if t.strip()]
    try:
        codes = tuple(int(t) for t in parts)
    except ValueError:
        codes = ()
    if not codes:
        raise InputError(N_("--cropland-codes {text!r}: expected whole land-use codes separated by commas, e.g. '1' "
                         "(表2's 耕地) or '11,12' (paddy and dry land of GB/T 21010)", text=text))
    return codes


def sloping_farmland(
        ctx: typer.Context,
        dem: Path = typer.Argument(..., help="DEM GeoTIFF, projected CRS in metres (its grid is the working grid)."),
        landuse: Path = typer.Argument(..., help="Land-use GeoTIFF of class codes (resampled nearest onto the DEM "
                                                 "grid if on another grid)."),
        out: Path = typer.Option(..., "-o", "--out", help="Output GeoPackage (layer 'candidates'); a per-district "
                                                          "CSV <stem>.districts.csv is written beside it."),
        water_sources: Optional[Path] = typer.Option(
            None, "--water-sources", help="Polygons of important water-source areas (重要水源地); without them only "
                                          "the ≥ 25° class is found."),
        basic_farmland: Optional[Path] = typer.Option(
            None, "--basic-farmland", help="Polygons of permanent basic farmland (永久基本农田), excluded from the "
                                           "15–25° class."),
        districts: Optional[Path] = typer.Option(
            None, "--districts", help="District polygons instead of the database's boundaries."),
        district_field: str = typer.Option("code", "--district-field",
                                           help="Field of --districts naming the district (code, adcode or name)."),
        cropland_codes: str = typer.Option("1", "--cropland-codes",
                                           help="Land-use codes that are cropland, comma-separated (表2: 1 = 耕地)."),
        steep_deg: float = typer.Option(25.0, "--steep-deg", help="Slope (degrees) from which all cropland is a "
                                                                  "candidate."),
        moderate_deg: float = typer.Option(15.0, "--moderate-deg", help="Lower slope (degrees) of the class found "
                                                                        "only in water-source areas."),
        min_area_m2: float = typer.Option(400.0, "--min-area-m2", help="Smallest patch kept, m² (400 = 0.04 hm²)."),
        year: Optional[int] = typer.Option(None, "--year", help="Planned year of treatment (default: this year).")
) -> None:
    """Find cropland ≥ 25° and 15–25° cropland in water-source areas, as candidate 退耕还林 treatment patches."""
    from shuibao.services.governance.sloping_farmland import district_store, find_sloping_farmland

    codes = _codes(cropland_codes)
    db = None
    if districts is None:
        state = ctx.obj
        target, problem = district_store(getattr(state, "db", None) if state is not None else None)
        if problem is None:
            db = target
        else:
            typer.echo(f"note: patches get no district: {problem}", err=True)
    result = find_sloping_farmland(dem, landuse, out, db=db, cropland_codes=codes, water_sources=water_sources,
                                   basic_farmland=basic_farmland, districts=districts, district_field=district_field,
                                   steep_deg=steep_deg, moderate_deg=moderate_deg, min_area_m2=min_area_m2,
                                   year=year)
    for line in result.notes:
        typer.echo(f"note: {line}", err=True)
    where = (f"in {sum(1 for s in result.by_district if s.district_code)} district(s)" if result.district_source
             else "no districts")
    note = " (SYNTHETIC inputs)" if result.synthetic else ""
    typer.echo(f"{result.patches} candidate patches for {result.year}: {result.steep_patches} ≥ {steep_deg:g}° "
               f"({result.steep_area_m2 / 1e6:.3f} km²), {result.moderate_patches} {moderate_deg:g}–{steep_deg:g}° in "
               f"water-source areas ({result.moderate_area_m2 / 1e6:.3f} km²), {where}{note} → {result.out}")
