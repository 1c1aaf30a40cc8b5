"""Scenarios (情景分析): "if these planned treatment patches were built", against a stored monitoring run.

A scenario takes one monitoring run as its baseline and a selection of treatment
patches (by code, or all patches in some statuses, planned and under construction by
default).  Where a patch is built, its measure replaces factors of the CSLE
(:mod:`shuibao.governance.measures`): B becomes the measure's ``b``, E the E of its
``e_code``, T its ``t``; a factor the measure does not name keeps the run's value.
R, K, L and S never change.  A = R·K·B·T·E·L·S is then recomputed **on the cells
under the patches only**, in the engine's order and dtype, and graded with the run's
tolerance and grade bounds; the run's integer cell counts per district (its
``.work/counts.json``) are adjusted by those cells alone (their baseline grade out,
their new grade in) and turned into the 附表1/附表2 unit rows by the monitoring
run's own :func:`shuibao.monitoring.units.unit_rows`.  Every other cell keeps its
factors, its soil loss and its grade, so the result equals a full recomputation of
the run with the modified B, E and T rasters, cell count for cell count
(``tests/governance/test_scenarios.py`` checks it).

By default a measure is applied to a cell only where it lowers the cell's soil loss
(``never_worse``): the measures' B and T are what a new stand or a new tillage
reaches, and planting a young stand does not clear a denser existing forest (whose
B, from its NDVI, is lower than afforestation's 0.04).  ``never_worse=False`` applies
the measures literally on every cell under a patch; ``cells_raising`` reports, per
patch, the cells where its measure would raise soil loss, in either mode.

Patches are placed on the run's grid by the cell-centre rule the run uses for its
districts (:func:`shuibao.io.vector.zone_labels`).  **Overlapping patches**: a cell
whose centre lies in several selected patches takes the patch that gives it the
lowest soil loss A′ (a tie goes to the patch selected first, i.e. the lower store
id; with ``never_worse`` only patches that lower A compete).  The result does not
depend on the order in which patches were imported except for exact ties; measures
are not combined (each patch carries one measure, and two patches over one cell do
not multiply their effects).

The arithmetic is :mod:`shuibao.governance.scenario`; this module reads the run's files, selects the patches,
places them on the grid, writes and stores.  The run's output folder must still hold the files the run wrote, unchanged: every
raster and table read here is checked against the SHA-256 the run recorded in its
provenance.  The baseline's factors are also checked to reproduce its stored soil
loss and grade on the cells under the patches, bit for bit.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import numpy as np
import rasterio
from rasterio.windows import Window

from shuibao import __version__
from shuibao.erosion import tables as erosion_tables
from shuibao.errors import DataError, InputError, raise_issues, N_
from shuibao.governance import scenario as arithmetic
from shuibao.governance.measures import Measure, Measures, load_measures
from shuibao.governance.progress import STATUSES
from shuibao.grid import GridSpec
from shuibao.io import raster as rio
from shuibao.io import vector
from shuibao.io.steps import sha256
from shuibao.monitoring.blocks import FACTORS
from shuibao.monitoring.units import GRADES, Zone, make_zone, unit_rows
from shuibao.plan.reference import PlanReference, load_reference
from shuibao.store import Store
from shuibao.store.repositories import scenarios as repo
from shuibao.services.governance.scenario_files import write_scenario_files
from shuibao.services.governance.treatment import treatment_geoms
from shuibao.plan.rates import target_direction
from shuibao.services.monitoring.runs import RunInfo, get_run, recorded_outputs
from shuibao.services.supervision.common import actor as who, now

STORAGE_CRS = "EPSG:4490"
DEFAULT_STATUSES = ("planned", "under_construction")
OVERLAP_RULE = "lowest_soil_loss"
"""A cell under several selected patches takes the one giving the lowest A′; ties: the patch selected first.
With ``never_worse`` the baseline competes too (and wins ties): a cell no patch improves keeps its soil loss."""
_GRADE_KM2 = tuple(f"{g}_km2" for g in GRADES)
_AREA_KEYS = ("total_km2", *_GRADE_KM2, "loss_km2")
_COUNTS = ".work/counts.json"
_ZONES = ".work/zones.tif"
_GPKG = "monitoring.gpkg"


# --------------------------------------------------------------------------- results
@dataclass
class ScenarioResult:
    scenario_id: int
    name: str
    base_run_id: int
    synthetic: bool
    patches: list[dict]  # per selected patch: code, measure, cells (under it), cells_applied, cells_changed, …
    cells_covered: int  # cells with data under at least one selected patch
    cells_changed: int  # of those, cells whose soil loss changed
    cells_grade_changed: int
    cells_increased: int  # cells whose soil loss went up (a measure's B or T above the run's)
    units: list[dict]  # side by side with the baseline (see :func:`get_scenario`)
    output: Path | None = None
    files: list[Path] = field(default_factory=list)
    timings_s: dict[str, float] = field(default_factory=dict)

    def unit(self, level: str, code: str) -> dict:
        return next(u for u in self.units if u["level"] == level and u["code"] == code)

    @property
    def districts(self) -> list[dict]:
        return [u for u in self.units if u["level"] == "district"]


# --------------------------------------------------------------------------- the baseline's files
@dataclass
class _Base:
    info: RunInfo
    folder: Path
    provenance: dict
    spec: dict
    stored_units: list[dict]
    grid: GridSpec
    tolerance: float
    bounds: tuple[float, ...]
    zones: list[Zone]
    zone_grade: np.ndarray  # (zones+1) × 7 integer cells
    zone_loss: np.ndarray  # Σ modulus per zone
    e_table: erosion_tables.ClassTable
    e_table_source: str
    checked: dict[str, str]  # file → SHA-256 checked against the provenance


def _check_files(run_id: int, folder: Path, provenance: dict, rels: list[str], unhashed: tuple[str, ...] = ()
                 ) -> dict[str, str]:
    """Each file must exist and (except ``unhashed``) have the SHA-256 the run recorded
    (:func:`~shuibao.services.monitoring.runs.recorded_outputs`); one DataError lists every problem."""
    if not folder.is_dir():
        raise DataError(N_("run {run_id}: its output folder {folder} no longer exists (moved or deleted?); a scenario "
                        "reads the run's factor rasters and counts from there — move the folder back or run the "
                        "monitoring again", run_id=run_id, folder=folder))
    recorded = recorded_outputs(provenance)
    problems, checked, missing = [], {}, False
    for rel in (*rels, *unhashed):
        path = folder / rel
        want = recorded.get(rel)
        if not path.is_file():
            problems.append(N_("{rel} is missing", rel=rel))
            missing = True
        elif rel in unhashed:
            continue
        elif want is None:
            problems.append(N_("{rel}: the run's provenance records no checksum for it", rel=rel))
        elif (got := sha256(path)) != want:
            problems.append(N_("{rel} has changed since the run (SHA-256 {value1}…, recorded {value2}…; "
                            "a later run written to the same folder?)", rel=rel, value1=got[:12], value2=want[:12]))
        else:
            checked[rel] = got
    hint = "; running the run's spec again restores missing files (finished steps are reused)" if missing else ""
    raise_issues(problems, N_("run {run_id}", run_id=run_id), error=DataError,
                 context=N_("with the files in {folder}: they are not the run's any more, so a scenario cannot use "
                         "them{hint}", folder=folder, hint=hint))
    return checked


def _grid(run_id: int, path: Path, provenance: dict) -> GridSpec:
    """The run's grid: the grade raster's shape and transform, with the CRS string the run itself used."""
    with rasterio.open(path) as src:
        t = src.transform
        shape, transform = (src.height, src.width), (t.a, t.b, t.c, t.d, t.e, t.f)
    g = provenance.get("grid", {})
    if list(shape) != list(g.get("shape", shape)) or list(transform) != list(g.get("transform", transform)):
        raise DataError(N_("run {run_id}: {path} is on grid {shape} {transform}, the run recorded {get} "
                        "{get2}", run_id=run_id, path=path, shape=shape, transform=transform, get=g.get('shape'), get2=g.get('transform')))
    return GridSpec(shape, transform, g.get("crs") or rio.read_raster(path, "grade").grid.crs)


def _zones(run_id: int, folder: Path, ref: PlanReference, stored_units: list[dict]) -> list[Zone]:
    """The run's zones in label order: the GeoPackage's districts layer (written in label order) and the
    districts each stands for (the stored unit rows' ``covers``)."""
    layer = vector.read_polygons(folder / _GPKG, f"run {run_id} districts", layer="districts", fields={"code": "str"})
    covers = {u["code"]: u["covers"] for u in stored_units if u["level"] == "district"}
    zones = []
    for label, code in enumerate(layer.attributes["code"], start=1):
        if code not in covers:
            raise DataError(N_("run {run_id}: district {code!r} of {value1} is not among the run's stored units", run_id=run_id, code=code, value1=folder / _GPKG))
        zones.append(make_zone(label, tuple(ref.district(n) for n in covers[code].split("|"))))
    return zones


def _e_table(run_id: int, spec: dict, provenance: dict) -> tuple[erosion_tables.ClassTable, str]:
    """The run's own E table if its spec named one (checked against its recorded SHA-256), else the shipped one."""
    path = (spec.get("tables") or {}).get("e_table")
    if path is None:
        table = erosion_tables.e_table()
        return table, str(table.path)
    p = Path(path)
    want = provenance.get("inputs", {}).get("table:e_table", {}).get("sha256")
    if not p.is_file():
        raise DataError(N_("run {run_id}: its E table {p} no longer exists; the measures' E values come from it", run_id=run_id, p=p))
    if want is not None and sha256(p) != want:
        raise DataError(N_("run {run_id}: its E table {p} has changed since the run", run_id=run_id, p=p))
    return erosion_tables.e_table(p), str(p)


def _same(a, b) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and float(a) == float(b))


