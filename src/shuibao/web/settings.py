"""Settings of the web platform, from the environment (prefix ``SHUIBAO_``)."""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..errors import Issues, Message, N_


@dataclass(frozen=True)
class Settings:
    db: str = "shuibao.gpkg"  # SHUIBAO_DB: a .gpkg path or a postgresql+psycopg:// URL
    host: str = "127.0.0.1"  # SHUIBAO_HOST
    port: int = 8000  # SHUIBAO_PORT
    session_hours: float = 12.0  # SHUIBAO_SESSION_HOURS
    max_upload_mb: float = 64.0  # SHUIBAO_MAX_UPLOAD_MB: larger uploads get 413
    secure_cookies: bool = False  # SHUIBAO_SECURE_COOKIES: set behind HTTPS
    language: str = "zh"  # SHUIBAO_LANGUAGE: zh or en, the UI's default
    preload: bool = True  # SHUIBAO_PRELOAD: build the map layers' indexes at start, not on the first request
    # SHUIBAO_PUBLIC_URL: the address people and other systems reach the platform at (e.g. https://swc.example.cn
    # behind a proxy); links in answers are built from it, never from the request's Host header.  Default: the
    # address the server listens on.
    public_url: str | None = None
    # SHUIBAO_TRUSTED_PROXIES: comma-separated addresses or networks (CIDR) of reverse proxies; only a request from
    # one of them has its client taken from X-Forwarded-For (else anyone could pose as any address).  Default none.
    trusted_proxies: str = ""
    # The base map under the layers (none by default: on a closed network the district outlines are the context).
    # SHUIBAO_BASEMAP_URL: an XYZ template of the bureau's own tile server, https://tiles.example/{z}/{x}/{y}.png
    # ({s}: one of SHUIBAO_BASEMAP_SUBDOMAINS); SHUIBAO_BASEMAP_LABELS_URL: an optional annotation layer above it.
    basemap_url: str | None = None
    basemap_labels_url: str | None = None
    basemap_subdomains: str = "abc"
    basemap_attribution: str = ""  # SHUIBAO_BASEMAP_ATTRIBUTION: shown in the map's corner
    # SHUIBAO_TIANDITU_KEY: 天地图's key; with it and no SHUIBAO_BASEMAP_URL the base map is 天地图's
    # (SHUIBAO_TIANDITU_LAYER: vec 矢量 or img 影像, each with its annotation layer cva/cia)
    tianditu_key: str | None = None
    tianditu_layer: str = "vec"

    def basemap(self) -> BaseMap | None:
        """The configured base map, or None."""
        return base_map(self)

    def proxies(self) -> tuple:
        """The trusted proxies as networks."""
        return trusted_networks(self.trusted_proxies)

    @classmethod
    def from_env(cls, env: dict | None = None, **overrides) -> Settings:
        env = os.environ if env is None else env
        values: dict = {}
        problems = Issues()
        for name, kind in (("db", str), ("host", str), ("port", int), ("session_hours", float),
                           ("max_upload_mb", float), ("secure_cookies", bool), ("language", str),
                           ("preload", bool), ("public_url", str), ("trusted_proxies", str),
                           ("basemap_url", str), ("basemap_labels_url", str), ("basemap_subdomains", str),
                           ("basemap_attribution", str), ("tianditu_key", str), ("tianditu_layer", str)):
            raw = env.get(f"SHUIBAO_{name.upper()}")
            if raw is None:
                continue
            try:
                values[name] = raw.lower() in ("1", "true", "yes", "on") if kind is bool else kind(raw)
            except ValueError:
                problems.add("", f"SHUIBAO_{name.upper()}={raw!r}", N_("expected {name}", name=kind.__name__))
        values.update({k: v for k, v in overrides.items() if v is not None})
        if values.get("language", "zh") not in ("zh", "en"):
            problems.add("", "SHUIBAO_LANGUAGE", N_("expected zh or en"))
        url = values.get("public_url")
        if url is not None:
            from urllib.parse import urlsplit

            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
                problems.add("", f"SHUIBAO_PUBLIC_URL={url!r}", N_("expected http(s)://host[:port][/path]"))
            else:
                values["public_url"] = url.rstrip("/")
        try:
            trusted_networks(values.get("trusted_proxies", ""))
        except ValueError as exc:
            problems.add("", "SHUIBAO_TRUSTED_PROXIES", N_("{exc} (expected addresses or networks like 10.0.0.0/8, "
                         "separated by commas)", exc=exc))
        for name in ("basemap_url", "basemap_labels_url"):
            why = _template_problem(values.get(name))
            if why:
                problems.add("", f"SHUIBAO_{name.upper()}={values[name]!r}", why)
        if values.get("tianditu_layer", "vec") not in TIANDITU_LAYERS:
            problems.add("", "SHUIBAO_TIANDITU_LAYER", N_("expected one of {choices}",
                                                          choices=", ".join(TIANDITU_LAYERS)))
        if not all(re.fullmatch(r"[A-Za-z0-9-]+", s) for s in _subdomains(values.get("basemap_subdomains", "abc"))):
            problems.add("", "SHUIBAO_BASEMAP_SUBDOMAINS", N_("expected host labels (letters, digits, -) separated by "
                         "commas, or one word whose letters are the subdomains (abc)"))
        key = values.get("tianditu_key")
        if key is not None and not re.fullmatch(r"[A-Za-z0-9]{8,64}", key):
            problems.add("", "SHUIBAO_TIANDITU_KEY", N_("expected the key Tianditu (天地图) issued: 8 to 64 letters "
                         "and digits"))
        problems.raise_if_any(N_("settings"))
        return cls(**values)

    @property
    def base_url(self) -> str:
        """Where links point: ``public_url``, else the listening address."""
        return self.public_url or f"http://{self.host}:{self.port}"


