"""District codes as the supervision records use them: every spelling of a district, and the district that holds
most of each polygon."""

from __future__ import annotations

import numpy as np
import shapely
from sqlalchemy import Connection, select

from shuibao.store import schema


def district_lookup(conn: Connection) -> dict[str, str]:
    """Every spelling of a district (code, name, full name, adcode) → its code."""
    t = schema.districts
    out: dict[str, str] = {}
    for r in conn.execute(select(t.c.code, t.c.name, t.c.full_name, t.c.adcode)):
        for key in (r.code, r.name, r.full_name, r.adcode):
            if key:
                out[str(key)] = r.code
    return out


def majority_districts(conn: Connection, geoms: list) -> list[str | None]:
    """The district holding most of each polygon (None where boundaries are not loaded or it lies outside)."""
    b = schema.district_boundaries
    rows = conn.execute(select(b.c.district_code, b.c.geom)).all()
    if not rows:
        return [None] * len(geoms)
    codes = [r.district_code for r in rows]
    polys = np.array([r.geom for r in rows], dtype=object)
    tree = shapely.STRtree(polys)
    arr = np.array(geoms, dtype=object)
    pi, dj = tree.query(arr, predicate="intersects")
    share = shapely.area(shapely.intersection(arr[pi], polys[dj])) if len(pi) else np.zeros(0)
    best: dict[int, tuple[float, str]] = {}
    for i, j, s in zip(pi.tolist(), dj.tolist(), share.tolist()):
        if s > best.get(i, (0.0, ""))[0]:
            best[i] = (s, codes[j])
    return [best[i][1] if i in best else None for i in range(len(geoms))]
