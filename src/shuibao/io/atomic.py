"""Atomic file writes: a temporary name in the target folder, renamed onto the target on success.

Readers never see half a file, and a killed writer leaves only a hidden
``.name.*.tmp`` file that the next run removes (see :mod:`shuibao.io.steps`).
"""

from __future__ import annotations

import errno
import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import DiskFullError, ShuibaoError, N_


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
    except BaseException as exc:  # also on KeyboardInterrupt: leave nothing half-written
        full = isinstance(exc, Exception) and not isinstance(exc, ShuibaoError) and disk_full(exc, path.parent)
        for leftover in (tmp, tmp + "-journal", tmp + "-wal", tmp + "-shm"):  # sqlite side files (GeoPackage)
            if os.path.exists(leftover):
                os.unlink(leftover)
        if full:
            raise DiskFullError(N_("{parent}: disk full while writing {name} (no space left on device); "
                                "free space there, or choose another output folder, and run again — finished "
                                "files are kept and nothing was half-written", parent=path.parent, name=path.name)) from exc
        raise


FULL_BYTES = 1 << 20
"""Free space below which a failed write is put down to a full disk: GDAL reports a full disk as whatever
TIFF or SQLite step failed (``TIFFRewriteDirectory:Error fetching directory count``), not as ENOSPC, and a
write fails within one block (≤ 1 MiB here) of the end."""
FULL_MARKERS = ("no space left on device", "disk is full", "disk full")


def disk_full(exc: BaseException, folder: Path) -> bool:
    """Whether ``exc`` (or an error it came from) is a full disk or quota, or ``folder``'s disk has no room."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if any(marker in str(seen).lower() for marker in FULL_MARKERS):
            return True
        seen = seen.__cause__ or seen.__context__
    try:
        return shutil.disk_usage(folder).free < FULL_BYTES
    except OSError:
        return False