TIANDITU_LAYERS = {"vec": "cva", "img": "cia"}  # the base layer and its annotation (注记) layer
TIANDITU_HOSTS = tuple(f"t{i}.tianditu.gov.cn" for i in range(8))


@dataclass(frozen=True)
class TileLayer:
    """One XYZ layer of the base map as Leaflet reads it."""

    url: str
    subdomains: tuple[str, ...] = ()
    attribution: str = ""
    referrer_policy: str | None = None  # a tile service that checks the Referer gets the origin only


@dataclass(frozen=True)
class BaseMap:
    """The base map's layers (the base, then an optional annotation layer) and the origins its tiles come from
    (the only ones the Content-Security-Policy adds to ``img-src``)."""

    layers: tuple[TileLayer, ...]

    @property
    def origins(self) -> tuple[str, ...]:
        out: list[str] = []
        for layer in self.layers:
            for sub in layer.subdomains or ("",):
                parts = urlsplit(layer.url.replace("{s}", sub))
                origin = f"{parts.scheme}://{parts.netloc}"
                if origin not in out:
                    out.append(origin)
        return tuple(out)

    def as_json(self) -> dict:
        return {"layers": [{"url": t.url, "subdomains": list(t.subdomains), "attribution": t.attribution,
                            "referrerPolicy": t.referrer_policy} for t in self.layers]}


def _subdomains(text: str) -> tuple[str, ...]:
    text = (text or "").strip()
    return tuple(s.strip() for s in text.split(",") if s.strip()) if "," in text else tuple(text)


def _template_problem(url: str | None) -> Message | None:
    """Why ``url`` is not a usable XYZ template, or None."""
    if url is None:
        return None
    parts = urlsplit(url.replace("{s}", "a"))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return N_("expected an http(s) URL")
    if not all(f"{{{k}}}" in url for k in "zxy"):
        return N_("expected an XYZ template with {z}, {x} and {y}", z="{z}", x="{x}", y="{y}")
    if "{s}" in parts.path + parts.query:
        return N_("{s} belongs in the host name only", s="{s}")
    if re.search(r"""[\s'";<>]""", url):
        return N_("a tile URL has no spaces, quotes, semicolons or angle brackets")
    return None


def base_map(settings: Settings) -> BaseMap | None:
    """The bureau's tile server (SHUIBAO_BASEMAP_URL), else 天地图 with SHUIBAO_TIANDITU_KEY, else None."""
    if settings.basemap_url:
        subs = _subdomains(settings.basemap_subdomains)
        layers = [TileLayer(settings.basemap_url, subs if "{s}" in settings.basemap_url else (),
                            settings.basemap_attribution)]
        if settings.basemap_labels_url:
            layers.append(TileLayer(settings.basemap_labels_url,
                                    subs if "{s}" in settings.basemap_labels_url else ()))
        return BaseMap(tuple(layers))
    if settings.tianditu_key:
        attribution = settings.basemap_attribution or "天地图 © 国家地理信息公共服务平台"
        base, notes = settings.tianditu_layer, TIANDITU_LAYERS[settings.tianditu_layer]
        # 天地图's WMTS in Web Mercator (TILEMATRIXSET=w), asked tile by tile as Leaflet asks an XYZ layer
        wmts = ("https://t{s}.tianditu.gov.cn/%s_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=%s"
                "&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk="
                + settings.tianditu_key)
        subs = tuple(str(i) for i in range(8))
        return BaseMap((TileLayer(wmts % (base, base), subs, attribution, "origin"),
                        TileLayer(wmts % (notes, notes), subs, "", "origin")))
    return None


def trusted_networks(text: str) -> tuple:
    """``"10.0.0.1, 192.168.0.0/16"`` → ip networks (ValueError naming a bad entry)."""
    out = []
    for part in (text or "").split(","):
        if part.strip():
            try:
                out.append(ipaddress.ip_network(part.strip(), strict=False))
            except ValueError:
                raise ValueError(f"{part.strip()!r} is not an address or network") from None
    return tuple(out)
