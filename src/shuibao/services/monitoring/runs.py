"""Monitoring runs in the database: store one (one transaction), list them, read one, compare two years.

A run is keyed by its digest (spec + input bytes + district polygons): storing
the same run again keeps the stored one, so a run killed after its commit and
started again does not appear twice.  ``latest`` names the newest run wherever a
run id is taken.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from pyproj import CRS
from sqlalchemy import Connection

from shuibao import __version__
from shuibao.core.zonal import crosstab
from shuibao.errors import InputError, NotFoundError, N_
from shuibao.io import raster as rio
from shuibao.monitoring.units import GRADES, GRADES_ZH
from shuibao.plan.rates import target_direction
from shuibao.io.steps import sha256
from shuibao.io.vector import read_polygons
from shuibao.store import Store
from shuibao.store.repositories import runs as repo
from shuibao.services.monitoring.run_inputs import Prepared
from shuibao.services.monitoring.run_outputs import Results

_GRADE_KM2 = tuple(f"{g}_km2" for g in GRADES)


def _f(v):
    return None if v is None else float(v)


def store_run(db: str | None, prep: Prepared, res: Results, provenance: dict) -> int:
    """Insert the run with its unit, land-use and watershed rows in one transaction; returns its id."""
    # the run's identity: its inputs and spec, the software, and what came out (a rerun with other results
    # under the same spec — another version, an input changed behind a path — is another run)
    counts = sha256(prep.spec.output / ".work" / "counts.json")
    key = hashlib.sha256(f"{prep.digest()}|{__version__}|{counts}".encode()).hexdigest()
    layer = read_polygons(prep.spec.output / "monitoring.gpkg", "watersheds", layer="watersheds",
                          fields={"label": "int"})
    polys = dict(zip(layer.attributes["label"], layer.geoms))
    city = res.city()
    with Store(db) as store, store.transaction() as conn:
        store.require_current(conn)
        existing = repo.run_id_by_key(conn, key)
        if existing is not None:
            return existing
        run_id = repo.insert_run(conn, dict(
            run_key=key, name=prep.spec.name, year=prep.spec.year, synthetic=prep.spec.synthetic,
            created_at=datetime.now(UTC), software_version=__version__, spec_path=str(prep.spec.path),
            output_dir=str(prep.spec.output), grid_crs=prep.grid.crs, cell_size_m=prep.grid.cell_width,
            rows=prep.grid.shape[0], cols=prep.grid.shape[1], valid_cells=int(prep.valid.sum()),
            total_km2=city["total_km2"], slight_km2=city["slight_km2"], conservation_rate_pct=city["rate_pct"],
            spec_json=json.dumps(prep.spec.canonical(), ensure_ascii=False, sort_keys=True),
            provenance_json=json.dumps(provenance, ensure_ascii=False, sort_keys=True),
        ))
        repo.insert_units(conn, [dict(
            run_id=run_id, seq=u["seq"], level=u["level"], code=u["code"], name=u["name"], covers=u["covers"],
            total_km2=u["total_km2"], **{k: u[k] for k in _GRADE_KM2}, loss_km2=u["loss_km2"],
            rate_pct=_f(u["rate_pct"]), target_2025_pct=_f(u["target_2025_pct"]), gap_pp=_f(u["gap_pp"]),
            gap_km2=_f(u["gap_km2"]), mean_modulus_t_km2=_f(u["mean_modulus_t_km2"]), soil_loss_t=u["soil_loss_t"],
        ) for u in res.unit_records()])
        repo.insert_landuse(conn, [dict(
            run_id=run_id, class_code=r["class_code"], name=r["name"], total_km2=r["total_km2"],
            **{k: r[k] for k in _GRADE_KM2}, loss_km2=r["loss_km2"]) for r in res.landuse])
        repo.insert_watersheds(conn, [dict(
            run_id=run_id, label=r["label"], code=r["code"], name=r["name"], district_code=r["district_code"],
            district_share_pct=_f(r["district_share_pct"]), total_km2=r["total_km2"],
            **{k: r[k] for k in _GRADE_KM2}, loss_km2=r["loss_km2"], rate_pct=_f(r["rate_pct"]),
            mean_modulus_t_km2=_f(r["mean_modulus_t_km2"]), geom=polys.get(r["label"]),
        ) for r in res.watersheds])
        repo.record_watershed_extent(conn, polys.values())
        return run_id


@dataclass(frozen=True)
class RunInfo:
    id: int
    name: str
    year: int
    synthetic: bool
    created_at: datetime
    total_km2: float
    rate_pct: float
    output_dir: str
    cell_size_m: float
    software_version: str


def _info(row) -> RunInfo:
    m = row._mapping
    return RunInfo(m["id"], m["name"], m["year"], bool(m["synthetic"]), m["created_at"], m["total_km2"],
                   m["conservation_rate_pct"], m["output_dir"], m["cell_size_m"], m["software_version"])


def list_runs(db: str | None) -> list[RunInfo]:
    with Store(db) as store, store.reading() as conn:
        store.require_current(conn)
        return [_info(r) for r in repo.run_rows(conn)]


def resolve_run(conn: Connection, ref: str) -> int:
    """A run id from ``ref``: a number or ``latest`` (the newest run)."""
    if ref == "latest":
        rid = repo.latest_run_id(conn)
        if rid is None:
            raise InputError(N_("no monitoring run is stored yet: run `shuibao monitor run SPEC` first"))
        return int(rid)
    if not (ref.isascii() and ref.isdigit()):
        raise InputError(N_("run {ref!r}: expected a run id (see `shuibao monitor list`) or 'latest'", ref=ref))
    if not repo.run_exists(conn, int(ref)):
        raise NotFoundError(N_("run {ref}: no such monitoring run (see `shuibao monitor list`)", ref=ref))
    return int(ref)


def get_run(db: str | None, ref: str, *, tables: bool = True) -> dict:
    """One run: its info, unit rows, land-use rows and provenance (``tables=False``: without the unit and
    land-use rows, for callers that only need its files, such as a map tile)."""
    with Store(db) as store, store.reading() as conn:
        store.require_current(conn)
        rid = resolve_run(conn, ref)
        row = repo.run_row(conn, rid)
        if not tables:
            return {"info": _info(row), "provenance": json.loads(row._mapping["provenance_json"])}
        units = repo.unit_rows(conn, rid)
        landuse = repo.landuse_rows(conn, rid)
        return {"info": _info(row), "units": units, "landuse": landuse,
                "provenance": json.loads(row._mapping["provenance_json"])}


def delete_run(db: str | None, ref: str) -> int:
    with Store(db) as store, store.transaction() as conn:
        store.require_current(conn)
        rid = resolve_run(conn, ref)
        repo.delete_run(conn, rid)
        return rid


GRADE_FILE = "rasters/grade.tif"
_HASHED: dict[tuple[str, int, int], str] = {}  # (path, size, mtime_ns) → SHA-256: a file is hashed once per change


def recorded_outputs(provenance: dict) -> dict[str, str]:
    """Every file the run's steps wrote (relative to its output folder) with the SHA-256 it was stored with."""
    out: dict[str, str] = {}
    for step in provenance.get("steps", {}).values():
        out.update(step.get("outputs", {}))
    return out


