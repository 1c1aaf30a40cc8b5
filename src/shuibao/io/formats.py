"""Which files GDAL may open: the format is decided by the file's content, then opened with that driver forced.

GDAL opens whatever it recognises, and some formats reach beyond the file: an OGR/GDAL VRT names other files,
SQL over them and URLs (``/vsicurl/``), so a "project import" of a VRT read ``/etc/passwd`` and the platform's own
users table (security review H1).  Every feature and raster input therefore passes :func:`vector_source` or
:func:`check_raster` first: only GeoPackage, GeoJSON, ESRI Shapefile (zipped, or a local ``.shp``), CSV and GeoTIFF
are accepted, each recognised by its bytes (a VRT renamed ``.csv`` is still a VRT) and handed to GDAL with the
driver's prefix (``GPKG:``, ``GeoJSON:``, ``CSV:``) or rasterio's ``driver=`` so GDAL cannot probe another driver.
:func:`disable_network` turns GDAL's network access off for the web server's process.
"""

from __future__ import annotations

import codecs
import json
import sqlite3
import stat
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ..errors import InputError, Issues, N_

VECTOR_ACCEPTED = "a GeoPackage (.gpkg), GeoJSON (.geojson), a zipped ESRI Shapefile (.zip) or a CSV table (.csv)"
RASTER_ACCEPTED = "a GeoTIFF (.tif)"
HEAD_BYTES = 64 * 1024  # enough to recognise every accepted format and a VRT's root element
GPKG_APPLICATION_IDS = {b"GPKG", b"GP10", b"GP11"}  # GeoPackage 1.2+ and the 1.0/1.1 ids (OGC 12-128r18, §1.1.1.1.1)
TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")  # classic TIFF and BigTIFF, both byte orders
SHP_MAGIC = b"\x00\x00\x27\x0a"  # file code 9994, big-endian (ESRI Shapefile Technical Description, 1998, p. 3)
SHAPEFILE_PARTS = {".shp", ".shx", ".dbf", ".prj", ".cpg", ".qpj", ".sbn", ".sbx", ".xml", ".qix", ".fix",
                   ".qmd", ".atx"}  # what ESRI/QGIS write beside a .shp (``.shp.xml`` metadata ends in .xml)
MAX_ZIP_MEMBERS = 32  # a shapefile has at most the 13 parts above (plus folders); far more is not a shapefile
MAX_ZIP_BYTES = 2 * 2**30  # inflated size; a 64 MiB upload (the web default) of real data inflates ≪ 2 GiB
MAX_ZIP_RATIO = 200  # inflated/compressed per member: attribute tables reach ~20–50×; a zip bomb ~1000×
SUFFIX_KIND = {".gpkg": "gpkg", ".geojson": "geojson", ".json": "geojson", ".zip": "zip", ".csv": "csv",
               ".txt": "csv", ".shp": "shapefile", ".tif": "gtiff", ".tiff": "gtiff"}
KIND_LABEL = {"gpkg": "a GeoPackage", "geojson": "GeoJSON", "zip": "a zip archive", "csv": "CSV text",
              "shapefile": "an ESRI Shapefile", "gtiff": "a GeoTIFF raster"}


@dataclass(frozen=True)
class VectorSource:
    """What to hand GDAL for one accepted vector file: the name with its driver forced, and the kind found."""

    gdal: str
    kind: str  # gpkg | geojson | csv | shapefile
    open_options: dict


def _refuse(role: str, path: Path, found: str, accepted: str) -> InputError:
    return InputError(N_("{role}: {path} holds {found}, which is not accepted; use {accepted}", role=role, path=path, found=found, accepted=accepted))


def _head(path: Path) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(HEAD_BYTES)


def _text(head: bytes) -> str | None:
    """The head as text (UTF-8, else GB18030 as Chinese offices write CSV), None for binary content."""
    if b"\x00" in head:
        return None
    for encoding in ("utf-8-sig", "gb18030"):
        try:  # incremental: a character cut at the end of the head is not an error
            return codecs.getincrementaldecoder(encoding)().decode(head, final=False)
        except UnicodeDecodeError:
            continue
    return None


