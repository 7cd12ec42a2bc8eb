"""The two places where a meeting touches other domains: the lead's status and its sequence."""

from __future__ import annotations

import logging
import uuid

from sqlalchemy.orm import Session

from vectra.accounts.actor import system_actor
from vectra.integrations.tasks import enqueue_sync
from vectra.leads.models import Lead
from vectra.leads.status import LeadStatus, can_transition, transition
from vectra.mail.guardrails import stop_sequence

log = logging.getLogger(__name__)


def set_lead_status_for_meeting(session: Session, lead: Lead, status: str) -> bool:
    """Move `lead` to `meeting_scheduled` or `completed` through the lead status machine,
    recorded in its history; False when the machine does not allow it from where it is
    (booking never demotes a completed lead nor resurrects a rejected one)."""
    target = LeadStatus(status)
    current = LeadStatus(lead.status or LeadStatus.NEW.value)
    if current == target:
        return True
    if not can_transition(current, target):
        log.info("lead %s stays %s: no move to %s from a meeting", lead.id, current, target)
        return False
    assert lead.organization_id is not None
    reason = "meeting booked" if target == LeadStatus.MEETING_SCHEDULED else "meeting held"
    transition(session, system_actor(lead.organization_id), lead, target, reason=reason)
    enqueue_sync(session, lead.organization_id, reason)  # the CRM learns of it
    return True


def stop_lead_sequence(session: Session, lead_id: uuid.UUID, reason: str) -> bool:
    """Stop the lead's follow-ups: a booked meeting ends the sequence."""
    stop_sequence(session, lead_id, reason)
    return True
