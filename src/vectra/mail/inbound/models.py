"""Tables of inbound mail (migration 030): every received message, raw first."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import ForeignKey, LargeBinary, String, Text, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from vectra.db.base import Base, uuid_pk


class InboundMessage(Base):
    """One received message: raw bytes, what it was read as, and what was done about it.

    `organization_id` is NULL only before processing or when no tenant could be found
    (quarantined / unparseable): such rows are visible in system context only.
    """

    __tablename__ = "inbound_messages"

    id: Mapped[uuid.UUID] = uuid_pk()
    organization_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    state: Mapped[str] = mapped_column(String(20), server_default=text("'received'"))
    source: Mapped[str] = mapped_column(String(10))
    mail_from: Mapped[str | None] = mapped_column(Text)
    rcpt_to: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    mailbox_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("mailboxes.id", ondelete="SET NULL")
    )
    raw: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    raw_size: Mapped[int]
    dedupe_key: Mapped[str | None] = mapped_column(String(1000))
    message_id: Mapped[str | None] = mapped_column(String(998))
    kind: Mapped[str | None] = mapped_column(String(20))
    bounce_type: Mapped[str | None] = mapped_column(String(10))
    dsn_status: Mapped[str | None] = mapped_column(String(20))
    recipient: Mapped[str | None] = mapped_column(String(320))
    sender: Mapped[str | None] = mapped_column(Text)
    subject: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str | None] = mapped_column(Text)
    intent: Mapped[str | None] = mapped_column(String(30))
    intent_confidence: Mapped[float | None]
    intent_source: Mapped[str | None] = mapped_column(String(20))
    return_on: Mapped[dt.date | None]
    details: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'"), default=dict)
    email_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("emails.id", ondelete="SET NULL"))
    lead_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("leads.id", ondelete="SET NULL"))
    campaign_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="SET NULL")
    )
    duplicate_of: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("inbound_messages.id", ondelete="SET NULL")
    )
    error: Mapped[str | None] = mapped_column(Text)
    effects: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'"), default=dict)
    handled_at: Mapped[dt.datetime | None]
    handled_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    received_at: Mapped[dt.datetime] = mapped_column(server_default=text("NOW()"))
    processed_at: Mapped[dt.datetime | None]