def detect(path: Path | str) -> str:
    """The kind of ``path`` from its bytes: gpkg, geojson, csv, zip, shapefile, gtiff; or what else it is."""
    p = Path(path)
    head = _head(p)
    if head.startswith(b"SQLite format 3\x00"):
        return "gpkg" if head[68:72] in GPKG_APPLICATION_IDS else "sqlite"
    if head[:4] in TIFF_MAGIC:
        return "gtiff"
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return "zip"
    if head[:4] == SHP_MAGIC:
        return "shapefile"
    text = _text(head)
    if text is None:
        return "binary"
    body = text.lstrip()
    if "<OGRVRTDataSource" in text or "<VRTDataset" in text:
        return "vrt"
    if body.startswith("<"):
        return "xml"
    if body.startswith(("{", "[")):
        return "json"
    return "csv" if body else "empty"


FOUND = {"sqlite": "an SQLite database that is not a GeoPackage (no GeoPackage application_id)",
         "vrt": "a GDAL virtual dataset (VRT XML, which can read other files and URLs)",
         "xml": "an XML document (GML, KML or another XML format)", "binary": "binary data of an unknown format",
         "json": "JSON", "empty": "nothing (the file is empty)"}


def _found(kind: str) -> str:
    return FOUND.get(kind) or KIND_LABEL[kind]


def _kind_for(p: Path, role: str, accepted: str, allowed: set[str]) -> str:
    if not p.is_file():
        raise InputError(f"{role}: {p} does not exist" if not p.exists() else f"{role}: {p} is not a file")
    kind = detect(p)
    named = SUFFIX_KIND.get(p.suffix.lower())
    if named is not None and named != kind and not (named == "geojson" and kind == "json"):
        raise InputError(N_("{role}: {p} is named {suffix} but holds {found}; use {accepted}", role=role, p=p, suffix=p.suffix, found=_found(kind), accepted=accepted))
    if kind not in allowed and not (kind == "json" and "geojson" in allowed):
        raise _refuse(role, p, _found(kind), accepted)
    return kind


def _check_geojson(p: Path, role: str) -> None:
    """A JSON object of type FeatureCollection or Feature (TopoJSON, Esri JSON and arrays are other drivers)."""
    try:
        with open(p, "rb") as fh:
            doc = json.load(fh)
    except RecursionError:
        raise InputError(N_("{role}: {p} is JSON nested too deeply to be GeoJSON", role=role, p=p)) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(N_("{role}: {p} is not valid JSON ({exc}); use {VECTOR_ACCEPTED}", role=role, p=p, exc=exc, VECTOR_ACCEPTED=VECTOR_ACCEPTED)) from None
    kind = doc.get("type") if isinstance(doc, dict) else None
    if kind not in ("FeatureCollection", "Feature"):
        found = f"a JSON object of type {kind!r}" if isinstance(doc, dict) else f"a JSON {type(doc).__name__}"
        raise _refuse(role, p, f"{found}, not a GeoJSON FeatureCollection", VECTOR_ACCEPTED)


