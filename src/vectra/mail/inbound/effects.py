"""What a processed inbound message changes: email, lead, suppression list, sequence, mailbox.

Reports (RFC 3464 DSNs, NDRs, ARF complaints):
- hard: the email `bounced`, the lead rejected (completed once contacted: the status
  machine forbids contacted -> rejected), the address suppressed, the sequence stopped;
- soft: counted per address; the email re-queued on a backoff, hard at the 3rd in 7 days;
- policy: the sender is refused, not the address: the mailbox is flagged (paused past a
  threshold, with its campaign), the lead is not blamed;
- delay: recorded only; complaint: suppressed at once, counted by the spam-rate guardrail.

Replies set `emails.replied_at` and `leads.intent`, stop the sequence (except automatic
replies) and move the lead on. Every step is idempotent: an operator's intent correction
re-runs `apply_reply`, and `effects` on the row records what was done so a job or a lead is
never created twice. Suppressions and stops are never undone by a correction: contacting
someone who asked not to be contacted is worse than an operator re-enabling them by hand.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from vectra.accounts.actor import Actor
from vectra.db.base import utcnow
from vectra.errors import Conflict, InvalidInput, InvalidTransition, QuotaExceeded
from vectra.leads.models import Lead
from vectra.leads.status import LeadStatus, can_transition, transition
from vectra.leads.suppression import SuppressionReason, suppress
from vectra.mail import guardrails
from vectra.mail.inbound.models import InboundMessage
from vectra.mail.inbound.parse import InboundMessage as Parsed
from vectra.mail.models import Email
from vectra.mail.tracking import record_event
from vectra.utc import utc_iso

log = logging.getLogger("vectra.mail.inbound")

SOFT_BOUNCE_LIMIT = 3
SOFT_BOUNCE_WINDOW = dt.timedelta(days=7)
SOFT_BACKOFF = (dt.timedelta(hours=1), dt.timedelta(hours=6), dt.timedelta(hours=24))
# Policy refusals of one mailbox within a day before it is paused: one block can be a
# single recipient's strict filter, five mean the provider is refusing the sender.
POLICY_PAUSE_THRESHOLD = 5
POLICY_WINDOW = dt.timedelta(days=1)
NO_STOP_INTENTS = frozenset({"out_of_office", "auto_reply"})
UNSENT = ("pending", "approved")


def _note(row: InboundMessage, **values: Any) -> None:
    row.effects = {**row.effects, **values}


def _lead(session: Session, actor: Actor, row: InboundMessage) -> Lead | None:
    if row.lead_id is None:
        return None
    return session.scalar(
        select(Lead).where(Lead.id == row.lead_id, Lead.organization_id == actor.organization_id)
    )


def _email(session: Session, actor: Actor, row: InboundMessage) -> Email | None:
    if row.email_id is None:
        return None
    return session.scalar(
        select(Email).where(
            Email.id == row.email_id, Email.organization_id == actor.organization_id
        )
    )


def _close_lead(
    session: Session, actor: Actor, row: InboundMessage, lead: Lead, *, prefer: LeadStatus, why: str
) -> None:
    """Move the lead to `prefer`, else to completed, as far as the status machine allows."""
    current = LeadStatus(lead.status or "new")
    for target in (prefer, LeadStatus.COMPLETED):
        if current == target:
            _note(row, lead_status=target.value)
            return
        if can_transition(current, target):
            try:
                transition(session, actor, lead, target, reason=why, agent="inbound")
            except InvalidTransition:
                continue
            _note(row, lead_status=target.value)
            return
    _note(row, lead_status=f"left {current.value}: no allowed move to {prefer.value}")


def _suppress(
    session: Session, actor: Actor, row: InboundMessage, addresses: list[str | None], reason: str
) -> None:
    for address in addresses:
        if not address:
            continue
        try:
            entry = suppress(session, actor, address, reason, source=f"inbound:{row.id}")
        except InvalidInput:
            continue  # a garbled recipient in a report: fall back to the lead's address
        _note(row, suppressed=entry.value)
        return


# --- reports -------------------------------------------------------------------------


def apply_report(session: Session, actor: Actor, row: InboundMessage, parsed: Parsed) -> None:
    """Bounce, delay or complaint effects."""
    email = _email(session, actor, row)
    lead = _lead(session, actor, row)
    if lead is None and row.recipient:
        lead = session.scalar(
            select(Lead)
            .where(Lead.organization_id == actor.organization_id, Lead.email == row.recipient)
            .order_by(Lead.created_at.desc())
            .limit(1)
        )
        if lead is not None:
            row.lead_id, row.campaign_id = lead.id, lead.campaign_id
    if row.kind == "delay":
        _note(row, recorded="delay")
        return
    if row.kind == "complaint":
        _complaint(session, actor, row, email, lead)
        return
    if row.bounce_type == "soft":
        _soft(session, actor, row, email, lead)
    elif row.bounce_type == "policy":
        _policy(session, actor, row, email)
    else:
        _hard(session, actor, row, email, lead, why=f"hard bounce {row.dsn_status or ''}".strip())


def _event(session: Session, email: Email | None, kind: str, row: InboundMessage) -> None:
    if email is None:
        return
    detail = {"type": row.bounce_type, "status": row.dsn_status, "inbound_id": str(row.id)}
    if row.recipient:
        detail["recipient"] = row.recipient
    record_event(session, email.id, kind, detail=detail)


def _hard(
    session: Session,
    actor: Actor,
    row: InboundMessage,
    email: Email | None,
    lead: Lead | None,
    *,
    why: str,
) -> None:
    now = utcnow()
    if email is not None:
        email.status = "bounced"
        email.bounce_type = "hard"
        email.bounced_at = email.bounced_at or now
        session.flush()
    _event(session, email, "bounce", row)
    _suppress(session, actor, row, [row.recipient, lead.email if lead else None], "hard_bounce")
    if lead is not None:
        guardrails.stop_sequence(session, lead.id, "bounce")
        _close_lead(session, actor, row, lead, prefer=LeadStatus.REJECTED, why=why)
    _note(row, outcome="hard")
    _note(row, guardrails=guardrails.enforce_guardrails(session, actor.organization_id))


def _soft_count(session: Session, actor: Actor, address: str | None) -> int:
    """Soft bounces already recorded for this address in the window."""
    if not address:
        return 0
    return int(
        session.execute(
            text(
                "SELECT count(*) FROM email_events ev JOIN emails e ON e.id = ev.email_id "
                "LEFT JOIN leads l ON l.id = e.lead_id WHERE ev.organization_id = :o "
                "AND ev.kind = 'bounce' AND ev.detail->>'type' = 'soft' "
                "AND ev.occurred_at > :since "
                "AND lower(coalesce(ev.detail->>'recipient', l.email)) = lower(:a)"
            ),
            {"o": actor.organization_id, "since": utcnow() - SOFT_BOUNCE_WINDOW, "a": address},
        ).scalar_one()
    )


def _soft(
    session: Session, actor: Actor, row: InboundMessage, email: Email | None, lead: Lead | None
) -> None:
    address = row.recipient or (lead.email if lead else None)
    count = _soft_count(session, actor, address) + 1
    _event(session, email, "bounce", row)
    _note(row, soft_count=count)
    if count >= SOFT_BOUNCE_LIMIT:
        _hard(session, actor, row, email, lead, why=f"{count} soft bounces in 7 days")
        _note(row, outcome="hard_after_soft")
        return
    retry_at = utcnow() + SOFT_BACKOFF[min(count, len(SOFT_BACKOFF)) - 1]
    requeued = (
        email is not None
        and session.execute(
            # Re-queued for the sender, same Message-ID: the receiving server never accepted it.
            # (send_state is the sending engine's column, migration 022; not on the ORM model.)
            text(
                "UPDATE emails SET status = 'approved', send_state = NULL, scheduled_for = :t, "
                "bounce_type = 'soft' WHERE id = :e AND send_state = 'sent' RETURNING id"
            ),
            {"t": retry_at, "e": email.id},
        ).first()
    )
    if requeued:
        session.expire(email)
        _note(row, outcome="retry", retry_at=utc_iso(retry_at))
    else:
        _note(row, outcome="soft")


def _policy(session: Session, actor: Actor, row: InboundMessage, email: Email | None) -> None:
    """The sender is refused (5.7.x): flag the mailbox, pause past the threshold; lead untouched."""
    if email is not None:
        email.bounce_type = "policy"
        email.bounced_at = email.bounced_at or utcnow()
        session.flush()
    _event(session, email, "bounce", row)
    mailbox_id = row.mailbox_id
    if email is not None:
        mailbox_id = (
            session.execute(
                text("SELECT mailbox_id FROM emails WHERE id = :e"), {"e": email.id}
            ).scalar()
            or mailbox_id
        )
    _note(row, outcome="policy")
    if mailbox_id is None:
        return
    reason = f"policy refusal {row.dsn_status or ''}: {row.details.get('diagnostic', '')}"[:500]
    session.execute(
        text("UPDATE mailboxes SET last_error = :r WHERE id = :m AND organization_id = :o"),
        {"r": reason, "m": mailbox_id, "o": actor.organization_id},
    )
    refusals = session.execute(
        text(
            "SELECT count(*) FROM email_events ev JOIN emails e ON e.id = ev.email_id "
            "WHERE e.mailbox_id = :m AND ev.kind = 'bounce' AND ev.detail->>'type' = 'policy' "
            "AND ev.occurred_at > :since"
        ),
        {"m": mailbox_id, "since": utcnow() - POLICY_WINDOW},
    ).scalar_one()
    _note(row, mailbox_flagged=str(mailbox_id), policy_refusals=int(refusals))
    if refusals >= POLICY_PAUSE_THRESHOLD:
        why = f"paused: {refusals} policy refusals in 24h (sender blocked; check DNS/reputation)"
        session.execute(
            text(
                "UPDATE mailboxes SET status = 'paused', status_reason = :r "
                "WHERE id = :m AND status = 'active'"
            ),
            {"r": why, "m": mailbox_id},
        )
        if email is not None and email.campaign_id is not None:
            session.execute(
                text("UPDATE campaigns SET status = 'paused' WHERE id = :c AND status = 'active'"),
                {"c": email.campaign_id},
            )
        log.warning("inbound: mailbox %s %s", mailbox_id, why)
        _note(row, paused=why)


def _complaint(
    session: Session, actor: Actor, row: InboundMessage, email: Email | None, lead: Lead | None
) -> None:
    if email is not None:
        record_event(session, email.id, "complaint", detail={"inbound_id": str(row.id)})
    _suppress(session, actor, row, [row.recipient, lead.email if lead else None], "complaint")
    if lead is not None:
        guardrails.stop_sequence(session, lead.id, "complaint")
    _note(row, outcome="complaint")
    _note(row, guardrails=guardrails.enforce_guardrails(session, actor.organization_id))


def apply_receipt(session: Session, actor: Actor, row: InboundMessage) -> None:
    """A positive DSN: the email reached the recipient's server."""
    email = _email(session, actor, row)
    if email is None:
        _note(row, outcome="receipt for no known email")
        return
    email.delivered_at = email.delivered_at or utcnow()
    session.flush()
    record_event(session, email.id, "delivered", detail={"inbound_id": str(row.id)})
    _note(row, outcome="delivered")


