"""OGC API — Features (Part 1: Core, GeoJSON) under /ogc, so QGIS and other GIS add the layers directly."""

from __future__ import annotations

import json
from urllib.parse import urlencode
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from shuibao.services.platform import auth
from shuibao.services.platform import features as fs
from ..deps import db, principal
from ..params import Offset, PageLimit, RowId

router = APIRouter(prefix="/ogc")
Caller = Annotated[auth.Principal, Depends(principal)]
Db = Annotated[str, Depends(db)]
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
]
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
GEOJSON = "application/geo+json"


def _root(request: Request) -> str:
    """The configured public address (SHUIBAO_PUBLIC_URL), never the request's Host header: a forged Host would
    otherwise send a client following the links — with its api_key — to another server."""
    return request.app.state.settings.base_url


def _base(request: Request) -> str:
    return _root(request) + "/ogc"


def _key(request: Request) -> dict:
    """Carry an API key given in the query into the links, so a client following them stays authorised (the
    links point at the configured address only, see :func:`_root`)."""
    k = request.query_params.get("api_key")
    return {"api_key": k} if k else {}


def _link(href: str, rel: str, type_: str, title: str | None = None) -> dict:
    out = {"href": href, "rel": rel, "type": type_}
    if title:
        out["title"] = title
    return out


def _q(request: Request, **params) -> str:
    pairs = {k: v for k, v in params.items() if v is not None} | _key(request)
    return ("?" + urlencode(pairs)) if pairs else ""


@router.get("", summary="Landing page")
def landing(request: Request, who: Caller) -> dict:
    b = _base(request)
    return {"title": "水保 Shuibao — OGC API Features", "description": "Districts, watersheds, disturbance "
            "patches, projects and treatment patches of the soil and water conservation platform",
            "links": [_link(b + _q(request), "self", "application/json"),
                      _link(_root(request) + "/openapi.json", "service-desc",
                            "application/vnd.oai.openapi+json;version=3.0"),
                      _link(b + "/conformance" + _q(request), "conformance", "application/json"),
                      _link(b + "/collections" + _q(request), "data", "application/json")]}


@router.get("/conformance", summary="Conformance classes")
def conformance(who: Caller) -> dict:
    return {"conformsTo": CONFORMANCE}


def _collection(request: Request, database: str, c: fs.Collection) -> dict:
    b = _base(request) + f"/collections/{c.id}"
    bbox = fs.extent(database, c.id)
    out = {"id": c.id, "title": c.title, "description": c.description, "itemType": "feature", "crs": [CRS84],
           "links": [_link(b + _q(request), "self", "application/json"),
                     _link(b + "/items" + _q(request), "items", GEOJSON)]}
    if bbox:
        out["extent"] = {"spatial": {"bbox": [bbox], "crs": CRS84}}
    return out


@router.get("/collections", summary="Collections")
def collections(request: Request, who: Caller, database: Db) -> dict:
    return {"collections": [_collection(request, database, c) for c in fs.COLLECTIONS.values()
                            if auth.may_read(who, c.id)],  # an API key sees only its own collections
            "links": [_link(_base(request) + "/collections" + _q(request), "self", "application/json")]}


@router.get("/collections/{cid}", summary="One collection")
def collection(cid: str, request: Request, who: Caller, database: Db) -> dict:
    return _collection(request, database, fs.collection(cid))


@router.get("/collections/{cid}/items", summary="Features, filtered by bbox (CRS84), paged by limit/offset")
async def items(cid: str, request: Request, who: Caller, database: Db, bbox: str | None = None,
                limit: PageLimit = 100, offset: Offset = 0) -> JSONResponse:
    box = fs.parse_bbox(bbox)
    # async: the answer comes from the collection's in-memory index (a brief store read checks it is current),
    # so no thread hop; a rebuild after a change blocks this worker once
    page = fs.items(database, cid, bbox=box, limit=limit, offset=offset, encoded=True)
    b = _base(request) + f"/collections/{cid}/items"
    links = [_link(b + _q(request, bbox=bbox, limit=limit, offset=offset), "self", GEOJSON)]
    if offset + page["returned"] < page["matched"]:
        links.append(_link(b + _q(request, bbox=bbox, limit=limit, offset=offset + limit), "next", GEOJSON))
    if offset > 0:
        links.append(_link(b + _q(request, bbox=bbox, limit=limit, offset=max(offset - limit, 0)), "prev", GEOJSON))
    head = {"type": "FeatureCollection", "numberMatched": page["matched"], "numberReturned": page["returned"],
            "links": links}
    # the features come encoded from the collection's cache: splice them in rather than re-encoding them
    body = json.dumps(head, ensure_ascii=False).encode()[:-1] + b',"features":' + page["features"] + b"}"
    return Response(body, media_type=GEOJSON)


@router.get("/collections/{cid}/items/{fid}", summary="One feature")
def feature(cid: str, fid: RowId, who: Caller, database: Db) -> JSONResponse:
    return JSONResponse(fs.item(database, cid, fid), media_type=GEOJSON)
