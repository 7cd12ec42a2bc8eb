"""Tables the leads domain adds to the seed: status history, import jobs, suppressions.

The seed's `leads` table stays in `models.py`; these come with migration 027 (033 adds the
import jobs' heartbeat and attempts).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, LargeBinary, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from vectra.db.base import Base, utcnow, uuid_pk


class LeadStatusHistory(Base):
    """One change of a lead's status: when, from what, to what, by whom, and why."""

    __tablename__ = "lead_status_history"

    id: Mapped[uuid.UUID] = uuid_pk()
    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    lead_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    from_status: Mapped[str | None] = mapped_column(String(50))
    to_status: Mapped[str] = mapped_column(String(50))
    actor_kind: Mapped[str] = mapped_column(String(20))
    actor_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    actor_api_key_id: Mapped[uuid.UUID | None]
    agent: Mapped[str | None] = mapped_column(String(50))
    reason: Mapped[str | None]
    created_at: Mapped[dt.datetime] = mapped_column(server_default=text("now()"))


class LeadImportJob(Base):
    """A CSV import the UI can poll: status, bytes read, rows read, and the final report."""

    __tablename__ = "lead_import_jobs"

    id: Mapped[uuid.UUID] = uuid_pk()
    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    campaign_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    filename: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(20), server_default=text("'pending'"))
    bytes_total: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    bytes_read: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    rows_read: Mapped[int] = mapped_column(server_default=text("0"))
    column_map: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'"))
    payload: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    report: Mapped[dict[str, Any] | None]
    error: Mapped[str | None]
    created_at: Mapped[dt.datetime] = mapped_column(server_default=text("now()"))
    started_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]
    updated_at: Mapped[dt.datetime] = mapped_column(server_default=text("now()"), onupdate=utcnow)
    # Liveness (migration 033): refreshed while a run is alive; a stale one is recovered.
    heartbeat_at: Mapped[dt.datetime] = mapped_column(server_default=text("now()"))
    attempts: Mapped[int] = mapped_column(server_default=text("0"))  # runs claimed so far


class Suppression(Base):
    """An organization-wide do-not-contact entry: one email address or a whole domain."""

    __tablename__ = "suppressions"
    __table_args__ = (UniqueConstraint("organization_id", "kind", "value"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(10))
    value: Mapped[str] = mapped_column(String(255))
    reason: Mapped[str] = mapped_column(String(30))
    source: Mapped[str | None] = mapped_column(String(100))
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime] = mapped_column(server_default=text("now()"))
