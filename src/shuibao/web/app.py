"""``create_app(settings)``: the FastAPI application."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from .. import __version__
from ..errors import ShuibaoError
from ..io import formats
from shuibao.services.platform import features
from . import errors
from .access import RequestLog
from .routers import admin, api, ogc, tiles, ui
from .security import BrowserGuard
from .settings import Settings
from .uploads import UploadGuard

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    formats.disable_network()  # no GDAL network access from the server's process (io/formats.py)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if settings.preload:
            try:
                features.preload(settings.db)
            except ShuibaoError as exc:  # the store answers each request with its own error (503)
                log.warning("map layers not preloaded: %s", exc)
        yield

    app = FastAPI(title="水保 Shuibao", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Soil and water conservation platform: monitoring, supervision, governance. "
                              "REST under /api, OGC API Features under /ogc.")
    app.state.settings = settings
    errors.install(app)
    app.add_middleware(UploadGuard)
    app.add_middleware(BrowserGuard, settings=settings)  # before the body reader: forged writes are never read
    app.add_middleware(RequestLog, settings=settings)  # outermost: ids and the access log cover every answer
    app.include_router(api.router)
    app.include_router(admin.router)
    app.include_router(ogc.router)
    tile_router, tile_deps = tiles.make_router()
    app.include_router(tile_router, prefix="/tiles", tags=["Tiles"], dependencies=tile_deps)
    app.include_router(ui.router)
    app.mount("/static", StaticFiles(directory=str(Path(str(resources.files("shuibao.web") / "static")))),
              name="static")

    @app.get("/healthz", include_in_schema=False)
    def health() -> dict:
        return {"ok": True, "version": __version__}

    return app
