"""Usage notifications: 80% and 100% of a period's limit, recorded once per period.

A threshold reached is a row in `usage_notifications` (unique per organization, period,
resource and threshold), written in the transaction that consumed the usage; a job
deferred in that same transaction mails the organization's owners through the
platform's system mail when it is configured. Either way the row stays for the UI.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from vectra.billing.models import UsageNotification

_LABEL = {"leads": "leads", "emails": "emails", "api_calls": "API calls"}


def record_usage_threshold(
    session: Session,
    organization_id: uuid.UUID,
    *,
    resource: str,
    period_start: dt.date,
    threshold: int,
    used: int,
    limit: int,
) -> uuid.UUID | None:
    """Record that `threshold`% of `resource` was reached; None when already recorded."""
    notification_id: uuid.UUID | None = session.execute(
        text(
            "INSERT INTO usage_notifications "
            "(organization_id, period_start, resource, threshold, used, limit_value) "
            "VALUES (:org, :start, :resource, :threshold, :used, :limit) "
            "ON CONFLICT (organization_id, period_start, resource, threshold) DO NOTHING "
            "RETURNING id"
        ),
        {
            "org": organization_id,
            "start": period_start,
            "resource": resource,
            "threshold": threshold,
            "used": used,
            "limit": limit,
        },
    ).scalar()
    if notification_id is not None:
        from vectra.billing.tasks import send_usage_notification
        from vectra.worker.app import defer_in_session

        defer_in_session(session, send_usage_notification, notification_id=str(notification_id))
    return notification_id


def message_for(notification: UsageNotification) -> tuple[str, str]:
    """The subject and body of a usage notification."""
    label = _LABEL.get(notification.resource, notification.resource)
    if notification.threshold >= 100:
        subject = f"Vectra: you have used all {notification.limit_value} {label} this period"
        lead = "New work that needs more is refused until the next period or an upgrade."
    else:
        subject = f"Vectra: {notification.threshold}% of your {label} used this period"
        lead = "You are close to your plan's limit."
    body = (
        f"{lead}\n\n{label.capitalize()} used: {notification.used} of "
        f"{notification.limit_value} (period starting {notification.period_start}).\n\n"
        "Upgrade in Settings > Billing to raise the limit.\n"
    )
    return subject, body


def list_notifications(
    session: Session, organization_id: uuid.UUID, *, include_dismissed: bool = False
) -> Sequence[UsageNotification]:
    """The organization's usage notifications, newest first."""
    query = select(UsageNotification).where(UsageNotification.organization_id == organization_id)
    if not include_dismissed:
        query = query.where(UsageNotification.dismissed_at.is_(None))
    return session.scalars(query.order_by(UsageNotification.created_at.desc())).all()
