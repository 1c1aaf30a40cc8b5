"""The run spec of an annual monitoring run (年度水土流失动态监测): a TOML file that declares every input.

Every input, parameter and option is declared once here (:data:`INPUTS`,
:data:`PARAMETERS`) with its role, kind and units, in the manner of InVEST's
model specs.  :func:`load_spec` checks the file's structure and reports every
problem at once (unknown keys with the closest known one, wrong types, values
out of range, missing files, choices that exclude each other); the services
then check the content of the files (CRS, grids, codes, negative rain).

Paths are relative to the folder that holds the spec.  ``shuibao monitor
template`` prints a commented example; docs/monitoring.md describes the fields.
"""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, cast

from ..errors import InputError, Message, N_, Text, raise_issues


@dataclass(frozen=True)
class InputSpec:
    key: str
    kind: str  # raster | csv | polygons | store_or_polygons
    units: str
    about: str


INPUTS: tuple[InputSpec, ...] = (
    InputSpec("dem", "raster", "m", "DEM, projected CRS in metres (or give [grid] crs to reproject)"),
    InputSpec("landuse", "raster", "class code", "land-use classes; codes of the B and T tables (表2 classes 1–8 "
              "by default)"),
    InputSpec("landuse_classes", "csv", "—", "optional: code,name,plan_class — the user's land-use codes mapped to "
              "表2's eight classes (default: the codes are 表2's)"),
    InputSpec("ndvi", "raster", "NDVI (−1…1)", "vegetation index for FVC → B (or give fvc)"),
    InputSpec("fvc", "raster", "fraction (0…1)", "fractional vegetation cover instead of NDVI"),
    InputSpec("rain", "csv", "mm/day", "daily rain of stations: station,date,rain_mm and x,y (grid CRS) or lon,lat"),
    InputSpec("r", "raster", "MJ·mm/(hm²·h·a)", "R factor raster instead of station rain"),
    InputSpec("annual_rain", "raster", "mm/a", "annual rainfall raster (fallback R model)"),
    InputSpec("soil", "raster", "soil code", "soil types; with soil_table gives K by EPIC"),
    InputSpec("soil_table", "csv", "%", "code,sand_pct,silt_pct,clay_pct,organic_carbon_pct"),
    InputSpec("k", "raster", "t·hm²·h/(hm²·MJ·mm)", "K factor raster instead of soils"),
    InputSpec("measures", "raster_or_polygons", "measure code", "engineering measures: a raster of E-table codes, or "
              "polygons {path, layer, e_field, t_field} (t_field: optional T value 0–1 over the land-use T)"),
    InputSpec("districts", "store_or_polygons", "—", "\"store\" (default: the district boundaries in the database) "
              "or polygons {path, layer, code_field} whose codes name the plan's districts"),
    InputSpec("watersheds", "polygons", "—", "optional small-watershed polygons {path, layer, id_field, name_field}; "
              "default: delineated from the DEM"),
)


@dataclass(frozen=True)
class ParamSpec:
    key: str
    kind: type
    default: Any
    units: str
    about: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()


