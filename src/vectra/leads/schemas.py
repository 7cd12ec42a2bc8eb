"""Lead, suppression and import API shapes."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from vectra.leads.status import LeadStatus
from vectra.utc import UtcDateTime


class LeadCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=3, max_length=320)
    first_name: str | None = Field(default=None, max_length=100)
    last_name: str | None = Field(default=None, max_length=100)
    job_title: str | None = Field(default=None, max_length=200)
    company_name: str | None = Field(default=None, max_length=255)
    company_size: str | None = Field(default=None, max_length=50)
    linkedin_url: str | None = Field(default=None, max_length=500)
    phone: str | None = Field(default=None, max_length=50)
    enrichment_data: dict[str, Any] = Field(default_factory=dict)
    source: str | None = Field(default="api", max_length=100)


class LeadUpdate(BaseModel):
    """Only the fields sent change; `status` goes through the status machine."""

    model_config = ConfigDict(extra="forbid")

    first_name: str | None = Field(default=None, max_length=100)
    last_name: str | None = Field(default=None, max_length=100)
    job_title: str | None = Field(default=None, max_length=200)
    company_name: str | None = Field(default=None, max_length=255)
    company_size: str | None = Field(default=None, max_length=50)
    linkedin_url: str | None = Field(default=None, max_length=500)
    phone: str | None = Field(default=None, max_length=50)
    enrichment_data: dict[str, Any] | None = None
    intent: str | None = Field(default=None, max_length=50)
    status: LeadStatus | None = None
    reason: str | None = Field(default=None, max_length=1000, description="Why the status changed.")


class LeadRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    campaign_id: uuid.UUID | None
    email: str
    first_name: str | None
    last_name: str | None
    job_title: str | None
    company_name: str | None
    company_size: str | None
    linkedin_url: str | None
    phone: str | None
    enrichment_data: dict[str, Any] | None
    bant_score: int | None
    bant_breakdown: dict[str, Any] | None
    intent: str | None
    status: str | None
    source: str | None
    created_at: UtcDateTime | None
    updated_at: UtcDateTime | None


class LeadPage(BaseModel):
    items: list[LeadRead]
    next_cursor: str | None


class StatusChangeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    from_status: str | None
    to_status: str
    actor_kind: str
    actor_user_id: uuid.UUID | None
    agent: str | None
    reason: str | None
    created_at: UtcDateTime


class LeadDetail(LeadRead):
    status_history: list[StatusChangeRead] = Field(default_factory=list)


class RowErrorRead(BaseModel):
    row: int
    column: str | None
    reason: str


class ImportReportRead(BaseModel):
    """What happened to every row: rows = imported + duplicates + rejected + suppressed."""

    job_id: uuid.UUID | None = None
    rows: int
    imported: int
    duplicates: int
    rejected: int
    suppressed: int
    quota_refused: int
    errors: list[RowErrorRead]
    errors_truncated: bool
    encoding: str | None
    delimiter: str | None
    columns: dict[str, str]


class ImportJobRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    campaign_id: uuid.UUID
    filename: str | None
    status: str
    bytes_total: int
    bytes_read: int
    rows_read: int
    report: dict[str, Any] | None
    error: str | None
    created_at: UtcDateTime
    started_at: UtcDateTime | None
    finished_at: UtcDateTime | None


class SuppressionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    value: str = Field(min_length=3, max_length=320, description="An email or a domain.")
    reason: str = Field(default="manual", pattern="^(unsubscribe|hard_bounce|complaint|manual)$")
    source: str | None = Field(default=None, max_length=100)


class SuppressionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: str
    value: str
    reason: str
    source: str | None
    created_by: uuid.UUID | None
    created_at: UtcDateTime


class SuppressionPage(BaseModel):
    items: list[SuppressionRead]
    next_cursor: str | None
