"""Parsing of the erosion engine's tabular inputs: daily rainfall of stations, soil properties.

Every problem found in a file is collected with its row, so a user fixes a file
in one pass instead of one error per run.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
from pyproj import CRS, Transformer

from ..core.csle import ErosivityResult, erosivity_daily, erosivity_daily_seasonal
from ..errors import InputError, raise_issues, N_, Text

MAX_DAILY_RAIN_MM = 1000.0  # above any recorded daily total in China; catches unit mistakes (0.1 mm counts)


@dataclass
class StationSeries:
    station: str
    x: float
    y: float
    year: np.ndarray
    month: np.ndarray
    day: np.ndarray
    rain_mm: np.ndarray


def _station_rows(rows: list[dict], source: str, xcol: str, ycol: str, problems: list[Text | str]) -> dict[str, dict]:
    """The rows grouped by station (coordinates, dates, rain); every bad row is a problem."""
    series: dict[str, dict] = {}
    for n, row in enumerate(rows, start=2):
        where = f"{source}, row {n}"
        sid = (row.get("station") or "").strip()
        if not sid:
            problems.append(N_("{where}: empty station", where=where))
            continue
        try:
            d = date.fromisoformat((row.get("date") or "").strip())
        except ValueError:
            problems.append(N_("{where}: date {get!r} is not YYYY-MM-DD", where=where, get=row.get('date')))
            continue
        try:
            rain = float(row["rain_mm"])
            x = float(row[xcol])
            y = float(row[ycol])
        except (TypeError, ValueError):
            problems.append(N_("{where}: rain_mm, {xcol} and {ycol} must be numbers", where=where, xcol=xcol, ycol=ycol))
            continue
        if not np.isfinite(rain) or rain < 0:
            problems.append(N_("{where}: rain_mm {rain_mm} is negative or not finite (station {sid}, {d})", where=where, rain_mm=row['rain_mm'], sid=sid, d=d))
            continue
        if rain > MAX_DAILY_RAIN_MM:
            problems.append(N_("{where}: rain_mm {rain} exceeds {MAX_DAILY_RAIN_MM:.0f} mm in a day; "
                            "are the values in 0.1 mm?", where=where, rain=rain, MAX_DAILY_RAIN_MM=MAX_DAILY_RAIN_MM))
            continue
        s = series.setdefault(sid, {"xy": (x, y), "dates": [], "rain": [], "row": n})
        if s["xy"] != (x, y):
            problems.append(N_("{where}: station {sid} has coordinates {x}, {y} here but {xy} in row {row}", where=where, sid=sid, x=x, y=y, xy=s['xy'], row=s['row']))
            continue
        s["dates"].append(d)
        s["rain"].append(rain)
    return series


def read_daily_rain(path: Path | str, target_crs: str, problems: list[Text | str], label: str = "--rain"
                    ) -> list[StationSeries]:
    """Read ``station,date,rain_mm`` plus ``x,y`` (in the DEM's CRS) or ``lon,lat`` (CGCS2000 degrees)."""
    path = Path(path)
    if not path.is_file():
        problems.append(N_("{label}: {path} does not exist", label=label, path=path))
        return []
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            fields = set(reader.fieldnames or [])
            rows = list(reader)
    except (UnicodeDecodeError, csv.Error) as exc:
        problems.append(N_("{label}: {path} is not a UTF-8 CSV file ({exc})", label=label, path=path, exc=exc))
        return []
    if "x" in fields and "y" in fields:
        xcol, ycol, geographic = "x", "y", False
    elif "lon" in fields and "lat" in fields:
        xcol, ycol, geographic = "lon", "lat", True
    else:
        problems.append(N_("{label}: {path} needs columns x,y (DEM CRS) or lon,lat (degrees), found {fields}", label=label, path=path, fields=sorted(fields)))
        return []
    missing = [c for c in ("station", "date", "rain_mm") if c not in fields]
    if missing:
        problems.append(N_("{label}: {path} is missing column(s) {missing}", label=label, path=path, missing=', '.join(missing)))
        return []
    before = len(problems)
    series = _station_rows(rows, f"{label}: {path}", xcol, ycol, problems)
    if len(problems) > before:
        return []
    if not series:
        problems.append(N_("{label}: {path} has no records", label=label, path=path))
        return []
    out = []
    to_target = Transformer.from_crs("EPSG:4490", CRS.from_user_input(target_crs), always_xy=True) if geographic \
        else None
    for sid, s in series.items():
        dates = s["dates"]
        if len(set(dates)) != len(dates):
            problems.append(N_("{label}: {path}: station {sid} has duplicate dates", label=label, path=path, sid=sid))
            continue
        x, y = s["xy"]
        if to_target is not None:
            x, y = to_target.transform(x, y)
        out.append(StationSeries(sid, float(x), float(y), np.array([d.year for d in dates]),
                                 np.array([d.month for d in dates]), np.array([d.day for d in dates]),
                                 np.array(s["rain"], dtype=np.float64)))
    return out


def station_erosivity(series: list[StationSeries], params: dict[str, float], model: str = "zhang2002"
                      ) -> list[tuple[StationSeries, ErosivityResult]]:
    """R of each station by a daily model with the constants of ``r_model.csv``.

    ``model``: ``"zhang2002"`` (half-month model of Zhang, Xie & Liu 2002) or
    ``"xie2016_seasonal"`` (warm/cold-season model of the national census).
    """
    out = []
    for s in series:
        if model == "xie2016_seasonal":
            r = erosivity_daily_seasonal(s.year, s.month, s.day, s.rain_mm,
                                         threshold_mm=params["seasonal_threshold_mm"], beta=params["seasonal_beta"],
                                         alpha_warm=params["seasonal_alpha_warm"],
                                         alpha_cold=params["seasonal_alpha_cold"])
        elif model == "zhang2002":
            r = erosivity_daily(s.year, s.month, s.day, s.rain_mm, threshold_mm=params["threshold_mm"],
                                beta_a=params["beta_a"], beta_b=params["beta_b"], beta_c=params["beta_c"],
                                alpha_a=params["alpha_a"], alpha_b=params["alpha_b"])
        else:
            raise InputError(N_("unknown R model {model!r}; expected zhang2002 or xie2016_seasonal", model=model))
        out.append((s, r))
    return out


def erosivity_range_warnings(stations: list[tuple[StationSeries, ErosivityResult]], params: dict[str, float]
                             ) -> list[str]:
    """A warning (not an error) for each station whose R lies outside ``range_low``…``range_high`` of r_model.csv."""
    if "range_low" not in params:
        return []
    low, high = params["range_low"], params["range_high"]
    return [f"R: station {s.station} has R = {res.annual_mean:,.0f} MJ·mm/(hm²·h·a) over {res.years} year(s), outside "
            f"the expected {low:,.0f}–{high:,.0f} (r_model.csv range_low/range_high): check the series' units "
            "(0.1 mm?), gaps and length" for s, res in stations if not low <= res.annual_mean <= high]


@dataclass
class SoilTable:
    codes: np.ndarray
    sand: np.ndarray
    silt: np.ndarray
    clay: np.ndarray
    organic_carbon: np.ndarray


def read_soil_table(path: Path | str, problems: list[Text | str], label: str = "--soil-table") -> SoilTable | None:
    """``code,sand_pct,silt_pct,clay_pct`` and ``organic_carbon_pct`` or ``organic_matter_pct`` (USDA texture)."""
    path = Path(path)
    if not path.is_file():
        problems.append(N_("{label}: {path} does not exist", label=label, path=path))
        return None
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        fields = set(reader.fieldnames or [])
        rows = list(reader)
    need = {"code", "sand_pct", "silt_pct", "clay_pct"}
    om = "organic_carbon_pct" if "organic_carbon_pct" in fields else "organic_matter_pct"
    if not need <= fields or om not in fields:
        problems.append(N_("{label}: {path} needs columns code, sand_pct, silt_pct, clay_pct and "
                        "organic_carbon_pct or organic_matter_pct", label=label, path=path))
        return None
    codes: list[int] = []
    cols: dict[str, list[float]] = {k: [] for k in ("sand", "silt", "clay", "oc")}
    before = len(problems)
    for n, row in enumerate(rows, start=2):
        try:
            code = int(row["code"])
            sand, silt, clay, org = (float(row[c]) for c in ("sand_pct", "silt_pct", "clay_pct", om))
        except (TypeError, ValueError):
            problems.append(N_("{label}: {path}, row {n}: code must be an integer and the fractions numbers", label=label, path=path, n=n))
            continue
        if min(sand, silt, clay, org) < 0 or abs(sand + silt + clay - 100) > 2:
            problems.append(N_("{label}: {path}, row {n}: sand+silt+clay = {value1:g} %, "
                            "expected 100 ± 2 and no negative values", label=label, path=path, n=n, value1=sand + silt + clay))
            continue
        codes.append(code)
        cols["sand"].append(sand)
        cols["silt"].append(silt)
        cols["clay"].append(clay)
        cols["oc"].append(org / 1.724 if om == "organic_matter_pct" else org)
    if len(problems) > before:
        return None
    if len(set(codes)) != len(codes):
        problems.append(N_("{label}: {path}: duplicate codes", label=label, path=path))
        return None
    return SoilTable(np.array(codes), *(np.array(cols[k]) for k in ("sand", "silt", "clay", "oc")))


def require(problems: list[Text | str]) -> None:
    """Raise one InputError listing every problem found, if any."""
    raise_issues(problems, "", context=N_("with the inputs"))
