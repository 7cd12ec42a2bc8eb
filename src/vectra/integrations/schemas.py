"""Integrations API shapes: credentials go in, only their field names come out."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from vectra.utc import UtcDateTime


class IntegrationType(StrEnum):
    """Mirrors the seed's `integration_type` enum."""

    HUBSPOT = "hubspot"
    SALESFORCE = "salesforce"
    CALENDLY = "calendly"
    GOOGLE_CALENDAR = "google_calendar"


class IntegrationStatus(StrEnum):
    DISCONNECTED = "disconnected"
    CONNECTED = "connected"
    ERROR = "error"


class IntegrationPut(BaseModel):
    """Credentials and settings merge key by key into what is stored; a null value removes a
    key, an omitted one is kept (secrets are never read back, so a form need not resend them).
    """

    model_config = ConfigDict(extra="forbid")

    credentials: dict[str, Any] | None = None
    settings: dict[str, Any] | None = None


class IntegrationRead(BaseModel):
    id: uuid.UUID
    type: str
    status: str
    status_message: str | None = Field(
        default=None, description="The provider's message when status is 'error'."
    )
    credential_fields: list[str] = Field(
        description="Which credential fields are stored (their values are never returned)."
    )
    settings: dict[str, Any]
    last_sync_at: UtcDateTime | None
    created_at: UtcDateTime | None
    updated_at: UtcDateTime | None


class IntegrationList(BaseModel):
    items: list[IntegrationRead]


class SyncRunRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    reason: str
    status: str
    started_at: UtcDateTime
    finished_at: UtcDateTime | None
    created: int
    updated: int
    skipped: int
    failed: int
    counts: dict[str, Any]
    errors: list[Any]
    message: str | None


class SyncRunPage(BaseModel):
    items: list[SyncRunRead]


class SyncQueued(BaseModel):
    queued: bool
    job_id: int | None


class OAuthStart(BaseModel):
    """The provider's consent page; open it in the browser of the signed-in admin."""

    url: str
