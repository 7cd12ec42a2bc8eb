"""Tables of outbound sending (migration 022): mailboxes, DKIM keys, counters, stops."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Date, ForeignKey, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from vectra.db.base import Base, utcnow, uuid_pk


class Mailbox(Base):
    """An SMTP mailbox an organization sends from; `secret` is a vault token ({"password"})."""

    __tablename__ = "mailboxes"

    id: Mapped[uuid.UUID] = uuid_pk()
    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    name: Mapped[str] = mapped_column(String(200))
    from_name: Mapped[str] = mapped_column(String(200), server_default=text("''"))
    from_address: Mapped[str] = mapped_column(String(255))
    smtp_host: Mapped[str] = mapped_column(String(255))
    smtp_port: Mapped[int]
    smtp_security: Mapped[str] = mapped_column(String(10), server_default=text("'starttls'"))
    smtp_username: Mapped[str | None] = mapped_column(String(255))
    secret: Mapped[str | None] = mapped_column(Text)
    daily_cap: Mapped[int] = mapped_column(server_default=text("50"))
    warmup_start: Mapped[int] = mapped_column(server_default=text("20"))
    warmup_increment: Mapped[int] = mapped_column(server_default=text("5"))
    warmup_days: Mapped[int] = mapped_column(server_default=text("0"))
    warmup_started_on: Mapped[dt.date] = mapped_column(Date, server_default=text("CURRENT_DATE"))
    min_interval_seconds: Mapped[int] = mapped_column(server_default=text("60"))
    jitter_seconds: Mapped[int] = mapped_column(server_default=text("30"))
    next_send_at: Mapped[dt.datetime | None]
    signature: Mapped[str] = mapped_column(Text, server_default=text("''"))
    status: Mapped[str] = mapped_column(String(10), server_default=text("'active'"))
    status_reason: Mapped[str | None] = mapped_column(Text)
    sent_total: Mapped[int] = mapped_column(server_default=text("0"))
    failed_total: Mapped[int] = mapped_column(server_default=text("0"))
    last_sent_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(server_default=text("NOW()"))
    updated_at: Mapped[dt.datetime] = mapped_column(server_default=text("NOW()"), onupdate=utcnow)
    # Migration 030: replies land in the sending mailbox; IMAP polling reads them from there.
    imap_host: Mapped[str | None] = mapped_column(String(255))
    imap_port: Mapped[int | None]
    imap_security: Mapped[str] = mapped_column(String(10), server_default=text("'tls'"))
    imap_username: Mapped[str | None] = mapped_column(String(255))
    imap_folder: Mapped[str] = mapped_column(String(255), server_default=text("'INBOX'"))
    imap_enabled: Mapped[bool] = mapped_column(server_default=text("false"))
    imap_last_polled_at: Mapped[dt.datetime | None]
    imap_last_error: Mapped[str | None] = mapped_column(Text)


class CampaignMailbox(Base):
    """A campaign sends through these mailboxes, rotating among them."""

    __tablename__ = "campaign_mailboxes"

    campaign_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    mailbox_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("mailboxes.id", ondelete="CASCADE"), primary_key=True
    )
    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )


class DkimKey(Base):
    """A per-domain RSA key Vectra generated; the private half is a vault token."""

    __tablename__ = "dkim_keys"

    id: Mapped[uuid.UUID] = uuid_pk()
    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    domain: Mapped[str] = mapped_column(String(255))
    selector: Mapped[str] = mapped_column(String(63))
    secret: Mapped[str] = mapped_column(Text)
    public_key: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(server_default=text("NOW()"))


class SequenceStop(Base):
    """A lead whose sequence is over (reply, bounce, unsubscribe, meeting, manual)."""

    __tablename__ = "sequence_stops"

    lead_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("leads.id", ondelete="CASCADE"), primary_key=True
    )
    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    reason: Mapped[str] = mapped_column(String(20))
    stopped_at: Mapped[dt.datetime] = mapped_column(server_default=text("NOW()"))
