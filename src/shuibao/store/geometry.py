"""A geometry column type that is native on both backends.

* SQLite (the embedded store): the column holds a **GeoPackage geometry blob**
  (OGC 12-128r18 §2.1.3: ``GP`` magic, version, flags, srs_id, envelope, then
  ISO WKB), so QGIS and GDAL read the file as a GeoPackage with no extension.
* PostgreSQL: a PostGIS ``geometry(<type>, <srid>)`` column, written and read as
  hex EWKB (PostGIS's own text form, so no server-side function is needed).

Values are shapely geometries on the Python side.
"""

from __future__ import annotations

import struct
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.types import UserDefinedType

from ..errors import StoreError, N_

_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}


def to_gpkg_blob(geom: BaseGeometry, srs_id: int) -> bytes:
    """Encode a geometry as a GeoPackage binary blob (little-endian, xy envelope)."""
    if geom.is_empty:
        flags = 0b0001_0001  # empty, little-endian, no envelope
        return b"GP" + struct.pack("<BBi", 0, flags, srs_id) + shapely.to_wkb(geom, byte_order=1, flavor="iso")
    minx, miny, maxx, maxy = geom.bounds
    flags = 0b0000_0011  # envelope [minx, maxx, miny, maxy], little-endian
    header = b"GP" + struct.pack("<BBi4d", 0, flags, srs_id, minx, maxx, miny, maxy)
    return header + shapely.to_wkb(geom, byte_order=1, flavor="iso")


def from_gpkg_blob(blob: bytes) -> tuple[BaseGeometry, int]:
    """Decode a GeoPackage binary blob into (geometry, srs_id)."""
    if len(blob) < 8 or blob[:2] != b"GP":
        raise StoreError(N_("geometry value is not a GeoPackage blob (missing 'GP' magic)"))
    flags = blob[3]
    little = flags & 1
    srs_id = struct.unpack("<i" if little else ">i", blob[4:8])[0]
    envelope = (flags >> 1) & 0b111
    if envelope not in _ENVELOPE_BYTES:
        raise StoreError(N_("geometry blob has an invalid envelope indicator {envelope}", envelope=envelope))
    return shapely.from_wkb(bytes(blob[8 + _ENVELOPE_BYTES[envelope]:])), srs_id


class Geometry(UserDefinedType):
    """``Geometry("MULTIPOLYGON", 4490)``: shapely in, shapely out, on SQLite (GPKG) and PostGIS."""

    cache_ok = True

    def __init__(self, geometry_type: str = "GEOMETRY", srid: int = 4490):
        self.geometry_type = geometry_type.upper()
        self.srid = srid

    def get_col_spec(self, **kw: Any) -> str:  # generic DDL; dialects below override
        return self.geometry_type

    def bind_processor(self, dialect):
        srid = self.srid
        if dialect.name == "postgresql":
            def process(value):
                if value is None:
                    return None
                return shapely.to_wkb(shapely.set_srid(value, srid), hex=True, include_srid=True)
        else:
            def process(value):
                return None if value is None else to_gpkg_blob(value, srid)
        return process

    def result_processor(self, dialect, coltype):
        if dialect.name == "postgresql":
            def process(value):
                return None if value is None else shapely.from_wkb(value)
        else:
            def process(value):
                return None if value is None else from_gpkg_blob(value)[0]
        return process


@compiles(Geometry, "postgresql")
def _compile_postgis(type_: Geometry, compiler, **kw) -> str:
    return f"geometry({type_.geometry_type},{type_.srid})"


@compiles(Geometry, "sqlite")
def _compile_gpkg(type_: Geometry, compiler, **kw) -> str:
    return type_.geometry_type
