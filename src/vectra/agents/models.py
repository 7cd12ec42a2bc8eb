"""Tables of the agents domain (seed: agent_runs; `organization_id` added by migration 014)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import ForeignKey, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from vectra.db.base import Base, created_at, uuid_pk


class AgentRun(Base):
    __tablename__ = "agent_runs"

    id: Mapped[uuid.UUID] = uuid_pk()
    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    campaign_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE")
    )
    agent_type: Mapped[str] = mapped_column(String(50))
    status: Mapped[str | None] = mapped_column(String(50), server_default=text("'pending'"))
    input_data: Mapped[dict[str, Any] | None]
    output_data: Mapped[dict[str, Any] | None]
    error_message: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[dt.datetime | None]
    completed_at: Mapped[dt.datetime | None]
    duration_ms: Mapped[int | None]
    tokens_used: Mapped[int | None]
    created_at: Mapped[dt.datetime | None] = created_at()
    # Migration 029: one run per (agent, campaign, input hash); a retry finds the first run.
    idempotency_key: Mapped[str | None] = mapped_column(String(64))