def _load_base(db: str | None, base_run: str, ref: PlanReference) -> _Base:
    run = get_run(db, str(base_run))
    info, provenance = run["info"], run["provenance"]
    folder = Path(info.output_dir)
    rasters = [f"rasters/{n}.tif" for n in FACTORS] + ["rasters/soil_loss.tif", "rasters/grade.tif"]
    # the districts layer only gives the zones' order, which the unit check below confirms: a GeoPackage opened
    # (and touched) in a desktop GIS does not block scenarios
    checked = _check_files(info.id, folder, provenance, [*rasters, _ZONES, _COUNTS], unhashed=(_GPKG,))
    grid = _grid(info.id, folder / "rasters" / "grade.tif", provenance)
    raw = json.loads((folder / _COUNTS).read_text(encoding="utf-8"))
    zone_grade = np.asarray(raw["zone_grade"], dtype=np.int64)
    zone_loss = np.asarray(raw["zone_loss"], dtype=np.float64)
    zones = _zones(info.id, folder, ref, run["units"])
    if zone_grade.shape != (len(zones) + 1, 7):
        raise DataError(N_("run {id}: {value1} counts {value2} zones, its districts "
                        "layer {n_zones}", id=info.id, value1=folder / _COUNTS, value2=zone_grade.shape[0] - 1, n_zones=len(zones)))
    # the counts must give back the stored table exactly, else the folder is not this run's
    cell_km2 = grid.cell_area / 1e6
    mine = {(r.level, r.code): r.record() for r in unit_rows(ref, zones, zone_grade, zone_loss, cell_km2)}
    for u in run["units"]:
        r = mine.get((u["level"], u["code"]))
        if r is None or not all(_same(r[k], u[k]) for k in (*_AREA_KEYS, "rate_pct", "target_2025_pct")):
            raise DataError(N_("run {id}: the unit table rebuilt from {value1} differs from the stored "
                            "one at {level} {code} ({name}); the output folder is not this run's", id=info.id, value1=folder / _COUNTS, level=u['level'], code=u['code'], name=u['name']))
    spec = json.loads(_spec_json(db, info.id))
    erosion = provenance.get("steps", {}).get("erosion", {}).get("result", {}).get("parameters", {})
    bounds = tuple(float(v) for v in erosion.get("grade_bounds_t_km2") or erosion_tables.grade_bounds())
    tolerance = float(provenance.get("parameters", {}).get("tolerance_t_km2",
                                                           spec.get("parameters", {}).get("tolerance_t_km2", 500.0)))
    e_table, e_source = _e_table(info.id, spec, provenance)
    return _Base(info, folder, provenance, spec, run["units"], grid, tolerance, bounds, zones, zone_grade, zone_loss,
                 e_table, e_source, checked)


