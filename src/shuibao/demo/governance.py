"""The demo's treatment patches (综合治理图斑), SYNTHETIC, over the real districts.

About 400 square patches (150–700 m a side) at random places inside the districts, of the plan's
types in proportion to 专栏3's quantities, each with measures of its type, years 2021–2025 and the
statuses a bureau would hold at the end of the demo year: earlier years completed or accepted, the
last year partly under way or planned.  Written to a GeoPackage and imported with the same service a
bureau uses; every project name says 合成.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from pyproj import Transformer

from shuibao.io.features import FeatureSet, write_features
from shuibao.plan.boundaries import EQUAL_AREA_CRS
from shuibao.store import Store
from shuibao.store.reference_loader import read_boundaries
from shuibao.services.governance.treatment import import_treatment, progress

MEASURES = {
    "small_watershed": ("terrace_earth", "afforestation", "conservation_tillage", "check_dam"),
    "farmland_to_forest": ("afforestation", "economic_forest"),
    "high_standard_farmland": ("terrace_stone", "conservation_tillage"),
    "land_consolidation": ("slope_terrace", "contour_tillage"),
    "rocky_desertification": ("enclosure", "grass_shrub"),
    "mine_restoration": ("mine_revegetation",),
    "forest_improvement": ("enclosure", "afforestation"),
}
WEIGHTS = {"small_watershed": 1500, "farmland_to_forest": 130, "high_standard_farmland": 1200,
           "land_consolidation": 500, "rocky_desertification": 200, "mine_restoration": 24.5,
           "forest_improvement": 1000}


@dataclass
class GovernanceDemo:
    path: Path
    patches: int
    done_km2: float
    planned: int


def run_governance_demo(db: str, out: Path, *, year: int, n: int = 400, seed: int = 0) -> GovernanceDemo:
    rng = np.random.default_rng(seed)
    with Store(db) as store, store.reading() as conn:
        bounds = read_boundaries(conn)
    to_m = Transformer.from_crs("EPSG:4490", EQUAL_AREA_CRS, always_xy=True)
    polys = [shapely.transform(b["geom"], lambda xy: np.column_stack(to_m.transform(xy[:, 0], xy[:, 1])))
             for b in bounds]
    weights = np.array([p.area for p in polys])
    kinds = list(WEIGHTS)
    p_kind = np.array([WEIGHTS[k] for k in kinds], float)
    rows, geoms = [], []
    while len(rows) < n:
        d = int(rng.choice(len(polys), p=weights / weights.sum()))
        minx, miny, maxx, maxy = polys[d].bounds
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        size = rng.uniform(150, 700)
        g = shapely.box(x, y, x + size, y + size)
        if not polys[d].contains(g) or any(g.intersects(h) for h in geoms[-50:]):
            continue
        kind = kinds[int(rng.choice(len(kinds), p=p_kind / p_kind.sum()))]
        yr = int(rng.integers(2021, year + 1))
        if yr < year:
            status = "accepted" if rng.random() < 0.5 else "completed"
        else:
            status = ("completed", "under_construction", "planned")[int(rng.integers(3))]
        k = len(rows)
        project = f"SYN-ZL-{bounds[d]['district_code']}-{kind}"
        rows.append(dict(patch_code=f"SYN-ZL-{k:04d}", project_code=project,
                         project_name=f"合成综合治理项目（{bounds[d]['name']}，{kind}）", kind=kind,
                         measure=str(rng.choice(MEASURES[kind])), year=yr, status=status,
                         cost_wan=round(size * size / 1e4 * float(rng.uniform(0.5, 2.0)), 2),
                         funding_source=("中央预算内投资", "市级财政", "区县财政")[int(rng.integers(3))]))
        geoms.append(g)
    path = out / "treatment-synthetic.gpkg"
    write_features(path, [FeatureSet("treatment", rows, geoms)], EQUAL_AREA_CRS.to_wkt())
    import_treatment(db, path, actor="demo（合成数据）")
    p = progress(db, year=year)
    done = sum(k["done"] for k in p["by_kind"] if k["unit"] == "km2")
    return GovernanceDemo(path, len(rows), done, sum(r["status"] == "planned" for r in rows))


@dataclass
class StationsDemo:
    stations: int
    observations: int
    warning_id: int | None
    warning_date: str | None
    hits: int
    assessment_id: int


def run_stations_demo(db: str, rain_csv: Path, out: Path, *, year: int) -> StationsDemo:
    """The demo's rain stations in the registry, the year's observations with QC, the wettest day's warning
    and the year's district assessment — all from SYNTHETIC records."""
    import csv

    from shuibao.services.stations import records as stations
    from shuibao.services.assessment.responsibility import run_assessment
    from shuibao.services.stations.rain_warning import warn

    with open(rain_csv, encoding="utf-8-sig", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["date"].startswith(str(year))]
    to_ll = Transformer.from_crs(EQUAL_AREA_CRS, "EPSG:4490", always_xy=True)
    with Store(db) as store, store.reading() as conn:
        bounds = read_boundaries(conn)
    polys = [b["geom"] for b in bounds]
    tree = shapely.STRtree(polys)
    sites = {}
    for r in rows:
        if r["station"] not in sites:
            lon, lat = to_ll.transform(float(r["x"]), float(r["y"]))
            j = int(tree.query_nearest(shapely.Point(lon, lat))[0])
            sites[r["station"]] = (round(lon, 6), round(lat, 6), bounds[j]["name"])
    registry = out / "stations-synthetic.csv"
    registry.write_text("code,name,kind,district,lon,lat,status\n" + "".join(
        f"{c},合成雨量站{c},rain_gauge,{d},{lon},{lat},operating\n" for c, (lon, lat, d) in sites.items()),
        encoding="utf-8-sig")
    obs = out / f"rain-observations-{year}-synthetic.csv"
    obs.write_text("station,date,value\n" + "".join(f"{r['station']},{r['date']},{r['rain_mm']}\n" for r in rows),
                   encoding="utf-8-sig")
    who = "demo（合成数据）"
    stations.import_stations(db, registry, actor=who)
    stations.register_planned_stations(db)
    stations.import_observations(db, obs, actor=who)
    wettest = max(rows, key=lambda r: float(r["rain_mm"]))
    warning = None
    if float(wettest["rain_mm"]) >= 50:
        from datetime import date as _date

        warning = warn(db, rain_date=_date.fromisoformat(wettest["date"]), out=out / "warning-synthetic.gpkg",
                       actor=who)
    assessment = run_assessment(db, year, out=out / f"assessment-{year}-synthetic.csv", actor=who)
    return StationsDemo(len(sites), len(rows), warning.run_id if warning else None,
                        wettest["date"] if warning else None, len(warning.hits) if warning else 0,
                        assessment["assessment_id"])
