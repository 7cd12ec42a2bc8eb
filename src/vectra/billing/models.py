"""Tables of the billing domain (seed: subscriptions, usage_records)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, String, text
from sqlalchemy.orm import Mapped, mapped_column

from vectra.db.base import Base, created_at, updated_at, uuid_pk


class Subscription(Base):
    __tablename__ = "subscriptions"

    id: Mapped[uuid.UUID] = uuid_pk()
    organization_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), unique=True
    )
    stripe_customer_id: Mapped[str | None] = mapped_column(String(255))
    stripe_subscription_id: Mapped[str | None] = mapped_column(String(255))
    plan: Mapped[str] = mapped_column(String(50))
    billing_cycle: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(50))
    current_period_start: Mapped[dt.datetime | None]
    current_period_end: Mapped[dt.datetime | None]
    trial_end: Mapped[dt.datetime | None]
    cancel_at_period_end: Mapped[bool | None] = mapped_column(server_default=text("false"))
    canceled_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime | None] = created_at()
    updated_at: Mapped[dt.datetime | None] = updated_at()


class UsageRecord(Base):
    __tablename__ = "usage_records"

    id: Mapped[uuid.UUID] = uuid_pk()
    organization_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    period_start: Mapped[dt.date]
    period_end: Mapped[dt.date]
    leads_used: Mapped[int | None] = mapped_column(server_default=text("0"))
    leads_limit: Mapped[int | None]
    emails_sent: Mapped[int | None] = mapped_column(server_default=text("0"))
    emails_limit: Mapped[int | None]
    api_calls: Mapped[int | None] = mapped_column(server_default=text("0"))
    created_at: Mapped[dt.datetime | None] = created_at()
    updated_at: Mapped[dt.datetime | None] = updated_at()


class StripeEvent(Base):
    """A Stripe webhook event already processed: each id is acted on exactly once."""

    __tablename__ = "stripe_events"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    livemode: Mapped[bool] = mapped_column(server_default=text("false"))
    stripe_created: Mapped[dt.datetime | None]
    received_at: Mapped[dt.datetime] = mapped_column(server_default=text("NOW()"))


class UsageNotification(Base):
    """A usage threshold (80% or 100%) reached once in a period, for mail and the UI."""

    __tablename__ = "usage_notifications"

    id: Mapped[uuid.UUID] = uuid_pk()
    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    period_start: Mapped[dt.date]
    resource: Mapped[str] = mapped_column(String(20))
    threshold: Mapped[int]
    used: Mapped[int]
    limit_value: Mapped[int]
    delivered_via: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[dt.datetime] = mapped_column(server_default=text("NOW()"))
    dismissed_at: Mapped[dt.datetime | None]