def _spec_json(db: str | None, run_id: int) -> str:
    with Store(db) as store, store.reading() as conn:
        return repo.base_run_spec_json(conn, run_id)


# --------------------------------------------------------------------------- patches on the grid
def patch_cells(geoms: list, geoms_crs: str, grid: GridSpec) -> list[np.ndarray]:
    """Flat indices (sorted) of the cells whose centre each polygon holds, by the run's cell-centre rule.

    The polygons are burnt with :func:`shuibao.io.vector.zone_labels` on the whole grid, as the run
    burns its districts, in as few passes as overlapping polygons need (polygons of one pass do not
    touch), so every polygon gets exactly the cells it would get alone.
    """
    projected = vector.to_crs(geoms, geoms_crs, cast(str, grid.crs))  # the run's grid is projected
    cells = [np.zeros(0, np.int64) for _ in geoms]
    for members in arithmetic.layers(projected):
        labels = vector.zone_labels([geoms[i] for i in members], geoms_crs, grid).ravel()
        flat = np.flatnonzero(labels)
        lab = labels[flat]
        order = np.argsort(lab, kind="stable")
        split = np.cumsum(np.bincount(lab, minlength=len(members) + 1)[1:])[:-1]
        for i, part in zip(members, np.split(flat[order], split)):
            cells[i] = np.sort(part).astype(np.int64)
    return cells


