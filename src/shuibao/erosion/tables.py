"""The erosion engine's lookup tables: data files with their sources, replaceable by the user.

Shipped tables live in ``shuibao/erosion/data``; every function takes an
optional path to a user's own file of the same columns.  Numbers marked
"NOT verified" in the ``source`` column are literature values that could not
be checked against their primary source (see the project's methods notes);
replace them with your province's values.

=================  ==========================================================
``m_exponent.csv``  m by slope class (degrees)
``s_factor.csv``    S = a sin θ + b per slope class
``b_table.csv``     B method per land-use class (constant / cai2000 / grass_slr)
``t_table.csv``     T per land-use class
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

from ..core.csle import B_METHODS
from ..core.lsfactor import MExponentTable, SlopeFactorTable
from ..datafiles import CsvTable
from ..errors import ReferenceDataError


def _open(path: Path | str | None, default: str, required: tuple[str, ...]) -> CsvTable:
    """The user's table if given, else the shipped one."""
    if path is None:
        return CsvTable(default, required, Path(str(resources.files("shuibao.erosion") / "data")))
    p = Path(path)
    if not p.is_file():
        raise ReferenceDataError(f"{p}: table file not found")
    return CsvTable(p.name, required, p.parent)


def m_table(path: Path | str | None = None) -> MExponentTable:
    t = _open(path, "m_exponent.csv", ("upper_deg", "closed", "m"))
    upper, closed, values = [], [], []
    for i in range(len(t)):
        values.append(t.float(i, "m", minimum=0, maximum=1))
        u = t.float(i, "upper_deg", optional=True, minimum=0, maximum=90)
        if u is None:
            if i != len(t) - 1:
                raise ReferenceDataError(f"{t.path}, row {i + 2}: only the last class may have no upper bound")
            continue
        upper.append(u)
        closed.append(t.text(i, "closed", choices=("0", "1")) == "1")
    if len(values) != len(upper) + 1:
        raise ReferenceDataError(f"{t.path}: the last row must be the open class (empty upper_deg)")
    try:
        return MExponentTable(tuple(upper), tuple(closed), tuple(values))
    except ValueError as exc:
        raise ReferenceDataError(f"{t.path}: {exc}") from exc


def s_table(path: Path | str | None = None) -> SlopeFactorTable:
    t = _open(path, "s_factor.csv", ("lower_deg", "a", "b"))
    lower = [t.float(i, "lower_deg", minimum=0, maximum=90) for i in range(len(t))]
    if not lower or lower[0] != 0 or lower != sorted(lower):
        raise ReferenceDataError(f"{t.path}: lower_deg must start at 0 and increase")
    return SlopeFactorTable(tuple(lower[1:]), tuple(t.float(i, "a") for i in range(len(t))),
                            tuple(t.float(i, "b") for i in range(len(t))))


@dataclass(frozen=True)
class ClassTable:
    """A table keyed by integer code (land-use class or measure code)."""

    path: Path
    codes: np.ndarray
    values: np.ndarray
    methods: np.ndarray | None = None

    def unknown(self, present_codes) -> list[int]:
        return sorted(int(c) for c in set(np.asarray(present_codes).tolist()) - set(self.codes.tolist()))


def _codes(t: CsvTable, column: str) -> np.ndarray:
    codes = []
    for i in range(len(t)):
        v = t.number(i, column)
        if v != v.to_integral_value():
            raise ReferenceDataError(f"{t.path}, row {i + 2}, column {column}: {v} is not an integer code")
        codes.append(int(v))
    dupes = sorted({c for c in codes if codes.count(c) > 1})
    if dupes:
        raise ReferenceDataError(f"{t.path}: duplicate code(s) {dupes} in column {column}")
    return np.array(codes, dtype=np.int64)


def b_table(path: Path | str | None = None) -> ClassTable:
    t = _open(path, "b_table.csv", ("landuse_code", "method", "value"))
    methods = np.array([t.text(i, "method", choices=B_METHODS) for i in range(len(t))])
    values = np.array([
        t.float(i, "value", minimum=0, maximum=1) if methods[i] == "constant" else np.nan for i in range(len(t))
    ], dtype=np.float64)
    return ClassTable(t.path, _codes(t, "landuse_code"), values, methods)


def t_table(path: Path | str | None = None) -> ClassTable:
    t = _open(path, "t_table.csv", ("landuse_code", "t"))
    return ClassTable(t.path, _codes(t, "landuse_code"),
                      np.array([t.float(i, "t", minimum=0, maximum=1) for i in range(len(t))]))


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
        raise ReferenceDataError(f"unknown R model {model!r}; expected one of {', '.join(R_MODEL_PARAMETERS)}")
    needed = R_MODEL_PARAMETERS["zhang2002"] | {"annual_a", "annual_b"}
    if model is not None:
        needed |= R_MODEL_PARAMETERS[model]
    missing = needed - set(params)
    if missing:
        raise ReferenceDataError(f"{t.path}: missing parameter(s) {', '.join(sorted(missing))}")
    if ("range_low" in params) != ("range_high" in params) or params.get("range_low", 0) > params.get("range_high", 1):
        raise ReferenceDataError(f"{t.path}: range_low and range_high go together, range_low ≤ range_high")
    return params


def grade_bounds(path: Path | str | None = None) -> tuple[float, ...]:
    """Lower bounds of 中度…剧烈 in t/(km²·a) (the bound of 轻度 is the tolerance)."""
    t = _open(path, "grades.csv", ("code", "lower_t_km2"))
    bounds = [t.float(i, "lower_t_km2") for i in range(len(t)) if t.text(i, "lower_t_km2") not in ("tolerance", "0")]
    if len(bounds) != 4 or bounds != sorted(bounds):
        raise ReferenceDataError(f"{t.path}: expected four increasing bounds above the tolerance")
    return tuple(bounds)
