"""Validation of a monitoring run: the spec, then every input file on the run's grid, all problems at once.

Nothing is computed before every input has been read, aligned to the DEM grid
and checked: CRS and coverage, land-use, soil and measure codes against their
tables, NDVI/FVC/K ranges, negative or implausible rain, polygon layers and
their fields, and the districts (from the store, or a polygon file whose codes
name the plan's districts).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import numpy as np
import shapely

from shuibao.core.zonal import present_codes
from shuibao.datafiles import CsvTable
from shuibao.erosion import tables as erosion_tables
from shuibao.erosion.engine import TerrainParams
from shuibao.errors import Joined, InputError, ReferenceDataError, ShuibaoError, raise_issues, N_, Text
from shuibao.grid import GridSpec
from shuibao.io import vector
from shuibao.io import raster as rio
from shuibao.io.raster import Raster
from shuibao.io.steps import dataset_digests, fingerprint
from shuibao.monitoring.spec import PolygonInput, RunSpec, load_spec
from shuibao.monitoring.template import spec_template  # noqa: F401 - the CLI's `monitor template`
from shuibao.monitoring.units import Zone, make_zone
from shuibao.plan.reference import PlanReference, load_reference
from shuibao.services.platform.database import stored_boundaries
from shuibao.erosion.params import CsleInputs, CsleParams
from shuibao.core.lsfactor import SlopeLengthParams
from shuibao.services.monitoring.erosion import validate_csle

STORAGE_CRS = "EPSG:4490"


@dataclass
class Prepared:
    """A validated run: the spec, the inputs on the grid, zones and everything else the steps need."""

    spec: RunSpec
    ref: PlanReference
    csle_inputs: CsleInputs
    csle_params: CsleParams
    data: dict
    grid: GridSpec
    valid: np.ndarray
    landuse: np.ndarray
    zones: list[Zone]
    zone_geoms: list  # MultiPolygons in EPSG:4490, one per zone
    district_source: str
    sheds: vector.PolygonSet | None
    classes: dict[int, tuple[int, str]]
    checksums: dict[str, str] = field(default_factory=dict)  # dataset fingerprints: the run's identity
    area_scale: tuple[float, float] = (1.0, 1.0)
    input_files: dict[str, dict] = field(default_factory=dict)  # key → path and the file's own SHA-256

    @property
    def cell_area_km2(self) -> float:
        return self.grid.cell_area / 1e6

    def digest(self) -> str:
        """What every result depends on: the spec and the bytes of every input."""
        payload = {"spec": self.spec.canonical(), "inputs": self.checksums, "districts": self.district_source}
        return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _csle(spec: RunSpec) -> tuple[CsleInputs, CsleParams]:
    i, p, t = spec.inputs, spec.parameters, spec.tables
    inputs = CsleInputs(dem=i["dem"], landuse=i["landuse"], ndvi=i.get("ndvi"), fvc=i.get("fvc"), r=i.get("r"),
                        rain=i.get("rain"), annual_rain=i.get("annual_rain"), k=i.get("k"), soil=i.get("soil"),
                        soil_table=i.get("soil_table"),
                        measures=spec.measures if isinstance(spec.measures, Path) else None,
                        **{k: t.get(k) for k in ("b_table", "b_cover_classes", "t_table", "e_table", "m_table",
                                                 "s_table", "r_model", "landuse_codes")},
                        labels={k: f"[inputs] {k}" for k in ("rain", "soil_table")})
    terrain = TerrainParams(routing=p["routing"], channel_threshold_m2=p["channel_threshold_m2"],
                            slope_for_factors=p["slope_for_factors"],
                            ls=SlopeLengthParams(max_length_m=p["max_slope_length_m"], cutoff_low=p["cutoff_low"],
                                                 cutoff_high=p["cutoff_high"], cutoff_selector=p["cutoff_selector"],
                                                 l_form=p["l_form"]))
    params = CsleParams(tolerance_t_km2=p["tolerance_t_km2"], terrain=terrain, ndvi_soil=p["ndvi_soil"],
                        ndvi_veg=p["ndvi_veg"], soil_percentile=p["soil_percentile"],
                        veg_percentile=p["veg_percentile"], rotation_zone=p["rotation_zone"],
                        fvc_endmember_scope=p["fvc_endmember_scope"],
                        idw_power=p["idw_power"], idw_neighbours=p["idw_neighbours"],
                        k_correction=p["k_correction"], r_model=p["r_model"], target_crs=spec.crs,
                        resolution_m=spec.resolution_m,
                        synthetic=spec.synthetic)
    return inputs, params


def _classes(spec: RunSpec, ref: PlanReference, problems: list[Text | str]) -> dict[int, tuple[int, str]]:
    """Land-use code → (表2 class, name); by default the engine's codes (GB/T 21010-2017 second-level codes
    and 表2's eight first-level classes, ``erosion/data/landuse_codes.csv`` or the run's own table)."""
    if spec.landuse_classes is None:
        try:
            codes = erosion_tables.landuse_codes(spec.tables.get("landuse_codes"))
        except ShuibaoError as exc:
            problems.append(N_("[tables] landuse_codes: {exc}", exc=exc))
            return {}
        return {c.code: (c.plan_class, c.name) for c in codes.values()}
    try:
        t = CsvTable(spec.landuse_classes.name, ("code", "name", "plan_class"), spec.landuse_classes.parent)
        plan = {c.code for c in ref.landuse_classes}
        out = {}
        for i in range(len(t)):
            # required columns: CsvTable.float returns None only with optional=True
            code = int(cast(float, t.float(i, "code", minimum=1, maximum=65535)))
            pc = int(cast(float, t.float(i, "plan_class", minimum=1, maximum=8)))
            if pc not in plan:
                raise ReferenceDataError(N_("{path}, row {row}: plan_class {pc} is not one of 表2's classes 1–8", path=t.path, row=i + 2, pc=pc))
            out[code] = (pc, t.text(i, "name"))
        return out
    except ShuibaoError as exc:
        problems.append(N_("[inputs] landuse_classes: {exc}", exc=exc))
        return {}


def _zones(spec: RunSpec, ref: PlanReference, db: str | None, problems: list[Text | str]) -> tuple[list, list, str]:
    """Zones and their polygons (EPSG:4490) from the store or the user's file."""
    if spec.districts is None:
        try:
            rows, location = stored_boundaries(db)
        except ShuibaoError as exc:
            problems.append(N_("[inputs] districts = \"store\": {exc}", exc=exc))
            return [], [], ""
        zones: list[Zone] = []
        geoms: list = []
        for row in rows:
            covers = tuple(ref.district(n) for n in row["covers"].split("|"))
            zones.append(make_zone(len(zones) + 1, covers))
            geoms.append(row["geom"])
        digest = hashlib.sha256(b"".join(r["covers"].encode() + r["geom"].wkb for r in rows)).hexdigest()
        return zones, geoms, f"store boundaries sha256:{digest}"
    src = spec.districts
    code_field = src.fields.get("code_field", "code")
    try:
        polys = vector.read_polygons(src.path, "[inputs] districts", layer=src.layer, fields={code_field: "str"})
    except InputError as exc:
        _absorb(problems, exc)
        return [], [], ""
    groups: dict[str, list] = {}
    for i, (key, geom) in enumerate(zip(polys.attributes[code_field], polys.geoms)):
        try:
            d = ref.district(str(key))
        except ShuibaoError:
            problems.append(N_("[inputs] districts: {path} feature {value1}: {code_field} = {key!r} names none of "
                            "the plan's districts (use a code, adcode or name as `shuibao plan districts` lists)", path=src.path, value1=i + 1, code_field=code_field, key=key))
            continue
        groups.setdefault(d.code, []).append(geom)
    zones, geoms = [], []
    for d in ref.districts:
        if d.code in groups:
            # a unit inside this one without a polygon of its own (万盛经开区 in 綦江区's 500110) goes with it
            children = tuple(c for c in ref.districts if c.parent_code == d.code and c.code not in groups)
            zones.append(make_zone(len(zones) + 1, (d, *children)))
            merged = shapely.union_all(groups[d.code]) if len(groups[d.code]) > 1 else groups[d.code][0]
            geoms.append(vector.to_crs([merged], polys.crs, STORAGE_CRS)[0])
    return zones, geoms, f"file:{fingerprint(src.path)}"


