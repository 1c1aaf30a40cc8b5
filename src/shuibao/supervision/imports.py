"""Feature-by-feature validation of project and patch uploads, with a report on every row.

An upload is judged whole: each feature is ``ok``, ``repaired`` (an invalid
polygon made valid, the change of area reported) or ``rejected`` (with every
reason), and the file itself may have problems (no CRS, a required field
missing).  Nothing is stored unless no feature is rejected and the file has no
problem — the report says exactly what to fix.  Field names may be the
English keys or the usual Chinese column names (项目名称, 图斑编号, …), or any
column the officer maps to a field (``--fields code=project_id``; the web form's
mapping step): :func:`resolve_columns`, shared by every import.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import cast

import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from .model import CHANGE_TYPES, DISTURBANCE_KINDS, PROJECT_STATUS_ZH, AREA_KINDS, ProjectStatus
from shuibao.errors import InputError, N_, Text, raise_issues

CHONGQING_LONLAT = (105.0, 28.0, 110.5, 32.5)
"""A box around Chongqing (lon/lat, with margin): features outside it point to a wrong CRS."""
STORAGE_CRS = "EPSG:4490"
MAX_VERTICES = 200_000
"""Vertices of one feature, at most: a 200 km road corridor outlined on both edges at 2 m spacing (1:2,000
survey scale) has 200,000; interpreted patches have hundreds.  The review stored a 1,000,000-vertex patch
(25 MiB) that every map request then served (L3)."""


@dataclass(frozen=True)
class FieldSpec:
    name: str
    kind: str  # text | number | date | choice
    required: bool
    aliases: tuple[str, ...] = ()
    choices: Mapping[str, str] | None = None  # accepted spelling → stored value
    minimum: float | None = None


def _choices(values: Sequence[str], zh: Mapping | None = None) -> dict[str, str]:
    out = {v: v for v in values}
    for k, v in (zh or {}).items():
        out[v] = str(k)
    return out


PROJECT_FIELDS = (
    FieldSpec("code", "text", True, ("项目编号", "项目代码")),
    FieldSpec("name", "text", True, ("项目名称",)),
    FieldSpec("builder", "text", True, ("建设单位",)),
    FieldSpec("industry", "text", True, ("行业类别", "项目类型")),
    FieldSpec("district", "text", True, ("所在区县", "区县")),
    FieldSpec("approval_number", "text", True, ("批复文号", "appr_no")),
    FieldSpec("approval_date", "date", True, ("批复日期", "批复时间", "appr_date")),
    FieldSpec("approval_authority", "text", True, ("审批机关", "批复机关", "appr_auth")),
    FieldSpec("plan_level", "text", False, ("方案级别", "审批级别")),
    # not required: a file without it takes the polygon's area, flagged as computed (projects.total_area_computed)
    FieldSpec("total_area_hm2", "number", False, ("防治责任范围面积", "责任范围面积", "total_hm2"), minimum=0),
    FieldSpec("disturbed_area_hm2", "number", False, ("扰动面积", "扰动地表面积", "dist_hm2"), minimum=0),
    FieldSpec("excavation_m3", "number", False, ("挖方", "挖方量", "excav_m3"), minimum=0),
    FieldSpec("fill_m3", "number", False, ("填方", "填方量"), minimum=0),
    FieldSpec("spoil_m3", "number", False, ("弃方", "弃方量"), minimum=0),
    FieldSpec("construction_start", "date", False, ("开工日期", "开工时间", "start_date")),
    FieldSpec("construction_end", "date", False, ("完工日期", "完工时间", "end_date")),
    FieldSpec("status", "choice", False, ("建设状态", "项目状态"),
              _choices([s.value for s in ProjectStatus], PROJECT_STATUS_ZH) | {"未开工": "approved", "已验收": "verified"}),
    FieldSpec("area_kind", "choice", False, ("范围类型", "矢量类型"), _choices(list(AREA_KINDS), AREA_KINDS)),
)

SHAPEFILE_NAMES = {"approval_number": "appr_no", "approval_date": "appr_date", "approval_authority": "appr_auth",
                   "total_area_hm2": "total_hm2", "disturbed_area_hm2": "dist_hm2", "excavation_m3": "excav_m3",
                   "construction_start": "start_date", "construction_end": "end_date", "area_version": "area_ver"}
"""Field names of a Shapefile export (at most 10 bytes); the import accepts them as aliases."""

PATCH_FIELDS = (
    FieldSpec("patch_id", "text", True, ("图斑编号", "tbbh", "TBBH")),
    FieldSpec("period", "text", True, ("监管期次", "期次")),
    FieldSpec("image_date", "date", True, ("影像日期", "影像时间")),
    FieldSpec("kind", "choice", False, ("扰动类型",), _choices(DISTURBANCE_KINDS)),
    FieldSpec("industry", "text", False, ("项目类型", "行业类别")),
    FieldSpec("change_type", "text", False, ("扰动变化类型",)),
    FieldSpec("construction_status", "text", False, ("建设状态",)),
    FieldSpec("area_m2", "number", False, ("扰动面积", "图斑面积"), minimum=0),
)


@dataclass
class FeatureReport:
    """What happened to one row (numbered from 1, as in a spreadsheet without its header)."""

    row: int
    key: str
    status: str = "ok"  # ok | repaired | rejected
    messages: list[Text | str] = field(default_factory=list)

    def reject(self, message: Text | str) -> None:
        self.status = "rejected"
        self.messages.append(message)


@dataclass
class ValidatedLayer:
    """Clean records (one per accepted row) in storage CRS, the per-row reports and file-level problems."""

    records: list[dict]
    geoms: list  # MultiPolygons in EPSG:4490, or None for attribute-only rows
    reports: list[FeatureReport]
    problems: list[Text | str]
    source_crs: str | None

    @property
    def rejected(self) -> list[FeatureReport]:
        return [r for r in self.reports if r.status == "rejected"]

    @property
    def repaired(self) -> list[FeatureReport]:
        return [r for r in self.reports if r.status == "repaired"]

    @property
    def ok(self) -> bool:
        return not self.problems and not self.rejected


def parse_date(value) -> date:
    """A date from a date/datetime, 'YYYY-MM-DD', 'YYYY/MM/DD', 'YYYYMMDD' or 'YYYY年M月D日'."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, np.datetime64):
        return value.astype("datetime64[D]").item()
    text = str(value).strip()
    m = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T].*)?", text) or \
        re.fullmatch(r"(\d{4})(\d{2})(\d{2})", text)
    if not m:
        raise ValueError(text)
    return date(int(m[1]), int(m[2]), int(m[3]))