def run_file_path(run: dict, rel: str = GRADE_FILE) -> Path:
    return Path(run["info"].output_dir) / rel


def check_run_file(run: dict, rel: str = GRADE_FILE) -> str | None:
    """Why the run's file ``rel`` cannot be used (missing, or overwritten by a later run), or None."""
    path, digest = run_file_path(run, rel), recorded_outputs(run["provenance"]).get(rel)
    if not path.is_file():
        return f"run {run['info'].id}: {path} no longer exists"
    if digest is not None:
        st = path.stat()
        key = (str(path), st.st_size, st.st_mtime_ns)
        if key not in _HASHED:
            _HASHED[key] = sha256(path)
        if _HASHED[key] != digest:
            return (f"run {run['info'].id}: {path} has been overwritten since (a later run wrote to the same "
                    "folder)")
    return None


def transition_matrix(grade_a: Path, grade_b: Path) -> np.ndarray:
    """Cells by (grade in A, grade in B), 7 × 7 with 0 = no data; both rasters on one grid."""
    a = rio.read_raster(grade_a, "grade (run A)")
    b = rio.read_raster(grade_b, "grade (run B)")
    if (a.grid.shape != b.grid.shape or a.grid.transform != b.grid.transform
            or CRS.from_user_input(a.grid.crs) != CRS.from_user_input(b.grid.crs)):
        raise InputError(N_("{grade_a} and {grade_b} are on different grids ({shape} vs {shape2}); "
                         "the transition matrix needs both runs at the same CRS, resolution and extent", grade_a=grade_a, grade_b=grade_b, shape=a.grid.shape, shape2=b.grid.shape))
    ga = np.where(a.valid, a.data, 0).astype(np.int64)
    gb = np.where(b.valid, b.data, 0).astype(np.int64)
    return np.rint(crosstab(ga, gb, 7, 7)).astype(np.int64)


