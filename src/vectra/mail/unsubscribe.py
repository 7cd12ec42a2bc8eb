"""Unsubscribe: the address goes on the suppression list at once, and its sequence stops.

Reached from the footer link (a confirmation page, then a POST) and from mail clients'
one-click button (RFC 8058: a POST with `List-Unsubscribe=One-Click`, no cookie, no login).
The signed token names the email; the email names the organization and the lead. Every step
is idempotent, so a client that retries, or a person who clicks twice, changes nothing more.
A GET never unsubscribes: link scanners fetch every URL in a message.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from vectra.accounts.actor import system_actor
from vectra.accounts.models import Organization
from vectra.db.tenancy import as_system, as_tenant
from vectra.errors import NotFound
from vectra.leads.models import Lead
from vectra.mail import tokens
from vectra.mail.guardrails import stop_sequence
from vectra.mail.models import Email, EmailEvent
from vectra.mail.tracking import record_event

log = logging.getLogger(__name__)

UNSENT = ("pending", "approved")


@dataclass(frozen=True)
class UnsubscribeTarget:
    """What a valid unsubscribe token points at (for the confirmation page)."""

    email_id: uuid.UUID
    organization_id: uuid.UUID
    organization_name: str
    address: str | None
    lead_id: uuid.UUID | None


def resolve(session: Session, token: str) -> UnsubscribeTarget:
    """The email a token names (404 for a forged, altered or unknown token)."""
    payload = tokens.read_token("unsubscribe", token)
    if payload is None:
        raise NotFound("This unsubscribe link is not valid.")
    with as_system(session):
        row = session.execute(
            select(Email.id, Email.organization_id, Email.lead_id, Organization.name, Lead.email)
            .join(Organization, Organization.id == Email.organization_id)
            .outerjoin(Lead, Lead.id == Email.lead_id)
            .where(Email.id == payload.email_id)
        ).one_or_none()
    if row is None:
        raise NotFound("This unsubscribe link is not valid.")
    return UnsubscribeTarget(row[0], row[1], row[3], row[4], row[2])


def cancel_unsent(session: Session, lead_id: uuid.UUID, reason: str) -> int:
    """Withdraw the lead's drafts and approved-but-unsent emails; returns how many."""
    result = session.execute(
        update(Email)
        .where(Email.lead_id == lead_id, Email.status.in_(UNSENT))
        .values(status="rejected", rejection_reason=f"sequence stopped: {reason}")
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def unsubscribe(session: Session, token: str, *, source: str) -> UnsubscribeTarget:
    """Suppress the token's recipient and stop their sequence (idempotent)."""
    target = resolve(session, token)
    from vectra.leads.suppression import suppress  # leads domain's do-not-contact list

    actor = system_actor(target.organization_id)
    with as_tenant(session, target.organization_id):
        if target.address:
            suppress(session, actor, target.address, "unsubscribe", source=source)
        if target.lead_id is not None:
            # The sending engine's stop also holds back emails drafted later.
            stop_sequence(session, target.lead_id, "unsubscribe")
            cancel_unsent(session, target.lead_id, "unsubscribed")
        already = session.scalar(
            select(EmailEvent.id).where(
                EmailEvent.email_id == target.email_id, EmailEvent.kind == "unsubscribe"
            )
        )
        if already is None:
            record_event(session, target.email_id, "unsubscribe", detail={"source": source})
    session.flush()
    log.info("unsubscribed via %s (email %s)", source, target.email_id)
    return target