def _empty(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str) and not v.strip())


@dataclass(frozen=True)
class ColumnResolution:
    """Which column of the file holds each field (target → source column) and every problem found at once."""

    columns: dict[str, str]
    problems: list[Text | str]

    @property
    def ok(self) -> bool:
        return not self.problems


def resolve_columns(available: Sequence[str], specs: Sequence[FieldSpec], mapping: Mapping[str, str] | None = None,
                    defaults: Mapping[str, object] | tuple[()] = ()) -> ColumnResolution:
    """The column of each field (字段映射): the officer's ``mapping`` (field → column) first, then the field's own
    name and its aliases; every problem at once.

    A mapped column is taken by its field: no other field reads it through an alias.  A field mapped to ``""``
    is not in the file (an alias that happens to match is not used).  Problems: a mapped name that is no field
    of this import, a mapped column the file lacks, one column mapped to two fields, and each required field
    without a column (unless ``defaults`` fill it); where a column is concerned, the file's columns follow.
    """
    available = list(available)
    mapping = {str(k).strip(): str(v).strip() for k, v in (mapping or {}).items()}
    names = [s.name for s in specs]
    problems: list[Text | str] = []
    for target in mapping:
        if target not in names:
            problems.append(N_("field mapping: {target!r} is not a field of this import; its fields are: {fields}",
                               target=target, fields=", ".join(names)))
    absent = {t for t, c in mapping.items() if c and t in names and c not in available}
    for target in sorted(absent, key=names.index):
        problems.append(N_("field mapping {target}={column}: the file has no column {column!r}", target=target,
                           column=mapping[target]))
    by_column: dict[str, list[str]] = {}
    for target, column in mapping.items():
        if column and target in names:
            by_column.setdefault(column, []).append(target)
    for column, targets in by_column.items():
        if len(targets) > 1:
            problems.append(N_("field mapping: column {column!r} is mapped to {targets}; map a column to one field",
                               column=column, targets=", ".join(targets)))
    taken = set(by_column)
    doubled = {t for targets in by_column.values() if len(targets) > 1 for t in targets}
    found: dict[str, str] = {}
    missing = []
    for spec in specs:
        if spec.name in mapping:
            col = mapping[spec.name] if mapping[spec.name] in available else None
            if spec.name in absent or spec.name in doubled:
                continue  # already a problem
        else:
            col = next((c for c in (spec.name, *spec.aliases) if c in available and c not in taken), None)
        if col is not None:
            found[spec.name] = col
        elif spec.required and spec.name not in dict(defaults):
            missing.append(spec)
    for spec in missing:
        problems.append(N_("missing field {name!r}: no column named {names}; map one of the file's columns to it "
                           "({name}=COLUMN)", name=spec.name, names=" / ".join((spec.name, *spec.aliases))))
    if absent or missing:
        problems.append(N_("the file's columns: {columns}", columns=", ".join(available) or "-"))
    return ColumnResolution(found, problems)


