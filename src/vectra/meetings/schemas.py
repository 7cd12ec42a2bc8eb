"""Pydantic I/O of the meetings API."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from vectra.utc import UtcDateTime


class MeetingRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    lead_id: uuid.UUID | None
    campaign_id: uuid.UUID | None
    user_id: uuid.UUID | None
    scheduled_at: UtcDateTime
    duration_minutes: int | None
    meeting_url: str | None
    calendly_event_id: str | None
    status: str | None
    completed_at: UtcDateTime | None
    no_show: bool | None
    notes: str | None
    outcome: str | None
    created_at: UtcDateTime | None
    updated_at: UtcDateTime | None


class MeetingPage(BaseModel):
    items: list[MeetingRead]
    next_cursor: str | None


class MeetingUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["scheduled", "confirmed", "completed", "canceled", "no_show"] | None = None
    outcome: str | None = Field(default=None, max_length=100)
    notes: str | None = Field(default=None, max_length=20_000)
    no_show: bool | None = None


class AvailabilityBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    timezone: str = Field(max_length=64)
    working_hours: dict[str, list[list[str]]]
    buffer_minutes: int = Field(default=0, ge=0, le=240)
    minimum_notice_minutes: int = Field(default=240, ge=0, le=43_200)
    slot_minutes: int = Field(default=30, ge=5, le=480)
    max_per_day: int | None = Field(default=None, ge=1, le=100)


class AvailabilityRead(AvailabilityBody):
    user_id: uuid.UUID


class BookingLinkCreate(BaseModel):
    lead_id: uuid.UUID
    user_id: uuid.UUID | None = None


class BookingLinkRead(BaseModel):
    url: str


class CalendlyConnect(BaseModel):
    personal_access_token: str = Field(min_length=1, max_length=2000)


class IntegrationStatus(BaseModel):
    type: str
    status: str | None


class AuthorizationUrl(BaseModel):
    url: str


class SyncResult(BaseModel):
    changed: int


class WebhookResult(BaseModel):
    result: str
