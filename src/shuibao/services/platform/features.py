"""Feature collections for sharing (OGC API Features, GeoJSON downloads): read-only, paged, filtered by bbox.

Each collection is a query over a store table with its geometry (EPSG:4490, served as CRS84
lon/lat — the same axis order for CGCS2000 at this accuracy).  Each collection is held in memory as
an STRtree over its geometries and its features already in GeoJSON form, rebuilt when the collection
changes (its row count and largest id, and the newest row of what its properties come from), so a map
panning over 11,000 patches costs a tree query and a join of encoded features, not a scan of the table.

Whether a collection is current is checked against the store at most every :data:`FRESH_SECONDS` per
process, and at once after any write this process commits: a change made by another process (another web
worker, the command line) reaches a map within that second.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass

import numpy as np
import shapely
from sqlalchemy import Connection

from shuibao.errors import InputError, NotFoundError, N_
from shuibao.store import Store
from shuibao.store.repositories import features as feature_records
from shuibao.store.store import writes_committed
from shuibao.supervision.model import CATEGORY_ZH, Category

MAX_LIMIT = 10_000
COORD_DECIMALS = 7
FRESH_SECONDS = 1.0  # how long a checked collection is served without asking the store again


@dataclass(frozen=True)
class Collection:
    """A collection's identity and labels; its rows come from :mod:`shuibao.store.repositories.features`."""

    id: str
    title: str
    description: str
    key: str  # the id column
    point: tuple[str, str] | None = None  # (lon, lat) columns, for a table of points without a geometry column


COLLECTIONS = {c.id: c for c in (
    Collection("districts", "区县 Districts", "County-level divisions with their region and 三峡库区 membership",
               feature_records.collection_key("districts")),
    Collection("watersheds", "小流域 Small watersheds", "Small watersheds of the latest monitoring run with their "
               "水土保持率", feature_records.collection_key("watersheds")),
    Collection("patches", "扰动图斑 Disturbance patches", "Disturbance patches with the category of the latest "
               "compliance analysis of their period", feature_records.collection_key("patches")),
    Collection("projects", "生产建设项目 Projects", "Current responsibility areas of production and construction "
               "projects", feature_records.collection_key("projects")),
    Collection("treatment", "治理图斑 Treatment patches", "Treatment patches of the plan's types",
               feature_records.collection_key("treatment")),
    Collection("stations", "监测站点 Monitoring stations", "Monitoring stations (comprehensive, runoff plots, rain "
               "gauges, hydrological); planned stations without coordinates have no geometry",
               feature_records.collection_key("stations"), point=("lon", "lat")),
)}


class _Index:
    """An STRtree over one collection's geometries, with the ids and the GeoJSON features in the same order."""

    def __init__(self, stamp, ids: np.ndarray, geoms: np.ndarray, features: list[dict]):
        self.stamp, self.ids, self.features = stamp, ids, features
        self.tree = shapely.STRtree(geoms) if len(geoms) else None
        # the API's answers carry coordinates to 1e-7° (about 1 cm; RFC 7946 §11.2): a third less to send and
        # to parse than full doubles; downloads keep the stored coordinates
        rounded = shapely.transform(geoms, lambda xy: np.round(xy, COORD_DECIMALS)) if len(geoms) else geoms
        self.encoded = [json.dumps({**f, "geometry": None if g is None else shapely.geometry.mapping(g)},
                                   ensure_ascii=False, separators=(",", ":")).encode()
                        for f, g in zip(features, rounded)]


_CACHE: dict[tuple[str, str], _Index] = {}
_LOCK = threading.Lock()


_BUILDING: dict[tuple[str, str], threading.Lock] = {}


def _index(conn: Connection, location: str, c: Collection) -> _Index:
    stamp = feature_records.collection_stamp(conn, c.id)
    with _LOCK:
        idx = _CACHE.get((location, c.id))
        if idx is not None and idx.stamp == stamp:
            return idx
        building = _BUILDING.setdefault((location, c.id), threading.Lock())
    with building:  # one thread builds; the others wait for it instead of building the same index
        with _LOCK:
            idx = _CACHE.get((location, c.id))
        if idx is not None and idx.stamp == stamp:
            return idx
        return _build(conn, location, c, stamp)


def _build(conn: Connection, location: str, c: Collection, stamp) -> _Index:
    rows = feature_records.collection_rows(conn, c.id)
    ids = np.array([r._mapping[c.key] for r in rows], np.int64)
    geoms = np.array([_geom(r, c) for r in rows], dtype=object)
    features = [_feature(r, c, g) for r, g in zip(rows, geoms)]
    idx = _Index(stamp, ids, geoms, features)
    with _LOCK:
        _CACHE[(location, c.id)] = idx
    return idx


_CHECKED: dict[tuple[str | None, str], tuple[float, int, _Index]] = {}


def current_index(db: str | None, c: Collection) -> _Index:
    """The collection's index, current as of at most FRESH_SECONDS ago and of every write of this process."""
    writes, now = writes_committed(), time.monotonic()
    hit = _CHECKED.get((db, c.id))
    if hit is not None and now - hit[0] < FRESH_SECONDS and hit[1] == writes:
        return hit[2]
    with Store(db) as store, store.reading() as conn:
        store.require_current(conn)
        idx = _index(conn, store.location, c)
    _CHECKED[(db, c.id)] = (now, writes, idx)  # the count read before the check: a write during it re-checks
    return idx


def preload(db: str | None) -> list[str]:
    """Build every collection's index now (a server's start), so the first map requests do not wait for it."""
    for c in COLLECTIONS.values():
        current_index(db, c)
    return list(COLLECTIONS)