def parse_field_mapping(texts: Sequence[str] | str | None, option: str = "--fields") -> dict[str, str]:
    """``field=column`` pairs, comma-separated or repeated (``code=项目编号,approval_number=批复文号``), as a
    dict; ``field=`` says the file has no such column.  A malformed pair or a field given twice is refused."""
    if not texts:
        return {}
    out: dict[str, str] = {}
    problems: list[Text | str] = []
    for text in [texts] if isinstance(texts, str) else texts:
        for item in re.split(r"[,，]", text):
            if not item.strip():
                continue
            target, eq, column = item.partition("=")
            target, column = target.strip(), column.strip()
            if not eq or not target:
                problems.append(N_("{item!r} is not FIELD=COLUMN", item=item.strip()))
            elif target in out:
                problems.append(N_("field {target!r} is given twice ({first!r} and {second!r})", target=target,
                                   first=out[target], second=column))
            else:
                out[target] = column
    raise_issues(problems, N_("{option}: the field mapping", option=option))  # each bad pair at once
    return out


def mapping_from_json(text: str | None, option: str = "fields") -> dict[str, str]:
    """A field mapping sent as a JSON object (the web form): field → column, each a string."""
    import json

    if not text:
        return {}
    try:
        doc = json.loads(text)
    except ValueError:
        doc = None
    if not isinstance(doc, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in doc.items()):
        raise InputError(N_("{option}: expected a JSON object of field → column names", option=option))
    return doc


def _value(spec: FieldSpec, raw, rep: FeatureReport):
    if _empty(raw):
        if spec.required:
            rep.reject(N_("{name}: empty", name=spec.name))
        return None
    try:
        if spec.kind == "text":
            return str(int(raw)) if isinstance(raw, float) and raw.is_integer() else str(raw).strip()
        if spec.kind == "date":
            return parse_date(raw)
        if spec.kind == "number":
            x = float(raw.strip()) if isinstance(raw, str) else float(raw)
            if not math.isfinite(x) or (spec.minimum is not None and x < spec.minimum):
                raise ValueError(raw)
            return x
        text = str(raw).strip()
        choices = cast(Mapping[str, str], spec.choices)  # the kind left is "choice", which has them
        if text not in choices:
            rep.reject(N_("{name}: {text!r} is not one of {choices}", name=spec.name, text=text, choices=', '.join(sorted(set(choices)))))
            return None
        return choices[text]
    except (TypeError, ValueError):
        if spec.kind == "date":
            expected: Text | str = N_("a date such as 2025-06-30")
        elif spec.kind == "number":
            expected = N_("a number ≥ {minimum:g}", minimum=spec.minimum) if spec.minimum is not None else N_("a number")
        else:
            expected = spec.kind
        rep.reject(N_("{name}: {raw!r} is not {expected}", name=spec.name, raw=raw, expected=expected))
        return None


def _to_storage(crs: str) -> Transformer | None:
    src = CRS.from_user_input(crs)
    return None if src.equals(CRS.from_user_input(STORAGE_CRS)) else Transformer.from_crs(src, STORAGE_CRS,
                                                                                            always_xy=True)


def _polygon_parts(g):
    """The polygonal part of a repaired geometry as a MultiPolygon (make_valid may add lines or points)."""
    if g.geom_type == "Polygon":
        return shapely.MultiPolygon([g])
    if g.geom_type == "MultiPolygon":
        return g
    parts = [p for p in shapely.get_parts(g) if p.geom_type in ("Polygon", "MultiPolygon")]
    polys = [q for p in parts for q in (shapely.get_parts(p) if p.geom_type == "MultiPolygon" else [p])]
    return shapely.MultiPolygon(polys) if polys else None


