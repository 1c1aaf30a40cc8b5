"""The erosion engine's lookup tables: data files with their sources, replaceable by the user.

Shipped tables live in ``shuibao/erosion/data``; every function takes an
optional path to a user's own file of the same columns.  Numbers marked
"NOT verified" in the ``source`` column are literature values that could not
be checked against their primary source (see the project's methods notes);
replace them with your province's values.

=================  ==========================================================
``m_exponent.csv``  m by slope class (degrees)
``s_factor.csv``    S = a sin θ + b per slope class
``landuse_codes.csv``  the land-use codes (GB/T 21010-2017 second level, 表2 first level) and their roll-up
``b_table.csv``     B method per land-use code (constant / fvc_class / cai2000 / grass_slr / formula)
``b_cover_classes.csv``  B by vegetation-cover class per cover group (forest, shrub, grass, garden)
``t_table.csv``     T per rotation zone and cropland code
``e_table.csv``     E per engineering-measure code (0 = none)
``r_model.csv``     constants of the daily-rain erosivity model and its fallback
``grades.csv``      SL 190-2007 grade bounds above the tolerance
=================  ==========================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from ..core import csle
from ..core.csle import B_METHODS
from ..core.lsfactor import MExponentTable, SlopeFactorTable
from ..datafiles import CsvTable
from ..errors import ReferenceDataError, N_


def _open(path: Path | str | None, default: str, required: tuple[str, ...]) -> CsvTable:
    """The user's table if given, else the shipped one."""
    if path is None:
        return CsvTable(default, required, Path(str(resources.files("shuibao.erosion") / "data")))
    p = Path(path)
    if not p.is_file():
        raise ReferenceDataError(N_("{p}: table file not found", p=p))
    return CsvTable(p.name, required, p.parent)


def m_table(path: Path | str | None = None) -> MExponentTable:
    t = _open(path, "m_exponent.csv", ("upper_deg", "closed", "m"))
    upper, closed, values = [], [], []
    for i in range(len(t)):
        values.append(t.float(i, "m", minimum=0, maximum=1))
        u = t.float(i, "upper_deg", optional=True, minimum=0, maximum=90)
        if u is None:
            if i != len(t) - 1:
                raise ReferenceDataError(N_("{path}, row {row}: only the last class may have no upper bound", path=t.path, row=i + 2))
            continue
        upper.append(u)
        closed.append(t.text(i, "closed", choices=("0", "1")) == "1")
    if len(values) != len(upper) + 1:
        raise ReferenceDataError(N_("{path}: the last row must be the open class (empty upper_deg)", path=t.path))
    try:
        return MExponentTable(tuple(upper), tuple(closed), tuple(values))
    except ValueError as exc:
        raise ReferenceDataError(N_("{path}: {exc}", path=t.path, exc=exc)) from exc


def s_table(path: Path | str | None = None) -> SlopeFactorTable:
    t = _open(path, "s_factor.csv", ("lower_deg", "a", "b"))
    lower = [t.float(i, "lower_deg", minimum=0, maximum=90) for i in range(len(t))]
    if not lower or lower[0] != 0 or lower != sorted(lower):
        raise ReferenceDataError(N_("{path}: lower_deg must start at 0 and increase", path=t.path))
    return SlopeFactorTable(tuple(lower[1:]), tuple(t.float(i, "a") for i in range(len(t))),
                            tuple(t.float(i, "b") for i in range(len(t))))


@dataclass(frozen=True)
class ClassTable:
    """A table keyed by integer code (land-use class or measure code)."""

    path: Path
    codes: np.ndarray
    values: np.ndarray
    methods: np.ndarray | None = None
    cover_classes: dict | None = None  # B: code → csle.CoverClasses of its fvc_class rows
    formulas: dict | None = None  # B: code → expression of its formula rows

    def unknown(self, present_codes) -> list[int]:
        return sorted(int(c) for c in set(np.asarray(present_codes).tolist()) - set(self.codes.tolist()))


def _codes(t: CsvTable, column: str) -> np.ndarray:
    codes = []
    for i in range(len(t)):
        v = t.number(i, column)
        if v != v.to_integral_value():
            raise ReferenceDataError(N_("{path}, row {row}, column {column}: {v} is not an integer code", path=t.path, row=i + 2, column=column, v=v))
        codes.append(int(v))
    dupes = sorted({c for c in codes if codes.count(c) > 1})
    if dupes:
        raise ReferenceDataError(N_("{path}: duplicate code(s) {dupes} in column {column}", path=t.path, dupes=dupes, column=column))
    return np.array(codes, dtype=np.int64)


@dataclass(frozen=True)
class LandUseCode:
    """One land-use code the engine knows: a GB/T 21010-2017 second-level class or a 表2 first-level class."""

    code: int
    gbt_code: str
    name: str
    name_en: str
    plan_class: int  # 表2 class 1–8 it rolls up to
    cover_group: str  # which B/FVC rule family it belongs to (forest, shrub, grass, garden, cropland, paddy …)
    fvc_pool: str  # "veg": a full-cover NDVI end-member candidate; "soil": a bare-soil one; "none": neither


