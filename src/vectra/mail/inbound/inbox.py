"""The operators' inbox: processed replies of the organization, their threads, corrections."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, literal_column, select
from sqlalchemy.orm import Session

from vectra.accounts.actor import Actor
from vectra.db.base import utcnow
from vectra.db.pagination import Page, paginate
from vectra.errors import InvalidInput, NotFound
from vectra.mail.inbound import effects
from vectra.mail.inbound.intent import INTENTS
from vectra.mail.inbound.models import InboundMessage
from vectra.mail.inbound.schemas import ReplyUpdate, ThreadItem
from vectra.mail.models import Email


def _replies(actor: Actor) -> Select[Any]:
    """Every inbox query starts here: the organization's processed replies."""
    return select(InboundMessage).where(
        InboundMessage.organization_id == actor.organization_id,
        InboundMessage.kind == "reply",
        InboundMessage.state == "processed",
    )


def _intent(value: str, *, field: str = "intent") -> str:
    if value not in INTENTS:
        raise InvalidInput(f"Unknown intent '{value}'; one of: {', '.join(INTENTS)}.", field=field)
    return value


def list_replies(
    session: Session,
    actor: Actor,
    *,
    intent: str | None = None,
    campaign_id: uuid.UUID | None = None,
    handled: bool | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[InboundMessage]:
    """Newest first; filter by intent, campaign, handled."""
    statement = _replies(actor)
    if intent is not None:
        statement = statement.where(InboundMessage.intent == _intent(intent))
    if campaign_id is not None:
        statement = statement.where(InboundMessage.campaign_id == campaign_id)
    if handled is not None:
        statement = statement.where(
            InboundMessage.handled_at.is_not(None)
            if handled
            else InboundMessage.handled_at.is_(None)
        )
    return paginate(
        statement,
        execute=lambda s: session.scalars(s).all(),
        sort=InboundMessage.received_at,
        id_column=InboundMessage.id,
        cursor=cursor,
        limit=limit,
    )


def get_reply(session: Session, actor: Actor, reply_id: uuid.UUID) -> InboundMessage:
    """One reply of the organization (another tenant's id is a 404)."""
    row = session.scalar(_replies(actor).where(InboundMessage.id == reply_id))
    if row is None:
        raise NotFound("Reply not found.")
    return row


def thread_of(session: Session, actor: Actor, row: InboundMessage) -> list[ThreadItem]:
    """Our sent emails to the lead and the replies received from them, in time order."""
    if row.lead_id is None:
        return [
            ThreadItem(
                direction="received",
                id=row.id,
                at=row.received_at,
                subject=row.subject,
                text=row.body,
                message_id=row.message_id,
            )
        ]
    sent: Any = session.execute(
        select(Email, literal_column("emails.message_id")).where(
            Email.organization_id == actor.organization_id,
            Email.lead_id == row.lead_id,
            Email.sent_at.is_not(None),
        )
    ).all()  # message_id is the sending engine's column (migration 022), not mapped
    received = session.scalars(_replies(actor).where(InboundMessage.lead_id == row.lead_id)).all()
    items = [
        ThreadItem(
            direction="sent", id=e.id, at=e.sent_at, subject=e.subject, text=e.body, message_id=mid
        )
        for e, mid in sent
    ] + [
        ThreadItem(
            direction="received",
            id=r.id,
            at=r.received_at,
            subject=r.subject,
            text=r.body,
            message_id=r.message_id,
        )
        for r in received
    ]
    return sorted(items, key=lambda i: (i.at is None, i.at))


def update_reply(
    session: Session, actor: Actor, reply_id: uuid.UUID, data: ReplyUpdate
) -> InboundMessage:
    """Correct the intent (its effects re-applied idempotently) and/or mark it handled."""
    row = get_reply(session, actor, reply_id)
    if data.intent is not None and data.intent != row.intent:
        effects.correct_intent(session, actor, row, _intent(data.intent))
    if data.handled is not None:
        row.handled_at = (row.handled_at or utcnow()) if data.handled else None
        row.handled_by = actor.user_id if data.handled else None
    session.flush()
    return row


def unsubscribe_lead(session: Session, actor: Actor, reply_id: uuid.UUID) -> InboundMessage:
    """Stop contacting the reply's lead: suppress the address, stop the sequence, close it."""
    row = get_reply(session, actor, reply_id)
    effects.opt_out(session, actor, row)
    return row
