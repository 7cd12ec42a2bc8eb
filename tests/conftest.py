"""The test harness: real PostgreSQL (the embedded server), never a mock.

- one embedded server per test session (shared by the xdist workers, stopped by the last);
- a migrated template database, made once per session;
- a clone of it per worker; each test runs in a transaction rolled back at the end;
- `committed_database` gives a fresh clone to tests that need real commits (jobs, races).
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from email import policy as email_policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import fasteners
import psycopg
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from sqlalchemy.orm import Session

from vectra.db import migrate
from vectra.db.embedded import (
    DEFAULT_DATABASE,
    OWNER_ROLE,
    EmbeddedServer,
    clone_database,
    drop_database,
    ensure_database,
    ensure_roles,
    start_embedded_server,
)
from vectra.db.engine import Database, DatabaseUrls
from vectra.db.tenancy import SYSTEM, current_tenant, set_tenant
from vectra.web.app import create_app
from vectra.web.deps import get_session

# Property tests keep their example counts; wall-clock checks (per-example deadline, "input
# generation too slow") only measure how loaded the 2-core CI box is, so they are off.
settings.register_profile("vectra", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("vectra")

APP_ROLE = "vectra_app"

# A fixed key for the whole run (tokens, vault); set before any settings are read.
os.environ.setdefault("VECTRA_SECRET_KEY", "test-secret-key-not-for-production-0123456789")
TEMPLATE = "vectra_template"


def _run_root(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    base = tmp_path_factory.getbasetemp()
    return base.parent if worker_id != "master" else base


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> EmbeddedServer:
    root = _run_root(tmp_path_factory, worker_id)
    server = start_embedded_server(root / "pg")
    with fasteners.InterProcessLock(str(root / "template.lock")):
        ensure_roles(server, app_role=APP_ROLE)
        with psycopg.connect(server.superuser_uri, autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (TEMPLATE,)
            ).fetchone()
        if not exists:
            ensure_database(server, TEMPLATE, app_role=APP_ROLE)
            database = urls_for(server, TEMPLATE)
            migrate.upgrade(database)
            database.dispose()
    return server


def urls_for(server: EmbeddedServer, name: str) -> Database:
    return Database(
        DatabaseUrls(
            owner=server.uri(user=OWNER_ROLE, database=name),
            app=server.uri(user=APP_ROLE, database=name),
            app_role=APP_ROLE,
        ),
        pool_size=5,
    )


@pytest.fixture(scope="session")
def database(pg_server: EmbeddedServer, worker_id: str) -> Iterator[Database]:
    """This worker's clone of the migrated template."""
    name = f"vectra_test_{worker_id}_{os.getpid()}"
    drop_database(pg_server, name)
    clone_database(pg_server, TEMPLATE, name)
    db = urls_for(pg_server, name)
    yield db
    db.dispose()
    drop_database(pg_server, name)


@pytest.fixture
def committed_database(pg_server: EmbeddedServer) -> Iterator[Database]:
    """A fresh clone for one test that needs real commits (jobs, concurrency)."""
    name = f"vectra_c_{uuid.uuid4().hex[:12]}"
    clone_database(pg_server, TEMPLATE, name)
    db = urls_for(pg_server, name)
    yield db
    db.dispose()
    drop_database(pg_server, name)


@pytest.fixture
def session(database: Database) -> Iterator[Session]:
    """A system-context session inside a transaction rolled back after the test."""
    connection = database.app_engine.connect()
    transaction = connection.begin()
    db_session = Session(bind=connection, join_transaction_mode="create_savepoint")
    set_tenant(db_session, None, system=True)
    try:
        yield db_session
    finally:
        db_session.close()
        transaction.rollback()
        connection.close()


@pytest.fixture
def app(database: Database, session: Session):  # type: ignore[no-untyped-def]
    """The web app, its request sessions joined to the test's rolled-back transaction."""
    application = create_app(database)
    connection = session.connection()

    def _session() -> Iterator[Session]:
        request_session = Session(bind=connection, join_transaction_mode="create_savepoint")
        try:
            yield request_session
            request_session.commit()
        except BaseException:
            request_session.rollback()
            raise
        finally:
            request_session.close()
            # The request set its own tenant for the shared transaction; give the test's back.
            set_tenant(session, current_tenant(session), system=bool(session.info.get(SYSTEM)))

    application.dependency_overrides[get_session] = _session
    return application


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def smtp_sink(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[EmailMessage]]:
    """A real local SMTP server (aiosmtpd) that the app's system mail is pointed at.

    Yields the list of messages received so far (parsed `EmailMessage`s).
    """
    from aiosmtpd.controller import Controller

    from vectra.settings import get_settings

    received: list[EmailMessage] = []

    class _Capture:
        async def handle_DATA(self, _server: object, _session: object, envelope: Any) -> str:
            parser = BytesParser(policy=email_policy.default)
            received.append(parser.parsebytes(bytes(envelope.content)))  # type: ignore[arg-type]
            return "250 OK"

    with socket.socket() as probe:  # aiosmtpd's Controller cannot start on port 0
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(_Capture(), hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("VECTRA_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("VECTRA_SMTP_PORT", str(port))
    monkeypatch.setenv("VECTRA_SMTP_SECURITY", "none")
    monkeypatch.setenv("VECTRA_SMTP_FROM", "Vectra <no-reply@vectra.test>")
    get_settings.cache_clear()
    try:
        yield received
    finally:
        controller.stop()
        monkeypatch.undo()
        get_settings.cache_clear()


__all__ = ["DEFAULT_DATABASE"]
