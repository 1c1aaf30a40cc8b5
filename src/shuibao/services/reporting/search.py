"""Search of the map (地图搜索): districts, projects, cases and disturbance patches by name, code or number, each
hit with where it lies (a lon/lat box, CGCS2000 ≈ CRS84), so the map can zoom to it.

What is searched:

* districts (区县) — the Chinese name, the full name, former names, the pinyin code (``yubei``), the English
  name and the adcode (``500112``);
* projects (生产建设项目) — code and name; their box is the current responsibility areas, else their districts;
* cases (案件) — case number and title; their box is the patch, else the project's areas, else the district;
* patches (扰动图斑) — the patch code (one code may be in several periods: one hit each).

Who sees what follows the platform's rules of reading (services/platform/auth.py): every user reads everything,
so a district officer finds the whole city's records too — their own district's hits first among equally good
matches; an API key finds only the kinds of the collections it was issued for, and never cases (the case ledger
is refused to keys).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from shuibao import vocabulary
from shuibao.errors import InputError, N_
from shuibao.plan.reference import load_reference
from shuibao.services.platform import auth
from shuibao.services.platform import features
from shuibao.services.supervision.common import district_lookup
from shuibao.store import Store
from shuibao.store.repositories import case_ledger

MAX_QUERY = 100
MAX_LIMIT = 50
KINDS = ("district", "project", "case", "patch")
COLLECTION_OF = {"district": "districts", "project": "projects", "patch": "patches", "case": None}
Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Hit:
    """One search result: what it is, its label for people and where it lies."""

    kind: str  # district | project | case | patch
    id: str  # the district's code, the project's code, the case number, the patch code
    label: str  # what a person reads (a district's name in the page's language; a record's own code and name)
    detail: str  # a second line: the district, the period
    district_code: str | None
    bbox: Box | None  # minLon, minLat, maxLon, maxLat (CRS84); None when the record has no place
    url: str | None  # the record's page
    collection: str | None = None  # the OGC collection and feature id of its outline, to highlight on the map
    fid: int | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def search(db: str | None, q: str, *, principal: auth.Principal, lang: str = "zh", limit: int = 20,
           district: str | None = None) -> list[Hit]:
    """The hits for ``q`` (case-insensitive; exact matches first, then prefixes, then any part), at most
    ``limit``; ``district`` (name or code) keeps the hits in that district."""
    text = (q or "").strip().casefold()
    if not text:
        raise InputError(N_("q: give a district, project code or name, case number or title, or patch code"))
    if len(text) > MAX_QUERY:
        raise InputError(N_("q: at most {MAX_QUERY} characters", MAX_QUERY=MAX_QUERY))
    if not 1 <= limit <= MAX_LIMIT:
        raise InputError(N_("limit {limit}: expected 1–{MAX_LIMIT}", limit=limit, MAX_LIMIT=MAX_LIMIT))
    kinds = [k for k in KINDS if _may_find(principal, k)]
    with Store(db) as store, store.reading() as conn:
        store.require_current(conn)
        heads = [dict(r._mapping) for r in case_ledger.case_heads(conn)] if "case" in kinds else []
        only = None
        if district:
            only = district_lookup(conn).get(district)
            if only is None:
                raise InputError(N_("district {name_or_code!r} is not known (use a name or code of `shuibao plan "
                                    "districts`)", name_or_code=district))
    places = _Places(db)
    found: list[tuple[int, Hit, set]] = []  # (score, hit, its districts)
    if "district" in kinds:
        found += _districts(places, text, lang)
    if "project" in kinds:
        found += _projects(db, places, text, lang)
    if "case" in kinds:
        found += _cases(heads, places, text, lang)
    if "patch" in kinds:
        found += _patches(places, text, lang)
    if only:
        found = [f for f in found if only in f[2]]
    mine = principal.district_code if principal.role == "district_officer" else None
    found.sort(key=lambda f: (f[0], mine is not None and mine not in f[2], KINDS.index(f[1].kind), f[1].id))
    return [f[1] for f in found[:limit]]


def _may_find(principal: auth.Principal, kind: str) -> bool:
    if principal.role != "external":
        return True
    collection = COLLECTION_OF[kind]
    return collection is not None and auth.may_read(principal, collection)


def _score(text: str, keys) -> int | None:
    """0 exact, 1 prefix, 2 any part; None: no match."""
    best = None
    for key in keys:
        k = str(key or "").casefold()
        if not k:
            continue
        s = 0 if k == text else 1 if k.startswith(text) else 2 if text in k else None
        if s is not None and (best is None or s < best):
            best = s
    return best


class _Places:
    """The boxes of the map's collections, from the feature indexes the map is served from."""

    def __init__(self, db: str | None):
        self.db = db
        self._idx: dict[str, features._Index] = {}

    def index(self, cid: str):
        if cid not in self._idx:
            self._idx[cid] = features.current_index(self.db, features.collection(cid))
        return self._idx[cid]

    def rows(self, cid: str):
        """(fid, properties, box) of every feature."""
        idx = self.index(cid)
        geoms = idx.tree.geometries if idx.tree is not None else []
        for fid, f, g in zip(idx.ids, idx.features, geoms):
            yield int(fid), f["properties"], _box(g)

    def district(self, code: str | None) -> tuple[int | None, Box | None]:
        for fid, props, box in self.rows("districts"):
            if props.get("district_code") == code:
                return fid, box
        return None, None

    def project_areas(self) -> dict[int, tuple[int, Box]]:
        """project id → (one current area's fid, the box of all its current areas)."""
        out: dict[int, tuple[int, Box]] = {}
        for fid, props, box in self.rows("projects"):
            if box is None:
                continue
            pid = props["project_id"]
            if pid in out:
                out[pid] = (out[pid][0], _union(out[pid][1], box))
            else:
                out[pid] = (fid, box)
        return out


