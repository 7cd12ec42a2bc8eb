"""Tables of the meetings domain (seed: meetings; availability, bookings, Calendly dedupe)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

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
    # Migration 024: the user who hosts the meeting (bookings and calendars are per user).
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class Availability(Base):
    """When one user takes meetings: weekly hours in their own IANA zone, plus limits."""

    __tablename__ = "meeting_availability"

    id: Mapped[uuid.UUID] = uuid_pk()
    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), unique=True
    )
    timezone: Mapped[str] = mapped_column(String(64))
    # {"mon": [["09:00", "12:00"], ["13:00", "17:00"]], ..., "sun": []}
    working_hours: Mapped[dict[str, Any]]
    buffer_minutes: Mapped[int] = mapped_column(server_default=text("0"))
    minimum_notice_minutes: Mapped[int] = mapped_column(server_default=text("240"))
    slot_minutes: Mapped[int] = mapped_column(server_default=text("30"))
    max_per_day: Mapped[int | None]
    created_at: Mapped[dt.datetime | None] = created_at()
    updated_at: Mapped[dt.datetime | None] = updated_at()


class Booking(Base):
    """A user's time taken by a meeting; an exclusion constraint forbids overlaps."""

    __tablename__ = "meeting_bookings"

    id: Mapped[uuid.UUID] = uuid_pk()
    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    meeting_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"), unique=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    lead_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    starts_at: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime]
    attendee_timezone: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(20))
    ics_uid: Mapped[str] = mapped_column(String(255))
    ics_sequence: Mapped[int] = mapped_column(server_default=text("0"))
    google_event_id: Mapped[str | None] = mapped_column(String(255))
    released_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime | None] = created_at()
    updated_at: Mapped[dt.datetime | None] = updated_at()


class CalendlyEventSeen(Base):
    """One row per processed Calendly delivery, so a replay changes nothing."""

    __tablename__ = "calendly_events_seen"

    id: Mapped[uuid.UUID] = uuid_pk()
    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    event_key: Mapped[str] = mapped_column(String(600))
    event_type: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[dt.datetime | None] = created_at()