def _polygon_raster(polys: vector.PolygonSet, values, grid: GridSpec, dtype, fill) -> np.ndarray:
    """Burn polygon values onto the grid by the cell-centre rule (later features win)."""
    labels = vector.zone_labels(polys.geoms, polys.crs, grid)
    lut = np.concatenate([[fill], np.asarray(values, dtype=np.float64)]).astype(dtype)
    return lut[labels]


def _measures(spec: RunSpec, data: dict, grid: GridSpec, valid: np.ndarray, problems: list[Text | str]) -> None:
    src = spec.measures
    assert isinstance(src, PolygonInput)  # the caller checked
    e_field, t_field = src.fields.get("e_field", "measure_code"), src.fields.get("t_field")
    fields = {e_field: "int", **({t_field: "float"} if t_field else {})}
    try:
        polys = vector.read_polygons(src.path, "[inputs] measures", layer=src.layer, fields=fields)
    except InputError as exc:
        _absorb(problems, exc)
        return
    codes = np.asarray(polys.attributes[e_field], dtype=np.int64)
    e_table = data.get("e_table")
    if e_table is not None and e_table.unknown([0]):
        problems.append(N_("[inputs] measures: cells outside the polygons of {path} get measure code 0 (no "
                        "measure), which {path2} does not list; add a row 0 with E = 1", path=src.path, path2=e_table.path))
    if e_table is not None and e_table.unknown(np.unique(codes)):
        problems.append(N_("[inputs] measures: {path} field {e_field} has code(s) {unknown} "
                        "that {path2} does not list", path=src.path, e_field=e_field, unknown=e_table.unknown(np.unique(codes)), path2=e_table.path))
    if codes.size and (codes.min() < 0 or codes.max() > 255):
        problems.append(N_("[inputs] measures: {path} field {e_field} must hold codes 0–255", path=src.path, e_field=e_field))
        return
    data["measures"] = Raster(src.path, _polygon_raster(polys, codes, grid, np.uint8, 0), valid, grid, None)
    if t_field:
        t = np.asarray(polys.attributes[t_field], dtype=np.float64)
        bad = np.flatnonzero(~((t >= 0) & (t <= 1)) & np.isfinite(t))
        if bad.size:
            problems.append(N_("[inputs] measures: {path} field {t_field} must be a T factor in [0, 1]; features "
                            "{value1} are not", path=src.path, t_field=t_field, value1=(bad[:5] + 1).tolist()))
        data["t_override"] = _polygon_raster(polys, t, grid, np.float32, np.nan)


