"""Reading the supervision data files (TOML): the user's file or the packaged one, and the header
every one of them carries (version, source, verified, note)."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

from ..errors import ReferenceDataError


def read_toml(path: Path | str | None, default: str, package: str = "shuibao.supervision") -> tuple[Path, dict]:
    """The user's file if given, else ``default`` in ``package``'s data folder; ReferenceDataError if unreadable."""
    p = Path(str(resources.files(package) / "data" / default)) if path is None else Path(path)
    try:
        return p, tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ReferenceDataError(f"{p}: reference data file not found") from exc
    except UnicodeDecodeError as exc:
        raise ReferenceDataError(f"{p}: not UTF-8 text ({exc})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ReferenceDataError(f"{p}: not valid TOML: {exc}") from exc
    except OSError as exc:
        raise ReferenceDataError(f"{p}: cannot be read ({exc})") from exc


def header(doc: dict, problems: list[str]) -> tuple[str, str, bool, str]:
    """version, source, verified, note: the fields every supervision data file carries."""
    out = []
    for key in ("version", "source"):
        value = doc.get(key)
        if not isinstance(value, str) or not value.strip():
            problems.append(f"{key}: required, a non-empty string (found {value!r})")
            value = ""
        out.append(value.strip())
    verified, note = doc.get("verified", True), doc.get("note", "")
    if not isinstance(verified, bool):
        problems.append(f"verified: expected true or false, found {verified!r}")
        verified = False
    if not isinstance(note, str):
        problems.append(f"note: expected a string, found {note!r}")
        note = ""
    if verified is False and not note.strip():
        problems.append("note: required when verified = false (say what is unverified and why)")
    return out[0], out[1], verified, note.strip()
