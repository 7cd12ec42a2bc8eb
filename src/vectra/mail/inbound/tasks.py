"""Inbound jobs: process a stored message, hand a reply to the scheduler, poll IMAP."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from vectra.accounts.actor import system_actor
from vectra.worker.app import app
from vectra.worker.database import job_database

log = logging.getLogger("vectra.mail.inbound")


@app.task(name="process_inbound_message", retry=5)
def process_inbound_message(inbound_id: str) -> str | None:
    """Parse, thread and apply one received message (a re-run changes nothing)."""
    from vectra.mail.inbound.store import process

    with job_database().system_session() as session:
        row = process(session, uuid.UUID(inbound_id))
        return row.state if row is not None else None


@app.task(name="propose_meeting_for_reply", retry=3)
def propose_meeting_for_reply(
    organization_id: str, lead_id: str, inbound_id: str
) -> dict[str, Any]:
    """An interested or meeting-request reply: the scheduler agent drafts three slots."""
    from vectra.agents.scheduler import propose_meeting

    org = uuid.UUID(organization_id)
    with job_database().tenant_session(org) as session:
        proposal = propose_meeting(session, system_actor(org), uuid.UUID(lead_id))
        log.info("scheduler for reply %s: %s", inbound_id, proposal.status)
        return {"run_id": str(proposal.run_id), "status": proposal.status}


@app.periodic(cron="*/2 * * * *")
@app.task(name="poll_imap_mailboxes", queueing_lock="poll_imap_mailboxes")
def poll_imap_mailboxes(timestamp: int) -> int:
    """Fetch new messages from every IMAP-enabled mailbox; how many were stored."""
    from vectra.mail.inbound.imap import poll_all

    return poll_all(job_database())
