"""Compliance analysis at the city's scale: 11,000 disturbance patches against 6,500 approved projects.

Times (a) the classification alone on projected geometries and (b) the whole
`shuibao supervise compliance` service on a GeoPackage store (read the period's
patches and the current areas, project them, classify, write the analysis and
its findings in one transaction); the imports are timed too.  Every patch of the
synthetic scene has a planted category; the run reports how many came back as
planted (the benchmark also checks correctness).

    python benchmarks/bench_supervision.py [--patches 11000 --projects 6500] [--work DIR] [--db POSTGIS_URL]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import Counter
from pathlib import Path

import common  # noqa: F401  (puts src/ on the path)
import numpy as np

from shuibao.io.features import FeatureSet, write_features
from shuibao.services.supervision import compliance, patches, projects
from shuibao.services.platform.database import init
from shuibao.supervision.compliance import ApprovedAreas, Patches, classify, load_rules
from shuibao.demo.supervision_records import make_supervision_scene


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patches", type=int, default=11000)
    ap.add_argument("--projects", type=int, default=6500)
    ap.add_argument("--work", type=Path, default=None)
    ap.add_argument("--results", type=Path, default=common.RESULTS)
    ap.add_argument("--db", default=None, help="An empty PostGIS database URL (default: a GeoPackage in --work).")
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="shuibao-sv-"))
    work.mkdir(parents=True, exist_ok=True)
    scene = make_supervision_scene(args.projects, args.patches, seed=1)
    row: dict = {"patches": args.patches, "projects": args.projects}

    # (a) classification alone, geometries already projected
    from datetime import date

    ids = np.arange(1, len(scene.patches) + 1)
    ps = Patches(ids, np.array(scene.patch_geoms, dtype=object), [p["kind"] for p in scene.patches],
                 [p["industry"] for p in scene.patches], [date(2025, 6, 30)] * len(ids))
    za = ApprovedAreas(np.arange(1, len(scene.projects) + 1), np.array(scene.project_geoms, dtype=object),
                       np.zeros(len(scene.projects), bool), [p["industry"] for p in scene.projects],
                       ["under_construction"] * len(scene.projects), [date(2024, 1, 1)] * len(scene.projects))
    t = time.perf_counter()
    found = classify(ps, za, load_rules())
    row["classify_s"] = round(time.perf_counter() - t, 3)
    planted = [scene.planted[p["patch_id"]] for p in scene.patches]
    row["classify_agrees"] = sum(f.category.value == k for f, k in zip(found, planted))

    # (b) the service on the embedded store
    db = args.db or str(work / "bench.gpkg")
    if args.db is None:
        Path(db).unlink(missing_ok=True)
    init(db, boundaries=False)
    row["backend"] = "postgis" if "://" in db else "geopackage"
    pf = work / "projects.gpkg"
    tf = work / "patches.gpkg"
    write_features(pf, [FeatureSet("projects", scene.projects, scene.project_geoms)], scene.crs)
    write_features(tf, [FeatureSet("patches", scene.patches, scene.patch_geoms)], scene.crs)
    t = time.perf_counter()
    projects.import_projects(db, pf)
    row["import_projects_s"] = round(time.perf_counter() - t, 2)
    t = time.perf_counter()
    patches.import_patches(db, tf)
    row["import_patches_s"] = round(time.perf_counter() - t, 2)
    t = time.perf_counter()
    res = compliance.run_compliance(db)
    row["compliance_service_s"] = round(time.perf_counter() - t, 2)
    row["service_classify_s"] = round(res.seconds_classify, 3)
    rows, _ = compliance.findings(db)
    row["service_agrees"] = sum(r["category"] == scene.planted[r["patch_id"]] for r in rows)
    row["counts"] = res.counts
    row["planted"] = dict(Counter(planted))
    row["peak_rss_mib"] = round(common.peak_rss_mib())
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / f"supervision_{args.patches}x{args.projects}_{row['backend']}.json").write_text(json.dumps(row, indent=1,
                                                                                              ensure_ascii=False))
    print(json.dumps(row, ensure_ascii=False))


if __name__ == "__main__":
    main()
