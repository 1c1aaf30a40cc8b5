"""Vegetation cover and the biological-measure factor B (pure numpy/numba): FVC by the dimidiate pixel model,
the cover formulas, B by cover class and a user's formula evaluated without ``eval``.  Part of the CSLE factors
of :mod:`shuibao.core.csle` (which re-exports these names).
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass
from typing import cast

import numba as nb
import numpy as np


@nb.njit(cache=True)
def _ndvi_histogram(ndvi, valid, lo, hi, bins):
    counts = np.zeros(bins, np.int64)
    flat = ndvi.ravel()
    ok = valid.ravel()
    scale = bins / (hi - lo)
    for i in range(flat.shape[0]):
        if ok[i]:
            v = flat[i]
            if v == v:
                b = int((v - lo) * scale)
                counts[min(max(b, 0), bins - 1)] += 1
    return counts


def ndvi_percentile(ndvi: np.ndarray, valid: np.ndarray, q: float, *, resolution: float = 1e-4) -> float:
    """Percentile of the valid NDVI to ``resolution`` (a one-pass histogram over [−1, 1], no copy or sort)."""
    bins = int(round(2.0 / resolution))
    counts = _ndvi_histogram(np.ascontiguousarray(ndvi, np.float32), np.ascontiguousarray(valid, np.bool_),
                             -1.0, 1.0, bins)
    total = counts.sum()
    if total == 0:
        raise ValueError("no valid NDVI cells")
    idx = int(np.searchsorted(np.cumsum(counts), max(q / 100.0 * total, 1), side="left"))  # q = 0: lowest value
    return -1.0 + (min(idx, bins - 1) + 0.5) * resolution


@nb.njit(cache=True, parallel=True)
def _fvc(ndvi, valid, lo, hi):
    out = np.full(ndvi.shape, np.nan, np.float32)
    flat = ndvi.ravel()
    ok = valid.ravel()
    o = out.ravel()
    inv = 1.0 / (hi - lo)
    for i in nb.prange(flat.shape[0]):
        if ok[i]:
            f = (flat[i] - lo) * inv
            o[i] = 0.0 if f < 0.0 else (1.0 if f > 1.0 else f)
    return out


def fvc_dimidiate(ndvi: np.ndarray, valid: np.ndarray, ndvi_soil: float | None = None, ndvi_veg: float | None = None,
                  *, soil_percentile: float = 5.0, veg_percentile: float = 95.0) -> tuple[np.ndarray, float, float]:
    """Fractional vegetation cover by the dimidiate pixel model.

        FVC = (NDVI − NDVI_soil) / (NDVI_veg − NDVI_soil), clipped to [0, 1]

    End-members default to the 5th and 95th percentiles of the valid NDVI (to 1e-4,
    by histogram); pass them to override.  Returns (FVC, NDVI_soil, NDVI_veg).
    """
    valid = np.ascontiguousarray(valid, np.bool_)
    lo = ndvi_percentile(ndvi, valid, soil_percentile) if ndvi_soil is None else float(ndvi_soil)
    hi = ndvi_percentile(ndvi, valid, veg_percentile) if ndvi_veg is None else float(ndvi_veg)
    if not hi > lo:
        raise ValueError(f"NDVI end-members must satisfy veg > soil, got soil={lo}, veg={hi}")
    return _fvc(np.ascontiguousarray(ndvi, np.float32), valid, lo, hi), lo, hi


B_METHODS = ("constant", "fvc_class", "cai2000", "grass_slr", "formula")
"""How a land-use class gets B: a constant; a table of B by vegetation-cover class (the national
dynamic-monitoring practice); the Cai Chongfa et al. 2000 formula; the grassland soil-loss ratio; or a
user's formula of the cover (:func:`b_formula`)."""


@nb.njit(cache=True, inline="always")
def _cai2000_one(fvc):
    f = fvc * 100.0
    if not math.isfinite(f):
        return np.nan  # unknown cover stays unknown (not 0, which would mean non-eroding)
    if f <= 0.0:
        return 1.0
    if f >= 78.3:
        return 0.0
    return min(0.6508 - 0.3436 * math.log10(f), 1.0)


@nb.njit(cache=True, inline="always")
def _grass_slr_one(fvc):
    return 1.0 / (1.17647 + 0.86242 * 1.05905 ** (100.0 * fvc))


@nb.njit(cache=True, inline="always")
def _cover_class_one(fvc, upper, values, n):
    """B of the cover class holding ``fvc`` (classes closed below, open above; the last open-ended)."""
    if not math.isfinite(fvc):
        return np.nan
    f = round(fvc * 100.0, 3)  # float32 FVC 0.7 is 69.99999…: it belongs to the class from 70 %
    for j in range(n - 1):
        if f < upper[j]:
            return values[j]
    return values[n - 1]


@nb.njit(cache=True)
def _map_b(fvc, method):
    out = np.empty(fvc.shape[0], np.float64)
    for i in range(fvc.shape[0]):
        out[i] = _cai2000_one(fvc[i]) if method == 1 else _grass_slr_one(fvc[i])
    return out


