"""Atomic file writes: a temporary name in the target folder, renamed onto the target on success.

Readers never see half a file, and a killed writer leaves only a hidden
``.name.*.tmp`` file that the next run removes (see :mod:`shuibao.io.steps`).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(path: Path | str, suffix: str = ".tmp") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` on success, remove it on any error."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:  # like mkstemp, but with mode 0o666 less the umask (mkstemp's 0o600 would survive the rename)
        tmp = str(path.parent / f".{path.name}.{secrets.token_hex(4)}{suffix}")
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            break
        except FileExistsError:
            continue
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:  # also on KeyboardInterrupt: leave nothing half-written
        for leftover in (tmp, tmp + "-journal", tmp + "-wal", tmp + "-shm"):  # sqlite side files (GeoPackage)
            if os.path.exists(leftover):
                os.unlink(leftover)
        raise
