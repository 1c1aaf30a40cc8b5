"""What the small maps (位置图) of the project and case pages draw, as GeoJSON (CRS84 ≈ CGCS2000 lon/lat):

* a project: every version of its responsibility area (``layer`` ``area``, ``current`` true for the one in force)
  and the disturbance patches the newest compliance analysis of each period found for it (``patch``, with their
  category);
* a case: its patch (``patch``), its project's current responsibility areas (``area``) and its district's
  outline (``district``).

The district page draws the districts of the OGC collection and needs nothing here.
"""

from __future__ import annotations

import shapely

from shuibao.errors import N_, NotFoundError
from shuibao.services.platform import features
from shuibao.store import Store
from shuibao.store.repositories import map_context as rows
from shuibao.store.repositories import overviews as page_rows

DECIMALS = 7  # as the OGC answers (about 1 cm)


def _feature(geom, props: dict) -> dict:
    g = shapely.transform(geom, lambda xy: xy.round(DECIMALS))
    return {"type": "Feature", "geometry": shapely.geometry.mapping(g), "properties": props}


def _by_fid(db: str | None, cid: str) -> dict[int, tuple[dict, object]]:
    idx = features.current_index(db, features.collection(cid))
    geoms = idx.tree.geometries if idx.tree is not None else []
    return {int(i): (f["properties"], g) for i, f, g in zip(idx.ids, idx.features, geoms)}


def project_map(db: str | None, code: str) -> dict:
    """A project's area versions and its patches, as a FeatureCollection."""
    with Store(db) as store, store.reading() as conn:
        store.require_current(conn)
        project = page_rows.project_by_code(conn, code)
        if project is None:
            raise NotFoundError(N_("project {code!r} is not known", code=code))
        pid = project._mapping["id"]
        versions = rows.area_versions(conn, pid)
        found = page_rows.project_findings_of_patches(conn, pid, page_rows.latest_analyses(conn))
    out = [_feature(r.geom, {"layer": "area", "version": r.version, "area_kind": r.area_kind,
                             "area_m2": r.area_m2, "current": r.superseded_at is None}) for r in versions]
    patches = _by_fid(db, "patches")
    seen = set()
    for m in found:
        fid = m["patch_fid"]
        if fid in seen or fid not in patches or patches[fid][1] is None:
            continue
        seen.add(fid)
        out.append(_feature(patches[fid][1], {"layer": "patch", "fid": fid, "patch_code": m["patch_code"],
                                              "period": m["period"], "category": m["category"]}))
    return {"type": "FeatureCollection", "features": out}


def case_map(db: str | None, case_no: str) -> dict:
    """A case's patch, its project's current areas and its district, as a FeatureCollection."""
    with Store(db) as store, store.reading() as conn:
        store.require_current(conn)
        head = rows.case_head(conn, case_no)
    if head is None:
        raise NotFoundError(N_("case {case_no!r} does not exist", case_no=case_no))
    out = []
    if head.district_code:
        for props, g in _by_fid(db, "districts").values():
            if props.get("district_code") == head.district_code and g is not None:
                out.append(_feature(g, {"layer": "district", "district_code": head.district_code}))
    if head.project_id is not None:
        for props, g in _by_fid(db, "projects").values():
            if props.get("project_id") == head.project_id and g is not None:
                out.append(_feature(g, {"layer": "area", "code": props.get("code"), "version": props.get("version"),
                                        "current": True}))
    if head.patch_fid is not None:
        hit = _by_fid(db, "patches").get(head.patch_fid)
        if hit is not None and hit[1] is not None:
            props = hit[0]
            out.append(_feature(hit[1], {"layer": "patch", "fid": head.patch_fid, "patch_code": props.get("patch_code"),
                                         "period": props.get("period"), "category": props.get("category")}))
    return {"type": "FeatureCollection", "features": out}
