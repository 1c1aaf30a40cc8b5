"""Settings of the web platform, from the environment (prefix ``SHUIBAO_``)."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass

from ..errors import Issues, N_


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
                           ("preload", bool), ("public_url", str), ("trusted_proxies", str)):
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
        problems.raise_if_any(N_("settings"))
        return cls(**values)

    @property
    def base_url(self) -> str:
        """Where links point: ``public_url``, else the listening address."""
        return self.public_url or f"http://{self.host}:{self.port}"


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
