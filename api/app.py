"""FastAPI application: JSON under /api/v1, OpenAPI at /docs, maps under /maps.

`create_app` builds the application, binds it to one store and includes the routers (`api.routers`);
the routers reach the store and the settings through `api.deps`. Errors of the helixmap tree become
HTTP status codes in one handler.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from api import limits
from api.pages import install_docs
from api.pages import router as pages_router
from api.routers import maps, meta, networks, organisations, query, region_maps, regions
from ecosystem import __version__
from ecosystem.config import Settings
from ecosystem.domain.errors import (
    BadInputError,
    HelixmapError,
    NotFoundError,
    NotSupportedError,
    QueryRejectedError,
    StoreUnavailableError,
)
from ecosystem.store import GraphStore, open_store

STATUS: dict[type[HelixmapError], int] = {NotFoundError: 404, BadInputError: 422, QueryRejectedError: 400,
                                          NotSupportedError: 501, StoreUnavailableError: 503}
"""HTTP status of each kind of error; any other helixmap error answers 400."""

DESCRIPTION = ("Quadruple-helix collaboration networks (government, academia, industry, civil society) across "
               "cities and the countryside, from open data. Data: CORDIS © European Union (CC BY 4.0); "
               "NUTS © EuroGeographics, Eurostat/GISCO.")


def status_of(exc: HelixmapError) -> int:
    """The HTTP status of an error: that of its nearest kind in the error tree, else 400."""
    return next((STATUS[cls] for cls in type(exc).__mro__ if cls in STATUS), 400)


async def helixmap_error(request: Request, exc: Exception) -> JSONResponse:
    """One JSON body for every helixmap error: the message, and the field for bad input that names one."""
    assert isinstance(exc, HelixmapError)
    body: dict[str, Any] = {"detail": str(exc)}
    if isinstance(exc, BadInputError) and exc.field:
        body["field"] = exc.field
    return JSONResponse(status_code=status_of(exc), content=body)


def create_app(settings: Settings | None = None, store: GraphStore | None = None) -> FastAPI:
    """The API bound to one store (opened from `settings.store` unless given)."""
    settings = settings or Settings()
    app = FastAPI(title="helixmap API", version=__version__, description=DESCRIPTION, docs_url=None,
                  redoc_url=None)
    app.state.settings = settings
    app.state.store = store or open_store(settings.store, settings)
    app.add_exception_handler(HelixmapError, helixmap_error)
    limits.install(app)  # heavy routes: a few at once, then 503 + Retry-After; bounded worker threads
    for module in (meta, organisations, networks, regions, query, maps, region_maps):
        app.include_router(module.router)
    install_docs(app)
    app.include_router(pages_router)
    return app
