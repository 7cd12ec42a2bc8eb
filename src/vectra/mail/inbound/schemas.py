"""Inbox API shapes: replies for operators, with the thread they belong to."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from vectra.mail.inbound.intent import INTENTS
from vectra.utc import UtcDateTime


class ReplyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    received_at: UtcDateTime
    source: str
    sender: str | None
    subject: str | None
    intent: str | None
    intent_confidence: float | None
    intent_source: str | None
    return_on: dt.date | None
    email_id: uuid.UUID | None
    lead_id: uuid.UUID | None
    campaign_id: uuid.UUID | None
    handled: bool
    handled_at: UtcDateTime | None


class ThreadItem(BaseModel):
    direction: str  # "sent" or "received"
    id: uuid.UUID
    at: UtcDateTime | None
    subject: str | None
    text: str | None
    message_id: str | None


class ReplyDetail(ReplyRead):
    body: str | None  # the reply's own words: quotes and signature stripped
    details: dict[str, Any]
    effects: dict[str, Any]
    thread: list[ThreadItem]


class ReplyPage(BaseModel):
    items: list[ReplyRead]
    next_cursor: str | None


class ReplyUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    intent: str | None = Field(default=None, description=f"One of: {', '.join(sorted(INTENTS))}")
    handled: bool | None = None
