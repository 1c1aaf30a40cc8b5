"""The annual monitoring run (年度水土流失动态监测, 专栏4-02): spec → graded maps → tables → database.

Steps, each resumable (:mod:`shuibao.io.steps`): a run killed at any point and
started again with the same spec reuses the finished steps and ends with the
same bytes in every output file.

=============  ===============================================================
``erosion``    the seven CSLE factors (and, in memory, soil loss and grades)
``soil_loss``  (dask engine) soil loss and grades, blockwise from the factors
``zones``      district labels on the grid; land use on the grid
``watersheds`` small watersheds: delineated from the D8 network, or the user's
``counts``     zone × grade, land use × grade, watershed × grade/zone (blockwise)
``tables``     附表1/表2/附表2-layout tables as CSV and one XLSX workbook
``vectors``    GeoPackage layers: districts and small watersheds with attributes
``store``      the run, its provenance and tables, in the database (one transaction)
=============  ===============================================================

Output folder: ``rasters/`` (COGs), ``tables/`` (CSV), ``monitoring.xlsx``,
``monitoring.gpkg``, ``provenance.json`` (inputs, parameters, timings — the one
file that differs between attempts: it records timings and reused steps).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from shuibao import __version__
from shuibao.core import hydrology
from shuibao.core.watersheds import merge_small_units, small_watersheds
from shuibao.erosion import tables as erosion_tables
from shuibao.errors import DataError, N_
from shuibao.io import raster as rio
from shuibao.io import styles
from shuibao.io.blockwise import BlockRunner, Executor
from shuibao.io.steps import StepRecord, StepRunner, write_json_atomic
from shuibao.io.vector import zone_labels
from shuibao.monitoring.blocks import FACTORS, Partials, count_block, soil_loss_block
from shuibao.io.synthetic import SYNTHETIC_TAG
from shuibao.services.monitoring import run_outputs as outputs
from shuibao.services.monitoring.erosion import GRADE_BAND, SOIL_LOSS_BAND, compute_csle, require_sound
from shuibao.services.monitoring.run_inputs import Prepared, validate_run
from shuibao.services.monitoring.runs import store_run

EventCallback = Callable[[str, str, float], None]
"""(kind, name, seconds): kind plan (seconds = number of steps) | start | done | reused | substep."""
STEPS = ("zones", "erosion", "watersheds", "counts", "tables", "vectors", "store")


@dataclass
class RunResult:
    run_id: int
    output: Path
    steps: dict[str, StepRecord]
    summary: dict


def _tags(prep: Prepared) -> dict[str, str]:
    tags = {"SHUIBAO_VERSION": __version__, "SHUIBAO_RUN": "csle"}
    if prep.spec.synthetic:
        tags["SHUIBAO_SYNTHETIC"] = SYNTHETIC_TAG
    return tags


def _require_graded(prep: Prepared, grades: np.ndarray) -> None:
    """Every cell with data must get a grade: a NaN factor (a table without a code) would drop land silently."""
    lost = int(np.count_nonzero(prep.valid & (grades == 0)))
    if lost:
        raise DataError(N_("{lost} cells with data got no soil loss (a factor is undefined there: check the B, T and "
                        "E tables against the land-use and measure codes, and NDVI/FVC for holes); nothing stored", lost=lost))


def _narrow(labels: np.ndarray) -> np.ndarray:
    """Labels ≥ 0 in the smallest unsigned type that holds them: a uint8 COG writes 3× faster than int32."""
    top = int(labels.max(initial=0))
    return labels.astype(np.uint8 if top < 2**8 else np.uint16 if top < 2**16 else np.int32, copy=False)


def _erosion_scope(prep: Prepared, ex: Executor) -> dict:
    """What the erosion step reads: not the districts, the watersheds, the class table or the run's title,
    so changing those does not recompute the factors (the costliest step)."""
    spec = prep.spec
    return {"inputs": {k: v for k, v in prep.checksums.items()
                       if k not in ("districts", "watersheds", "landuse_classes")},
            "paths": {k: str(v) for k, v in sorted(spec.inputs.items())},
            "measures": spec.canonical()["measures"], "tables": {k: str(v) for k, v in sorted(spec.tables.items())},
            "grid": [spec.crs, spec.resolution_m], "synthetic": spec.synthetic, "output": str(spec.output),
            "parameters": {k: v for k, v in sorted(spec.parameters.items()) if not k.startswith("watershed_")},
            "combine": ex.engine == "memory"}


def _executor(prep: Prepared) -> Executor:
    e = prep.spec.execution
    return Executor(e["engine"], e["scheduler"], e["workers"], e["block_rows"])


class _Arrays:
    """Arrays of this attempt, or read back from the files of steps reused from an earlier one."""

    def __init__(self, out: Path):
        self.out = out
        self.cache: dict[str, np.ndarray] = {}

    def get(self, name: str, rel: str) -> np.ndarray:
        if name not in self.cache:
            self.cache[name] = rio.read_band(self.out / rel)
        return self.cache[name]


def run_monitoring(spec_path: Path | str, db: str | None = None, on_event: EventCallback | None = None
                   ) -> RunResult:
    """Validate everything, then run (or resume) every step; returns the stored run."""
    started = time.perf_counter()
    prep = validate_run(spec_path, db)
    validated = time.perf_counter() - started
    out = prep.spec.output
    ex = _executor(prep)

    def event(kind: str, record: StepRecord) -> None:
        if on_event:
            on_event("reused" if kind == "done" and record.reused else kind, record.name, record.seconds)

    runner = StepRunner(out, prep.digest(), __version__, event)
    if on_event:  # how many steps follow (the dask engine adds one), for progress bars
        on_event("plan", "", float(len(STEPS) + (ex.engine == "dask")))
    with BlockRunner(ex) as blocks:
        records, result = _steps(prep, runner, blocks, on_event)
    timings = {name: r.seconds for name, r in records.items()}
    provenance = outputs.provenance(prep, records, {"validate": round(validated, 3), **timings})
    write_json_atomic(out / "provenance.json", provenance, indent=2)
    t = time.perf_counter()
    run_id = store_run(db, prep, result, provenance)
    if on_event:
        on_event("done", "store", time.perf_counter() - t)
    return RunResult(run_id, out, records, result.summary())


def result_of(prep: Prepared) -> outputs.Results:
    raw = json.loads((prep.spec.output / ".work" / "counts.json").read_text(encoding="utf-8"))
    return outputs.build_results(prep, Partials(**{k: np.asarray(v) for k, v in raw.items()}))


class _Steps:
    """The steps of one attempt; each returns (files written, result) for :meth:`StepRunner.run`."""

    def __init__(self, prep: Prepared, blocks: BlockRunner, on_event) -> None:
        self.prep, self.blocks, self.on_event = prep, blocks, on_event
        self.out, self.ex = prep.spec.output, blocks.executor
        self.arrays = _Arrays(self.out)
        self.grid = prep.grid
        self.tags = _tags(prep)

    def substep(self, name: str, seconds: float) -> None:
        if self.on_event:
            self.on_event("substep", name, seconds)

    # ------------------------------------------------------------------ zones
    def zones(self):
        prep, out, grid, tags, arrays = self.prep, self.out, self.grid, self.tags, self.arrays
        labels = zone_labels(prep.zone_geoms, "EPSG:4490", grid).astype(np.int32)
        labels[~prep.valid] = 0
        arrays.cache.update(zones=labels, landuse=prep.landuse)
        rio.write_cog(out / ".work" / "zones.tif", _narrow(labels), grid, nodata=None, tags=tags, categorical=True,
                      band_name="district zone label (0 outside)")
        rio.write_cog(out / ".work" / "landuse.tif", prep.landuse.astype(np.uint8), grid, nodata=None, tags=tags,
                      categorical=True, band_name="land-use code on the run grid")
        return [".work/zones.tif", ".work/landuse.tif"], {"zones": len(prep.zones)}

    # ------------------------------------------------------------------ erosion
    def erosion(self):
        prep, out, grid, tags, arrays = self.prep, self.out, self.grid, self.tags, self.arrays
        params = replace(prep.csle_params, combine=self.ex.engine == "memory", keep_flow_direction=True)
        summary = compute_csle(prep.data, out / "rasters", params, self.substep)
        fdir = summary.pop("_flow_direction")
        arrays.cache["flow_direction"] = fdir
        if summary.get("_accumulation") is not None:  # saves the watersheds step a second accumulation
            arrays.cache["accumulation"] = summary.pop("_accumulation")
        if "_grade" in summary:
            arrays.cache.update(soil_loss=summary.pop("_soil_loss"), grade=summary.pop("_grade"))
            _require_graded(prep, arrays.cache["grade"])
        rio.write_cog(out / ".work" / "flow_direction.tif", fdir, grid, nodata=None, tags=tags, categorical=True,
                      band_name="D8 flow direction (ESRI codes)")
        files = [f"rasters/{n}.tif" for n in FACTORS] + [".work/flow_direction.tif"]
        if params.combine:
            files += ["rasters/soil_loss.tif", "rasters/grade.tif", *(f"rasters/{n}" for n in styles.STYLE_FILES)]
        extra = {k: summary[k] for k in ("parameters", "stations", "timings_s", "warnings", "k_clipped_cells")}
        return files, extra

    def soil_loss(self):
        """The dask engine's product step: soil loss and grades block by block from the factor rasters."""
        prep, out, grid, tags = self.prep, self.out, self.grid, self.tags
        bounds = erosion_tables.grade_bounds()
        parts = self.blocks.map(soil_loss_block, grid.shape[0],
                                paths={n: out / "rasters" / f"{n}.tif" for n in FACTORS},
                                tolerance_t_km2=prep.spec.parameters["tolerance_t_km2"], bounds=bounds)
        modulus = np.concatenate([b[0] for b in parts])
        grades = np.concatenate([b[1] for b in parts])
        require_sound("soil loss", modulus, prep.valid, grid, "a product of finite factors overflowed float32")
        rio.write_cog(out / "rasters" / "soil_loss.tif", modulus, grid, nodata=float("nan"), tags=tags,
                      band_name=SOIL_LOSS_BAND, overview_resampling="AVERAGE", compress="DEFLATE")
        rio.write_cog(out / "rasters" / "grade.tif", grades, grid, nodata=0, tags=tags, band_name=GRADE_BAND,
                      categorical=True, compress="DEFLATE", colormap=styles.grade_colormap())
        written = styles.write_styles(out / "rasters", prep.spec.parameters["tolerance_t_km2"], bounds)
        self.arrays.cache.update(soil_loss=modulus, grade=grades)
        _require_graded(prep, grades)
        return ["rasters/soil_loss.tif", "rasters/grade.tif", *(f"rasters/{f.name}" for f in written)], {}

    # ------------------------------------------------------------------ watersheds
    def watersheds(self):
        prep, out, grid, tags, arrays = self.prep, self.out, self.grid, self.tags, self.arrays
        if prep.sheds is not None:
            labels = zone_labels(prep.sheds.geoms, prep.sheds.crs, grid).astype(np.int32)
            assert prep.spec.watersheds is not None  # the polygons were read from it
            source = f"polygons: {prep.spec.watersheds.path}"
        else:
            fdir = arrays.get("flow_direction", ".work/flow_direction.tif")
            acc = arrays.cache.pop("accumulation", None)
            if acc is None:  # the erosion step was reused from an earlier attempt, or routed MFD
                acc = hydrology.flow_accumulation_d8(fdir, prep.valid)
            threshold = prep.spec.parameters["watershed_threshold_km2"] * 1e6 / grid.cell_area
            labels, _ = small_watersheds(fdir, prep.valid, acc, threshold)
            del acc
            par = prep.spec.parameters
            labels, _ = merge_small_units(labels, int(round(par["watershed_min_km2"] * 1e6 / grid.cell_area)))
            source = (f"delineated: D8 stream links, channel start {par['watershed_threshold_km2']} km², units below "
                      f"{par['watershed_min_km2']} km² merged")
        labels[~prep.valid] = 0
        arrays.cache["watersheds"] = labels
        rio.write_cog(out / "rasters" / "watersheds.tif", _narrow(labels), grid, nodata=0, tags=tags, categorical=True,
                      band_name="small watershed (小流域) label", compress="DEFLATE")
        return ["rasters/watersheds.tif"], {"source": source, "count": int(labels.max(initial=0))}

    # ------------------------------------------------------------------ counts (blockwise)
    def counts(self):
        prep, out, grid, arrays, blocks = self.prep, self.out, self.grid, self.arrays, self.blocks
        sheds = arrays.get("watersheds", "rasters/watersheds.tif")
        n_sheds = int(sheds.max(initial=0))
        names = {"grade": "rasters/grade.tif", "soil_loss": "rasters/soil_loss.tif", "zones": ".work/zones.tif",
                 "sheds": "rasters/watersheds.tif", "landuse": ".work/landuse.tif"}
        kw: dict[str, Any] = dict(n_zones=len(prep.zones), n_sheds=n_sheds)
        if self.ex.engine == "memory":
            mem = {k: arrays.get(k if k != "sheds" else "watersheds", rel) for k, rel in names.items()}
            parts = blocks.map(count_block, grid.shape[0], arrays=mem, **kw)
        else:
            parts = blocks.map(count_block, grid.shape[0], paths={k: out / r for k, r in names.items()}, **kw)
        total = Partials.zeros(len(prep.zones), n_sheds)
        for p in parts:  # in block order on both paths: the float sums agree to the bit
            total += p
        payload = {k: getattr(total, k).tolist() for k in total.__dataclass_fields__}
        write_json_atomic(out / ".work" / "counts.json", payload)
        return [".work/counts.json"], {"watersheds": n_sheds}


def _steps(prep: Prepared, runner: StepRunner, blocks: BlockRunner, on_event
           ) -> tuple[dict[str, StepRecord], outputs.Results]:
    steps = _Steps(prep, blocks, on_event)
    out, ex = steps.out, steps.ex
    # Not beside the erosion step: on 2 cores a third busy thread slowed the fill (the critical path) by
    # more than the 13 s the districts take at 30 m.
    runner.run("zones", steps.zones)
    runner.run("erosion", steps.erosion, scope=_erosion_scope(prep, ex))
    if ex.engine == "dask":
        runner.run("soil_loss", steps.soil_loss, depends=("erosion",))
    product_step = "soil_loss" if ex.engine == "dask" else "erosion"
    runner.run("watersheds", steps.watersheds, depends=("erosion",))
    runner.run("counts", steps.counts, depends=(product_step, "zones", "watersheds"))
    result = result_of(prep)
    runner.run("tables", lambda: (outputs.write_tables(prep, result, out), {}), depends=("counts",))
    runner.run("vectors", lambda: (outputs.write_vectors(prep, result, steps.arrays.get("watersheds",
                                                                                         "rasters/watersheds.tif"),
                                                         out), {}), depends=("counts",))
    return dict(runner.records), result
