"""Feature input adapter: a layer of an accepted file (GeoPackage, zipped Shapefile, GeoJSON, CSV), raw.

Unlike :func:`shuibao.io.vector.read_polygons`, nothing is judged here: the
caller validates feature by feature and reports on each (an import must say
what happened to every row).  Geometries are shapely objects (``None`` where a
row has none); attributes are Python values as the driver gives them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyogrio
import pyogrio.raw
import shapely
from pyogrio.errors import DataLayerError, DataSourceError

from ..errors import InputError, N_
from .formats import vector_source


@dataclass
class FeatureLayer:
    path: Path
    layer: str
    crs: str | None
    geoms: np.ndarray  # object array of shapely geometries or None; all None for a table without geometry
    fields: dict[str, list]
    has_geometry: bool

    def __len__(self) -> int:
        return len(self.geoms)


def read_features(path: Path | str, role: str, *, layer: str | None = None) -> FeatureLayer:
    """Read one layer; a file with several layers needs ``layer``.  CSV files give attribute-only layers.

    Only the formats of :mod:`shuibao.io.formats` are opened (GeoPackage, GeoJSON, zipped shapefile, CSV), by
    their content.  Dates come as the file's text where GDAL cannot make a date of them (2026-02-30), so the
    caller's validation names the row and field instead of failing on the whole file.
    """
    p = Path(path)
    with vector_source(p, role) as src:
        try:
            layers = pyogrio.list_layers(src.gdal)
        except DataSourceError as exc:
            raise InputError(N_("{role}: {p} is not a file GDAL can read as features ({said})", role=role, p=p, said=_said(exc, src, p))) from exc
        names = [str(n) for n, _ in layers]
        if layer is None:
            if len(names) != 1:
                raise InputError(N_("{role}: {p} has {n_names} layers ({names}); name one with --layer", role=role, p=p, n_names=len(names), names=', '.join(names)))
            layer = names[0]
        elif layer not in names:
            raise InputError(N_("{role}: {p} has no layer {layer!r}; its layers are: {names}", role=role, p=p, layer=layer, names=', '.join(names)))
        has_geometry = dict(layers)[layer] is not None
        try:
            meta, _, wkb, values = _read(src, layer, has_geometry)
        except (DataSourceError, DataLayerError) as exc:
            raise InputError(N_("{role}: {p} layer {layer!r} cannot be read ({said})", role=role, p=p, layer=layer, said=_said(exc, src, p))) from exc
    fields = {str(n): v.tolist() for n, v in zip(meta["fields"], values)}
    n = len(next(iter(values))) if len(values) else (len(wkb) if wkb is not None else 0)
    if has_geometry and wkb is not None:
        geoms = np.empty(len(wkb), dtype=object)
        for i, blob in enumerate(wkb):
            try:
                geoms[i] = None if blob is None else shapely.force_2d(shapely.from_wkb(blob))
            except shapely.errors.GEOSException:
                geoms[i] = None  # unreadable geometry: reported by the caller as missing
    else:
        geoms = np.full(n, None, dtype=object)
    return FeatureLayer(p, layer, meta["crs"] or None, geoms, fields, has_geometry)


def _said(exc: Exception, src, p: Path) -> str:
    """GDAL's message with the file named as the caller named it (not the driver prefix or an unzipped copy)."""
    return str(exc).replace(src.gdal, str(p))


def _read(src, layer: str, has_geometry: bool):
    """pyogrio.raw.read; where a date field holds an impossible date (pyogrio's ValueError), its fields as text.

    GeoJSON keeps its dates as text from the start (DATE_AS_STRING).  For the other formats, OGR SQL's CAST
    gives each date field's text (``2026/02/30``), which the import's date check refuses row by row.
    """
    options = {"DATE_AS_STRING": "YES"} if src.kind == "geojson" else {}
    try:
        return pyogrio.raw.read(src.gdal, layer=layer, read_geometry=has_geometry, **options)
    except ValueError as exc:
        if isinstance(exc, (DataSourceError, DataLayerError)):
            raise
        info = pyogrio.read_info(src.gdal, layer=layer)
        dated = [str(f) for f, t in zip(info["fields"], info["dtypes"]) if str(t).startswith("datetime64")]
        if not dated:
            raise
        def quoted(name: str) -> str:
            return '"' + name.replace('"', '""') + '"'
        columns = ", ".join(f"CAST({quoted(f)} AS character(64)) AS {quoted(f)}" if f in dated else quoted(f)
                            for f in map(str, info["fields"]))
        geometry = f", {quoted(info['geometry_name'] or '_ogr_geometry_')}" if has_geometry else ""
        sql = f"SELECT {columns}{geometry} FROM {quoted(layer)}"
        return pyogrio.raw.read(src.gdal, sql=sql, sql_dialect="OGRSQL", read_geometry=has_geometry)


