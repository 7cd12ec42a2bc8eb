"""Engines and sessions: the application role for work, the owner role for migrations."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from vectra.db.tenancy import set_tenant
from vectra.db.urls import redacted, to_sqlalchemy


@dataclass(frozen=True)
class DatabaseUrls:
    """Where to connect: `owner` runs migrations; `app` (or owner + SET ROLE) does the work."""

    owner: str
    app: str | None = None
    app_role: str = "vectra_app"

    @property
    def uses_set_role(self) -> bool:
        return self.app is None


@dataclass
class Database:
    """The engines and session factory of one database."""

    urls: DatabaseUrls
    pool_size: int = 10
    _app_engine: Engine | None = field(default=None, init=False, repr=False)
    _owner_engine: Engine | None = field(default=None, init=False, repr=False)
    _sessions: sessionmaker[Session] | None = field(default=None, init=False, repr=False)

    @property
    def app_engine(self) -> Engine:
        if self._app_engine is None:
            url = self.urls.app or self.urls.owner
            engine = create_engine(
                to_sqlalchemy(url),
                pool_size=self.pool_size,
                max_overflow=self.pool_size,
                pool_pre_ping=True,
                connect_args={"options": "-c timezone=UTC"},
            )
            if self.urls.uses_set_role:
                role = self.urls.app_role

                @event.listens_for(engine, "connect")
                def _set_role(dbapi_conn: Any, _record: Any) -> None:
                    # The owner's login, but the work runs as the app role, so RLS applies.
                    with dbapi_conn.cursor() as cur:
                        cur.execute(f'SET ROLE "{role}"')
                    dbapi_conn.commit()

            self._app_engine = engine
        return self._app_engine

    @property
    def owner_engine(self) -> Engine:
        if self._owner_engine is None:
            self._owner_engine = create_engine(
                to_sqlalchemy(self.urls.owner),
                pool_pre_ping=True,
                connect_args={"options": "-c timezone=UTC"},
            )
        return self._owner_engine

    @property
    def sessions(self) -> sessionmaker[Session]:
        if self._sessions is None:
            self._sessions = sessionmaker(self.app_engine, expire_on_commit=False)
        return self._sessions

    @contextmanager
    def tenant_session(self, organization_id: UUID) -> Iterator[Session]:
        """A session that sees one organization's rows; commits on success."""
        with self.sessions() as session:
            set_tenant(session, organization_id)
            with session.begin():
                yield session

    @contextmanager
    def system_session(self) -> Iterator[Session]:
        """A session that may cross tenants (sign-up, login, webhooks, schedulers); commits."""
        with self.sessions() as session:
            set_tenant(session, None, system=True)
            with session.begin():
                yield session

    def describe(self) -> str:
        return redacted(self.urls.app or self.urls.owner)

    def dispose(self) -> None:
        for engine in (self._app_engine, self._owner_engine):
            if engine is not None:
                engine.dispose()
        self._app_engine = self._owner_engine = None
        self._sessions = None
