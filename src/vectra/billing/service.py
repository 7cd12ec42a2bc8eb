"""Billing rules: trials, subscriptions, plan state."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import text
from sqlalchemy.orm import Session

from vectra.billing.models import Subscription
from vectra.billing.plans import TRIAL_DAYS
from vectra.db.base import utcnow

__all__ = ["TRIAL_DAYS", "expire_trials", "start_trial"]


def start_trial(session: Session, organization_id: uuid.UUID) -> Subscription:
    """Give a new organization its 14-day trial subscription."""
    now = utcnow()
    subscription = Subscription(
        organization_id=organization_id,
        plan="trial",
        status="trialing",
        current_period_start=now,
        current_period_end=now + dt.timedelta(days=TRIAL_DAYS),
        trial_end=now + dt.timedelta(days=TRIAL_DAYS),
    )
    session.add(subscription)
    session.flush()
    return subscription


def expire_trials(session: Session, *, now: dt.datetime | None = None) -> int:
    """Move every trial past its end to `expired` (read-only, data kept); returns how many.

    Runs across organizations, so `session` must be in system context. A trial that has a
    paid Stripe subscription attached is left to Stripe's own status.
    """
    result = session.execute(
        text(
            "UPDATE subscriptions SET status = 'expired', updated_at = NOW() "
            "WHERE status = 'trialing' AND plan = 'trial' AND stripe_subscription_id IS NULL "
            "AND trial_end IS NOT NULL AND trial_end <= :now"
        ),
        {"now": now or utcnow()},
    )
    return int(getattr(result, "rowcount", 0) or 0)
