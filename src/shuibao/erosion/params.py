"""What a CSLE run is given: the input files (paths only, read by the service) and the parameters."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .engine import TerrainParams


@dataclass
class CsleInputs:
    dem: Path
    landuse: Path
    ndvi: Path | None = None
    fvc: Path | None = None
    r: Path | None = None
    rain: Path | None = None
    annual_rain: Path | None = None
    k: Path | None = None
    soil: Path | None = None
    soil_table: Path | None = None
    measures: Path | None = None
    b_table: Path | None = None
    b_cover_classes: Path | None = None
    t_table: Path | None = None
    e_table: Path | None = None
    landuse_codes: Path | None = None
    m_table: Path | None = None
    s_table: Path | None = None
    r_model: Path | None = None
    labels: dict[str, str] = field(default_factory=dict)  # how messages name an input (CLI flag by default)


@dataclass
class CsleParams:
    tolerance_t_km2: float = 500.0
    terrain: TerrainParams = field(default_factory=TerrainParams)
    ndvi_soil: float | None = None
    ndvi_veg: float | None = None
    soil_percentile: float = 5.0  # NDVI end-members: cumulative-frequency percentiles (methods.md §1.5)
    veg_percentile: float = 95.0
    fvc_endmember_scope: str = "pooled"  # "pooled" (bare and vegetated land) | "per_class" (each vegetated code's own)
    rotation_zone: str | None = None  # 轮作区 of the T table (None: its only or first zone)
    idw_power: float = 2.0
    idw_neighbours: int | None = None  # None: all stations (Shepard)
    k_correction: bool = False  # Zhang Keli 2007 on EPIC K (in US units, then SI), clipped at 0 and counted
    # daily model for station rain: "zhang2002" (constants verified in print) | "xie2016_seasonal" (the census's
    # warm/cold-season form; its α and threshold NOT verified, so it is the option, not the default)
    r_model: str = "zhang2002"
    target_crs: str | None = None
    resolution_m: float | None = None  # resample the DEM to this cell size first (bilinear)
    synthetic: bool = False
    intermediates: bool = False  # also write slope, LS and FVC (not factors of the equation)
    combine: bool = True  # multiply the factors into soil loss and grade here (False: a blockwise step does)
    keep_flow_direction: bool = False  # return the D8 directions (small watersheds use them)