def apply_mailto_unsubscribe(session: Session, row: InboundMessage, token: str) -> None:
    """A List-Unsubscribe mailto: same effect as the one-click link."""
    from vectra.errors import NotFound
    from vectra.mail.unsubscribe import unsubscribe

    try:
        target = unsubscribe(session, token, source="mailto")
    except NotFound:
        _note(row, outcome="unsubscribe token not valid")
        return
    row.kind, row.intent, row.intent_source = "reply", "unsubscribe", "list_unsubscribe"
    row.email_id, row.lead_id = target.email_id, target.lead_id
    _note(row, outcome="unsubscribed")


# --- replies -------------------------------------------------------------------------


def classify(row: InboundMessage, parsed: Parsed) -> None:
    """Intent of the reply's own words (quotes and signature already stripped)."""
    from vectra.mail.inbound.classifier import classify_reply

    guess = classify_reply(
        parsed.body or "", auto_header=parsed.auto_submitted, received=parsed.sent_at
    )
    row.intent, row.intent_confidence, row.intent_source = (
        guess.intent,
        guess.confidence,
        "classifier",
    )
    row.return_on = guess.return_on
    contact = {"name": guess.contact_name, "email": guess.contact_email}
    if any(contact.values()):
        row.details = {**row.details, "contact": contact}


