"""Sending jobs: the periodic sender and the guardrail sweep (Procrastinate)."""

from __future__ import annotations

import logging

from sqlalchemy import text

from vectra.mail import delivery, guardrails
from vectra.worker.app import app
from vectra.worker.database import job_database
from vectra.worker.database import use_database as use_database  # re-exported for callers

log = logging.getLogger("vectra.mail.sending")


# queueing_lock: a run still sending when the next minute ticks makes the new one wait
# instead of piling up; concurrency between runs on several machines is safe anyway.
@app.periodic(cron="* * * * *")
@app.task(name="send_due_emails", queueing_lock="send_due_emails")
async def send_due_emails(timestamp: int) -> dict[str, object]:
    """Claim and send every due, approved email within caps and windows."""
    report = await delivery.run_sender(job_database(), max_batches=50)
    if report.sent or report.failed or report.adopted:
        log.info("send_due_emails: %s", report.as_dict())
    return report.as_dict()


@app.periodic(cron="*/10 * * * *")
@app.task(name="enforce_sending_guardrails", queueing_lock="enforce_sending_guardrails")
def enforce_sending_guardrails(timestamp: int) -> int:
    """Pause mailboxes and campaigns whose bounce or complaint rate is past the thresholds."""
    paused = 0
    with job_database().system_session() as session:
        organizations = session.execute(
            text("SELECT DISTINCT organization_id FROM mailboxes WHERE status = 'active'")
        ).scalars()
        for organization_id in list(organizations):
            paused += len(guardrails.enforce_guardrails(session, organization_id))
    return paused
