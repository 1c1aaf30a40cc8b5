"""A synthetic supervision scene: approved projects and a period's disturbance patches with planted categories.

Projects are rectangles (100–800 m a side) scattered over Chongqing's extent in
the platform's Albers CRS; each patch is planted to be one compliance category
under the shipped rules, with margins wide enough that the category does not
depend on the tolerances' exact values:

* compliant — inside a project's rectangle (shrunk by 10 %);
* out_of_bounds — straddling a project's edge with 30–50 % outside;
* relocated — 200–800 m beyond a project's edge, with that project's industry;
* unapproved — more than 3 km from every project;
* not_project — anywhere, of disturbance type 非生产建设项目.

Used by the benchmark (11,000 patches against 6,500 projects), a test that the
analysis recovers every planted category, and the demo.  Everything is SYNTHETIC.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import box

from shuibao.plan.boundaries import EQUAL_AREA_CRS

EXTENT = (-170_000.0, 3_030_000.0, 160_000.0, 3_400_000.0)  # Albers metres, inside Chongqing's lon/lat box
INDUSTRIES = ("公路", "房地产", "水利", "矿山", "工业园区", "电力")
SHARES = {"compliant": 0.55, "out_of_bounds": 0.15, "relocated": 0.10, "unapproved": 0.15, "not_project": 0.05}
DISTRICTS = ("渝北区", "江北区", "万州区", "涪陵区", "黔江区", "綦江区", "合川区", "开州区")


@dataclass
class SupervisionScene:
    crs: str
    projects: list[dict]
    project_geoms: list
    patches: list[dict]
    patch_geoms: list
    planted: dict[str, str]  # patch_id → category


def make_supervision_scene(n_projects: int = 6500, n_patches: int = 11000, *, seed: int = 0,
                           period: str = "2025H1", image_date: str = "2025-06-30",
                           inside=None) -> SupervisionScene:
    """``inside``: a polygon (in the scene's equal-area CRS) that holds every project and unapproved patch
    (the demo passes the city's districts); without it they are spread over EXTENT."""
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = EXTENT
    if inside is None:
        cx = rng.uniform(x0 + 5000, x1 - 5000, n_projects)
        cy = rng.uniform(y0 + 5000, y1 - 5000, n_projects)
    else:
        cx, cy = _points_inside(rng, inside, n_projects)
    w = rng.uniform(100, 800, n_projects)
    h = rng.uniform(100, 800, n_projects)
    rects = [box(a - c / 2, b - d / 2, a + c / 2, b + d / 2) for a, b, c, d in zip(cx, cy, w, h)]
    industry = rng.choice(INDUSTRIES, n_projects)
    projects = [dict(code=f"SYN-P{i:05d}", name=f"合成项目{i}", builder=f"合成建设公司{i % 900}", industry=str(industry[i]),
                     district=str(DISTRICTS[i % len(DISTRICTS)]), approval_number=f"合成〔2024〕{i}",
                     approval_date="2024-01-01", approval_authority="合成审批机关",
                     total_area_hm2=round(rects[i].area / 1e4, 4), status="施工")
                for i in range(n_projects)]
    tree = shapely.STRtree(rects)
    kinds = rng.choice(list(SHARES), n_patches, p=list(SHARES.values()))
    patches, geoms, planted = [], [], {}
    for k, kind in enumerate(kinds):
        g, ind = _plant(str(kind), rng, rects, industry, tree, inside)
        pid = f"SYN-T{k:05d}"
        row = dict(patch_id=pid, period=period, image_date=image_date,
                   kind="非生产建设项目" if kind == "not_project" else "其他扰动", industry=ind)
        patches.append(row)
        geoms.append(g)
        planted[pid] = str(kind)
    return SupervisionScene(EQUAL_AREA_CRS.to_wkt(), projects, rects, patches, geoms, planted)


def _points_inside(rng, polygon, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` uniform random points inside ``polygon`` (rejection from its bounding box)."""
    shapely.prepare(polygon)
    x0, y0, x1, y1 = polygon.bounds
    xs, ys = [], []
    while sum(len(x) for x in xs) < n:
        x, y = rng.uniform(x0, x1, 4 * n), rng.uniform(y0, y1, 4 * n)
        keep = shapely.contains_xy(polygon, x, y)
        xs.append(x[keep])
        ys.append(y[keep])
    return np.concatenate(xs)[:n], np.concatenate(ys)[:n]


def _plant(kind: str, rng, rects, industry, tree, inside=None):
    while True:
        j = int(rng.integers(len(rects)))
        minx, miny, maxx, maxy = rects[j].bounds
        w, h = maxx - minx, maxy - miny
        ind = str(industry[j])
        if kind in ("compliant", "not_project"):
            pw, ph = rng.uniform(0.2, 0.8) * w, rng.uniform(0.2, 0.8) * h
            px = rng.uniform(minx + 0.05 * w, maxx - 0.05 * w - pw)
            py = rng.uniform(miny + 0.05 * h, maxy - 0.05 * h - ph)
            g = box(px, py, px + pw, py + ph)
        elif kind == "out_of_bounds":
            pw, ph = rng.uniform(0.3, 0.6) * w, rng.uniform(0.3, 0.6) * h
            out = rng.uniform(0.3, 0.5) * pw
            py = rng.uniform(miny, maxy - ph)
            g = box(maxx - pw + out, py, maxx + out, py + ph)
        elif kind == "relocated":
            gap = rng.uniform(200, 800)
            size = rng.uniform(60, 200)
            py = rng.uniform(miny, maxy - min(size, h))
            g = box(maxx + gap, py, maxx + gap + size, py + size)
        else:  # unapproved: far from everything
            size = rng.uniform(60, 300)
            if inside is None:
                x0, y0, x1, y1 = EXTENT
                px, py = rng.uniform(x0, x1 - size), rng.uniform(y0, y1 - size)
            else:
                (px,), (py,) = _points_inside(rng, inside, 1)
            g = box(px, py, px + size, py + size)
            ind = ""
        # keep the planted category unambiguous: no other project too close
        near = tree.query(g, predicate="dwithin", distance=3000 if kind == "unapproved" else 1100)
        others = [int(i) for i in near if int(i) != j]
        if kind == "unapproved" and len(near) == 0:
            return g, ind
        if kind != "unapproved" and not others:
            return g, ind
