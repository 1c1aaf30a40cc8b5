"""Field mappings of the imports (导入字段映射): which column of a bureau's own file holds each field.

Every import (projects, disturbance patches, treatment patches, stations, station observations) resolves its
columns with :func:`shuibao.supervision.imports.resolve_columns`: the officer's mapping (``--fields
code=项目编号,…`` on the command line, the web form's mapping step) before the built-in names and aliases.  The
web form asks :func:`inspect_columns` for a file's columns and the prefilled mapping, and :func:`remember`
stores the mapping that imported a file, keyed by the import kind and a source name the officer gives (or, without
one, the file's column signature), so the next file of that source comes prefilled.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from shuibao.errors import InputError, N_
from shuibao.store import Store
from shuibao.store.repositories import import_mappings as repo
from shuibao.supervision.imports import (
    PATCH_FIELDS,
    PROJECT_FIELDS,
    FieldSpec,
    mapping_from_json,
    parse_field_mapping,
    resolve_columns,
)

KINDS = ("projects", "patches", "treatment", "stations", "observations")
"""The imports that take a field mapping."""

__all__ = ["KINDS", "import_fields", "inspect_columns", "mapping_from_json", "parse_field_mapping", "remember",
           "signature"]


def import_fields(kind: str, variable: str = "rain_mm") -> tuple[FieldSpec, ...]:
    """The fields an import of ``kind`` expects (observations: of ``variable``)."""
    if kind == "projects":
        return PROJECT_FIELDS
    if kind == "patches":
        return PATCH_FIELDS
    if kind == "treatment":
        from shuibao.services.governance.treatment import treatment_fields

        return treatment_fields()
    if kind == "stations":
        from shuibao.services.stations.records import STATION_FIELDS_SPEC

        return STATION_FIELDS_SPEC
    if kind == "observations":
        from shuibao.services.stations.records import observation_fields

        return observation_fields(variable)
    raise InputError(N_("import kind {kind!r}: expected one of {kinds}", kind=kind, kinds=", ".join(KINDS)))


def signature(columns: list[str]) -> str:
    """A source key from the file's columns alone (their set, not their order): ``columns:`` and 16 hex digits."""
    return "columns:" + hashlib.sha256("\x1f".join(sorted(columns)).encode()).hexdigest()[:16]


def file_columns(kind: str, path: Path, *, layer: str | None = None) -> list[str]:
    """The columns of ``path`` as the import of ``kind`` reads them (the stations' CSV header; a vector file's
    fields)."""
    if kind in ("stations", "observations"):
        from shuibao.services.stations.records import read_csv_header

        return read_csv_header(path, kind)
    from shuibao.io.features import read_features

    return list(read_features(path, kind, layer=layer).fields)


def _source_key(source: str | None, columns: list[str]) -> str:
    name = (source or "").strip()
    if len(name) > 200:
        raise InputError(N_("source: at most 200 characters (got {n})", n=len(name)))
    return name or signature(columns)


def inspect_columns(db: str | None, kind: str, path: Path, *, layer: str | None = None, source: str | None = None,
                    variable: str = "rain_mm") -> dict:
    """A file's columns and, per expected field, the column prefilled for it: the remembered mapping of the
    source (its name, or the columns' signature) where one is stored and its column is in the file, else the
    field's own name or an alias.  Stores nothing."""
    specs = import_fields(kind, variable)
    columns = file_columns(kind, path, layer=layer)
    key = _source_key(source, columns)
    with Store(db) as store, store.reading() as conn:
        store.require_current(conn)
        row = repo.mapping_row(conn, kind, key)
    remembered = json.loads(row.mapping_json) if row is not None else {}
    usable = {t: c for t, c in remembered.items() if c == "" or c in columns}
    resolved = resolve_columns(columns, specs, usable)
    fields = []
    for spec in specs:
        column = resolved.columns.get(spec.name)
        fields.append({"name": spec.name, "required": spec.required, "aliases": list(spec.aliases),
                       "column": column, "from": "remembered" if spec.name in usable else ("alias" if column else None)})
    return {"kind": kind, "columns": columns, "source": key, "signature": signature(columns),
            "remembered": row is not None, "recorded_at": row.recorded_at if row is not None else None,
            "recorded_by": row.recorded_by if row is not None else None, "fields": fields}


def remember(db: str | None, kind: str, columns: list[str], mapping: dict[str, str], *, source: str | None = None,
             principal=None, actor: str | None = None) -> str:
    """Store the mapping that imported a file of ``kind`` for its source (replacing the one remembered);
    audited.  Returns the source key."""
    from shuibao.services.platform.auth import audit, batch_actor, writer
    from shuibao.services.supervision.common import actor as who, now

    actor = batch_actor(principal, actor)
    import_fields(kind)  # the kind is known
    key = _source_key(source, columns)
    with Store(db) as store, store.transaction() as conn:
        store.require_current(conn)
        mid, before = repo.save_mapping(conn, kind=kind, source=key, columns_json=json.dumps(columns, ensure_ascii=False),
                                        mapping_json=json.dumps(mapping, ensure_ascii=False, sort_keys=True),
                                        recorded_at=now(), recorded_by=who(actor))
        audit(conn, writer(principal, actor), "imports.mapping", "import_mapping", mid,
              None if before is None else {"mapping": json.loads(before)},
              {"kind": kind, "source": key, "mapping": mapping})
    return key