def check_geometry(g, crs: str | None, transformer, rep: FeatureReport):
    """The feature's MultiPolygon in EPSG:4490, repaired if needed, or None (rejected, with reasons)."""
    if g is None or g.is_empty:
        rep.reject(N_("no geometry"))
        return None
    if g.geom_type not in ("Polygon", "MultiPolygon"):
        rep.reject(N_("geometry is a {geom_type}; expected a polygon", geom_type=g.geom_type))
        return None
    vertices = shapely.get_num_coordinates(g)
    if vertices > MAX_VERTICES:
        rep.reject(N_("geometry has {vertices:,} vertices, more than {MAX_VERTICES:,} for one feature; simplify it "
                   "(e.g. ogr2ogr -simplify 0.5) or split it", vertices=vertices, MAX_VERTICES=MAX_VERTICES))
        return None
    if not g.is_valid:
        reason = shapely.is_valid_reason(g)
        before = abs(shapely.area(g))
        fixed = _polygon_parts(shapely.make_valid(g, method="structure", keep_collapsed=False))
        if fixed is None or fixed.is_empty or fixed.area == 0:
            rep.reject(N_("invalid polygon ({reason}) with no area left after repair", reason=reason))
            return None
        rep.status = "repaired"
        change = (fixed.area - before) / before if before else 0.0
        rep.messages.append(N_("repaired: {reason}; area changed by {change:+.2%} (in the file's units)", reason=reason, change=change))
        g = fixed
    if crs is None:
        return None
    if transformer is not None:
        g = shapely.transform(g, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])))
    minx, miny, maxx, maxy = g.bounds
    x0, y0, x1, y1 = CHONGQING_LONLAT
    if not (np.isfinite([minx, miny, maxx, maxy]).all() and minx >= x0 and maxx <= x1 and miny >= y0 and maxy <= y1):
        rep.reject(N_("lies outside Chongqing (lon {minx:.3f}–{maxx:.3f}, lat {miny:.3f}–{maxy:.3f} in EPSG:4490 "
                   "after reading it as {crs}); is the file's CRS right?", minx=minx, maxx=maxx, miny=miny, maxy=maxy, crs=crs))
        return None
    return g if g.geom_type == "MultiPolygon" else shapely.MultiPolygon([g])


def validate_layer(geoms: Sequence | np.ndarray, fields: Mapping[str, list], crs: str | None,
                   specs: Sequence[FieldSpec], key_field: str, *, has_geometry: bool,
                   defaults: Mapping[str, object] | None = None,
                   geometry_required: bool = True, missing_geometry_ok: bool = False,
                   mapping: Mapping[str, str] | None = None) -> ValidatedLayer:
    """Judge every row; see the module docstring.

    ``defaults`` fill fields the file lacks or leaves blank (e.g. --period).  ``geometry_required``: a
    file without geometry is a problem; ``missing_geometry_ok``: a row without a geometry is accepted
    (a project without an area) rather than rejected.
    """
    defaults = dict(defaults or {})
    resolved = resolve_columns(list(fields), specs, mapping, defaults)
    problems: list[Text | str] = list(resolved.problems)
    cols = resolved.columns
    transformer = None
    if has_geometry:
        if not crs:
            problems.append(N_("no CRS: assign one (e.g. ogr2ogr -a_srs EPSG:4545 out.gpkg in.gpkg)"))
        else:
            try:
                transformer = _to_storage(crs)
            except CRSError as exc:
                problems.append(N_("CRS {crs!r} is not understood ({exc})", crs=crs, exc=exc))
                crs = None
    elif geometry_required:
        problems.append(N_("the file has no geometry; expected polygons (GeoPackage, Shapefile or GeoJSON)"))
    n = len(geoms)
    reports, records, out_geoms = [], [], []
    key_col = cols.get(key_field)
    for i in range(n):
        raw_key = fields[key_col][i] if key_col else None
        rep = FeatureReport(i + 1, "" if _empty(raw_key) else str(_value(FieldSpec(key_field, "text", False), raw_key,
                                                                         FeatureReport(0, ""))))
        rec = {}
        for spec in specs:
            raw = fields[cols[spec.name]][i] if spec.name in cols else None
            if spec.name in cols and not (_empty(raw) and spec.name in defaults):
                rec[spec.name] = _value(spec, raw, rep)
            else:  # the column is absent or this cell is blank: the default (e.g. --period) fills it
                rec[spec.name] = defaults.get(spec.name)
        g = None
        if has_geometry and missing_geometry_ok and (geoms[i] is None or geoms[i].is_empty):
            rep.messages.append(N_("no geometry: the record is kept without an area (a stored area stays as it is)"))
        elif has_geometry:
            g = check_geometry(geoms[i], crs, transformer, rep)
        reports.append(rep)
        records.append(rec)
        out_geoms.append(g)
    _duplicates(reports, key_field)
    return ValidatedLayer(records, out_geoms, reports, problems, crs)


def _duplicates(reports: list[FeatureReport], key_field: str) -> None:
    rows: dict[str, list[int]] = {}
    for r in reports:
        if r.key:
            rows.setdefault(r.key, []).append(r.row)
    for r in reports:
        same = rows.get(r.key, [])
        if len(same) > 1:
            others = ", ".join(str(x) for x in same if x != r.row)
            r.reject(N_("{key_field} {key!r} is also used in row(s) {others}", key_field=key_field, key=r.key, others=others))


def check_change_type(value: str | None) -> bool:
    """扰动变化类型: 新增, 完工 or 续建 (optionally with its qualifier, e.g. 续建（范围扩大）)."""
    return value is None or value in CHANGE_TYPES or value.startswith("续建")