def compare_runs(db: str | None, ref_a: str, ref_b: str) -> dict:
    """Change from run A to run B per unit (area by grade, rate, gap to target) and the grade transitions."""
    a, b = get_run(db, ref_a), get_run(db, ref_b)
    if a["info"].id == b["info"].id:
        raise InputError(N_("runs {ref_a} and {ref_b} are the same run ({id}); name two different runs", ref_a=ref_a, ref_b=ref_b, id=a['info'].id))
    units_a = {(u["level"], u["code"]): u for u in a["units"]}
    rows = []
    for ub in b["units"]:
        ua = units_a.get((ub["level"], ub["code"]))
        if ua is None or ub["level"] == "outside":
            continue
        row = {"level": ub["level"], "code": ub["code"], "name": ub["name"]}
        for k in (*_GRADE_KM2, "loss_km2"):
            row[f"{k}_a"], row[f"{k}_b"], row[f"d_{k}"] = ua[k], ub[k], ub[k] - ua[k]
        row.update(rate_a=ua["rate_pct"], rate_b=ub["rate_pct"], d_rate_pp=_diff(ub["rate_pct"], ua["rate_pct"]),
                   target_2025_pct=ub["target_2025_pct"], gap_a_pp=ua["gap_pp"], gap_b_pp=ub["gap_pp"])
        row["toward_target"] = target_direction(ua["gap_pp"], ub["gap_pp"])
        rows.append(row)
    ia, ib = a["info"], b["info"]
    cell_km2 = ib.cell_size_m ** 2 / 1e6
    # the unit changes come from the database; the transition matrix needs both grade rasters as stored
    why = check_run_file(a) or check_run_file(b)
    matrix = None
    if why is None:
        try:
            matrix = transition_matrix(run_file_path(a), run_file_path(b))
        except InputError as exc:
            why = str(exc)
    return {"a": ia, "b": ib, "units": rows, "transition_cells": matrix,
            "transition_km2": None if matrix is None else matrix * cell_km2, "no_transitions": why,
            "grade_names": ["无数据", *GRADES_ZH], "synthetic": ia.synthetic or ib.synthetic}


def _diff(b, a):
    return None if a is None or b is None else b - a


def districts_with_rates(db: str | None) -> list[dict]:
    """Every district with its region and, when a run is stored, the latest run's rate, target and gap."""
    with Store(db) as store, store.reading() as conn:
        store.require_current(conn)
        rows = repo.district_rows(conn)
        has_run = repo.latest_run_id(conn) is not None
    units = {u["code"]: u for u in get_run(db, "latest")["units"] if u["level"] == "district"} if has_run else {}
    for r in rows:
        u = units.get(r["code"], {})
        r.update(rate_pct=u.get("rate_pct"), target_2025_pct=u.get("target_2025_pct"), gap_pp=u.get("gap_pp"))
    return rows
