"""Billing jobs: usage notification mail, and the periodic sweep that ends expired trials."""

from __future__ import annotations

import logging
import uuid

from sqlalchemy import select, text

from vectra.billing.models import UsageNotification
from vectra.billing.notifications import message_for
from vectra.db.engine import Database
from vectra.worker.app import app
from vectra.worker.database import job_database
from vectra.worker.database import use_database as use_database  # re-exported for callers

log = logging.getLogger(__name__)


def deliver_usage_notification(database: Database, notification_id: uuid.UUID) -> bool:
    """Mail one usage notification to the organization's active owners; False when the
    platform has no system mail configured (the notification then waits in the UI)."""
    try:
        from vectra.accounts import notify
    except ImportError:  # a build without system mail: the UI shows the notification
        return False
    if not notify.mail_configured():
        return False
    with database.system_session() as session:
        notification = session.scalar(
            select(UsageNotification)
            .where(UsageNotification.id == notification_id)
            .with_for_update(skip_locked=True)
        )
        if notification is None or notification.delivered_via is not None:
            return False
        owners = session.execute(
            text(
                "SELECT email FROM users WHERE organization_id = :org "
                "AND role = 'owner' AND is_active IS NOT FALSE"
            ),
            {"org": notification.organization_id},
        ).scalars()
        subject, body = message_for(notification)
        for email in owners:
            notify.send_system_mail(to=email, subject=subject, body=body)
        notification.delivered_via = "email"
    return True


@app.task(name="billing.send_usage_notification", retry=3, pass_context=False)
def send_usage_notification(notification_id: str) -> None:
    """Job: mail a usage notification (80% / 100%) when system mail is configured."""
    deliver_usage_notification(job_database(), uuid.UUID(notification_id))


@app.periodic(cron="*/10 * * * *", periodic_id="billing.expire_trials")
@app.task(name="billing.expire_trials", pass_context=False, queueing_lock="billing.expire_trials")
def expire_trials_job(timestamp: int) -> int:
    """Periodic job: move trials past their end to `expired` (read-only until a plan is chosen)."""
    from vectra.billing.service import expire_trials

    with job_database().system_session() as session:
        count = expire_trials(session)
    if count:
        log.info("expired trials", extra={"count": count})
    return count
