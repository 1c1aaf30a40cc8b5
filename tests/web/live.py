"""A real server for the browser tests: the app under uvicorn on a free port of 127.0.0.1, in a thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from tests.helpers import free_port


@contextmanager
def live_server(db: str, **settings) -> Iterator[str]:
    """``create_app(Settings(db=db, port=…, **settings))`` served until the block ends; yields its base URL."""
    import uvicorn

    from shuibao.web import Settings, create_app

    port = free_port()
    app = create_app(Settings(db=db, port=port, **settings))
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(200):
        if srv.started:
            break
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(5)
