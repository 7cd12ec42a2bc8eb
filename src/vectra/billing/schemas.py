"""Billing API shapes."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict

from vectra.utc import UtcDateTime

PaidPlan = Literal["starter", "growth", "scale"]
Cycle = Literal["monthly", "yearly"]


class PlanLimitsRead(BaseModel):
    leads_per_month: int
    emails_per_month: int
    api_calls_per_month: int
    users: int
    mailboxes: int
    active_campaigns: int
    max_daily_limit: int


class PlanRead(BaseModel):
    name: str
    title: str
    rank: int
    monthly_price_usd: int
    yearly_price_usd: int
    purchasable: bool
    limits: PlanLimitsRead


class SubscriptionRead(BaseModel):
    plan: PlanRead
    status: str | None
    billing_cycle: str | None
    current_period_start: UtcDateTime | None
    current_period_end: UtcDateTime | None
    trial_end: UtcDateTime | None
    cancel_at_period_end: bool
    canceled_at: UtcDateTime | None
    read_only: bool
    read_only_reason: str | None
    has_stripe_customer: bool


class MeteredUsage(BaseModel):
    resource: str
    used: int
    limit: int
    remaining: int
    percent: float


class CountedUsage(BaseModel):
    resource: str
    current: int
    limit: int


class UsageNotificationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    resource: str
    threshold: int
    used: int
    limit_value: int
    period_start: dt.date
    delivered_via: str | None
    created_at: UtcDateTime


class UsageRead(BaseModel):
    plan: str
    period_start: dt.date
    period_end: dt.date
    metered: list[MeteredUsage]
    counted: list[CountedUsage]
    notifications: list[UsageNotificationRead]


class CheckoutCreate(BaseModel):
    plan: PaidPlan
    billing_cycle: Cycle = "monthly"


class CheckoutRead(BaseModel):
    id: str
    url: str


class PortalRead(BaseModel):
    url: str


class PlanChange(BaseModel):
    plan: PaidPlan
    billing_cycle: Cycle | None = None


class WebhookAck(BaseModel):
    received: bool = True
    duplicate: bool = False
    handled: bool = False