def _gather(path: Path, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Values of a raster at (rows, cols), reading only the window that holds them."""
    r0, c0 = int(rows.min()), int(cols.min())
    window = Window(c0, r0, int(cols.max()) - c0 + 1, int(rows.max()) - r0 + 1)
    with rasterio.open(path) as src:
        block = src.read(1, window=window)
    return block[rows - r0, cols - c0]


# --------------------------------------------------------------------------- the scenario
def _select(db: str | None, statuses, patch_codes, measures: Measures) -> list[dict]:
    statuses = (statuses,) if isinstance(statuses, str) else tuple(statuses or ())
    bad = [s for s in statuses if s not in STATUSES]
    if bad or not statuses:
        raise InputError(N_("status {value1}: expected one or more of "
                         "{STATUSES}", value1=', '.join(map(repr, bad)) or '(none)', STATUSES=', '.join(STATUSES)))
    codes = None if patch_codes is None else list(dict.fromkeys(str(c).strip() for c in patch_codes))
    if codes is not None and not codes:
        raise InputError(N_("no patch codes given: name at least one patch, or select by status"))
    with Store(db) as store, store.reading() as conn:
        store.require_current(conn)
        patches = treatment_geoms(conn, statuses=tuple(statuses), codes=codes)
    if not patches:
        raise InputError(N_("no treatment patches selected: the store holds none in status {statuses} "
                         "(import them with the treatment import first)", statuses=', '.join(statuses)))
    unknown = sorted({p["measure"] for p in patches if measures.get(p["measure"]) is None})
    if unknown:
        raise InputError(N_("measure(s) {unknown} of the selected patches are not in {path}; "
                         "it lists {keys}", unknown=', '.join(unknown), path=measures.path, keys=', '.join(measures.keys)))
    return patches


def _check_out(out: Path | None, base: _Base) -> Path | None:
    if out is None:
        return None
    out = Path(out)
    inside = {base.folder.resolve(), *(base.folder.resolve() / d for d in ("rasters", ".work", "tables"))}
    if out.resolve() in inside:
        raise InputError(N_("output folder {out}: that is run {id}'s own folder; a scenario writes "
                         "soil_loss.tif and grade.tif, which would overwrite the run's — choose another folder", out=out, id=base.info.id))
    return out


def _burn(patches: list[dict], base: _Base, grade_all: np.ndarray) -> tuple[list[np.ndarray], list[int]]:
    """Per patch the flat indices of its cells with data on the run's grid, and how many."""
    grid = base.grid
    cells = patch_cells([p["geom"] for p in patches], STORAGE_CRS, grid)
    valid_flat = grade_all.ravel() > 0
    cells = [c[valid_flat[c]] for c in cells]  # cells with data only
    covered = [int(c.size) for c in cells]
    if not any(covered):
        listing = ", ".join(f"{p['patch_code']}: 0" for p in patches[:20])
        raise InputError(N_("the {n_patches} selected patch(es) cover no cell with data of run {id}'s grid "
                         "({value1}×{value2} cells of {cell_width:g} m) — cells per patch: "
                         "{listing}; are they outside the run's area, or smaller than a cell?", n_patches=len(patches), id=base.info.id, value1=grid.shape[0], value2=grid.shape[1], cell_width=grid.cell_width, listing=listing))
    return cells, covered


def _base_cells(base: _Base, uniq: np.ndarray, grade_all: np.ndarray):
    """The run's factors, soil loss, grade and zone on the cells ``uniq``, checked to reproduce its soil loss and
    grades bit for bit (else the scenario would not be comparable with the run)."""
    folder = base.folder / "rasters"
    rows, cols = np.divmod(uniq, base.grid.shape[1])
    base_f = {n: _gather(folder / f"{n}.tif", rows, cols) for n in FACTORS}
    base_a = _gather(folder / "soil_loss.tif", rows, cols)
    base_g = grade_all.ravel()[uniq]
    zone = _gather(base.folder / _ZONES, rows, cols).astype(np.int64)
    again = arithmetic.soil_loss(base_f, base_a.dtype, FACTORS)
    if not arithmetic.bit_equal(again, base_a) \
            or not np.array_equal(arithmetic.grade(again, base.tolerance, base.bounds), base_g):
        raise DataError(N_("run {id}: its factor rasters do not reproduce its soil loss and grades on the "
                        "cells under the patches; the scenario would not be comparable with the run", id=base.info.id))
    return base_f, base_a, base_g, zone


def _selection(statuses, patch_codes, patches, table: Measures, base: _Base, counts: dict,
               patch_rows: list[dict], never_worse: bool) -> dict:
    """What the scenario chose and found, as stored (``selection_json``) and written (``scenario.json``)."""
    return {
        "statuses": [statuses] if isinstance(statuses, str) else list(statuses),
        "patch_codes": None if patch_codes is None else [p["patch_code"] for p in patches],
        "overlap_rule": OVERLAP_RULE, "never_worse": never_worse, "measures": str(table.path),
        "measures_version": table.version,
        "e_table": base.e_table_source, "tolerance_t_km2": base.tolerance, "grade_bounds_t_km2": list(base.bounds),
        **counts, "base_files_sha256": base.checked, "software_version": __version__, "patches": patch_rows,
    }


def _store(db: str | None, name: str, base: _Base, table: Measures, result: ScenarioResult, selection: dict,
           out: Path | None, actor: str | None) -> int:
    by, at = who(actor), now()
    with Store(db) as store, store.transaction() as conn:
        store.require_current(conn)
        return int(repo.insert_scenario(conn, dict(
            name=name, base_run_id=base.info.id,
            selection_json=json.dumps(selection, ensure_ascii=False, sort_keys=True),
            measures_version=table.version, cells_changed=result.cells_changed,
            output_dir=None if out is None else str(out.resolve()), recorded_at=at, recorded_by=by,
        ), [dict(level=u["level"], code=u["code"], name=u["name"], **{k: u[k] for k in _AREA_KEYS},
                 rate_pct=u["rate_pct"], base_rate_pct=u["base_rate_pct"], target_2025_pct=u["target_2025_pct"],
                 gap_pp=u["gap_pp"]) for u in result.units]))


def run_scenario(db: str | None, *, base_run: str | int = "latest", name: str, patch_codes: list[str] | None = None,
                 statuses=DEFAULT_STATUSES, measures: Path | None = None, out: Path | None = None,
                 actor: str | None = None, never_worse: bool = True) -> ScenarioResult:
    """Apply the selected treatment patches to a monitoring run and store the district table beside the baseline.

    ``patch_codes``: these patches (each must exist in one of ``statuses``); else every patch in
    ``statuses``.  ``measures``: an own measures table (TOML) instead of the shipped one.  ``out``: a
    folder for the scenario's soil loss, grades and deciding patch (COGs) and its tables (CSV).
    ``never_worse`` (default): a cell takes a patch's measure only where that lowers its soil loss (the
    measures' B and T are what a *new* stand or tillage reaches; an existing denser forest keeps its own B);
    False: the literal rule — B, E and T become the measure's on every cell under the patch, even where
    that raises soil loss (``cells_raising`` counts such cells per patch in either mode).
    """
    timings: dict[str, float] = {}
    t = time.perf_counter()

    def lap(step: str) -> None:
        nonlocal t
        timings[step] = round(time.perf_counter() - t, 3)
        t = time.perf_counter()

    name = (name or "").strip()
    if not name or len(name) > 200:
        raise InputError(N_("a scenario needs a name of 1–200 characters"))
    ref = load_reference()
    base = _load_base(db, str(base_run), ref)
    out = _check_out(out, base)
    lap("check_run")
    table = load_measures(measures, e_codes=set(base.e_table.codes.tolist()))
    patches = _select(db, statuses, patch_codes, table)
    lap("select")

    with rasterio.open(base.folder / "rasters" / "grade.tif") as src:
        grade_all = src.read(1)
    cells, covered = _burn(patches, base, grade_all)
    lap("burn")

    uniq = np.unique(np.concatenate(cells))
    base_f, base_a, base_g, zone = _base_cells(base, uniq, grade_all)
    chosen = cast(list[Measure], [table.get(p["measure"]) for p in patches])  # _select checked each measure
    factors = arithmetic.measure_factors(chosen, base.e_table.codes, base.e_table.values)
    applied = arithmetic.apply_measures(cells, uniq, base_f, base_a, factors, never_worse, FACTORS)
    new_a, win = applied.new_a, applied.win
    new_g = arithmetic.grade(new_a, base.tolerance, base.bounds)
    changed = new_a != base_a
    increased = new_a > base_a
    lap("compute")

    zg, zl = arithmetic.adjust_counts(base.zone_grade, base.zone_loss, zone, changed, base_g, new_g, base_a, new_a)
    cell_km2 = base.grid.cell_area / 1e6
    base_rows = unit_rows(ref, base.zones, base.zone_grade, base.zone_loss, cell_km2)
    new_rows = unit_rows(ref, base.zones, zg, zl, cell_km2)
    units = [side_by_side(n.record(), b.record()) for n, b in zip(new_rows, base_rows)]
    patch_rows = arithmetic.patch_rows(patches, chosen, factors[1], applied, changed, increased, covered, cell_km2)
    counts = {"cells_covered": int(uniq.size), "cells_changed": int(changed.sum()),
              "cells_grade_changed": int((new_g != base_g).sum()), "cells_increased": int(increased.sum())}
    selection = _selection(statuses, patch_codes, patches, table, base, counts, patch_rows, never_worse)
    result = ScenarioResult(0, name, base.info.id, base.info.synthetic, patch_rows, int(uniq.size),
                            counts["cells_changed"], counts["cells_grade_changed"], counts["cells_increased"], units)

    if out is not None:
        result.output = out
        result.files = write_scenario_files(out, base, grade_all, uniq, new_a, new_g, win, changed, result,
                                            selection)
        lap("write")
    result.scenario_id = _store(db, name, base, table, result, selection, out, actor)
    lap("store")
    result.timings_s = timings
    return result


# --------------------------------------------------------------------------- side by side
def _d(a, b):
    return None if a is None or b is None else a - b


def side_by_side(new: dict, base: dict | None) -> dict:
    """One unit under the scenario beside the baseline: areas, rate, target and gap, and the changes."""
    base = base or {}
    row = {"level": new["level"], "code": new["code"], "name": new["name"]}
    for k in _AREA_KEYS:
        row[k], row[f"base_{k}"] = new[k], base.get(k)
        row[f"d_{k}"] = _d(new[k], base.get(k))
    rate, brate, target = new["rate_pct"], base.get("rate_pct"), new["target_2025_pct"]
    gap = new.get("gap_pp", _d(target, rate))
    bgap = _d(target, brate)
    row.update(rate_pct=rate, base_rate_pct=brate, d_rate_pp=_d(rate, brate), target_2025_pct=target, gap_pp=gap,
               base_gap_pp=bgap, toward_target=target_direction(bgap, gap))
    return row


# --------------------------------------------------------------------------- reading back
def _resolve(conn, ref) -> int:
    if str(ref) == "latest":
        sid = repo.latest_scenario_id(conn)
        if sid is None:
            raise InputError(N_("no scenario is stored yet: run `shuibao scenario run` first"))
        return int(sid)
    if not (str(ref).isascii() and str(ref).isdigit()):
        raise InputError(N_("scenario {ref!r}: expected a scenario id (see `shuibao scenario list`) or 'latest'", ref=ref))
    if not repo.scenario_exists(conn, int(ref)):
        raise InputError(N_("scenario {ref}: no such scenario (see `shuibao scenario list`)", ref=ref))
    return int(ref)


def list_scenarios(db: str | None) -> list[dict]:
    """Stored scenarios, oldest first, with the city's rate under each and in its baseline."""
    with Store(db) as store, store.reading() as conn:
        store.require_current(conn)
        rows = repo.scenario_summaries(conn)
    return [{"id": m["id"], "name": m["name"], "base_run_id": m["base_run_id"], "base_name": m["base_name"],
             "year": m["year"], "synthetic": bool(m["synthetic"]), "cells_changed": m["cells_changed"],
             "measures_version": m["measures_version"], "output_dir": m["output_dir"],
             "rate_pct": c.rate_pct if c else None, "base_rate_pct": c.base_rate_pct if c else None,
             "target_2025_pct": c.target_2025_pct if c else None,
             "recorded_at": m["recorded_at"], "recorded_by": m["recorded_by"]} for m, c in rows]


def get_scenario(db: str | None, scenario_id: int | str) -> dict:
    """One scenario: its record, its selection (patches and their cells) and its units beside the baseline's."""
    with Store(db) as store, store.reading() as conn:
        store.require_current(conn)
        row, units, base = repo.scenario_with_units(conn, _resolve(conn, scenario_id))
    run = get_run(db, str(row["base_run_id"]))
    selection = json.loads(row.pop("selection_json"))
    return {"info": row, "base": run["info"], "selection": selection, "patches": selection.get("patches", []),
            "units": [side_by_side(x, base.get((x["level"], x["code"]))) for x in units],
            "synthetic": run["info"].synthetic}


__all__ = ["DEFAULT_STATUSES", "OVERLAP_RULE", "ScenarioResult", "get_scenario", "list_scenarios", "patch_cells",
           "run_scenario", "side_by_side"]
