"""Billing rules: trials, subscriptions, plan state."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy.orm import Session

from vectra.billing.models import Subscription
from vectra.db.base import utcnow

TRIAL_DAYS = 14


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
