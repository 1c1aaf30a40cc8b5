"""The web platform: ``create_app(settings)`` — a FastAPI application over the services layer.

No computation or SQL lives in a route: each handler parses the request, calls one service with the
caller's :class:`~shuibao.services.platform.auth.Principal`, and shapes the answer.  Errors map to statuses in
one table (:mod:`shuibao.web.errors`).
"""

from .app import create_app
from .settings import Settings

__all__ = ["Settings", "create_app"]
