"""The two places where a meeting touches other domains: the lead's status and its sequence.

Kept in one small module so the switch to the leads status-machine service and the mail
domain's `stop_sequence` (both being written concurrently) is a change here only.
"""

from __future__ import annotations

import importlib
import logging
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from vectra.leads.models import Lead

log = logging.getLogger(__name__)

# Lead statuses a meeting may move a lead out of, and into: booking never demotes a lead
# that already completed, nor resurrects a rejected one.
_BOOKABLE_FROM = {"new", "enriched", "scoring", "qualified", "contacted", "meeting_scheduled"}


def set_lead_status_for_meeting(session: Session, lead: Lead, status: str) -> bool:
    """Move `lead` to `meeting_scheduled` or `completed` (interim direct write: see module doc)."""
    if status == "meeting_scheduled" and lead.status not in _BOOKABLE_FROM:
        return False
    if status == "completed" and lead.status != "meeting_scheduled":
        return False
    lead.status = status
    session.flush()
    return True


def _find(module: str, name: str) -> Callable[..., Any] | None:
    try:
        found = getattr(importlib.import_module(module), name, None)
    except ImportError:
        return None
    return found if callable(found) else None


def stop_lead_sequence(session: Session, lead_id: uuid.UUID, reason: str) -> bool:
    """Stop the lead's follow-ups through the mail domain; False when that API is absent."""
    stop = _find("vectra.mail.service", "stop_sequence")
    if stop is not None:
        stop(session, lead_id, reason)
        return True
    log.warning("mail.stop_sequence is not available; lead %s keeps its sequence", lead_id)
    return False
