"""Tables of the mail domain (seed: emails; `organization_id` added by migration 014)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from vectra.db.base import Base, created_at, updated_at, uuid_pk


class Email(Base):
    __tablename__ = "emails"

    id: Mapped[uuid.UUID] = uuid_pk()
    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    lead_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    campaign_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE")
    )
    subject: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str | None] = mapped_column(String(50), server_default=text("'pending'"))
    approved_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[dt.datetime | None]
    sent_at: Mapped[dt.datetime | None]
    delivered_at: Mapped[dt.datetime | None]
    opened_at: Mapped[dt.datetime | None]
    open_count: Mapped[int | None] = mapped_column(server_default=text("0"))
    clicked_at: Mapped[dt.datetime | None]
    click_count: Mapped[int | None] = mapped_column(server_default=text("0"))
    replied_at: Mapped[dt.datetime | None]
    bounced_at: Mapped[dt.datetime | None]
    bounce_type: Mapped[str | None] = mapped_column(String(50))
    created_at: Mapped[dt.datetime | None] = created_at()
    updated_at: Mapped[dt.datetime | None] = updated_at()
    # Migration 020 (drafts and tracking; vectra.mail.compose / approval / tracking).
    sequence_step: Mapped[int | None]
    delay_days: Mapped[int | None]
    variant: Mapped[str | None] = mapped_column(String(50))
    body_html: Mapped[str | None] = mapped_column(Text)
    review_flags: Mapped[list[Any]] = mapped_column(server_default=text("'[]'"), default=list)
    needs_review: Mapped[bool] = mapped_column(server_default=text("true"), default=True)
    personalization: Mapped[dict[str, Any]] = mapped_column(
        server_default=text("'{}'"), default=dict
    )
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    scheduled_for: Mapped[dt.datetime | None]
    machine_open_count: Mapped[int] = mapped_column(server_default=text("0"), default=0)
    machine_click_count: Mapped[int] = mapped_column(server_default=text("0"), default=0)


class EmailEvent(Base):
    """One open, click, delivery, bounce, complaint, unsubscribe or reply of one email."""

    __tablename__ = "email_events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    email_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("emails.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    occurred_at: Mapped[dt.datetime] = mapped_column(server_default=text("now()"))
    machine: Mapped[bool] = mapped_column(server_default=text("false"), default=False)
    machine_reason: Mapped[str | None] = mapped_column(String(50))
    method: Mapped[str | None] = mapped_column(String(10))
    url: Mapped[str | None] = mapped_column(Text)
    user_agent: Mapped[str | None] = mapped_column(String(500))
    ip: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'"), default=dict)