def apply_reply(session: Session, actor: Actor, row: InboundMessage) -> None:
    """Reply effects for `row.intent`; safe to run again after a correction."""
    email = _email(session, actor, row)
    lead = _lead(session, actor, row)
    if email is not None:
        email.replied_at = email.replied_at or row.received_at or utcnow()
        if not row.effects.get("reply_event"):
            record_event(session, email.id, "reply", detail={"inbound_id": str(row.id)})
            _note(row, reply_event=True)
    if lead is None:
        _note(row, outcome="no lead: kept for the operator")
        session.flush()
        return
    intent = row.intent or "question"
    lead.intent = intent
    if intent not in NO_STOP_INTENTS:
        stopped = guardrails.stop_sequence(
            session, lead.id, "unsubscribe" if intent == "unsubscribe" else "reply"
        )
        _note(row, sequence_stopped=True, stopped_emails=stopped)
    if intent in ("interested", "meeting_request"):
        _hand_to_scheduler(session, actor, row, lead)
    elif intent == "unsubscribe":
        _suppress(session, actor, row, [lead.email], SuppressionReason.UNSUBSCRIBE)
        _close_lead(session, actor, row, lead, prefer=LeadStatus.COMPLETED, why="unsubscribed")
    elif intent == "not_interested":
        _close_lead(session, actor, row, lead, prefer=LeadStatus.COMPLETED, why="not interested")
    elif intent == "out_of_office":
        _reschedule(session, row, lead)
    elif intent == "referral":
        _create_referral(session, actor, row, lead)
    session.flush()