def _column(values: list):
    """A typed array for pyogrio: int64, float64 or text (None → NULL)."""
    found = {type(v) for v in values if v is not None}
    if found and found <= {int, bool}:
        return np.array([0 if v is None else int(v) for v in values], np.int64), np.array([v is None for v in values])
    if found and found <= {int, float}:
        return np.array([np.nan if v is None else float(v) for v in values], np.float64), None
    return np.array([None if v is None else str(v) for v in values], dtype=object), None


DRIVERS = {".gpkg": "GPKG", ".geojson": "GeoJSON", ".json": "GeoJSON", ".shp": "ESRI Shapefile"}


@dataclass
class FeatureSet:
    """One layer to write: rows (dicts with the same keys) and their geometries (None allowed)."""

    name: str
    rows: list[dict]
    geoms: list


def _raw(fs: FeatureSet, rename: dict[str, str] | None):
    keys = list(dict.fromkeys(k for r in fs.rows for k in r))  # union of the rows' keys, in order
    names = [(rename or {}).get(k, k) for k in keys]
    data, masks = zip(*[_column([r.get(k) for r in fs.rows]) for k in keys]) if keys else ((), ())
    wkb = np.array([None if g is None else shapely.to_wkb(g) for g in fs.geoms], dtype=object)
    return wkb, list(data), names, list(masks)


def write_features(path: Path | str, layers: list[FeatureSet], crs: str, *, geometry_type: str = "MultiPolygon",
                   rename: dict[str, str] | None = None) -> list[Path]:
    """Write layers to a GeoPackage, GeoJSON or Shapefile (format by suffix), atomically; returns the files.

    A Shapefile holds one layer in several files: each is written under a
    temporary name and renamed, the .shp last, so a reader never opens a
    half-written one.  ``rename`` maps keys to field names (a Shapefile's names
    have at most 10 bytes).
    """
    import os
    import secrets

    from .atomic import atomic_path

    p = Path(path)
    driver = DRIVERS.get(p.suffix.lower())
    if driver is None:
        raise InputError(N_("{p}: unknown vector format; use .gpkg, .geojson or .shp", p=p))
    if driver != "GPKG" and len(layers) != 1:
        raise InputError(N_("{p}: a {driver} file holds one layer; use .gpkg for {n_layers}", p=p, driver=driver, n_layers=len(layers)))
    options = {"layer_options": {"ENCODING": "UTF-8"}} if driver == "ESRI Shapefile" else {}
    common = dict(driver=driver, geometry_type=geometry_type, crs=crs,
                  promote_to_multi=geometry_type.startswith("Multi"), **options)
    if driver != "ESRI Shapefile":
        with atomic_path(p, suffix=".tmp" + p.suffix) as tmp:
            tmp.unlink()
            for k, fs in enumerate(layers):
                wkb, data, names, masks = _raw(fs, rename)
                pyogrio.raw.write(str(tmp), wkb, data, names, field_mask=masks, layer=fs.name, append=k > 0,
                                  **common)
        return [p]
    p.parent.mkdir(parents=True, exist_ok=True)
    stem = p.parent / f".{p.stem}.{secrets.token_hex(4)}"
    wkb, data, names, masks = _raw(layers[0], rename)
    pyogrio.raw.write(str(stem) + ".shp", wkb, data, names, field_mask=masks, layer=layers[0].name, **common)
    parts = [Path(str(stem) + s) for s in (".dbf", ".shx", ".prj", ".cpg", ".shp") if Path(str(stem) + s).exists()]
    written = []
    for part in parts:  # .shp last
        target = p.with_suffix(part.suffix)
        os.replace(part, target)
        written.append(target)
    return written
