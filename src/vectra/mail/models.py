"""Tables of the mail domain (seed: emails; `organization_id` added by migration 014)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, String, Text, text
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
