"""``create_app(settings)``: the FastAPI application."""

from __future__ import annotations

from fastapi import FastAPI

from .. import __version__
from . import errors
from .routers import api, ogc
from .settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    app = FastAPI(title="水保 Shuibao", version=__version__,
                  description="Soil and water conservation platform: monitoring, supervision, governance. "
                              "REST under /api, OGC API Features under /ogc.")
    app.state.settings = settings
    errors.install(app)
    app.include_router(api.router)
    app.include_router(ogc.router)

    @app.get("/healthz", include_in_schema=False)
    def health() -> dict:
        return {"ok": True, "version": __version__}

    return app
