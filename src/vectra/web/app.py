"""The FastAPI app factory: API under /api/v1, pages at /, OpenAPI at /docs."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

import vectra
from vectra.db.engine import Database
from vectra.web.errors import install_error_handlers
from vectra.web.health import router as health_router
from vectra.web.middleware import RequestIdMiddleware


def create_app(database: Database) -> FastAPI:
    """Build the app around one database; routers are thin and call domain services."""
    app = FastAPI(
        title="Vectra",
        version=vectra.__version__,
        description="The open AI SDR: find, qualify, write, send, follow up, book.",
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    app.state.database = database
    app.add_middleware(RequestIdMiddleware)
    install_error_handlers(app)
    app.include_router(health_router)
    for router in api_routers():
        app.include_router(router)
    return app


def api_routers() -> list[APIRouter]:
    """Every domain's router; each domain adds its own line here."""
    from vectra.accounts.api import router as accounts_router

    return [
        accounts_router,
    ]