COVER_GROUPS = ("cropland", "paddy", "garden", "forest", "shrub", "grass", "built_up", "rural_settlement",
                "urban_green", "disturbed", "transport", "rural_road", "water", "other", "bare", "bare_rock")


def landuse_codes(path: Path | str | None = None) -> dict[int, LandUseCode]:
    """The land-use codes: GB/T 21010-2017 second-level codes written as integers (0101 水田 → 101 …
    1207 裸岩石砾地 → 1207) and 表2's eight first-level classes 1–8 for inputs coded only to the first level.

    The two cannot collide: every second-level code is ≥ 101.
    """
    t = _open(path, "landuse_codes.csv", ("code", "gbt_code", "name", "name_en", "plan_class", "cover_group",
                                          "fvc_pool"))
    codes = _codes(t, "code")
    out = {}
    for i, code in enumerate(codes.tolist()):
        if not 0 < code < 65536:
            raise ReferenceDataError(N_("{path}, row {row}, column code: {code} must lie in 1–65535", path=t.path, row=i + 2, code=code))
        out[code] = LandUseCode(code, t.text(i, "gbt_code"), t.text(i, "name"), t.text(i, "name_en"),
                                int(t.float(i, "plan_class", minimum=1, maximum=8)),
                                t.text(i, "cover_group", choices=COVER_GROUPS),
                                t.text(i, "fvc_pool", choices=("veg", "soil", "none")))
    return out


def b_table(path: Path | str | None = None, cover_path: Path | str | None = None) -> ClassTable:
    """B per land-use code: ``landuse_code, method, value, parameter`` (``parameter``: the cover group of a
    ``fvc_class`` row, the expression of a ``formula`` row); the cover-class tables come from
    ``b_cover_classes.csv`` (or ``cover_path``)."""
    t = _open(path, "b_table.csv", ("landuse_code", "method", "value"))
    methods = np.array([t.text(i, "method", choices=B_METHODS) for i in range(len(t))])
    values = np.array([
        t.float(i, "value", minimum=0, maximum=1) if methods[i] == "constant" else np.nan for i in range(len(t))
    ], dtype=np.float64)
    codes = _codes(t, "landuse_code")
    has_param = "parameter" in t.rows[0] if len(t) else False
    cover: dict[int, csle.CoverClasses] = {}
    formulas: dict[int, str] = {}
    groups = None
    for i, (code, method) in enumerate(zip(codes.tolist(), methods.tolist())):
        if method not in ("fvc_class", "formula"):
            continue
        param = t.text(i, "parameter", optional=True) if has_param else ""
        if not param:
            raise ReferenceDataError(
                N_("{path}, row {row}, column parameter: method {method} needs the cover group of its cover-class "
                   "table", path=t.path, row=i + 2, method=method) if method == "fvc_class" else
                N_("{path}, row {row}, column parameter: method {method} needs its formula, e.g. "
                   "0.6508 - 0.3436*log10(f)", path=t.path, row=i + 2, method=method))
        if method == "formula":
            try:
                csle.check_b_formula(param)
            except ValueError as exc:
                raise ReferenceDataError(N_("{path}, row {row}, column parameter: {exc}", path=t.path, row=i + 2, exc=exc)) from None
            formulas[code] = param
            continue
        if groups is None:
            groups = cover_classes(cover_path)
        if param not in groups:
            raise ReferenceDataError(N_("{path}, row {row}, column parameter: cover group {param!r} is not in "
                                     "the cover-class table (it has {groups})", path=t.path, row=i + 2, param=param, groups=', '.join(sorted(groups))))
        cover[code] = groups[param]
    return ClassTable(t.path, codes, values, methods, cover, formulas)


def cover_classes(path: Path | str | None = None) -> dict[str, csle.CoverClasses]:
    """B by vegetation-cover class per cover group: ``group, fvc_min_pct, fvc_max_pct, b`` rows, the classes
    of a group contiguous from 0 to 100 %."""
    t = _open(path, "b_cover_classes.csv", ("group", "fvc_min_pct", "fvc_max_pct", "b"))
    rows: dict[str, list[tuple[float, float, float, int]]] = {}
    for i in range(len(t)):
        rows.setdefault(t.text(i, "group"), []).append(
            (t.float(i, "fvc_min_pct", minimum=0, maximum=100), t.float(i, "fvc_max_pct", minimum=0, maximum=100),
             t.float(i, "b", minimum=0, maximum=1), i + 2))
    out = {}
    for group, rs in rows.items():
        rs.sort()
        if rs[0][0] != 0 or rs[-1][1] != 100 or any(a[1] != b[0] for a, b in zip(rs, rs[1:])):
            raise ReferenceDataError(N_("{path}: the cover classes of group {group!r} must run from 0 to 100 % "
                                     "without gaps or overlaps (each class's fvc_min_pct = the previous fvc_max_pct)", path=t.path, group=group))
        try:
            out[group] = csle.CoverClasses(tuple(r[1] for r in rs[:-1]), tuple(r[2] for r in rs))
        except ValueError as exc:
            raise ReferenceDataError(N_("{path}, group {group!r}: {exc}", path=t.path, group=group, exc=exc)) from None
    return out


