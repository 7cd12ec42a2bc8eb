"""Which database Vectra uses: DATABASE_URL when set, else the embedded server."""

from __future__ import annotations

import logging

from vectra.db.embedded import (
    DEFAULT_DATABASE,
    OWNER_ROLE,
    EmbeddedServer,
    ensure_database,
    ensure_roles,
    start_embedded_server,
)
from vectra.db.engine import DatabaseUrls
from vectra.settings import Settings, get_settings

log = logging.getLogger(__name__)

_embedded: EmbeddedServer | None = None


def embedded_server(settings: Settings) -> EmbeddedServer:
    """Start (once per process) the embedded server with its roles and database."""
    global _embedded
    if _embedded is None:
        log.info("starting embedded PostgreSQL in %s", settings.data_dir / "pgdata")
        server = start_embedded_server(settings.data_dir)
        ensure_roles(server, app_role=settings.app_role)
        ensure_database(server, DEFAULT_DATABASE, app_role=settings.app_role)
        _embedded = server
    return _embedded


def resolve_database_urls(settings: Settings | None = None) -> DatabaseUrls:
    """The owner and app URLs: from DATABASE_URL / DATABASE_APP_URL, or the embedded server."""
    settings = settings or get_settings()
    if settings.database_url:
        return DatabaseUrls(
            owner=settings.database_url, app=settings.database_app_url, app_role=settings.app_role
        )
    server = embedded_server(settings)
    return DatabaseUrls(
        owner=server.uri(user=OWNER_ROLE, database=DEFAULT_DATABASE),
        app=server.uri(user=settings.app_role, database=DEFAULT_DATABASE),
        app_role=settings.app_role,
    )