def b_cai2000(fvc: np.ndarray) -> np.ndarray:
    """C/B from vegetation cover (Cai Chongfa et al. 2000): 1 at f = 0; 0.6508 − 0.3436 lg f for 0 < f < 78.3 %; 0 above.

    f is the cover in percent; log base 10.  Unknown cover (NaN) gives NaN.
    Cai C. F., Ding S. W., Shi Z. H., et al. (2000). Study of applying USLE and geographical information
    system IDRISI to predict soil erosion in small watershed. Journal of Soil and Water Conservation 14(2): 19–24.
    """
    f = np.asarray(fvc, dtype=np.float64)
    return _map_b(f.ravel(), 1).reshape(f.shape)


def b_grass_slr(fvc: np.ndarray) -> np.ndarray:
    """Grassland soil-loss ratio ``1 / (1.17647 + 0.86242 · 1.05905^(100·FVC))`` (national census practice; unverified)."""
    f = np.asarray(fvc, dtype=np.float64)
    return _map_b(f.ravel(), 2).reshape(f.shape)


@dataclass(frozen=True)
class CoverClasses:
    """B by vegetation-cover class for one cover group (forest, shrub, grass, garden …).

    ``upper_pct[j]`` is the (exclusive) upper bound of class j in percent cover; the last
    class is open-ended, so ``len(values) == len(upper_pct) + 1``.
    """

    upper_pct: tuple[float, ...]
    values: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.values) != len(self.upper_pct) + 1:
            raise ValueError("cover classes need one more value than upper bounds")
        if list(self.upper_pct) != sorted(set(self.upper_pct)) or any(not 0 < u < 100 for u in self.upper_pct):
            raise ValueError("cover class bounds must increase strictly within (0, 100) %")
        if any(not 0 <= v <= 1 for v in self.values):
            raise ValueError("B of a cover class must lie in [0, 1]")

    def of(self, fvc: np.ndarray) -> np.ndarray:
        f = np.asarray(fvc, np.float64)
        up = np.array(self.upper_pct + (np.inf,), np.float64)
        vals = np.array(self.values, np.float64)
        return np.array([_cover_class_one(v, up, vals, len(vals)) for v in f.ravel()]).reshape(f.shape)


METHOD_CODES = {"constant": 0, "cai2000": 1, "grass_slr": 2, "fvc_class": 3, "formula": 4}

_FORMULA_FUNCS = {"log10": (np.log10, 1), "ln": (np.log, 1), "log": (np.log, 1), "exp": (np.exp, 1),
                  "sqrt": (np.sqrt, 1), "min": (np.minimum, 2), "max": (np.maximum, 2)}  # name: (ufunc, arity)
_FORMULA_OPS = {ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply, ast.Div: np.divide,
                ast.Pow: np.power}
MAX_FORMULA_CHARS = 500  # a cover formula is a line, not a program: bounds parsing time and depth
_VARIABLES = ("fvc", "f")
_ALLOWED = "numbers, fvc (0–1), f (percent), + - * / ** and log10, ln, exp, sqrt (one argument), min, max (two)"


def check_b_formula(expression: str) -> ast.Expression:
    """Parse a user's B formula: only numbers, ``fvc`` (0–1), ``f`` (percent), + − × ÷ **, and the calls
    log10/ln/log/exp/sqrt (one argument) and min/max (two) — no other names, attributes, keywords or calls, so
    nothing is executed.  At most :data:`MAX_FORMULA_CHARS` characters; every number finite.  Raises ValueError."""
    text = str(expression)
    if len(text) > MAX_FORMULA_CHARS:
        raise ValueError(f"B formula of {len(text)} characters: at most {MAX_FORMULA_CHARS}")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"B formula {text!r} is not an expression ({exc.msg})") from None
    except (RecursionError, MemoryError):
        raise ValueError(f"B formula {text[:40]!r}… is nested too deeply") from None
    calls = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    for node in ast.walk(tree):
        if isinstance(node, (ast.Expression, ast.Load)):
            continue
        if isinstance(node, ast.BinOp) and type(node.op) in _FORMULA_OPS:
            continue
        if isinstance(node, ast.operator) and type(node) in _FORMULA_OPS:
            continue
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            continue
        if isinstance(node, (ast.USub, ast.UAdd)):
            continue
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            try:
                ok = math.isfinite(float(cast(float, node.value)))  # int or float, checked above
            except OverflowError:
                ok = False
            if ok:
                continue
            raise ValueError(f"B formula {text!r}: the number {str(node.value)[:20]}… is not finite")
        if isinstance(node, ast.Name) and node.id in _VARIABLES:
            continue
        if isinstance(node, ast.Name) and node.id in _FORMULA_FUNCS and id(node) in calls:
            continue
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _FORMULA_FUNCS \
                and not node.keywords and len(node.args) == _FORMULA_FUNCS[node.func.id][1]:
            continue
        raise ValueError(f"B formula {text!r}: {ast.unparse(node)[:60]} is not allowed (use {_ALLOWED})")
    return tree


