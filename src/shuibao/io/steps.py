"""Resumable steps: a run killed at any point starts again where it stopped.

A step is a function that writes some files (each atomically: a temporary name,
then a rename) and returns a small JSON-able result.  When it finishes, a
manifest ``<out>/.steps/<step>.json`` records

* the step's key: a hash of the run's digest, the software version, the step
  name and the checksums of the files of the steps it depends on, and
* the SHA-256 of every file it wrote, and its result.

Starting again, a step whose manifest has the same key and whose files are all
present with the recorded checksums is skipped; anything else runs again.  A
kill between two renames leaves no manifest, so the step runs again; a kill
between the last rename and the manifest likewise.  Temporary files of killed
writes (``.name.*.tmp``) are removed at the start.
"""

from __future__ import annotations

import hashlib
import re
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .atomic import atomic_path

MANIFEST_DIR = ".steps"
TEMPORARY = re.compile(r"^\..+\.[0-9a-f]{8}\.tmp(\.gpkg)?(-journal|-wal|-shm)?$")  # names atomic_path makes


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 22), b""):
            h.update(chunk)
    return h.hexdigest()


def fingerprint(path: Path) -> str:
    """SHA-256 over every file a dataset is made of (see :func:`dataset_digests`)."""
    return dataset_digests(path)[0]


def dataset_digests(path: Path) -> tuple[str, str | None]:
    """(fingerprint, the file's own SHA-256 or None for a folder): each file is read once.

    The fingerprint is a SHA-256 over every file a dataset is made of, so a change to any of them is seen.

    The file itself; its siblings with the same stem (a shapefile's .dbf/.shx/.prj/.cpg, .aux.xml and
    .ovr sidecars); for a raster, the files GDAL reports (a VRT's sources); a folder (FileGDB) recursively.
    """
    path = Path(path)
    files: set[Path] = set()
    if path.is_dir():
        files.update(p for p in path.rglob("*") if p.is_file())
    else:
        files.add(path)
        # same stem: dem.tif.aux.xml, m.dbf, m.prj …
        files.update(p for p in path.parent.glob(f"{path.stem}.*") if p.is_file() and p.suffix != ".tmp")
        try:
            import rasterio
            with rasterio.open(path) as src:
                files.update(Path(f) for f in src.files if Path(f).is_file())
        except Exception:  # noqa: BLE001 - not a raster (CSV, vector): its own bytes and siblings suffice
            pass
    h = hashlib.sha256()
    own = None
    for f in sorted(files):
        digest = sha256(f)
        if f == path:
            own = digest
        h.update(str(f.relative_to(path.parent) if f.is_relative_to(path.parent) else f).encode())
        h.update(digest.encode())
    return h.hexdigest(), own


def write_json_atomic(path: Path, payload, **dump) -> None:
    """JSON written under a temporary name in the same folder, then renamed."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as fh:
        json.dump(payload, fh, ensure_ascii=False, **dump)


@dataclass(frozen=True)
class StepRecord:
    name: str
    key: str
    reused: bool
    seconds: float
    outputs: dict[str, str]  # relative path → sha256
    result: dict


class StepRunner:
    """Runs named steps in an output folder, reusing those already done with the same key."""

    def __init__(self, out_dir: Path, run_digest: str, version: str,
                 on_event: Callable[[str, StepRecord], None] | None = None):
        self.out = Path(out_dir)
        self.digest = run_digest
        self.version = version
        self.on_event = on_event
        self.records: dict[str, StepRecord] = {}
        self.out.mkdir(parents=True, exist_ok=True)
        self._remove_temporaries()

    def _remove_temporaries(self) -> None:
        """Leftovers of killed writes: only names :func:`atomic_path` makes, only in the run's folders."""
        for folder in (self.out, *(self.out / d for d in ("rasters", "tables", ".work", MANIFEST_DIR))):
            if folder.is_dir():
                for p in folder.iterdir():
                    if p.is_file() and TEMPORARY.match(p.name):
                        p.unlink()

    def _manifest(self, name: str) -> Path:
        return self.out / MANIFEST_DIR / f"{name}.json"

    def key(self, name: str, depends: tuple[str, ...], scope: dict | None = None) -> str:
        """The step's key: what it reads (``scope``; default the whole run's digest), the version, and the
        checksums of the files of the steps it depends on."""
        parts = {"run": self.digest if scope is None else scope, "version": self.version, "step": name,
                 "depends": {d: self.records[d].outputs for d in depends}}
        return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()

    def done(self, name: str, key: str) -> StepRecord | None:
        """The manifest of a finished step with this key whose files are intact, else None."""
        path = self._manifest(name)
        if not path.is_file():
            return None
        try:
            m = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if m.get("key") != key:
            return None
        for rel, digest in m.get("outputs", {}).items():
            f = self.out / rel
            if not f.is_file() or sha256(f) != digest:
                return None
        return StepRecord(name, key, True, 0.0, m["outputs"], m.get("result", {}))

    def run(self, name: str, fn: Callable[[], tuple[list[str], dict]], depends: tuple[str, ...] = (),
            scope: dict | None = None) -> StepRecord:
        """Run ``fn`` (returning the relative paths it wrote and a result) unless it is done already.

        ``scope`` narrows what the step depends on (JSON-able); it must name everything the step reads.
        """
        key = self.key(name, depends, scope)
        record = self.done(name, key)
        if record is None:
            self._manifest(name).unlink(missing_ok=True)
            if self.on_event:
                self.on_event("start", StepRecord(name, key, False, 0.0, {}, {}))
            t = time.perf_counter()
            written, result = fn()
            outputs = {rel: sha256(self.out / rel) for rel in sorted(written)}
            record = StepRecord(name, key, False, round(time.perf_counter() - t, 3), outputs, result)
            write_json_atomic(self._manifest(name), {"key": key, "step": name, "outputs": outputs,
                                                     "result": result, "seconds": record.seconds}, indent=1)
        self.records[name] = record
        if self.on_event:
            self.on_event("done", record)
        return record