PARAMETERS: tuple[ParamSpec, ...] = (
    ParamSpec("tolerance_t_km2", float, 500.0, "t/(km²·a)", "tolerable soil loss (微度 below it; 500 in the "
              "south-west rocky mountains)", 1, 5000),
    ParamSpec("channel_threshold_m2", float, 1_000_000.0, "m²", "contributing area where slope length stops "
              "(channel start; LS_TOOL cuts at a gully net, no default value found: NOT verified, see "
              "TerrainParams)", 1, None),
    ParamSpec("watershed_threshold_km2", float, 12.0, "km²", "channel-start area of the small-watershed "
              "delineation (12 km² with the 5 km² merge gives units of about the plan's 20 km²)", 0.01, 10_000),
    ParamSpec("watershed_min_km2", float, 5.0, "km²", "smaller units (edge strips, short links) join the neighbour "
              "they share the longest border with", 0, 10_000),
    ParamSpec("routing", str, "d8", "—", "accumulation routing", choices=("d8", "mfd")),
    ParamSpec("slope_for_factors", str, "horn", "—", "slope used for S and m (the LS_TOOL lineage uses the D8 "
              "downslope angle; docs/validation.md measures both)", choices=("horn", "downslope")),
    ParamSpec("max_slope_length_m", float, 333.0, "m", "slope length cap (the RUSLE-lineage value InVEST carries; "
              "no national CSLE cap found: NOT verified, see SlopeLengthParams)", 1, 10_000),
    ParamSpec("cutoff_low", float, 0.7, "—", "slope length stops where the slope falls below this fraction of the "
              "upslope cell's (where the slope is under 5 %, 2.86°)", 0.01, 1),
    ParamSpec("cutoff_high", float, 0.5, "—", "the same cut-off fraction where the slope is 5 % or more", 0.01, 1),
    ParamSpec("cutoff_selector", str, "downstream", "—", "which cell's slope picks the cut-off",
              choices=("downstream", "upstream")),
    ParamSpec("l_form", str, "segment", "—", "L of a cell from the segment formula or per cell",
              choices=("segment", "cell")),
    ParamSpec("ndvi_soil", float, None, "NDVI", "bare-soil NDVI (default: the soil_percentile of the NDVI of bare "
              "land — bare soil, sand, mining, vacant land — or, with under 1,000 such cells, of bare and vegetated "
              "land; never water, sealed land or cropland)", -1, 1),
    ParamSpec("ndvi_veg", float, None, "NDVI", "full-cover NDVI (default: the veg_percentile of the NDVI of "
              "vegetated land)", -1, 1),
    ParamSpec("soil_percentile", float, 5.0, "%", "cumulative-frequency percentile of the bare-soil end-member",
              0, 50),
    ParamSpec("veg_percentile", float, 95.0, "%", "cumulative-frequency percentile of the full-cover end-member",
              50, 100),
    ParamSpec("fvc_endmember_scope", str, "pooled", "—", "NDVI end-members from bare and vegetated land together "
              "(pooled) or per vegetated land-use code (per_class: 5 %/95 % within each class)",
              choices=("pooled", "per_class")),
    ParamSpec("rotation_zone", str, None, "—", "rotation zone (轮作区) whose rows of the T table apply "
              "(default: the table's only zone, or its first)"),
    ParamSpec("idw_power", float, 2.0, "—", "inverse-distance power for station R", 0.5, 6),
    ParamSpec("idw_neighbours", int, None, "stations", "nearest stations used (default: all)", 1, 10_000),
    ParamSpec("k_correction", bool, False, "—", "apply the Chinese correction of Zhang Keli et al. 2007 to EPIC K "
              "(in US units, then converted; negative K set to 0 and the cells counted)"),
    ParamSpec("r_model", str, "zhang2002", "—", "daily erosivity model for station rain: the half-month model of "
              "Zhang, Xie & Liu 2002 (default: its constants are verified in print) or the warm/cold-season model "
              "of the national census (its α and threshold NOT verified)", choices=("zhang2002", "xie2016_seasonal")),
)

TABLES = ("b_table", "b_cover_classes", "t_table", "e_table", "m_table", "s_table", "r_model", "landuse_codes")
EXECUTION: tuple[ParamSpec, ...] = (
    ParamSpec("engine", str, "memory", "—", "where the blockwise steps run", choices=("memory", "dask")),
    ParamSpec("scheduler", str, "local", "—", "dask: \"local\" (a LocalCluster) or a scheduler address"),
    ParamSpec("workers", int, 2, "processes", "dask LocalCluster workers", 1, 256),
    ParamSpec("block_rows", int, 1024, "rows", "rows per block of the blockwise steps", 16, 1_000_000),
)
POLYGON_FIELDS = {"measures": ("path", "layer", "e_field", "t_field"),
                  "districts": ("path", "layer", "code_field"),
                  "watersheds": ("path", "layer", "id_field", "name_field")}
_SECTIONS = ("run", "grid", "inputs", "parameters", "tables", "execution")


@dataclass(frozen=True)
class PolygonInput:
    path: Path
    layer: str | None = None
    fields: dict[str, str] = field(default_factory=dict)  # role → attribute name


@dataclass
class RunSpec:
    """A parsed, structurally valid run spec (file contents are checked by the services)."""

    path: Path
    name: str
    year: int
    output: Path
    synthetic: bool = False
    crs: str | None = None
    resolution_m: float | None = None
    inputs: dict[str, Path] = field(default_factory=dict)
    landuse_classes: Path | None = None
    measures: Path | PolygonInput | None = None
    districts: PolygonInput | None = None  # None: the store's boundaries
    watersheds: PolygonInput | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, Path] = field(default_factory=dict)
    execution: dict[str, Any] = field(default_factory=dict)

    def canonical(self) -> dict:
        """What the results depend on, as plain JSON (paths absolute; no execution options)."""
        def plain(v):
            if isinstance(v, Path):
                return str(v)
            if isinstance(v, dict):
                return {k: plain(x) for k, x in sorted(v.items())}
            return v
        return {k: plain(v) for k, v in asdict(self).items() if k not in ("path", "execution")}



def _closest(key: str, known) -> Message:
    m = difflib.get_close_matches(key, list(known), n=1)
    return N_(" (did you mean {key!r}?)", key=m[0]) if m else N_(" (known: {keys})", keys=", ".join(known))


