"""Rain warnings tied to the sites at risk (暴雨预警): a day's rain → footprints per level → the active construction
projects, open cases and high-grade erosion areas inside them, each with an inspection task.

The day's rain is a rainfall grid (GeoTIFF, mm) or the stations' observations of that day (quality
flag ``ok``) interpolated by inverse-distance weighting.  A project or case is hit when any cell it
touches reaches a level (its rain is the largest such cell's); a small watershed is hit by the cells of
high erosion grade (the latest monitoring run's grade raster) that lie inside a footprint.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import cast

import numpy as np
import shapely
from rasterio.features import rasterize
from rasterio.transform import Affine
from sqlalchemy import Connection

from shuibao.errors import DataError, InputError, N_
from shuibao.grid import GridSpec
from shuibao.io import raster as rio
from shuibao.io.features import FeatureSet, write_features
from shuibao.io.vector import polygonize, to_crs, zone_labels
from shuibao.plan.boundaries import EQUAL_AREA_CRS
from shuibao.store import Store
from shuibao.store.repositories import cases as case_rows, reference, stations as station_rows, warnings as warning_rows
from shuibao.stations.warning import (
    TASKS,
    WarningRules,
    case_at_risk,
    erosion_areas,
    footprint_areas,
    footprint_masks,
    high_grade_cells,
    inspection_task,
    level_raster,
    load_warning_rules,
    project_at_risk,
    touched_level,
)
from shuibao.services.supervision.case_views import case_views
from shuibao.services.supervision.projects import current_areas
from shuibao.services.supervision.common import actor as who, dumps, now

__all__ = ["RAIN_SOURCES", "TASKS", "WarningResult", "warn", "export_warning", "warning_hits"]
# where a warning's rain came from, stored as "<kind>:<detail>": "stations:36" (36 stations interpolated) or
# "grid:PATH" (a rain raster); the kinds are labelled in the vocabulary (group rain_source)
RAIN_SOURCES = ("stations", "grid")


@dataclass
class WarningResult:
    run_id: int
    rain_date: date
    source: str
    footprints: dict[str, float]  # level → km²
    hits: list[dict] = field(default_factory=list)
    outputs: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _grid_from_tif(path: Path) -> tuple[np.ndarray, GridSpec]:
    r = rio.read_raster(path, "rain grid")
    rio.require_projected_metres(r.grid, "rain grid", path)
    rain = np.where(r.valid, r.data.astype(np.float64), np.nan)
    if np.nanmin(rain, initial=0.0) < 0:
        raise InputError(N_("rain grid {path}: negative rain; expected mm of the day", path=path))
    return rain, r.grid


def _grid_from_stations(conn: Connection, day: date, rules: WarningRules) -> tuple[np.ndarray, GridSpec, int]:
    from scipy.spatial import cKDTree

    from shuibao.core.csle import idw

    rows = station_rows.rain_of_day(conn, day)
    if not rows:
        raise InputError(N_("no station has a quality-checked rain observation for {day}; import observations "
                         "(`shuibao stations observations`) or give a rain grid", day=day))
    pts = np.array(to_crs([shapely.Point(r.lon, r.lat) for r in rows], "EPSG:4490", EQUAL_AREA_CRS.to_wkt()))
    xy = np.array([[p.x, p.y] for p in pts])
    cell = rules.station_grid_m
    bounds = reference.boundary_geoms(conn)
    if bounds:
        minx, miny, maxx, maxy = shapely.total_bounds(to_crs(bounds, "EPSG:4490", EQUAL_AREA_CRS.to_wkt()))
    else:
        (minx, miny), (maxx, maxy) = xy.min(0) - rules.station_radius_m, xy.max(0) + rules.station_radius_m
    x0, y1 = np.floor(minx / cell) * cell, np.ceil(maxy / cell) * cell
    cols, rows_n = int(np.ceil((maxx - x0) / cell)), int(np.ceil((y1 - miny) / cell))
    grid = GridSpec((rows_n, cols), (cell, 0.0, x0, 0.0, -cell, y1), EQUAL_AREA_CRS.to_wkt(), None)
    gx = x0 + (np.arange(cols) + 0.5) * cell
    gy = y1 - (np.arange(rows_n) + 0.5) * cell
    xx, yy = np.meshgrid(gx, gy)
    dist, _ = cKDTree(xy).query(np.column_stack([xx.ravel(), yy.ravel()]))
    near = (dist <= rules.station_radius_m).reshape(rows_n, cols)
    rain = idw(xy, np.array([r.value for r in rows], float), gx, gy, power=rules.idw_power, mask=near)
    return rain, grid, len(rows)


def _max(values: np.ndarray) -> float | None:
    """The largest finite value, None when there is none (cells beyond every station's reach)."""
    finite = values[np.isfinite(values)]
    return float(finite.max()) if finite.size else None


def _touched(geoms_grid: list, values: list[np.ndarray], grid: GridSpec) -> list[tuple | None]:
    """For each geometry, the maximum of each array over the cells it touches (None outside the grid)."""
    a, _, c, _, e, f = grid.transform
    rows, cols = grid.shape
    out: list[tuple | None] = []
    for g in geoms_grid:
        if g is None or g.is_empty:
            out.append(None)
            continue
        minx, miny, maxx, maxy = g.bounds
        c0, c1 = max(int(np.floor((minx - c) / a)), 0), min(int(np.ceil((maxx - c) / a)), cols)
        r0, r1 = max(int(np.floor((maxy - f) / e)), 0), min(int(np.ceil((miny - f) / e)), rows)
        if c0 >= c1 or r0 >= r1:
            out.append(None)
            continue
        mask = rasterize([(g, 1)], out_shape=(r1 - r0, c1 - c0), transform=Affine(a, 0, c + c0 * a, 0, e, f + r0 * e),
                         all_touched=True, fill=0, dtype="uint8").astype(bool)
        out.append(tuple(_max(v[r0:r1, c0:c1][mask]) for v in values) if mask.any() else None)
    return out


def _erosion_hits(conn: Connection, footprints: list, rules: WarningRules, run_ref: str) -> tuple[list, str | None]:
    """Small watersheds with high-grade cells inside a footprint, from a monitoring run's grade raster."""
    from shuibao.services.monitoring.runs import resolve_run

    try:
        run_id = resolve_run(conn, run_ref)
    except InputError as exc:
        return [], f"erosion areas not assessed: {exc}"
    run = warning_rows.monitoring_run_row(conn, run_id)
    folder = Path(run.output_dir) / "rasters"
    grade_path, shed_path = folder / "grade.tif", folder / "watersheds.tif"
    if not grade_path.exists() or not shed_path.exists():
        raise DataError(N_("monitoring run {run_id}: {folder} lacks grade.tif or watersheds.tif (moved or deleted?)", run_id=run_id, folder=folder))
    grade = rio.read_raster(grade_path, "grade")
    sheds = rio.read_band(shed_path)
    levels = zone_labels([g for _, g in footprints], "EPSG:4490", grade.grid)  # later (higher) levels win
    high = high_grade_cells(grade.data, grade.valid, levels, sheds, rules)
    if not high.any():
        return [], None
    cell_km2 = abs(grade.grid.transform[0] * grade.grid.transform[4]) / 1e6
    names = warning_rows.watershed_names(conn, run_id)
    hits = []
    for label, level_index, by_grade, high_km2 in erosion_areas(sheds[high], levels[high], grade.data[high], cell_km2):
        info = names.get(int(label))
        hits.append(dict(target_kind="erosion_area", target_id=int(label), level_index=level_index,
                         target_label=f"小流域 {info.code if info else label}" + (f" {info.name}" if info and info.name
                                                                                 else ""),
                         district_code=info.district_code if info else None, rain_mm=None,
                         details={"monitoring_run": run_id, "high_grade_km2": high_km2, "by_grade_km2": by_grade}))
    return hits, None


def _footprints(rain: np.ndarray, grid: GridSpec, rules: WarningRules) -> tuple[np.ndarray, list, dict]:
    """The level raster, the footprint (multi)polygon of each reached level (EPSG:4490) and their km²."""
    levels = level_raster(rain, rules.levels)
    cell_km2 = abs(grid.transform[0] * grid.transform[4]) / 1e6
    footprints = []
    for i, mask in footprint_masks(levels, rules):
        polys = polygonize(mask, grid, dst_crs="EPSG:4490")
        if 1 in polys:
            footprints.append((i, polys[1]))
    return levels, footprints, footprint_areas(levels, rules, [i for i, _ in footprints], cell_km2)


def _store_warning(conn: Connection, rules: WarningRules, rain_date: date, source: str, footprints: list,
                   area: dict, hits: list[dict], by: str, at) -> tuple[int, list[dict]]:
    """The warning run, its footprints and its hits (each given its level and task); returns (id, hits)."""
    run_id = warning_rows.add_warning_run(
        conn, rain_date=rain_date, source=source, thresholds_version=rules.version,
        parameters_json=dumps(rules.parameters()), monitoring_run_id=None, recorded_at=at, recorded_by=by)
    for i, geom in footprints:
        lv = rules.levels[i]
        warning_rows.add_footprint(conn, run_id=run_id, level=lv.key, threshold_mm=lv.threshold_mm,
                                   area_km2=area[lv.key], geom=geom)
    rows = []
    for h in hits:
        lv = rules.levels[h.pop("level_index")]
        task, due = inspection_task(h["target_kind"], lv, rain_date)
        h.update(run_id=run_id, level=lv.key, task=task, task_due_on=due)
        rows.append(h)
    warning_rows.add_hits(conn, [dict(
        run_id=run_id, level=h["level"], target_kind=h["target_kind"], target_id=h["target_id"],
        target_label=h["target_label"], district_code=h["district_code"], rain_mm=h["rain_mm"],
        details_json=dumps(h["details"]), task=h["task"], task_due_on=h["task_due_on"]) for h in rows])
    return run_id, rows


def warn(db: str | None, *, rain_date: date, rain_grid: Path | None = None, rules_path: Path | None = None,
         run: str | None = "latest", out: Path | None = None, actor: str | None = None,
         principal=None) -> WarningResult:
    """Compute the warning of one day (a rain grid, else the stations) and store it with its hits and tasks.

    With a ``principal`` (the web platform): city administrators only; the warning is audited in the
    transaction that stores it (the optional export is written afterwards and is not part of it).
    """
    from shuibao.services.platform.auth import batch_actor

    actor = batch_actor(principal, actor)
    rules = load_warning_rules(rules_path)
    if out is not None and out.suffix.lower() not in (".gpkg", ".csv"):
        raise InputError(N_("-o {out}: expected a .gpkg or .csv file", out=out))
    by, at = who(actor), now()
    with Store(db) as store, store.transaction() as conn:
        store.require_current(conn)
        if rain_grid is not None:
            rain, grid = _grid_from_tif(rain_grid)
            source, n_stations = f"{RAIN_SOURCES[1]}:{rain_grid}", None
        else:
            rain, grid, n_stations = _grid_from_stations(conn, rain_date, rules)
            source = f"{RAIN_SOURCES[0]}:{n_stations}"
        levels, footprints, area = _footprints(rain, grid, rules)
        hits, notes = [], []
        if footprints:
            hits += _site_hits(conn, rain, levels, grid, rain_date)
            erosion, note = _erosion_hits(conn, footprints, rules, run) if run else ([], "erosion areas not assessed")
            hits += erosion
            notes += [note] if note else []
        run_id, rows = _store_warning(conn, rules, rain_date, source, footprints, area, hits, by, at)
        from shuibao.services.platform.auth import audit, writer  # the command line: audited as the operating-system user
        audit(conn, writer(principal, actor), "warning.run", "warning_run", run_id, None,
              {"rain_date": rain_date, "source": source, "footprints_km2": area, "hits": len(rows)})
    result = WarningResult(run_id, rain_date, source, area, rows, [], notes)
    if out is not None:
        result.outputs = export_warning(db, run_id, out)
    return result


def _site_hits(conn: Connection, rain: np.ndarray, levels: np.ndarray, grid: GridSpec, day: date) -> list[dict]:
    """Projects under construction and open cases whose footprint touches a warned cell."""
    projects = [p for p in current_areas(conn) if project_at_risk(p["status"]) and p["geom"] is not None]
    targets = [("project", p["id"], f"{p['code']} {p['name']}", p["district_codes"].split(",")[0], p["geom"],
                {"builder": p["builder"], "status": p["status"]}) for p in projects]
    heads = case_rows.all_cases(conn)
    areas = {p["id"]: p["geom"] for p in current_areas(conn)}
    patch_geoms = case_rows.patch_geoms(conn)
    for v in case_views(conn, heads, day, until=day):
        if not case_at_risk(v.state):
            continue
        h = v.header
        geom = patch_geoms.get(h["patch_fid"]) if h["patch_fid"] else areas.get(h["project_id"])
        if geom is not None:
            targets.append(("case", v.id, f"{v.case_no} {h['title']}", h["district_code"], geom,
                            {"state": v.state, "category": v.category}))
    if not targets:
        return []
    in_grid = to_crs([t[4] for t in targets], "EPSG:4490", cast(str, grid.crs))  # a run's grid is projected
    maxima = _touched(in_grid, [levels.astype(np.float64), rain], grid)
    hits = []
    for t, m in zip(targets, maxima):
        level_index = None if m is None else touched_level(m[0])
        if level_index is None:  # outside the grid, or no warned cell touched
            continue
        assert m is not None
        hits.append(dict(target_kind=t[0], target_id=t[1], target_label=t[2], district_code=t[3],
                         level_index=level_index, rain_mm=None if m[1] is None else round(m[1], 1), details=t[5]))
    return hits


def export_warning(db: str | None, run_id: int, out: Path) -> list[Path]:
    """OUT.gpkg (layers footprints and hits) or OUT.csv (the hits with their tasks)."""
    from shuibao.services.supervision.common import write_csv_rows

    rows = warning_hits(db, run_id)
    if out.suffix.lower() == ".csv":
        return [write_csv_rows(out, ["level", "target_kind", "target_id", "target_label", "district_code", "rain_mm",
                                     "task", "task_due_on", "details_json"], rows)]
    with Store(db) as store, store.reading() as conn:
        fp = warning_rows.footprints_of(conn, run_id)
    layers = [FeatureSet("footprints", [{k: r[k] for k in ("level", "threshold_mm", "area_km2")} for r in fp],
                         [r["geom"] for r in fp])]
    if rows:
        layers.append(FeatureSet("hits", [{k: (str(v) if isinstance(v, date) else v) for k, v in r.items()}
                                          for r in rows], [None] * len(rows)))
    return write_features(out, layers, "EPSG:4490")


def warning_hits(db: str | None, run_id: int) -> list[dict]:
    """The sites and tasks of a stored warning (``details`` decoded), by kind and label."""
    with Store(db) as store, store.reading() as conn:
        store.require_current(conn)
        if not warning_rows.warning_exists(conn, run_id):
            raise InputError(N_("warning {run_id} does not exist", run_id=run_id))
        rows = warning_rows.hits_of(conn, run_id)
    for r in rows:
        r["details"] = json.loads(r["details_json"])
    return rows