def _box(geom) -> Box | None:
    if geom is None or geom.is_empty:
        return None
    b = [round(float(v), 6) for v in geom.bounds]
    return (b[0], b[1], b[2], b[3])


def _union(a: Box, b: Box) -> Box:
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def _district_label(code: str | None, lang: str) -> str:
    return vocabulary.label("district", code, lang) if code else ""


def _districts(places: _Places, text: str, lang: str) -> list[tuple[int, Hit, set]]:
    ref = {d.code: d for d in load_reference().districts}
    out = []
    for fid, props, box in places.rows("districts"):
        code = props["district_code"]
        d = ref.get(code)
        keys = [code, props.get("name"), vocabulary.label("district", code, "zh"),
                vocabulary.label("district", code, "en")]
        if d is not None:
            keys += [d.name, d.full_name, d.name_en, d.adcode, *d.former_names]
        s = _score(text, keys)
        if s is not None:
            region = vocabulary.label("region", d.region, lang) if d else ""
            out.append((s, Hit("district", code, _district_label(code, lang), region, code, box,
                               f"/districts/{code}", "districts", fid), {code}))
    return out


def _projects(db: str | None, places: _Places, text: str, lang: str) -> list[tuple[int, Hit, set]]:
    from shuibao.services.supervision.projects import list_projects

    areas = None
    out = []
    for p in list_projects(db):
        s = _score(text, [p["code"], p["name"]])
        if s is None:
            continue
        if areas is None:
            areas = places.project_areas()
        codes = [c for c in p["district_codes"].split(",") if c]
        fid, box = areas.get(p["id"], (None, None))
        if box is None:  # no current area: where its districts are
            boxes = [b for b in (places.district(c)[1] for c in codes) if b]
            box = _union_all(boxes)
        out.append((s, Hit("project", p["code"], f"{p['code']} {p['name']}",
                           _joined([_district_label(c, lang) for c in codes], lang), codes[0] if codes else None,
                           box, f"/projects/{p['code']}", "projects" if fid is not None else None, fid), set(codes)))
    return out


def _union_all(boxes: list) -> Box | None:
    if not boxes:
        return None
    out = boxes[0]
    for b in boxes[1:]:
        out = _union(out, b)
    return out


def _joined(parts: list[str], lang: str) -> str:
    return (", " if lang == "en" else "、").join(p for p in parts if p)


def _cases(heads: list[dict], places: _Places, text: str, lang: str) -> list[tuple[int, Hit, set]]:
    out: list[tuple[int, Hit, set]] = []
    scored = [(s, h) for h in heads if (s := _score(text, [h["case_no"], h["title"]])) is not None]
    if not scored:
        return out
    areas = places.project_areas()
    patches = {fid: box for fid, _, box in places.rows("patches")}
    for s, h in scored:
        collection, fid, box = None, None, None
        if h["patch_fid"] is not None and patches.get(h["patch_fid"]):
            collection, fid, box = "patches", h["patch_fid"], patches[h["patch_fid"]]
        elif h["project_id"] in areas:
            fid, box = areas[h["project_id"]]
            collection = "projects"
        elif h["district_code"]:
            fid, box = places.district(h["district_code"])
            collection = "districts" if fid is not None else None
        out.append((s, Hit("case", h["case_no"], f"{h['case_no']} {h['title']}",
                           _district_label(h["district_code"], lang), h["district_code"], box,
                           f"/cases/{h['case_no']}", collection, fid), {h["district_code"]}))
    return out


def _patches(places: _Places, text: str, lang: str) -> list[tuple[int, Hit, set]]:
    out = []
    idx = places.index("patches")
    codes = [str(f["properties"]["patch_code"]).casefold() for f in idx.features]
    hits = [i for i, c in enumerate(codes) if text in c]
    geoms = idx.tree.geometries if idx.tree is not None else []
    for i in hits:
        props = idx.features[i]["properties"]
        s = 0 if codes[i] == text else 1 if codes[i].startswith(text) else 2
        code = props.get("district_code")
        detail = _joined([props.get("period") or "", _district_label(code, lang)], lang)
        out.append((s, Hit("patch", str(props["patch_code"]), f"{props['patch_code']}", detail, code,
                           _box(geoms[i]), None, "patches", int(idx.ids[i])), {code}))
    return out