def _typed(value: Any, spec: ParamSpec, where: str, problems: list[Text | str]) -> Any:
    kind = spec.kind
    if kind is bool:
        ok = isinstance(value, bool)
    elif kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    else:
        ok = isinstance(value, str)
    if not ok:
        problems.append(N_("{where}: expected {name}, found {value!r}", where=where, name=kind.__name__, value=value))
        return spec.default
    if kind is float:
        value = float(value)
    if spec.choices and value not in spec.choices:
        problems.append(N_("{where}: {value!r} is not one of {choices}", where=where, value=value, choices=', '.join(spec.choices)))
    if spec.minimum is not None and kind in (int, float) and value < spec.minimum:
        problems.append(N_("{where}: {value} is below the minimum {minimum} {units}", where=where, value=value, minimum=spec.minimum, units=spec.units))
    if spec.maximum is not None and kind in (int, float) and value > spec.maximum:
        problems.append(N_("{where}: {value} is above the maximum {maximum} {units}", where=where, value=value, maximum=spec.maximum, units=spec.units))
    return value


def _options(section: dict, specs: tuple[ParamSpec, ...], name: str, problems: list[Text | str]) -> dict[str, Any]:
    known = {s.key: s for s in specs}
    out = {s.key: s.default for s in specs}
    for key, value in section.items():
        if key not in known:
            problems.append(N_("[{name}] {key}: unknown key{closest}", name=name, key=key, closest=_closest(key, known)))
            continue
        out[key] = _typed(value, known[key], f"[{name}] {key}", problems)
    return out


def _grid(grid: dict, problems: list[Text | str]) -> tuple[Any, Any]:
    """The [grid] section: a projected CRS in metres and a cell size, both optional."""
    for key in grid:
        if key not in ("crs", "resolution_m"):
            problems.append(N_("[grid] {key}: unknown key{closest}", key=key, closest=_closest(key, ('crs', 'resolution_m'))))
    crs, resolution = grid.get("crs"), grid.get("resolution_m")
    if crs is not None:
        from pyproj import CRS  # the check needs PROJ; imported here to keep the module light
        try:
            parsed = CRS.from_user_input(crs)
            if parsed.is_geographic:
                problems.append(N_("[grid] crs: {crs!r} is geographic; slopes and areas need a projected CRS in metres", crs=crs))
        except Exception as exc:  # noqa: BLE001 - pyproj raises its own CRSError
            problems.append(N_("[grid] crs: {crs!r} is not a CRS PROJ knows ({exc})", crs=crs, exc=exc))
    if resolution is not None and (not isinstance(resolution, (int, float)) or isinstance(resolution, bool)
                                   or not 1 <= resolution <= 10_000):
        problems.append(N_("[grid] resolution_m: expected a cell size in metres (1–10000), found {resolution!r}", resolution=resolution))
    return crs, resolution


def load_spec(path: Path | str) -> RunSpec:
    """Parse and check a run spec; one :class:`InputError` lists every problem found."""
    path = Path(path)
    if not path.is_file():
        raise InputError(N_("{path}: run spec not found", path=path))
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InputError(N_("{path}: not valid TOML: {exc}", path=path, exc=exc)) from exc
    except UnicodeDecodeError as exc:
        raise InputError(N_("{path}: not UTF-8 text ({exc})", path=path, exc=exc)) from exc
    problems: list[Text | str] = []
    base = path.parent.resolve()
    for key in doc:
        if key not in _SECTIONS:
            problems.append(N_("[{key}]: unknown section{closest}", key=key, closest=_closest(key, _SECTIONS)))
        elif not isinstance(doc[key], dict):
            problems.append(N_("{key}: expected a [{key}] table", key=key))
    sect: dict[str, dict] = {s: cast(dict, doc.get(s)) if isinstance(doc.get(s), dict) else {} for s in _SECTIONS}

    run = sect["run"]
    for key in run:
        if key not in ("name", "year", "output", "synthetic"):
            problems.append(N_("[run] {key}: unknown key{closest}", key=key, closest=_closest(key, ('name', 'year', 'output', 'synthetic'))))
    name, year, output = run.get("name"), run.get("year"), run.get("output")
    if not isinstance(name, str) or not name.strip():
        problems.append(N_("[run] name: required, a title such as \"重庆市 2025 年水土流失动态监测\""))
    if not isinstance(year, int) or isinstance(year, bool) or not 1950 <= year <= 2100:
        problems.append(N_("[run] year: required, a year such as 2025 (found {year!r})", year=year))
    if not isinstance(output, str) or not output.strip():
        problems.append(N_("[run] output: required, the output folder (relative to the spec)"))
    synthetic = run.get("synthetic", False)
    if not isinstance(synthetic, bool):
        problems.append(N_("[run] synthetic: expected true or false, found {synthetic!r}", synthetic=synthetic))

    crs, resolution = _grid(sect["grid"], problems)

    spec = RunSpec(path=path.resolve(), name=name if isinstance(name, str) else "",
                   year=year if isinstance(year, int) else 0,
                   output=(base / output) if isinstance(output, str) else base,
                   synthetic=synthetic is True, crs=crs, resolution_m=float(resolution) if resolution else None)
    _inputs(sect["inputs"], base, spec, problems)
    spec.parameters = _options(sect["parameters"], PARAMETERS, "parameters", problems)
    if spec.parameters["ndvi_soil"] is not None and spec.parameters["ndvi_veg"] is not None \
            and spec.parameters["ndvi_soil"] >= spec.parameters["ndvi_veg"]:
        problems.append(N_("[parameters] ndvi_soil must be below ndvi_veg"))
    spec.execution = _options(sect["execution"], EXECUTION, "execution", problems)
    for key, value in sect["tables"].items():
        if key not in TABLES:
            problems.append(N_("[tables] {key}: unknown table{closest}", key=key, closest=_closest(key, TABLES)))
        elif not isinstance(value, str):
            problems.append(N_("[tables] {key}: expected a path, found {value!r}", key=key, value=value))
        elif not (base / value).is_file():
            problems.append(N_("[tables] {key}: {value1} does not exist", key=key, value1=base / value))
        else:
            spec.tables[key] = base / value
    raise_issues(problems, str(path), context=N_("in the run spec"))
    return spec


