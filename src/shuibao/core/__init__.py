"""Pure array kernels (numpy, numba, scipy): no files, databases, web or logging set-up.

Numba compiles the kernels on first use and caches the machine code
(``cache=True``).  The cache lives beside the modules; when that folder is
read-only (a system-wide install) it goes to ``~/.cache/shuibao/numba``
unless ``NUMBA_CACHE_DIR`` says otherwise.
"""

from __future__ import annotations

import os
from pathlib import Path

if "NUMBA_CACHE_DIR" not in os.environ and not os.access(Path(__file__).parent, os.W_OK):
    os.environ["NUMBA_CACHE_DIR"] = str(Path.home() / ".cache" / "shuibao" / "numba")
