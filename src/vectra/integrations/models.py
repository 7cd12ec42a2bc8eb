"""Tables of the integrations domain (seed: integrations)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from vectra.db.base import Base, created_at, updated_at, uuid_pk


class Integration(Base):
    __tablename__ = "integrations"
    __table_args__ = (UniqueConstraint("organization_id", "type"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    organization_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    type: Mapped[str] = mapped_column(String(50))
    status: Mapped[str | None] = mapped_column(String(50), server_default=text("'disconnected'"))
    credentials: Mapped[dict[str, Any] | None]
    settings: Mapped[dict[str, Any] | None] = mapped_column(server_default=text("'{}'"))
    last_sync_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime | None] = created_at()
    updated_at: Mapped[dt.datetime | None] = updated_at()
    # Migration 028: the provider's message when a test or sync left the status `error`.
    status_message: Mapped[str | None] = mapped_column(Text)


class CrmLink(Base):
    """One Vectra object (lead, company, email, meeting) and the CRM record it became.

    `vectra_key` is the object's id (a company's normalised domain or name); `crm_id` is
    empty while the push keeps failing (`error` says why; the next run retries it).
    """

    __tablename__ = "crm_links"
    __table_args__ = (UniqueConstraint("integration_id", "object_type", "vectra_key"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    integration_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("integrations.id", ondelete="CASCADE")
    )
    object_type: Mapped[str] = mapped_column(String(20))
    vectra_key: Mapped[str] = mapped_column(String(320))
    crm_object: Mapped[str | None] = mapped_column(String(40))
    crm_id: Mapped[str | None] = mapped_column(String(64))
    payload_hash: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(server_default=text("0"), default=0)
    error: Mapped[str | None] = mapped_column(Text)
    synced_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime | None] = created_at()
    updated_at: Mapped[dt.datetime | None] = updated_at()


class CrmSyncCursor(Base):
    """How far a push has read one object type (its rows' `updated_at`, then id)."""

    __tablename__ = "crm_sync_cursors"
    __table_args__ = (UniqueConstraint("integration_id", "object_type"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    integration_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("integrations.id", ondelete="CASCADE")
    )
    object_type: Mapped[str] = mapped_column(String(20))
    position_at: Mapped[dt.datetime | None]
    position_id: Mapped[uuid.UUID | None]
    updated_at: Mapped[dt.datetime | None] = updated_at()


class CrmSyncRun(Base):
    """One sync run: why it ran, how it ended, what it did per object type, what failed."""

    __tablename__ = "crm_sync_runs"

    id: Mapped[uuid.UUID] = uuid_pk()
    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    integration_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("integrations.id", ondelete="CASCADE")
    )
    reason: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), server_default=text("'running'"))
    started_at: Mapped[dt.datetime] = mapped_column(server_default=text("now()"))
    finished_at: Mapped[dt.datetime | None]
    created: Mapped[int] = mapped_column(server_default=text("0"), default=0)
    updated: Mapped[int] = mapped_column(server_default=text("0"), default=0)
    skipped: Mapped[int] = mapped_column(server_default=text("0"), default=0)
    failed: Mapped[int] = mapped_column(server_default=text("0"), default=0)
    counts: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'"), default=dict)
    errors: Mapped[list[Any]] = mapped_column(server_default=text("'[]'"), default=list)
    message: Mapped[str | None] = mapped_column(Text)
