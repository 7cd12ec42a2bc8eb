"""The audit log: who did what to which object, when, from which IP.

Every domain calls `record(session, actor, action, object_type=..., object_id=...)` in the
same transaction as the change it describes, so the log holds exactly what was committed.
"""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from vectra.accounts.actor import Actor
from vectra.accounts.models import AuditEvent
from vectra.db.base import utcnow
from vectra.db.tenancy import as_system
from vectra.errors import InvalidInput

MAX_PAGE = 200


def record(
    session: Session,
    actor: Actor,
    action: str,
    *,
    object_type: str | None,
    object_id: uuid.UUID | str | None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event for the actor's organization (flushed with the caller's work)."""
    event = AuditEvent(
        organization_id=actor.organization_id,
        occurred_at=utcnow(),
        actor_user_id=actor.user_id,
        actor_api_key_id=actor.api_key_id,
        action=action,
        object_type=object_type,
        object_id=str(object_id) if object_id is not None else None,
        ip=actor.ip,
        details=details or {},
    )
    # Sign-up and sign-in write before the request has a tenant; the row names its own.
    with as_system(session):
        session.add(event)
        session.flush()
    return event


@dataclass(frozen=True)
class AuditFilter:
    action: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    actor_user_id: uuid.UUID | None = None
    actor_api_key_id: uuid.UUID | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None


@dataclass(frozen=True)
class AuditPage:
    items: list[AuditEvent]
    next_cursor: str | None


def encode_cursor(event: AuditEvent) -> str:
    raw = f"{event.occurred_at.isoformat()}|{event.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[dt.datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        when, _, event_id = raw.partition("|")
        return dt.datetime.fromisoformat(when), uuid.UUID(event_id)
    except ValueError as exc:
        raise InvalidInput("Not a cursor this API returned.", field="cursor") from exc


def list_events(
    session: Session,
    actor: Actor,
    *,
    filters: AuditFilter,
    limit: int = 50,
    cursor: str | None = None,
) -> AuditPage:
    """The organization's events, newest first, by keyset pagination on (occurred_at, id)."""
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}.", field="limit")
    query = select(AuditEvent).where(AuditEvent.organization_id == actor.organization_id)
    if filters.action:
        # "user." matches every user event; "user.role_changed" only that one.
        if filters.action.endswith("."):
            query = query.where(AuditEvent.action.startswith(filters.action, autoescape=True))
        else:
            query = query.where(AuditEvent.action == filters.action)
    if filters.object_type:
        query = query.where(AuditEvent.object_type == filters.object_type)
    if filters.object_id:
        query = query.where(AuditEvent.object_id == filters.object_id)
    if filters.actor_user_id:
        query = query.where(AuditEvent.actor_user_id == filters.actor_user_id)
    if filters.actor_api_key_id:
        query = query.where(AuditEvent.actor_api_key_id == filters.actor_api_key_id)
    if filters.since:
        query = query.where(AuditEvent.occurred_at >= filters.since)
    if filters.until:
        query = query.where(AuditEvent.occurred_at < filters.until)
    if cursor:
        when, event_id = decode_cursor(cursor)
        query = query.where(
            or_(
                AuditEvent.occurred_at < when,
                and_(AuditEvent.occurred_at == when, AuditEvent.id < event_id),
            )
        )
    rows = list(
        session.scalars(
            query.order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc()).limit(limit + 1)
        )
    )
    more = len(rows) > limit
    items = rows[:limit]
    return AuditPage(items=items, next_cursor=encode_cursor(items[-1]) if more else None)