def _check_gpkg(p: Path, role: str) -> None:
    """Refuse virtual tables other than GDAL's R-trees (a VirtualOGR table could open any other dataset)."""
    try:
        con = sqlite3.connect(f"{p.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
        try:
            rows = con.execute("SELECT name, sql FROM sqlite_master WHERE sql LIKE 'CREATE VIRTUAL TABLE%'").fetchall()
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        raise InputError(N_("{role}: {p} is not a readable GeoPackage ({exc})", role=role, p=p, exc=exc)) from None
    odd = [name for name, sql in rows if "using rtree" not in " ".join(sql.lower().split())]
    if odd:
        raise _refuse(role, p, f"a GeoPackage with virtual table(s) {', '.join(odd)} (only R-tree indexes)",
                      VECTOR_ACCEPTED)


def _check_shp(p: Path, role: str) -> None:
    with open(p, "rb") as fh:
        if fh.read(4) != SHP_MAGIC:
            raise InputError(N_("{role}: {p} is not an ESRI Shapefile (its header lacks the file code 9994)", role=role, p=p))


def _safe_member(name: str) -> PurePosixPath | None:
    """The member's path if it is a plain relative name (no absolute path, drive, backslash or ``..``)."""
    if "\\" in name or "\x00" in name or name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return None
    parts = PurePosixPath(name).parts
    return None if not parts or ".." in parts else PurePosixPath(name)


def _extract(archive, member, target: Path, most: int, room: int) -> int:
    """Copy one member to ``target``, counting what actually inflates (a zip's directory may lie); its size.
    OverflowError beyond ``most`` bytes for the member or ``room`` in all."""
    size = 0
    with archive.open(member) as src, open(target, "wb") as dst:
        while chunk := src.read(1 << 20):
            size += len(chunk)
            if size > most or size > room:
                raise OverflowError(member.filename)
            dst.write(chunk)
    return size


def _unzip_shapefile(p: Path, role: str, folder: Path) -> Path:
    """Check the zip holds one shapefile and nothing else, extract its parts into ``folder``; the .shp path."""
    try:
        archive = zipfile.ZipFile(p)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(N_("{role}: {p} is not a readable zip archive ({exc})", role=role, p=p, exc=exc)) from None
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir()
                   and not m.filename.startswith("__MACOSX/")]  # macOS resource forks: not part of the data
        if len(archive.infolist()) > MAX_ZIP_MEMBERS:
            raise _refuse(role, p, f"a zip archive of {len(archive.infolist())} entries (a zipped shapefile has "
                          f"at most {MAX_ZIP_MEMBERS})", VECTOR_ACCEPTED)
        problems = Issues()
        for m in members:
            safe = _safe_member(m.filename)
            mode = m.external_attr >> 16
            if safe is None:
                problems.add("zip entry", repr(m.filename), N_("not a plain relative name"))
            elif stat.S_ISLNK(mode):
                problems.add("zip entry", repr(m.filename), N_("a symbolic link"))
            elif Path(safe.name).suffix.lower() not in SHAPEFILE_PARTS:
                problems.add("zip entry", repr(m.filename), N_("not part of a shapefile"))
        problems.raise_if_any(N_("{role}: {p}", role=role, p=p), context=N_("in the zip archive (a zipped shapefile holds only its "
                              "parts: {SHAPEFILE_PARTS})", SHAPEFILE_PARTS=', '.join(sorted(SHAPEFILE_PARTS))))
        shps = [m for m in members if m.filename.lower().endswith(".shp")]
        if len(shps) != 1:
            raise _refuse(role, p, f"a zip archive with {len(shps)} .shp files", "a zip holding exactly one shapefile")
        stem = PurePosixPath(shps[0].filename).with_suffix("")
        names = {PurePosixPath(m.filename).name.lower() for m in members}
        for part in (".shx", ".dbf"):
            if f"{stem.name}{part}".lower() not in names:
                raise InputError(N_("{role}: {p}: the shapefile {filename} has no {part} in the zip", role=role, p=p, filename=shps[0].filename, part=part))
        if sum(m.file_size for m in members) > MAX_ZIP_BYTES:
            raise _refuse(role, p, f"a zip archive that inflates to {sum(m.file_size for m in members) / 2**30:.1f} "
                          f"GiB (more than {MAX_ZIP_BYTES / 2**30:g} GiB)", VECTOR_ACCEPTED)
        if len(names) != len(members):
            raise InputError(N_("{role}: {p}: the zip holds two files of the same name in different folders", role=role, p=p))
        written = 0
        for m in members:
            most = MAX_ZIP_RATIO * max(m.compress_size, 1024)
            if m.file_size > most:
                raise _refuse(role, p, f"a zip archive whose {m.filename} inflates "
                              f"{m.file_size / max(m.compress_size, 1):.0f}× (a zip bomb?)", VECTOR_ACCEPTED)
            try:
                written += _extract(archive, m, folder / PurePosixPath(m.filename).name, most,
                                    MAX_ZIP_BYTES - written)
            except OverflowError:
                raise _refuse(role, p, f"a zip archive whose {m.filename} inflates more than {MAX_ZIP_RATIO}× or "
                              f"beyond {MAX_ZIP_BYTES / 2**30:g} GiB in all (a zip bomb?)", VECTOR_ACCEPTED) from None
            except (RuntimeError, NotImplementedError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
                raise InputError(N_("{role}: {p}: {filename} cannot be extracted ({exc}); zip it again without "
                                 "a password, with the usual deflate compression", role=role, p=p, filename=m.filename, exc=exc)) from None
    shp = folder / PurePosixPath(shps[0].filename).name
    _check_shp(shp, role)
    return shp


@contextmanager
def vector_source(path: Path | str, role: str, *, tables: bool = True) -> Iterator[VectorSource]:
    """The accepted vector file ``path`` as GDAL should open it (a zipped shapefile extracted while in use).

    ``tables``: a CSV (attributes without geometry) is acceptable.  Anything else is refused with the file
    named, what it holds and what is accepted.
    """
    p = Path(path)
    allowed = {"gpkg", "geojson", "zip", "shapefile"} | ({"csv"} if tables else set())
    accepted = VECTOR_ACCEPTED if tables else VECTOR_ACCEPTED.replace(" or a CSV table (.csv)", "").replace(
        ", a zipped", " or a zipped")
    kind = _kind_for(p, role, accepted, allowed)
    if kind == "shapefile" and p.suffix.lower() != ".shp":
        raise InputError(N_("{role}: {p} is a shapefile's .shp part without its name; zip the shapefile's parts", role=role, p=p))
    if kind == "zip":
        with tempfile.TemporaryDirectory(prefix="shuibao-zip-") as tmp:
            yield VectorSource(str(_unzip_shapefile(p, role, Path(tmp))), "shapefile", {})
        return
    if kind in ("geojson", "json"):
        _check_geojson(p, role)
        yield VectorSource(f"GeoJSON:{p}", "geojson", {})
    elif kind == "gpkg":
        _check_gpkg(p, role)
        yield VectorSource(f"GPKG:{p}", "gpkg", {})
    elif kind == "csv":
        yield VectorSource(f"CSV:{p}", "csv", {})
    else:
        yield VectorSource(str(p), "shapefile", {})


RASTER_DRIVER = "GTiff"  # rasterio.open(driver=…): GDAL tries this driver only (a COG is a GeoTIFF)


def check_raster(path: Path | str, role: str) -> Path:
    """``path`` if it is a GeoTIFF by its bytes; open it with ``driver=RASTER_DRIVER``."""
    p = Path(path)
    _kind_for(p, role, RASTER_ACCEPTED, {"gtiff"})
    return p


NETWORK_OFF = {
    # /vsicurl/ (and /vsicurl_streaming/, /vsis3/, … and bare http:// names, which GDAL maps to /vsicurl/)
    # consider a file to exist only if its name ends with one of these extensions: none does, so no request
    # is made (GDAL configuration options, "Networking options": CPL_VSIL_CURL_ALLOWED_EXTENSIONS).
    "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".shuibao-network-off",
    # Drivers that fetch with CPLHTTPFetch (WMS, WFS, OAPIF, …) go through this proxy; port 9 (discard)
    # answers nothing on 127.0.0.1, so the connection is refused before any request leaves the host.  A
    # no_proxy environment variable would exempt its hosts: the server should not set one.
    "GDAL_HTTP_PROXY": "127.0.0.1:9",
    "GDAL_HTTP_MAX_RETRY": "0",
}


def disable_network() -> None:
    """Turn GDAL's network file systems and HTTP fetches off for this process (the web server).

    pyogrio and rasterio each bundle their own GDAL library, so the options are set in both: pyogrio's
    process-wide configuration, and rasterio's (``rasterio.env.set_gdal_config`` sets them outside any
    ``rasterio.Env``, which inherits them).
    """
    import pyogrio
    from rasterio.env import set_gdal_config

    pyogrio.set_gdal_config_options(NETWORK_OFF)
    for key, value in NETWORK_OFF.items():
        set_gdal_config(key, value)

