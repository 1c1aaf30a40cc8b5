"""Response helpers shared by the routers."""

from __future__ import annotations

import re
from urllib.parse import quote


def attachment(name: str) -> dict[str, str]:
    """``Content-Disposition: attachment`` for any file name, Chinese included (RFC 6266 §4.3 with RFC 8187):
    an ASCII ``filename`` fallback for old clients and the exact name as ``filename*=UTF-8''…``.  Header
    values travel as latin-1, so a raw ``现场照片.jpg`` cannot go into ``filename="…"``."""
    name = name.replace("\r", " ").replace("\n", " ")
    fallback = re.sub(r'[^A-Za-z0-9._ -]', "_", name).strip() or "download"
    value = f'attachment; filename="{fallback}"'
    if fallback != name:
        value += f"; filename*=UTF-8''{quote(name, safe='')}"
    return {"Content-Disposition": value}
