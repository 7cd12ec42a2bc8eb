"""Mailbox API shapes. Secrets go in, never out: reads say only which fields are set."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from vectra.utc import UtcDateTime

Security = Literal["starttls", "tls", "none"]
ImapSecurity = Literal["tls", "starttls", "none"]


class MailboxCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    from_name: str = Field(default="", max_length=200)
    from_address: EmailStr
    smtp_host: str = Field(min_length=1, max_length=255)
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_security: Security = "starttls"
    smtp_username: str | None = Field(default=None, max_length=255)
    smtp_password: str | None = Field(default=None, max_length=1000)
    daily_cap: int = Field(default=50, ge=0, le=10_000)
    warmup_start: int = Field(default=20, ge=0, le=10_000)
    warmup_increment: int = Field(default=5, ge=0, le=10_000)
    warmup_days: int = Field(default=0, ge=0, le=365)
    min_interval_seconds: int = Field(default=60, ge=0, le=86_400)
    jitter_seconds: int = Field(default=30, ge=0, le=86_400)
    signature: str = Field(default="", max_length=5000)
    imap_host: str | None = Field(
        default=None, min_length=1, max_length=255, description="Where replies are read (IMAP)."
    )
    imap_port: int | None = Field(default=None, ge=1, le=65535, description="993 with tls.")
    imap_security: ImapSecurity = "tls"
    imap_username: str | None = Field(
        default=None, max_length=255, description="Default: the SMTP username."
    )
    imap_password: str | None = Field(
        default=None, max_length=1000, description="Default: the SMTP password."
    )
    imap_folder: str = Field(default="INBOX", min_length=1, max_length=255)
    imap_enabled: bool | None = Field(
        default=None, description="Poll for replies; default: on when imap_host is given."
    )


class MailboxUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    from_name: str | None = Field(default=None, max_length=200)
    smtp_host: str | None = Field(default=None, min_length=1, max_length=255)
    smtp_port: int | None = Field(default=None, ge=1, le=65535)
    smtp_security: Security | None = None
    smtp_username: str | None = Field(default=None, max_length=255)
    smtp_password: str | None = Field(default=None, max_length=1000)
    daily_cap: int | None = Field(default=None, ge=0, le=10_000)
    warmup_start: int | None = Field(default=None, ge=0, le=10_000)
    warmup_increment: int | None = Field(default=None, ge=0, le=10_000)
    warmup_days: int | None = Field(default=None, ge=0, le=365)
    min_interval_seconds: int | None = Field(default=None, ge=0, le=86_400)
    jitter_seconds: int | None = Field(default=None, ge=0, le=86_400)
    signature: str | None = Field(default=None, max_length=5000)
    status: Literal["active", "paused"] | None = None
    imap_host: str | None = Field(default=None, min_length=1, max_length=255)
    imap_port: int | None = Field(default=None, ge=1, le=65535)
    imap_security: ImapSecurity | None = None
    imap_username: str | None = Field(default=None, max_length=255)
    imap_password: str | None = Field(default=None, max_length=1000)
    imap_folder: str | None = Field(default=None, min_length=1, max_length=255)
    imap_enabled: bool | None = None


class MailboxRead(BaseModel):
    id: uuid.UUID
    name: str
    from_name: str
    from_address: str
    smtp_host: str
    smtp_port: int
    smtp_security: str
    smtp_username: str | None
    secrets_set: list[str] = Field(description="Which secret fields are stored (never values).")
    daily_cap: int
    effective_daily_cap: int = Field(description="Today's cap, warm-up ramp included.")
    sent_today: int
    warmup_start: int
    warmup_increment: int
    warmup_days: int
    warmup_started_on: dt.date
    min_interval_seconds: int
    jitter_seconds: int
    signature: str
    status: str
    status_reason: str | None
    sent_total: int
    failed_total: int
    last_sent_at: UtcDateTime | None
    last_error: str | None
    created_at: UtcDateTime
    imap_host: str | None
    imap_port: int | None
    imap_security: str
    imap_username: str | None
    imap_folder: str
    imap_enabled: bool
    imap_last_polled_at: UtcDateTime | None
    imap_last_error: str | None


class MailboxList(BaseModel):
    items: list[MailboxRead]


class MailboxTest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    send_to: EmailStr | None = Field(default=None, description="Also send a test message here.")


class MailboxTestResult(BaseModel):
    ok: bool
    stage: str = Field(description="connect, login, send or done")
    detail: str


class DnsRecord(BaseModel):
    type: str
    name: str
    value: str


class DomainKeyRead(BaseModel):
    domain: str
    selector: str
    record: DnsRecord


class DomainCheckRead(BaseModel):
    domain: str
    ok: bool
    checks: list[dict[str, object]]


class CampaignMailboxes(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mailbox_ids: list[uuid.UUID] = Field(max_length=100)