def _require_overlap(zones: list[Zone], geoms: list, grid: GridSpec, spec: RunSpec, problems: list[Text | str]) -> None:
    """At least one district must reach the grid (else everything would be "outside the districts")."""
    if not geoms:
        return
    left, bottom, right, top = grid.bounds
    frame = shapely.box(left, bottom, right, top)
    inside = [z for z, g in zip(zones, vector.to_crs(geoms, STORAGE_CRS, cast(str, grid.crs))) if g.intersects(frame)]
    if not inside:
        source = "the store's boundaries" if spec.districts is None else str(spec.districts.path)
        problems.append(N_("[inputs] districts: no polygon of {source} overlaps the DEM grid "
                        "({left:.0f}, {bottom:.0f}, {right:.0f}, {top:.0f} in its CRS); wrong CRS or wrong file?", source=source, left=left, bottom=bottom, right=right, top=top))


def _watersheds(spec: RunSpec, problems: list[Text | str]) -> vector.PolygonSet | None:
    """The user's small-watershed polygons, each with a unique id of 1–40 characters (none: delineated)."""
    if spec.watersheds is None:
        return None
    sheds = None
    f = spec.watersheds.fields
    wanted = {f.get("id_field", "code"): "str", **({f["name_field"]: "str"} if f.get("name_field") else {})}
    try:
        sheds = vector.read_polygons(spec.watersheds.path, "[inputs] watersheds", layer=spec.watersheds.layer,
                                     fields=wanted)
        ids = [str(v).strip() if v is not None else "" for v in sheds.attributes[f.get("id_field", "code")]]
        bad = [i + 1 for i, v in enumerate(ids) if not v or len(v) > 40]
        dupes = sorted({v for v in ids if v and ids.count(v) > 1})
        if bad or dupes:
            problems.append(Joined((
                N_("[inputs] watersheds: {path} field {id_field} needs a unique id of 1–40 characters per polygon",
                   path=spec.watersheds.path, id_field=f.get('id_field', 'code')),
                N_("; empty or too long in features {bad}", bad=bad[:5]) if bad else "",
                N_("; repeated: {dupes}", dupes=dupes[:5]) if dupes else "")))
    except InputError as exc:
        _absorb(problems, exc)
    return sheds