def _file(value: Any, where: str, base: Path, problems: list[Text | str]) -> Path | None:
    if not isinstance(value, str) or not value.strip():
        problems.append(N_("{where}: expected a file path, found {value!r}", where=where, value=value))
        return None
    p = base / value
    if not p.exists():
        problems.append(N_("{where}: {p} does not exist", where=where, p=p))
        return None
    return p


def _polygons(value: Any, key: str, base: Path, problems: list[Text | str]) -> PolygonInput | None:
    where = f"[inputs] {key}"
    if isinstance(value, str):
        value = {"path": value}
    if not isinstance(value, dict):
        problems.append(N_("{where}: expected a path or a table {{path = …, layer = …}}, found {value!r}", where=where, value=value))
        return None
    allowed = POLYGON_FIELDS[key]
    for k in value:
        if k not in allowed:
            problems.append(N_("{where}.{k}: unknown key{closest}", where=where, k=k, closest=_closest(k, allowed)))
    p = _file(value.get("path"), f"{where}.path", base, problems)
    layer = value.get("layer")
    if layer is not None and not isinstance(layer, str):
        problems.append(N_("{where}.layer: expected a layer name, found {layer!r}", where=where, layer=layer))
    defaults = {"e_field": "measure_code", "code_field": "code", "id_field": "code", "name_field": None,
                "t_field": None}
    fields = {}
    for f in allowed[2:]:
        v = value.get(f, defaults[f])
        if v is not None and not isinstance(v, str):
            problems.append(N_("{where}.{f}: expected an attribute name, found {v!r}", where=where, f=f, v=v))
        elif v is not None:
            fields[f] = v
    return PolygonInput(p, layer if isinstance(layer, str) else None, fields) if p else None


def _inputs(section: dict, base: Path, spec: RunSpec, problems: list[Text | str]) -> None:
    known = {s.key for s in INPUTS}
    for key, value in section.items():
        if key not in known:
            problems.append(N_("[inputs] {key}: unknown input{closest}", key=key, closest=_closest(key, known)))
        elif key == "districts":
            if value != "store":
                spec.districts = _polygons(value, key, base, problems)
        elif key == "watersheds":
            spec.watersheds = _polygons(value, key, base, problems)
        elif key == "measures" and isinstance(value, dict):
            spec.measures = _polygons(value, key, base, problems)
        else:
            p = _file(value, f"[inputs] {key}", base, problems)
            if p is None:
                continue
            if key == "landuse_classes":
                spec.landuse_classes = p
            elif key == "measures":
                spec.measures = p
            else:
                spec.inputs[key] = p
    have = set(section)
    for need in ("dem", "landuse"):
        if need not in have:
            problems.append(N_("[inputs] {need}: required", need=need))
    groups = (("R", ("rain", "r", "annual_rain")), ("K", ("soil", "k")), ("B", ("ndvi", "fvc")))
    for factor, keys in groups:
        given = [k for k in keys if k in have]
        if not given:
            problems.append(N_("[inputs] {factor} factor: give one of {keys}", factor=factor, keys=', '.join(keys)))
        elif len(given) > 1:
            problems.append(N_("[inputs] {factor} factor: give only one of {given}", factor=factor, given=', '.join(given)))
    if "soil" in have and "soil_table" not in have:
        problems.append(N_("[inputs] soil_table: required with soil (code,sand_pct,silt_pct,clay_pct,organic_carbon_pct)"))
    if "soil_table" in have and "soil" not in have:
        problems.append(N_("[inputs] soil_table: given without soil"))