@dataclass(frozen=True)
class TillageTable:
    """T per (rotation zone, land-use code); land not listed gets T = 1 (T applies to cropland only)."""

    path: Path
    zones: tuple[str, ...]
    rows: dict[tuple[str, int], float]

    def for_zone(self, zone: str | None) -> ClassTable:
        """The codes and T of one zone (``None``: a table without zones)."""
        key = "" if zone is None else zone
        items = sorted((code, t) for (z, code), t in self.rows.items() if z == key)
        return ClassTable(self.path, np.array([c for c, _ in items], np.int64), np.array([t for _, t in items]))


def t_table(path: Path | str | None = None) -> TillageTable:
    """``zone, landuse_code, t`` (``zone`` optional: a table for one zone); codes of a zone unique."""
    t = _open(path, "t_table.csv", ("landuse_code", "t"))
    zoned = bool(len(t)) and "zone" in t.rows[0]
    rows: dict[tuple[str, int], float] = {}
    for i in range(len(t)):
        v = t.number(i, "landuse_code")
        if v != v.to_integral_value():
            raise ReferenceDataError(N_("{path}, row {row}, column landuse_code: {v} is not an integer code", path=t.path, row=i + 2, v=v))
        zone = t.text(i, "zone") if zoned else ""
        key = (zone, int(v))
        if key in rows:
            raise ReferenceDataError(
                N_("{path}, row {row}: code {code} is listed twice for zone {zone}", path=t.path, row=i + 2,
                   code=int(v), zone=zone) if zone else
                N_("{path}, row {row}: code {code} is listed twice", path=t.path, row=i + 2, code=int(v)))
        rows[key] = t.float(i, "t", minimum=0, maximum=1)
    return TillageTable(t.path, tuple(dict.fromkeys(z for z, _ in rows)), rows)


def e_table(path: Path | str | None = None) -> ClassTable:
    t = _open(path, "e_table.csv", ("measure_code", "e"))
    return ClassTable(t.path, _codes(t, "measure_code"),
                      np.array([t.float(i, "e", minimum=0, maximum=1) for i in range(len(t))]))


R_MODEL_PARAMETERS = {
    "zhang2002": {"threshold_mm", "beta_a", "beta_b", "beta_c", "alpha_a", "alpha_b"},
    "xie2016_seasonal": {"seasonal_threshold_mm", "seasonal_beta", "seasonal_alpha_warm", "seasonal_alpha_cold"},
}


def r_model(path: Path | str | None = None, model: str | None = None) -> dict[str, float]:
    """Constants of the daily erosivity models, the annual fallback and the station-R warning range.

    Always required: Zhang 2002's constants and ``annual_a``/``annual_b`` (older tables
    have only these); the seasonal model's constants when ``model="xie2016_seasonal"``.
    ``range_low``/``range_high`` are optional (no range warning without them).
    """
    t = _open(path, "r_model.csv", ("parameter", "value"))
    params = {t.text(i, "parameter"): t.float(i, "value") for i in range(len(t))}
    if model is not None and model not in R_MODEL_PARAMETERS:
        raise ReferenceDataError(N_("unknown R model {model!r}; expected one of {R_MODEL_PARAMETERS}", model=model, R_MODEL_PARAMETERS=', '.join(R_MODEL_PARAMETERS)))
    needed = R_MODEL_PARAMETERS["zhang2002"] | {"annual_a", "annual_b"}
    if model is not None:
        needed |= R_MODEL_PARAMETERS[model]
    missing = needed - set(params)
    if missing:
        raise ReferenceDataError(N_("{path}: missing parameter(s) {missing}", path=t.path, missing=', '.join(sorted(missing))))
    if ("range_low" in params) != ("range_high" in params) or params.get("range_low", 0) > params.get("range_high", 1):
        raise ReferenceDataError(N_("{path}: range_low and range_high go together, range_low ≤ range_high", path=t.path))
    return params


def grade_bounds(path: Path | str | None = None) -> tuple[float, ...]:
    """Lower bounds of 中度…剧烈 in t/(km²·a) (the bound of 轻度 is the tolerance)."""
    t = _open(path, "grades.csv", ("code", "lower_t_km2"))
    bounds = [t.float(i, "lower_t_km2") for i in range(len(t)) if t.text(i, "lower_t_km2") not in ("tolerance", "0")]
    if len(bounds) != 4 or bounds != sorted(bounds):
        raise ReferenceDataError(N_("{path}: expected four increasing bounds above the tolerance", path=t.path))
    return tuple(bounds)