def _absorb(problems: list, exc: InputError) -> None:
    """The problems of a validator called inside this one, each on its own line (one line without a list)."""
    problems.extend(getattr(exc, "issues", None) or [str(exc)])


def _plan_classes(spec: RunSpec, ref: PlanReference, inputs: CsleInputs, landuse: np.ndarray, valid: np.ndarray,
                  classes: dict, problems: list[Text | str]) -> tuple[np.ndarray, dict]:
    """Every land-use code present maps to a 表2 class; the grid is rolled up to those classes (uint8)."""
    present = set(present_codes(landuse, valid).tolist())
    if max(present, default=0) > 65535 or min(present, default=0) < 0:
        problems.append(N_("[inputs] landuse: {landuse} has codes outside 0–65535 "
                        "({present}…{present2}); recode them (and map them with landuse_classes)", landuse=inputs.landuse, present=min(present), present2=max(present)))
    elif classes:
        unknown = sorted(present - set(classes))
        if unknown:
            where = (f"{spec.landuse_classes} does not map to a 表2 class" if spec.landuse_classes is not None else
                     "are neither GB/T 21010-2017 second-level codes (0101 水田 → 101 … 1207) nor 表2's classes "
                     "1–8; give landuse_classes (code,name,plan_class) to map them")
            problems.append(N_("[inputs] landuse: {landuse} has code(s) {unknown} that {where}", landuse=inputs.landuse, unknown=unknown, where=where))
        else:  # the counts are kept per 表2 class (uint8): roll the codes up once here
            lut = np.zeros(max(max(present, default=0), int(landuse.max(initial=0))) + 1, np.uint8)
            for code in present:
                lut[code] = classes[code][0]
            landuse = lut[landuse] if landuse.dtype.kind == "u" else lut[np.where(valid, landuse, 0)]
            landuse[~valid] = 0  # nodata and cells outside the DEM count nowhere
            names = {c.code: c.name for c in ref.landuse_classes}
            classes = {pc: (pc, names.get(pc, str(pc))) for pc in set(lut.tolist()) - {0}}
    return landuse, classes


def _input_files(spec: RunSpec) -> tuple[dict[str, str], dict[str, dict]]:
    """Fingerprints of every input (the run's identity) and each file's path and own SHA-256."""
    files = dict(spec.inputs)
    if spec.landuse_classes is not None:
        files["landuse_classes"] = spec.landuse_classes
    for key in ("measures", "watersheds", "districts"):
        v = getattr(spec, key)
        if v is not None:
            files[key] = v if isinstance(v, Path) else v.path
    files.update({f"table:{k}": v for k, v in spec.tables.items()})
    digests = {k: dataset_digests(Path(v)) for k, v in sorted(files.items())}
    checksums = {k: d[0] for k, d in digests.items()}
    input_files = {k: {"path": str(files[k]), "sha256": d[1]} for k, d in digests.items()}
    return checksums, input_files


def validate_run(spec_path: Path | str, db: str | None = None) -> Prepared:
    """Parse the spec and check every input; one :class:`InputError` lists every problem."""
    spec = load_spec(spec_path)
    ref = load_reference()
    problems: list[Text | str] = []
    inputs, params = _csle(spec)
    classes = _classes(spec, ref, problems)
    zones, zone_geoms, district_source = _zones(spec, ref, db, problems)
    sheds = _watersheds(spec, problems)
    if len(spec.name) > 200:
        problems.append(N_("[run] name: {n_name} characters; at most 200", n_name=len(spec.name)))
    try:
        data = validate_csle(inputs, params)
    except InputError as exc:
        _absorb(problems, exc)
        raise_issues(problems, str(spec.path))
    dem = data["dem"]
    grid, valid = dem.grid, dem.valid
    landuse, classes = _plan_classes(spec, ref, inputs, data["landuse"].data, valid, classes, problems)
    if isinstance(spec.measures, PolygonInput):
        _measures(spec, data, grid, valid, problems)
    _require_overlap(zones, zone_geoms, grid, spec, problems)
    raise_issues(problems, str(spec.path))
    checksums, input_files = _input_files(spec)
    return Prepared(spec, ref, inputs, params, data, grid, valid, landuse, zones, zone_geoms, district_source,
                    sheds, classes, checksums, rio.areal_scale_range(grid, valid), input_files)
