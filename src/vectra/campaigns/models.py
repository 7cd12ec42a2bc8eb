"""Tables of the campaigns domain (seed: campaigns)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from pgvector.sqlalchemy import Vector
from sqlalchemy import ForeignKey, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from vectra.db.base import Base, created_at, updated_at, uuid_pk


class Campaign(Base):
    __tablename__ = "campaigns"

    id: Mapped[uuid.UUID] = uuid_pk()
    organization_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str | None] = mapped_column(String(50), server_default=text("'draft'"))
    target_criteria: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'"))
    email_template: Mapped[dict[str, Any] | None]
    bant_threshold: Mapped[int | None] = mapped_column(server_default=text("60"))
    daily_limit: Mapped[int | None] = mapped_column(server_default=text("50"))
    started_at: Mapped[dt.datetime | None]
    completed_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime | None] = created_at()
    updated_at: Mapped[dt.datetime | None] = updated_at()
    # Migration 018: the embedded ideal customer profile (vectra.ai.icp).
    icp_embedding: Mapped[Any | None] = mapped_column(Vector(384), deferred=True)
    icp_embedding_model: Mapped[str | None] = mapped_column(String(100))
    # Migration 029: weights of the BANT sub-scores (vectra.agents.qualifier); NULL = equal.
    bant_weights: Mapped[dict[str, Any] | None]
