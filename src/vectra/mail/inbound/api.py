"""The operators' inbox of replies. Thin: the rules live in `inbox` and `effects`."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from vectra.accounts.actor import Actor
from vectra.accounts.permissions import Permission
from vectra.mail.inbound import inbox
from vectra.mail.inbound.models import InboundMessage
from vectra.mail.inbound.schemas import ReplyDetail, ReplyPage, ReplyRead, ReplyUpdate
from vectra.web.auth import require
from vectra.web.deps import SessionDep

router = APIRouter(prefix="/api/v1/replies", tags=["replies"])


def _read(row: InboundMessage) -> ReplyRead:
    fields = {name: getattr(row, name, None) for name in ReplyRead.model_fields}
    return ReplyRead.model_validate(fields | {"handled": row.handled_at is not None})


def _detail(session: SessionDep, actor: Actor, row: InboundMessage) -> ReplyDetail:
    return ReplyDetail(
        **_read(row).model_dump(),
        body=row.body,
        details=row.details,
        effects=row.effects,
        thread=inbox.thread_of(session, actor, row),
    )


@router.get("", response_model=ReplyPage, summary="Replies received (filters, keyset pages)")
def list_replies(
    session: SessionDep,
    actor: Annotated[Actor, require(Permission.REPLIES_READ)],
    intent: str | None = None,
    campaign_id: uuid.UUID | None = None,
    handled: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> ReplyPage:
    page = inbox.list_replies(
        session,
        actor,
        intent=intent,
        campaign_id=campaign_id,
        handled=handled,
        cursor=cursor,
        limit=limit,
    )
    return ReplyPage(items=[_read(r) for r in page.items], next_cursor=page.next_cursor)


@router.get("/{reply_id}", response_model=ReplyDetail, summary="One reply with its thread")
def get_reply(
    reply_id: uuid.UUID,
    session: SessionDep,
    actor: Annotated[Actor, require(Permission.REPLIES_READ)],
) -> ReplyDetail:
    return _detail(session, actor, inbox.get_reply(session, actor, reply_id))


@router.patch("/{reply_id}", response_model=ReplyDetail, summary="Correct the intent, mark handled")
def update_reply(
    reply_id: uuid.UUID,
    body: ReplyUpdate,
    session: SessionDep,
    actor: Annotated[Actor, require(Permission.REPLIES_HANDLE)],
) -> ReplyDetail:
    return _detail(session, actor, inbox.update_reply(session, actor, reply_id, body))