def collection(cid: str) -> Collection:
    if cid not in COLLECTIONS:
        raise NotFoundError(N_("collection {cid!r} does not exist; collections: {COLLECTIONS}", cid=cid, COLLECTIONS=', '.join(COLLECTIONS)))
    return COLLECTIONS[cid]


def parse_bbox(text: str | None) -> tuple[float, float, float, float] | None:
    """``minx,miny,maxx,maxy`` in lon/lat (CRS84); InputError naming what is wrong."""
    if text is None or text == "":
        return None
    try:
        v = [float(x) for x in text.split(",")]
    except ValueError:
        raise InputError(N_("bbox {text!r}: expected four numbers minLon,minLat,maxLon,maxLat", text=text)) from None
    if len(v) != 4 or not np.isfinite(v).all() or v[0] > v[2] or v[1] > v[3]:
        raise InputError(N_("bbox {text!r}: expected minLon,minLat,maxLon,maxLat with min ≤ max", text=text))
    return tuple(v)  # type: ignore[return-value]


def _geom(row, c: Collection):
    if c.point is None:
        return row.geom
    lon, lat = (row._mapping[k] for k in c.point)
    return None if lon is None or lat is None else shapely.Point(lon, lat)


def _feature(row, c: Collection, geom) -> dict:
    return {"type": "Feature", "id": int(row._mapping[c.key]),
            "geometry": None if geom is None else shapely.geometry.mapping(geom), "properties": _props(row, c)}


def _props(row, c: Collection) -> dict:
    out = {}
    for k, v in row._mapping.items():
        if k in ("geom",):
            continue
        out[k] = v.isoformat() if hasattr(v, "isoformat") else v
    if c.id == "patches" and out.get("category"):
        out["category_zh"] = CATEGORY_ZH[Category(out["category"])]
    return out


def items(db: str | None, cid: str, *, bbox=None, limit: int = 100, offset: int = 0, encoded: bool = False) -> dict:
    """A page of features: {'features': [...], 'matched': n, 'returned': k}.

    ``encoded``: the features as one JSON array already encoded (bytes), for the HTTP layer.
    """
    c = collection(cid)
    if not 1 <= limit <= MAX_LIMIT:
        raise InputError(N_("limit {limit}: expected 1–{MAX_LIMIT}", limit=limit, MAX_LIMIT=MAX_LIMIT))
    if offset < 0:
        raise InputError(N_("offset {offset}: expected ≥ 0", offset=offset))
    idx = current_index(db, c)
    if bbox is None:
        pos = np.arange(len(idx.ids))
    elif idx.tree is None:
        pos = np.zeros(0, np.int64)
    else:  # the tree's envelopes first, then the exact test on each candidate's geometry
        pos = np.sort(idx.tree.query(shapely.box(*bbox), predicate="intersects"))
    page = pos[offset:offset + limit]
    if encoded:
        return {"features": b"[" + b",".join(idx.encoded[i] for i in page) + b"]", "matched": int(len(pos)),
                "returned": len(page)}
    features = [idx.features[i] for i in page]
    return {"features": features, "matched": int(len(pos)), "returned": len(features)}


def item(db: str | None, cid: str, fid: int) -> dict:
    c = collection(cid)
    with Store(db) as store, store.reading() as conn:
        store.require_current(conn)
        row = feature_records.collection_row(conn, c.id, fid)
    if row is None:
        raise NotFoundError(N_("collection {cid}: no feature {fid}", cid=cid, fid=fid))
    return _feature(row, c, _geom(row, c))


def extent(db: str | None, cid: str) -> list[float] | None:
    idx = current_index(db, collection(cid))
    if idx.tree is None:
        return None
    return [float(v) for v in shapely.total_bounds(idx.tree.geometries)]


EXPORT_FORMATS = {"gpkg": "application/geopackage+sqlite3", "geojson": "application/geo+json",
                  "csv": "text/csv; charset=utf-8"}


def export_collection(db: str | None, cid: str, fmt: str, folder=None):
    """A whole collection — every feature, however many — as (chunks of bytes, media type, file name):
    GeoPackage, GeoJSON (coordinates as stored) or CSV (properties only; cells that look like spreadsheet
    formulas are neutralised, see :mod:`shuibao.spreadsheet`).

    A GeoPackage is written into ``folder`` (the caller removes it once sent); GeoJSON and CSV are produced
    as they are sent.
    """
    from pathlib import Path

    from shuibao.io.features import FeatureSet, write_features
    from shuibao.spreadsheet import csv_chunks

    if fmt not in EXPORT_FORMATS:
        raise InputError(N_("format {fmt!r}: expected gpkg, geojson or csv", fmt=fmt))
    c = collection(cid)
    idx = current_index(db, c)
    feats = idx.features  # the whole collection: a page limit has no place in a download
    name = f"shuibao-{cid}.{fmt}"
    if fmt == "geojson":
        def chunks():
            yield b'{"type":"FeatureCollection","features":['
            for k in range(0, len(feats), 1000):
                yield (b"," if k else b"") + ",".join(
                    json.dumps(f, ensure_ascii=False) for f in feats[k:k + 1000]).encode()
            yield b"]}"
        return chunks(), EXPORT_FORMATS[fmt], name
    rows = [f["properties"] for f in feats]
    if fmt == "csv":
        return csv_chunks(list(dict.fromkeys(k for r in rows for k in r)), rows), EXPORT_FORMATS[fmt], name
    if folder is None:
        raise InputError(N_("a GeoPackage download needs a folder to be written in"))
    path = Path(folder) / name
    geoms = list(idx.tree.geometries) if idx.tree is not None else []  # the index's own, in the features' order
    write_features(path, [FeatureSet(cid, rows, geoms)], "EPSG:4490",
                   geometry_type="Point" if c.point else "MultiPolygon")
    return path, EXPORT_FORMATS[fmt], name
