"""The FastAPI app factory: API under /api/v1, pages at /, OpenAPI at /docs."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

import vectra
from vectra.accounts.usage import api_usage_lifespan
from vectra.db.engine import Database
from vectra.web.errors import install_error_handlers
from vectra.web.health import router as health_router
from vectra.web.metrics import MetricsMiddleware
from vectra.web.metrics import router as metrics_router
from vectra.web.middleware import RequestIdMiddleware
from vectra.web.pages.deps import LoginRequired, login_redirect
from vectra.web.security import SecurityHeadersMiddleware

STATIC_DIR = Path(__file__).parent / "static"


def create_app(database: Database) -> FastAPI:
    """Build the app around one database; routers are thin and call domain services."""
    app = FastAPI(
        title="Vectra",
        version=vectra.__version__,
        description="The open AI SDR: find, qualify, write, send, follow up, book.",
        docs_url=None,  # served below from /static: no CDN
        redoc_url=None,
        openapi_url="/openapi.json",
        lifespan=api_usage_lifespan,
    )
    app.state.database = database
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(MetricsMiddleware)
    app.add_middleware(RequestIdMiddleware)
    from vectra.mail.api_public import TrackingFastPath

    # Outermost: open-pixel and click hits skip routing (see vectra.mail.api_public).
    app.add_middleware(TrackingFastPath)
    install_error_handlers(app)
    app.include_router(health_router)
    app.include_router(metrics_router)
    app.add_api_route("/docs", _docs, include_in_schema=False)
    for router in api_routers():
        app.include_router(router)
    for router in page_routers():
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    app.add_exception_handler(LoginRequired, _login_required)  # type: ignore[arg-type]
    return app


def _docs() -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="Vectra API",
        swagger_js_url="/static/vendor/swagger-ui-bundle.js",
        swagger_css_url="/static/vendor/swagger-ui.css",
        swagger_favicon_url="/static/app.css",
    )


def _login_required(_request: Request, exc: LoginRequired) -> Response:
    return login_redirect(exc)


def page_routers() -> list[APIRouter]:
    """The server-rendered pages; each domain's pages add their line here."""
    from vectra.meetings.pages import router as booking_pages
    from vectra.web.pages.approvals import router as approval_pages
    from vectra.web.pages.auth import router as auth_pages
    from vectra.web.pages.campaigns import router as campaign_pages
    from vectra.web.pages.dashboard import router as dashboard_pages
    from vectra.web.pages.imports import router as import_pages
    from vectra.web.pages.leads import router as lead_pages
    from vectra.web.pages.operations import router as operation_pages
    from vectra.web.pages.recovery import router as recovery_pages
    from vectra.web.pages.replies import router as reply_pages
    from vectra.web.pages.settings import router as settings_pages

    return [
        auth_pages,
        recovery_pages,
        dashboard_pages,
        campaign_pages,
        import_pages,  # before lead_pages: /leads/import is not a lead id
        lead_pages,
        approval_pages,
        reply_pages,
        operation_pages,
        settings_pages,
        booking_pages,
    ]


def api_routers() -> list[APIRouter]:
    """Every domain's router; each domain adds its own line here."""
    from vectra.accounts.api import router as accounts_router
    from vectra.agents.api import router as agents_router
    from vectra.billing.api import router as billing_router
    from vectra.campaigns.api import router as campaigns_router
    from vectra.integrations.api import router as integrations_router
    from vectra.leads.api import router as leads_router
    from vectra.mail.api import router as mail_router
    from vectra.mail.api_mailboxes import routers as mailbox_routers
    from vectra.mail.api_public import router as mail_public_router
    from vectra.mail.inbound.api import router as replies_router
    from vectra.meetings.api import router as meetings_router
    from vectra.privacy.api import router as privacy_router

    return [
        accounts_router,
        billing_router,
        mail_router,
        mail_public_router,
        replies_router,
        *mailbox_routers,
        campaigns_router,
        leads_router,
        meetings_router,
        integrations_router,
        privacy_router,
        agents_router,
    ]
