"""Run a block function over windows of rows, in this process or on a dask.distributed cluster.

The function gets the window of every named raster and returns anything
picklable; results come back in window order on both paths, so a caller that
adds them up in that order gets the same bits either way.  On the dask path each
task reads its own windows from the files (nothing big travels to the workers);
in memory the windows are slices of arrays the caller already holds, or reads
of the files when it holds none.

Dask is optional (``pip install shuibao[dask]``); ``scheduler="local"`` starts a
``LocalCluster`` of ``workers`` single-threaded processes for the call, any other
value is the address of a running scheduler (``tcp://host:8786``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from rasterio.windows import Window

from ..errors import InputError, N_


@dataclass(frozen=True)
class Executor:
    engine: str = "memory"  # "memory" or "dask"
    scheduler: str = "local"
    workers: int = 2
    block_rows: int = 1024


def row_windows(n_rows: int, block_rows: int) -> list[tuple[int, int]]:
    return [(r, min(r + block_rows, n_rows)) for r in range(0, n_rows, block_rows)]


def read_window(path: Path | str, r0: int, r1: int) -> np.ndarray:
    with rasterio.open(path) as src:
        return src.read(1, window=Window(0, r0, src.width, r1 - r0))


def _task(fn: Callable, paths: Mapping[str, str], r0: int, r1: int, kwargs: dict) -> Any:
    blocks = {name: read_window(p, r0, r1) for name, p in paths.items()}
    return fn(**blocks, **kwargs)


class BlockRunner:
    """Maps block functions over windows of rows; on dask, one cluster serves every call until closed."""

    def __init__(self, executor: Executor):
        self.executor = executor
        self._client: Any = None  # distributed.Client, imported only when dask runs
        self._cluster: Any = None

    def __enter__(self) -> BlockRunner:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()
        self._client = self._cluster = None

    def _dask(self):
        if self._client is not None:
            return self._client
        try:
            from distributed import Client, LocalCluster
        except ImportError as exc:
            raise InputError(N_("[execution] engine = \"dask\" needs dask.distributed: pip install 'shuibao[dask]'")) \
                from exc
        ex = self.executor
        if ex.scheduler == "local":
            self._cluster = LocalCluster(n_workers=ex.workers, threads_per_worker=1, processes=True,
                                         dashboard_address=None)
            self._client = Client(self._cluster)
        else:
            try:
                self._client = Client(ex.scheduler, timeout="10s")
            except OSError as exc:
                raise InputError(N_("[execution] scheduler: cannot reach {scheduler!r} ({exc})", scheduler=ex.scheduler, exc=exc)) from exc
        return self._client

    def map(self, fn: Callable, n_rows: int, *, paths: Mapping[str, Path | str] | None = None,
            arrays: Mapping[str, np.ndarray] | None = None, **kwargs) -> list[Any]:
        """``[fn(**windows, **kwargs) for each window of rows]``, in window order.

        ``arrays`` (in memory) take precedence over ``paths`` on the memory path; the
        dask path always reads ``paths``, so every input must be a file there.
        """
        ex = self.executor
        windows = row_windows(n_rows, ex.block_rows)
        paths = {k: str(v) for k, v in (paths or {}).items()}
        if ex.engine == "memory":
            arrays = arrays or {}
            out = []
            for r0, r1 in windows:
                blocks = {k: a[r0:r1] for k, a in arrays.items()}
                blocks.update({k: read_window(p, r0, r1) for k, p in paths.items() if k not in blocks})
                out.append(fn(**blocks, **kwargs))
            return out
        if ex.engine != "dask":
            raise InputError(N_("[execution] engine: {engine!r} is not one of memory, dask", engine=ex.engine))
        client = self._dask()
        futures = [client.submit(_task, fn, paths, r0, r1, kwargs, pure=False) for r0, r1 in windows]
        return client.gather(futures)