def b_formula(expression: str, fvc: np.ndarray) -> np.ndarray:
    """B from a user's formula of the cover: ``fvc`` in 0–1 or ``f`` in percent, e.g. ``0.6508 - 0.3436*log10(f)``.

    Checked by :func:`check_b_formula`, then evaluated node by node on fresh arrays (no ``eval``, no ``out=``:
    the caller's cover is never written); the result is not clipped (the caller checks [0, 1]).
    """
    tree = check_b_formula(expression)
    f = np.array(fvc, np.float64)  # a copy
    env = {"fvc": f, "f": f * 100.0}

    def ev(node):
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant):
            return float(cast(float, node.value))  # check_b_formula let only int/float through
        if isinstance(node, ast.Name):
            return env[node.id]
        if isinstance(node, ast.UnaryOp):
            v = ev(node.operand)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.BinOp):
            return _FORMULA_OPS[type(node.op)](ev(node.left), ev(node.right))
        fn, arity = _FORMULA_FUNCS[node.func.id]
        args = [ev(a) for a in node.args]
        return fn(args[0]) if arity == 1 else fn(args[0], args[1])

    try:
        with np.errstate(all="ignore"):
            out = np.broadcast_to(ev(tree), f.shape).astype(np.float64)
    except RecursionError:
        raise ValueError(f"B formula {str(expression)[:40]!r}… is nested too deeply") from None
    return out


@nb.njit(cache=True, parallel=True)
def _b(landuse, fvc, lut_method, lut_value, lut_group, g_upper, g_values, g_count):
    out = np.full(landuse.shape, np.nan, np.float32)
    lu = landuse.ravel()
    fv = fvc.ravel()
    o = out.ravel()
    for i in nb.prange(lu.shape[0]):
        code = lu[i]
        if code < 0 or code >= lut_method.shape[0]:
            continue
        m = lut_method[code]
        if m == 0:
            o[i] = lut_value[code]
        elif m == 1:
            o[i] = _cai2000_one(fv[i])
        elif m == 2:
            o[i] = _grass_slr_one(fv[i])
        elif m == 3:
            g = lut_group[code]
            o[i] = _cover_class_one(fv[i], g_upper[g], g_values[g], g_count[g])
    return out


def b_factor(landuse: np.ndarray, fvc: np.ndarray, classes: np.ndarray, methods: np.ndarray,
             constants: np.ndarray, cover_classes: dict[int, CoverClasses] | None = None,
             formulas: dict[int, str] | None = None) -> np.ndarray:
    """B per cell: each land-use class uses its method on the vegetation cover FVC (0–1).

    ``classes``, ``methods`` and ``constants`` are the columns of the B table; ``cover_classes``
    gives the cover-class table of each ``fvc_class`` code and ``formulas`` the expression of each
    ``formula`` code.  Cells of a class not in the table stay NaN (input validation reports such
    classes first).  One pass in numba (float32 out), then the formula classes.
    """
    classes = np.asarray(classes, dtype=np.int64)
    cover_classes, formulas = cover_classes or {}, formulas or {}
    size = int(max(classes.max(initial=0), 0)) + 1
    lut_method = np.full(size, -1, np.int64)
    lut_value = np.full(size, np.nan, np.float64)
    lut_group = np.zeros(size, np.int64)
    tables = list(dict.fromkeys(cover_classes.values()))
    width = max((len(t.values) for t in tables), default=1)
    g_upper = np.full((max(len(tables), 1), width), np.inf)
    g_values = np.full((max(len(tables), 1), width), np.nan)
    g_count = np.ones(max(len(tables), 1), np.int64)
    for g, t in enumerate(tables):
        g_upper[g, :len(t.upper_pct)] = t.upper_pct
        g_values[g, :len(t.values)] = t.values
        g_count[g] = len(t.values)
    for code, method, value in zip(classes, methods, constants):
        if method not in METHOD_CODES:
            raise ValueError(f"unknown B method {method!r}; expected one of {', '.join(B_METHODS)}")
        if method == "fvc_class" and int(code) not in cover_classes:
            raise ValueError(f"land-use class {code}: method fvc_class needs its cover-class table")
        if method == "formula" and int(code) not in formulas:
            raise ValueError(f"land-use class {code}: method formula needs its expression")
        if code >= 0:
            lut_method[code] = METHOD_CODES[method]
            lut_value[code] = value
            if method == "fvc_class":
                lut_group[code] = tables.index(cover_classes[int(code)])
    lu = np.ascontiguousarray(landuse)
    lu = lu.astype(np.int64) if lu.dtype.kind not in "iu" else lu
    fv = np.ascontiguousarray(fvc, np.float32)
    out = _b(lu, fv, lut_method, lut_value, lut_group, g_upper, g_values, g_count)
    for code, expression in formulas.items():
        sel = lu == code
        if sel.any():
            out[sel] = b_formula(expression, fv[sel]).astype(np.float32)
    return out
