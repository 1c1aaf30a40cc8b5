"""Vector adapter: zones ↔ label grids, polygon input, GeoPackage output.

Cells take the label of the polygon that contains their centre (GDAL's default
rule), so each cell belongs to at most one zone and zone areas add up to the
area of the cells labelled — the zonal identities hold by construction.  The
way back, :func:`polygonize`, outlines cells exactly, so a zone's polygon area
is its cell count × cell area.

:func:`read_polygons` reports every problem of an input layer in one error;
:func:`write_gpkg` writes all layers of a product into one GeoPackage,
atomically and with the same bytes for the same content.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from numbers import Integral, Real
from pathlib import Path

import numpy as np
import pyogrio
import pyogrio.raw
import shapely
from pyogrio.errors import DataLayerError, DataSourceError
from pyproj import CRS, Transformer
from rasterio.features import rasterize, shapes
from rasterio.transform import Affine
from shapely.geometry.base import BaseGeometry

from ..errors import InputError, Issue, raise_issues, N_, Text
from ..grid import GridSpec
from .atomic import atomic_path
from .formats import vector_source

POLYGON, MULTIPOLYGON = 3, 6  # shapely type ids
KINDS = ("int", "float", "str")
SHOW_ROWS = 5  # rows quoted per problem
_GDAL_CONFIG = threading.Lock()  # GDAL config options are process-wide


def to_crs(geoms: Sequence[BaseGeometry], src_crs: str, dst_crs: str) -> list[BaseGeometry]:
    """Reproject shapely geometries (always_xy: lon/lat order for geographic CRSs)."""
    src, dst = CRS.from_user_input(src_crs), CRS.from_user_input(dst_crs)
    if src == dst:
        return list(geoms)
    tf = Transformer.from_crs(src, dst, always_xy=True)
    return [shapely.transform(g, lambda xy: np.column_stack(tf.transform(xy[:, 0], xy[:, 1]))) for g in geoms]


def zone_labels(geoms: Sequence[BaseGeometry], geoms_crs: str, grid: GridSpec) -> np.ndarray:
    """int32 labels on ``grid``: 1 + the index of the polygon holding each cell centre, 0 elsewhere."""
    if grid.crs is None:
        raise InputError(N_("the grid has no CRS; zones cannot be placed on it"))
    projected = to_crs(geoms, geoms_crs, grid.crs)
    a, b, c, d, e, f = grid.transform
    shapes = [(g, i + 1) for i, g in enumerate(projected) if g is not None and not g.is_empty]
    if not shapes:
        return np.zeros(grid.shape, np.int32)
    return rasterize(shapes, out_shape=grid.shape, transform=Affine(a, b, c, d, e, f), fill=0, dtype="int32",
                     all_touched=False)


def polygonize(labels: np.ndarray, grid: GridSpec, dst_crs: str | None = None) -> dict[int, shapely.MultiPolygon]:
    """One MultiPolygon per label > 0 (0 and negatives = no zone), in label order; in ``dst_crs`` if given.

    Connectivity 4 (GDAL's default): every part is an edge-connected patch, so the
    parts of one label meet at most at a corner and ``MultiPolygon(parts)`` is valid
    without a union; a hole touching its shell at a corner comes out as a valid hole.
    Connectivity 8 would join diagonal cells into one ring that touches itself
    (invalid, "Ring Self-intersection").

    Measured: 5000 × 5000 grid (30 m), 4,861 Voronoi zones, 1.0 M vertices —
    1.8–2.2 s on a 2-core machine (rasterio's shapes 1.4 s, shapely 0.5 s);
    reprojecting to EPSG:4490 adds about 0.5 s.
    """
    labels = np.asarray(labels)
    if labels.shape != grid.shape:
        raise InputError(N_("label raster shape {shape} does not match the grid {shape2}", shape=labels.shape, shape2=grid.shape))
    if not np.issubdtype(labels.dtype, np.integer):
        raise InputError(N_("label raster: expected integer labels, got {dtype}", dtype=labels.dtype))
    if labels.dtype != np.int32:
        if labels.size and (labels.max() > np.iinfo(np.int32).max or labels.min() < np.iinfo(np.int32).min):
            raise InputError(N_("label raster: labels must fit in int32"))
        labels = labels.astype(np.int32)
    a, b, c, d, e, f = grid.transform
    parts: dict[int, list] = {}
    for geom, value in shapes(labels, mask=labels > 0, connectivity=4, transform=Affine(a, b, c, d, e, f)):
        rings = geom["coordinates"]
        # arrays: 2× faster than shapely parsing lists; holes as rings, since their lengths differ
        holes = [shapely.linearrings(np.asarray(r)) for r in rings[1:]] or None
        parts.setdefault(int(value), []).append(shapely.polygons(np.asarray(rings[0]), holes))
    keys = sorted(parts)
    geoms = [shapely.MultiPolygon(parts[k]) for k in keys]
    if dst_crs is not None:
        if grid.crs is None:
            raise InputError(N_("the grid has no CRS; zone polygons cannot be reprojected"))
        geoms = to_crs(geoms, grid.crs, dst_crs)
    return dict(zip(keys, geoms))


@dataclass
class PolygonSet:
    """Polygons read from a vector file, as MultiPolygons, with their attributes."""

    path: Path
    crs: str
    geoms: list
    attributes: dict[str, list]
    repaired: int = 0  # invalid polygons made valid (shapely.make_valid)


def _rows(idx: np.ndarray) -> str:
    shown = ", ".join(str(int(i) + 1) for i in idx[:SHOW_ROWS])
    return shown + (f" … ({len(idx)} in all)" if len(idx) > SHOW_ROWS else "")


def _convert(values: list, kind: str) -> tuple[list, np.ndarray]:
    """The values as ``kind`` (None where empty) and the indices of rows that cannot be converted."""
    out: list = []
    bad: list[int] = []
    for i, v in enumerate(values):
        if isinstance(v, float) and np.isnan(v):
            v = None
        if v is None:
            out.append(None)
            if kind != "str":  # an empty code or measure is a hole in the data
                bad.append(i)
            continue
        try:
            if kind == "str":
                out.append(str(int(v)) if isinstance(v, float) and v.is_integer() else str(v))
            elif kind == "int":
                x = float(v.strip()) if isinstance(v, str) else v
                if isinstance(x, bool) or not float(x).is_integer():
                    raise ValueError(v)
                out.append(int(x))
            else:
                out.append(float(v.strip()) if isinstance(v, str) else float(v))
        except (TypeError, ValueError):
            out.append(None)
            bad.append(i)
    return out, np.asarray(bad, dtype=np.int64)


def read_polygons(path: Path | str, role: str, *, layer: str | None = None,
                  fields: dict[str, str] | None = None) -> PolygonSet:
    """Read a polygon layer with ``fields`` (name → "int" | "float" | "str"); one InputError lists every problem.

    Rows in messages count from 1 in layer order.  Invalid polygons are repaired,
    not refused; empty geometries and non-polygons are refused.
    """
    p = Path(path)
    fields = fields or {}
    if any(k not in KINDS for k in fields.values()):
        raise ValueError(f"field kinds must be one of {KINDS}, got {fields}")
    with vector_source(p, role, tables=False) as source:  # accepted formats only, by content (formats.py)
        src = source.gdal
        try:
            layers = pyogrio.list_layers(src)
        except DataSourceError as exc:
            raise InputError(N_("{role}: {p} is not a vector file GDAL can read ({exc})", role=role, p=p, exc=exc)) from exc
        names = [str(n) for n, _ in layers]
        if layer is None:
            spatial = [str(n) for n, t in layers if t is not None]
            if len(spatial) != 1:
                raise InputError(N_("{role}: {p} has {n_spatial} layers with geometry "
                                 "({value1}); name the one to use", role=role, p=p, n_spatial=len(spatial), value1=', '.join(spatial) or 'none'))
            layer = spatial[0]
        elif layer not in names:
            raise InputError(N_("{role}: {p} has no layer {layer!r}; its layers are: {value1}", role=role, p=p, layer=layer, value1=', '.join(names) or 'none'))
        try:
            meta, _, wkb, values = pyogrio.raw.read(src, layer=layer)
            geoms = shapely.force_2d(shapely.from_wkb(wkb))
        except (DataSourceError, DataLayerError, shapely.errors.GEOSException) as exc:
            raise InputError(N_("{role}: {p} layer {layer!r} cannot be read ({exc})", role=role, p=p, layer=layer, exc=exc)) from exc
    problems: list[Text | str] = []
    if not meta["crs"]:
        problems.append(N_("no CRS; assign one (e.g. ogr2ogr -a_srs EPSG:4545 out.gpkg in.gpkg)"))
    available = [str(n) for n in meta["fields"]]
    attributes = {n: v.tolist() for n, v in zip(available, values)}
    raw = dict(attributes)
    missing = [f"{n!r} ({k})" for n, k in fields.items() if n not in available]
    if missing:
        problems.append(N_("field(s) {missing} missing; the layer has: {value1}", missing=', '.join(missing), value1=', '.join(available) or 'no fields'))
    for name, kind in fields.items():
        if name in available:
            attributes[name], bad = _convert(raw[name], kind)
            if len(bad):
                shown = ", ".join(repr(raw[name][i]) for i in bad[:SHOW_ROWS])
                problems.append(N_("field {name!r} should be {kind}: rows {rows} hold {shown}", name=name, kind=kind, rows=_rows(bad), shown=shown))
    types = shapely.get_type_id(geoms)
    empty = np.flatnonzero((types < 0) | shapely.is_empty(geoms))
    if len(empty):
        problems.append(N_("empty or missing geometries in rows {rows}", rows=_rows(empty)))
    wrong = np.flatnonzero((types >= 0) & ~np.isin(types, (POLYGON, MULTIPOLYGON)) & ~shapely.is_empty(geoms))
    if len(wrong):
        kinds = sorted({g.geom_type for g in geoms[wrong]})
        problems.append(N_("geometries that are not polygons ({kinds}) in rows {rows}", kinds=', '.join(kinds), rows=_rows(wrong)))
    repaired = 0
    if not problems:
        invalid = np.flatnonzero(~shapely.is_valid(geoms))
        repaired = len(invalid)
        if repaired:
            geoms[invalid] = shapely.make_valid(geoms[invalid], method="structure", keep_collapsed=False)
            collapsed = invalid[shapely.is_empty(geoms[invalid])]
            if len(collapsed):
                problems.append(N_("polygons with no area left after repair in rows {rows}", rows=_rows(collapsed)))
    # each problem names the layer, so a validator that reads several layers can list them with its own
    raise_issues([Issue(f"{role}: {p} layer {layer!r}", "", m) for m in problems], "")
    multi = [g if shapely.get_type_id(g) == MULTIPOLYGON else shapely.MultiPolygon([g]) for g in geoms]
    return PolygonSet(p, str(meta["crs"]), multi, attributes, repaired)


@dataclass
class VectorLayer:
    """One layer of a GeoPackage product: geometries, attribute columns and a description."""

    name: str
    description: str
    crs: str | None  # None: written without a CRS
    geoms: list
    columns: dict[str, list] = field(default_factory=dict)
    geometry_type: str = "MultiPolygon"


def _kind(v) -> str:
    if isinstance(v, (bool, np.bool_)):
        return "bool"
    if isinstance(v, Integral):
        return "int"
    return "float" if isinstance(v, Real) else "text" if isinstance(v, str) else type(v).__name__


def _field(layer: VectorLayer, name: str, values: list) -> tuple[np.ndarray, np.ndarray | None]:
    """A typed array for one column (int64, float64, bool or text) and its null mask."""
    kinds = [_kind(v) for v in values]
    found = {k for k, v in zip(kinds, values) if v is not None}
    null = np.array([v is None for v in values], dtype=bool)
    if found == {"bool"}:
        return np.array([bool(v) for v in values]), null
    if found == {"int"}:
        return np.array([0 if v is None else int(v) for v in values], np.int64), null
    if found and found <= {"int", "float"}:
        return np.array([np.nan if v is None else float(v) for v in values], np.float64), None  # NaN → null
    if found <= {"text"}:
        return np.array(values, dtype=object), None
    family = [("number" if k in ("int", "float") else k) if v is not None else None for k, v in zip(kinds, values)]
    first = next(f for f in family if f is not None)
    row = next((i for i, k in enumerate(kinds) if family[i] and k not in ("bool", "int", "float", "text")), None)
    row = row if row is not None else next(i for i, f in enumerate(family) if f not in (None, first))
    raise InputError(N_("layer {name}: column {name2!r} row {row} is {value1!r} "
                     "({name3}); expected one type per column: int, float, bool or text", name=layer.name, name2=name, row=row + 1, value1=values[row], name3=type(values[row]).__name__))


def _prepare(layer: VectorLayer) -> tuple[np.ndarray, list, list, list]:
    n = len(layer.geoms)
    bad = [i for i, g in enumerate(layer.geoms) if g is not None and not isinstance(g, BaseGeometry)]
    if bad:
        raise InputError(N_("layer {name}: rows {rows} are not shapely geometries", name=layer.name, rows=_rows(np.array(bad))))
    data, masks = [], []
    for name, values in layer.columns.items():
        if len(values) != n:
            raise InputError(N_("layer {name}: column {name2!r} has {n_values} values for {n} geometries", name=layer.name, name2=name, n_values=len(values), n=n))
        array, mask = _field(layer, name, list(values))
        data.append(array)
        masks.append(mask)
    wkb = np.asarray(shapely.to_wkb(np.array(layer.geoms, dtype=object)), dtype=object)
    return wkb, list(layer.columns), data, masks


@contextmanager
def _gdal_config(**options: str) -> Iterator[None]:
    """Set GDAL config options for the duration, then restore the previous values."""
    with _GDAL_CONFIG:
        before = {k: pyogrio.get_gdal_config_option(k) for k in options}
        pyogrio.set_gdal_config_options(options)
        try:
            yield
        finally:
            pyogrio.set_gdal_config_options(before)


def write_gpkg(path: Path | str, layers: list[VectorLayer], *, timestamp: datetime) -> Path:
    """Write ``layers`` into one new GeoPackage, replacing ``path`` atomically; same content → same bytes.

    GDAL stamps gpkg_contents.last_change with the current time; OGR_CURRENT_DATE
    pins it to ``timestamp`` (a naive one is taken as UTC).  Nothing else varies:
    the SQLite file is built by the same statements in the same order (checked
    across processes, 20,000 features with the R-tree), the temporary file name is
    not stored, so no VACUUM or PRAGMA is needed.  The SQLite header records the
    library version, so bytes match within one environment, not across upgrades.
    Columns are int64, float64 (None/NaN → NULL), bool or text, one type each.
    """
    path = Path(path)
    names = [layer.name for layer in layers]
    if not layers or len(set(names)) != len(names):
        raise InputError(N_("{path}: expected at least one layer and distinct layer names, got {names}", path=path, names=names))
    prepared = [_prepare(layer) for layer in layers]  # refuse bad columns before writing anything
    when = timestamp.astimezone(UTC) if timestamp.tzinfo else timestamp
    stamp = when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"
    with _gdal_config(OGR_CURRENT_DATE=stamp), atomic_path(path, suffix=".tmp.gpkg") as tmp:
        tmp.unlink()  # GDAL creates the database itself; an empty file is not a GeoPackage
        for i, (layer, (wkb, fields, data, masks)) in enumerate(zip(layers, prepared)):
            pyogrio.raw.write(str(tmp), wkb, data, fields, field_mask=masks, layer=layer.name, driver="GPKG",
                              geometry_type=layer.geometry_type, crs=layer.crs, append=i > 0,
                              promote_to_multi=layer.geometry_type.startswith("Multi"),
                              layer_options={"DESCRIPTION": layer.description, "SPATIAL_INDEX": "YES"})
    return path
