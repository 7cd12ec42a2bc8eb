"""Row-level security, the second wall: each transaction says whose rows it may see.

Services scope every query by `organization_id` themselves; underneath, PostgreSQL's RLS
policies (migration 014) admit only rows of `app.organization_id`, or all rows when
`app.system` is on (sign-up, login by email, webhooks and schedulers that cross tenants).
The settings are transaction-local (`set_config(..., true)`), re-applied at each begin,
so a pooled connection never carries one tenant's context into another's request.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, event
from sqlalchemy.orm import Session, SessionTransaction

ORGANIZATION = "vectra.organization_id"
SYSTEM = "vectra.system"


def _apply(connection: Connection, organization_id: UUID | None, system: bool) -> None:
    connection.exec_driver_sql(
        "SELECT set_config('app.organization_id', %s, true), set_config('app.system', %s, true)",
        (str(organization_id) if organization_id else "", "on" if system else "off"),
    )


@event.listens_for(Session, "after_begin")
def _apply_on_begin(session: Session, _tx: SessionTransaction, connection: Connection) -> None:
    _apply(connection, session.info.get(ORGANIZATION), bool(session.info.get(SYSTEM)))


def set_tenant(session: Session, organization_id: UUID | None, *, system: bool = False) -> None:
    """Scope `session` to one organization (or to none, with `system=True`)."""
    session.info[ORGANIZATION] = organization_id
    session.info[SYSTEM] = system
    if session.in_transaction():
        _apply(session.connection(), organization_id, system)


def current_tenant(session: Session) -> UUID | None:
    value: Any = session.info.get(ORGANIZATION)
    return value


@contextmanager
def as_system(session: Session) -> Iterator[Session]:
    """Temporarily lift the tenant wall on `session` (restored afterwards)."""
    previous = (session.info.get(ORGANIZATION), bool(session.info.get(SYSTEM)))
    set_tenant(session, previous[0], system=True)
    try:
        yield session
    finally:
        set_tenant(session, previous[0], system=previous[1])


@contextmanager
def as_tenant(session: Session, organization_id: UUID) -> Iterator[Session]:
    """Temporarily scope `session` to `organization_id` (restored afterwards)."""
    previous = (session.info.get(ORGANIZATION), bool(session.info.get(SYSTEM)))
    set_tenant(session, organization_id)
    try:
        yield session
    finally:
        set_tenant(session, previous[0], system=previous[1])
