"""Pydantic I/O of the drafts and approval queue API."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from vectra.utc import UtcDateTime


class EmailRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    campaign_id: uuid.UUID | None
    lead_id: uuid.UUID | None
    status: str | None
    subject: str
    body: str
    body_html: str | None
    sequence_step: int | None
    delay_days: int | None
    variant: str | None
    review_flags: list[dict[str, Any]]
    needs_review: bool
    personalization: dict[str, Any]
    rejection_reason: str | None
    approved_by: uuid.UUID | None
    approved_at: UtcDateTime | None
    scheduled_for: UtcDateTime | None
    sent_at: UtcDateTime | None
    opened_at: UtcDateTime | None
    open_count: int | None
    clicked_at: UtcDateTime | None
    click_count: int | None
    machine_open_count: int
    machine_click_count: int
    created_at: UtcDateTime | None


class EmailPageRead(BaseModel):
    items: list[EmailRead]
    next_cursor: str | None


class DraftRequest(BaseModel):
    lead_id: uuid.UUID


class EmailUpdate(BaseModel):
    """Text only: the HTML part is rebuilt from the text (escaped)."""

    model_config = ConfigDict(extra="forbid")

    subject: str | None = Field(default=None, max_length=500)
    body: str | None = Field(default=None, max_length=50_000)


class RejectRequest(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


class BulkApproveRequest(BaseModel):
    email_ids: list[uuid.UUID] = Field(min_length=1, max_length=500)


class BulkApproveResult(BaseModel):
    approved: list[uuid.UUID]
    skipped: dict[uuid.UUID, str]


class VariantStats(BaseModel):
    step: int | None
    variant: str | None
    drafts: int
    sent: int
    opened: int
    clicked: int
    replied: int
    bounced: int = 0
    machine_opens: int
    open_rate: float | None
    click_rate: float | None
    reply_rate: float | None
    bounce_rate: float | None = None
