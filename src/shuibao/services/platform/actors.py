"""Who acts when no web login says so: the command line's actor (``--actor``, ``SHUIBAO_ACTOR`` or the login name).

Every stored record and audit row names its actor; the web derives it from the session (:mod:`.auth`).
"""

from __future__ import annotations

import getpass
import os


def actor(name: str | None = None) -> str:
    """Who is acting: ``--actor``, else ``SHUIBAO_ACTOR``, else the login name."""
    who = name or os.environ.get("SHUIBAO_ACTOR")
    if not who:
        try:
            who = getpass.getuser()
        except (KeyError, OSError):
            who = "unknown"
    return who.strip()[:80]