def _hand_to_scheduler(session: Session, actor: Actor, row: InboundMessage, lead: Lead) -> None:
    if row.effects.get("scheduler_job"):
        return
    from vectra.mail.inbound.tasks import propose_meeting_for_reply
    from vectra.worker.app import defer_in_session

    job = defer_in_session(
        session,
        propose_meeting_for_reply,
        organization_id=str(actor.organization_id),
        lead_id=str(lead.id),
        inbound_id=str(row.id),
    )
    _note(row, scheduler_job=job)


def _reschedule(session: Session, row: InboundMessage, lead: Lead) -> None:
    """Hold the lead's queued emails until the day after they are back."""
    if row.return_on is None:
        _note(row, rescheduled=None)
        return
    resume = dt.datetime.combine(row.return_on + dt.timedelta(days=1), dt.time(9, 0))
    result = session.execute(
        text(
            "UPDATE emails SET scheduled_for = GREATEST(coalesce(scheduled_for, :r), :r) "
            "WHERE lead_id = :l AND send_state IS NULL AND status IN ('pending', 'approved')"
        ),
        {"r": resume, "l": lead.id},
    )
    _note(row, rescheduled=utc_iso(resume), rescheduled_emails=int(result.rowcount or 0))  # type: ignore[attr-defined]


def _create_referral(session: Session, actor: Actor, row: InboundMessage, lead: Lead) -> None:
    """A new lead in the same campaign from the named contact (deduped, suppression-checked)."""
    if row.effects.get("referral_lead_id"):
        return
    contact = row.details.get("contact") or {}
    address = contact.get("email")
    if not address or lead.campaign_id is None:
        _note(row, referral="no address named: left to the operator")
        return
    from vectra.leads.schemas import LeadCreate
    from vectra.leads.service import create_lead

    first, _, last = (contact.get("name") or "").partition(" ")
    data = LeadCreate(
        email=address,
        first_name=first or None,
        last_name=last or None,
        company_name=lead.company_name,
        source="referral",
        enrichment_data={"notes": f"referred by {lead.email} (reply {row.id})"},
    )
    try:
        created = create_lead(session, actor, lead.campaign_id, data)
    except (Conflict, QuotaExceeded, InvalidInput) as exc:
        _note(row, referral=f"not created: {exc.message}")
        return
    _note(row, referral_lead_id=str(created.id))


def correct_intent(session: Session, actor: Actor, row: InboundMessage, intent: str) -> None:
    """An operator's correction: the new intent's effects are applied (idempotently)."""
    row.intent, row.intent_source, row.intent_confidence = intent, "operator", 1.0
    _note(row, corrected_at=utc_iso(utcnow()))
    apply_reply(session, actor, row)


def opt_out(session: Session, actor: Actor, row: InboundMessage) -> None:
    """An operator's opt-out for the reply's lead: suppressed, sequence stopped, lead closed.

    The intent label stays as read: a prospect may ask to stop in a message that is mostly
    about something else, and the label keeps describing the message.
    """
    lead = _lead(session, actor, row)
    if lead is None:
        raise InvalidInput("This reply is not linked to a lead.", field="lead_id")
    stopped = guardrails.stop_sequence(session, lead.id, "unsubscribe")
    _note(row, opted_out_by=str(actor.user_id or "api"), opt_out_stopped_emails=stopped)
    _suppress(session, actor, row, [lead.email], SuppressionReason.UNSUBSCRIBE)
    _close_lead(session, actor, row, lead, prefer=LeadStatus.COMPLETED, why="unsubscribed")
    session.flush()
