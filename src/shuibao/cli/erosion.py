"""`shuibao erosion csle`: a whole CSLE run from GeoTIFF inputs to graded COGs and a summary."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from shuibao.services.monitoring import erosion as service
from .common import State
from .terrain import CHANNEL, CUT_HIGH, CUT_LOW, CUT_SEL, L_FORM, MAX_LEN, SLOPE_SRC, terrain_options

app = typer.Typer(help="Soil loss by the Chinese Soil Loss Equation and SL 190-2007 grades.", no_args_is_help=True)


@app.command()
def csle(
    ctx: typer.Context,
    dem: Path = typer.Option(..., "--dem", help="DEM GeoTIFF, projected CRS in metres."),
    landuse: Path = typer.Option(..., "--landuse", help="Land-use class raster (codes of the B and T tables)."),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder."),
    ndvi: Optional[Path] = typer.Option(None, "--ndvi", help="NDVI raster (−1…1)."),
    fvc: Optional[Path] = typer.Option(None, "--fvc", help="Vegetation cover raster (0…1) instead of NDVI."),
    r: Optional[Path] = typer.Option(None, "--r", help="R raster, MJ·mm/(hm²·h·a)."),
    rain: Optional[Path] = typer.Option(None, "--rain", help="Daily rain CSV: station,date,rain_mm and x,y or lon,lat."),
    annual_rain: Optional[Path] = typer.Option(None, "--annual-rain", help="Annual rainfall raster (mm), fallback R."),
    k: Optional[Path] = typer.Option(None, "--k", help="K raster, t·hm²·h/(hm²·MJ·mm)."),
    soil: Optional[Path] = typer.Option(None, "--soil", help="Soil-type raster (codes of --soil-table)."),
    soil_table: Optional[Path] = typer.Option(None, "--soil-table", help="CSV: code,sand_pct,silt_pct,clay_pct,"
                                                                        "organic_carbon_pct (USDA)."),
    measures: Optional[Path] = typer.Option(None, "--measures", help="Engineering-measure code raster (E table)."),
    b_table: Optional[Path] = typer.Option(None, "--b-table", help="Own B table (CSV)."),
    b_cover_classes: Optional[Path] = typer.Option(None, "--b-cover-classes",
                                                   help="Own B-by-cover-class table (CSV: group, fvc_min_pct, "
                                                        "fvc_max_pct, b)."),
    t_table: Optional[Path] = typer.Option(None, "--t-table", help="Own T table (CSV: zone, landuse_code, t)."),
    fvc_scope: str = typer.Option("pooled", "--fvc-endmembers",
                                  help="NDVI end-members: pooled (bare and vegetated land) or per_class (5 %/95 % "
                                       "within each vegetated land-use code)."),
    rotation_zone: Optional[str] = typer.Option(None, "--rotation-zone",
                                                help="Rotation zone (轮作区) of the T table (default: its first)."),
    landuse_codes: Optional[Path] = typer.Option(None, "--landuse-codes",
                                                 help="Own land-use code table (CSV, as erosion/data/"
                                                      "landuse_codes.csv)."),
    e_table: Optional[Path] = typer.Option(None, "--e-table", help="Own E table (CSV)."),
    m_table: Optional[Path] = typer.Option(None, "--m-table", help="Own slope-length exponent classes (CSV)."),
    s_table: Optional[Path] = typer.Option(None, "--s-table", help="Own S-factor classes (CSV)."),
    r_model: Optional[Path] = typer.Option(None, "--r-model", help="Own erosivity-model constants (CSV)."),
    tolerance: float = typer.Option(500.0, "--tolerance", help="Tolerable soil loss, t/(km²·a) (微度 below it)."),
    k_correction: bool = typer.Option(False, "--k-correction", help="Apply the Chinese correction to EPIC K "
                                                                     "(Zhang Keli 2007; negative K set to 0, counted)."),
    r_model_name: str = typer.Option("zhang2002", "--r-daily-model",
                                     help="Daily erosivity model for --rain: zhang2002 (half-month, constants "
                                          "verified) or xie2016_seasonal (warm/cold season of the national census; "
                                          "its α and threshold NOT verified)."),
    ndvi_soil: Optional[float] = typer.Option(None, "--ndvi-soil", help="Bare-soil NDVI (default: 5th percentile "
                                                                        "of bare land, never water or sealed land)."),
    ndvi_veg: Optional[float] = typer.Option(None, "--ndvi-veg", help="Full-cover NDVI (default: 95th percentile "
                                                                      "of vegetated land)."),
    channel_threshold: Optional[float] = CHANNEL, cutoff_low: float = CUT_LOW, cutoff_high: float = CUT_HIGH,
    cutoff_selector: str = CUT_SEL, max_length: float = MAX_LEN, l_form: str = L_FORM,
    slope_for_factors: str = SLOPE_SRC,
    target_crs: Optional[str] = typer.Option(None, "--target-crs", help="Reproject the DEM to this CRS first "
                                             "(a geographic DEM goes to the CGCS2000 Albers by default; Mercator "
                                             "and other non-equal-area targets are refused)."),
    intermediates: bool = typer.Option(False, "--intermediates", help="Also write slope, LS and FVC rasters."),
) -> None:
    """Compute R, K, L, S, B, E, T, soil loss and grades; write COGs and summary.json into OUT."""
    state: State = ctx.obj
    inputs = service.CsleInputs(dem=dem, landuse=landuse, ndvi=ndvi, fvc=fvc, r=r, rain=rain, annual_rain=annual_rain,
                                k=k, soil=soil, soil_table=soil_table, measures=measures, b_table=b_table,
                                b_cover_classes=b_cover_classes, t_table=t_table, e_table=e_table, m_table=m_table,
                                s_table=s_table, r_model=r_model, landuse_codes=landuse_codes)
    params = service.CsleParams(
        tolerance_t_km2=tolerance, k_correction=k_correction, r_model=r_model_name, ndvi_soil=ndvi_soil,
        ndvi_veg=ndvi_veg, rotation_zone=rotation_zone, fvc_endmember_scope=fvc_scope,
        target_crs=target_crs, intermediates=intermediates,
        terrain=terrain_options(channel_threshold, cutoff_low, cutoff_high, cutoff_selector, max_length, l_form,
                                slope_for_factors),
    )

    def progress(name: str, seconds: float) -> None:
        if not state.quiet:
            typer.echo(f"  {name:<22} {seconds:8.2f} s", err=True)

    summary = service.run_csle(inputs, out, params, on_step=progress)
    for warning in summary.get("warnings") or ():  # shown even with --quiet: they qualify the numbers
        typer.echo(f"WARNING: {warning}", err=True)
    if state.quiet:
        return
    g = summary["grades"]
    typer.echo(f"wrote {out}: {', '.join(summary['outputs'].values())}, summary.json")
    typer.echo("grade      area_km2   share_%")
    for name, zh in (("slight", "微度"), ("light", "轻度"), ("moderate", "中度"), ("intense", "强烈"),
                     ("very_intense", "极强烈"), ("severe", "剧烈")):
        typer.echo(f"{zh:<6} {g['area_km2'][name]:12.2f} {g['share_pct'][name]:9.2f}")
    if summary.get("stations"):
        rs = [s["r_annual"] for s in summary["stations"]]
        typer.echo(f"R by {summary['parameters']['r_model']}: {len(rs)} station(s), {min(rs):,.0f}–{max(rs):,.0f} "
                   "MJ·mm/(hm²·h·a)")
    if summary.get("k_clipped_cells"):
        typer.echo(f"K: {summary['k_clipped_cells']} cell(s) clipped to 0 by the Chinese correction")
    typer.echo(f"水土保持率 {summary['conservation_rate_pct']:.2f} % of {g['total_km2']:.2f} km²; "
               f"total {summary['timings_s']['total']:.1f} s")


@app.command("example-inputs")
def example_inputs(
    out: Path = typer.Argument(..., help="Folder for dem.tif, landuse.tif, ndvi.tif, soil.tif, soil.csv, rain.csv."),
    size: int = typer.Option(400, "--size", min=32, max=5000, help="Cells per side (30 m cells)."),
    seed: int = typer.Option(0, "--seed", help="Random seed; the same seed gives the same files."),
    stations: int = typer.Option(12, "--stations", min=1, max=200, help="Rain stations with daily series."),
) -> None:
    """Write a deterministic SYNTHETIC scene to try `erosion csle` on (every file is labelled synthetic)."""
    from shuibao.demo.scene_files import example_scene

    paths = example_scene(out, size=size, seed=seed, stations=stations)
    typer.echo(f"wrote synthetic inputs to {out}: {', '.join(p.name for p in paths.values())}")
