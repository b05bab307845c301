"""FastAPI application: JSON under /api/v1, OpenAPI at /docs, maps under /maps.

`create_app` builds the application, binds it to one store and includes the routers (`api.routers`);
the routers reach the store and the settings through `api.deps`. Errors of the helixmap tree become
HTTP status codes in one handler, and every error answers with one model (`api/errors.py`).
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from fastapi import FastAPI

from api import limits
from api.errors import STATUS, BodyLimit, error_openapi, helixmap_error, install_error_handlers, status_of
from api.pages import install_docs
from api.pages import router as pages_router
from api.routers import maps, meta, networks, organisations, query, region_maps, regions
from api.routers import partners as idea_partners
from ecosystem import __version__
from ecosystem.config import Settings
from ecosystem.services import startup
from ecosystem.store import GraphStore, open_store

__all__ = ["DESCRIPTION", "STATUS", "create_app", "helixmap_error", "status_of"]

DESCRIPTION = ("Quadruple-helix collaboration networks (government, academia, industry, civil society) across "
               "cities and the countryside, from open data. Data: CORDIS © European Union (CC BY 4.0); "
               "NUTS © EuroGeographics, Eurostat/GISCO.")


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """At start, before the server answers, `ecosystem.services.startup.BEFORE_SERVING` is built in a worker
    thread (the partner finder's scoring index and what every atlas page reads: the first request costs no more
    than any other); then `IN_BACKGROUND` runs in a daemon thread while the server answers."""
    store = app.state.store
    await anyio.to_thread.run_sync(startup.run_steps, startup.BEFORE_SERVING, store)
    threading.Thread(target=startup.run_steps, args=(startup.IN_BACKGROUND, store), name=startup.BACKGROUND_THREAD,
                     daemon=True).start()
    yield


def create_app(settings: Settings | None = None, store: GraphStore | None = None) -> FastAPI:
    """The API bound to one store (opened from `settings.store` unless given)."""
    settings = settings or Settings()
    app = FastAPI(title="helixmap API", version=__version__, description=DESCRIPTION, docs_url=None,
                  redoc_url=None, lifespan=lifespan)
    app.state.settings = settings
    app.state.store = store or open_store(settings.store, settings)
    install_error_handlers(app)
    app.add_middleware(BodyLimit, max_bytes=settings.max_request_bytes)
    limits.install(app)  # heavy routes: a few at once, then 503 + Retry-After; bounded worker threads
    for module in (meta, organisations, idea_partners, networks, regions, query, maps, region_maps):
        app.include_router(module.router)
    install_docs(app)
    app.include_router(pages_router)
    app.openapi = error_openapi(app)  # type: ignore[method-assign]
    return app
