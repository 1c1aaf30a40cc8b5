"""Treatment measures and their effect on the CSLE factors (data/measures.toml).

Where a measure is built, B becomes its ``b``, E becomes the E of its ``e_code``
(erosion/data/e_table.csv) and T becomes its ``t``; a factor the measure does not
name keeps its value.  A = R·K·L·S·B·E·T, so a patch changes soil loss only
through these three factors (L and S are left to the terrain).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from ..datafiles import header, read_toml
from ..errors import ReferenceDataError, raise_issues, N_, Text

_KEYS = {"key", "name_zh", "b", "e_code", "t"}


@dataclass(frozen=True)
class Measure:
    key: str
    name_zh: str
    b: float | None = None
    e_code: int | None = None
    t: float | None = None

    @property
    def changes_factors(self) -> bool:
        return self.b is not None or self.e_code is not None or self.t is not None


@dataclass(frozen=True)
class Measures:
    version: str
    source: str
    verified: bool
    measures: tuple[Measure, ...]
    path: Path

    def get(self, key_or_name: str) -> Measure | None:
        return next((m for m in self.measures if key_or_name in (m.key, m.name_zh)), None)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(m.key for m in self.measures)


def load_measures(path: Path | str | None = None, *, e_codes: set[int] | None = None) -> Measures:
    """Read the measure table; every problem at once.  ``e_codes``: the codes the E table knows, if checked."""
    p, doc = read_toml(path, "measures.toml", "shuibao.governance")
    problems: list[Text | str] = []
    version, source, verified, _note = header(doc, problems)
    items = doc.get("measures")
    out: list[Measure] = []
    if not isinstance(items, list) or not items:
        problems.append(N_("measures: expected [[measures]] tables"))
        items = []
    for n, item in enumerate(items, start=1):
        where = f"measures #{n}" + (f" ({item.get('key')})" if isinstance(item, dict) and item.get("key") else "")
        if not isinstance(item, dict):
            problems.append(N_("{where}: expected a table", where=where))
            continue
        problems += [N_("{where}, {k}: unknown field", where=where, k=k) for k in item if k not in _KEYS]
        key, name = item.get("key"), item.get("name_zh")
        if not isinstance(key, str) or not key or not isinstance(name, str) or not name:
            problems.append(N_("{where}: key and name_zh are required strings", where=where))
            continue
        for f in ("b", "t"):
            v = item.get(f)
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v)
                                  or not 0 <= v <= 1):
                problems.append(N_("{where}, {f}: {v!r} is not a factor in [0, 1]", where=where, f=f, v=v))
        code = item.get("e_code")
        if code is not None and (isinstance(code, bool) or not isinstance(code, int)
                                 or (e_codes is not None and code not in e_codes)):
            problems.append(N_("{where}, e_code: {code!r} is not a code of the E table", where=where, code=code))
        out.append(Measure(key, name, item.get("b"), code, item.get("t")))
    keys = [m.key for m in out]
    problems += [N_("measure key {k!r} is used twice", k=k) for k in sorted({k for k in keys if keys.count(k) > 1})]
    raise_issues(problems, str(p), error=ReferenceDataError)
    return Measures(version, source, verified, tuple(out), p)

