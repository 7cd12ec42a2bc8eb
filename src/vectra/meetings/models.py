"""Tables of the meetings domain (seed: meetings)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from vectra.db.base import Base, created_at, updated_at, uuid_pk


class Meeting(Base):
    __tablename__ = "meetings"

    id: Mapped[uuid.UUID] = uuid_pk()
    lead_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    campaign_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE")
    )
    organization_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    scheduled_at: Mapped[dt.datetime]
    duration_minutes: Mapped[int | None] = mapped_column(server_default=text("30"))
    meeting_url: Mapped[str | None] = mapped_column(String(500))
    calendly_event_id: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str | None] = mapped_column(String(50), server_default=text("'scheduled'"))
    completed_at: Mapped[dt.datetime | None]
    no_show: Mapped[bool | None] = mapped_column(server_default=text("false"))
    notes: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[dt.datetime | None] = created_at()
    updated_at: Mapped[dt.datetime | None] = updated_at()
