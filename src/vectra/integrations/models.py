"""Tables of the integrations domain (seed: integrations)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint, text
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
