"""Reputation guardrails, sequence stops and the organization-wide kill switch.

Mailbox providers block a domain whose hard-bounce or complaint rate climbs (Gmail's bulk
sender rules ask for complaints under 0.1-0.3%), so each mailbox and campaign is judged on
its last 200 sends and paused past the thresholds, before the provider does it for us.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from vectra.accounts.actor import Actor
from vectra.errors import InvalidInput, NotFound
from vectra.mail.mailbox_models import SequenceStop

log = logging.getLogger("vectra.mail.guardrails")

WINDOW = 200
MAX_HARD_BOUNCE_RATE = 0.03
MAX_COMPLAINT_RATE = 0.001
# Below this many sends a single bounce is noise (1 of 5 is 20%), so bounces wait for a
# sample; complaints don't: one complaint already breaks 0.1% of any window we keep.
MIN_SENDS_FOR_BOUNCE_RATE = 30

StopReason = Literal["reply", "bounce", "unsubscribe", "meeting", "manual", "complaint"]
STOP_REASONS: frozenset[str] = frozenset(
    {"reply", "bounce", "unsubscribe", "meeting", "manual", "complaint"}
)


@dataclass(frozen=True)
class Rates:
    sends: int
    hard_bounces: int
    complaints: int

    @property
    def hard_bounce_rate(self) -> float:
        return self.hard_bounces / self.sends if self.sends else 0.0

    @property
    def complaint_rate(self) -> float:
        return self.complaints / self.sends if self.sends else 0.0

    def breach(self) -> str | None:
        """Why these rates must pause sending, or None."""
        if self.sends >= MIN_SENDS_FOR_BOUNCE_RATE and self.hard_bounce_rate > MAX_HARD_BOUNCE_RATE:
            return (
                f"hard bounce rate {self.hard_bounce_rate:.1%} over the last {self.sends} sends "
                f"(limit {MAX_HARD_BOUNCE_RATE:.0%}): clean the list before resuming"
            )
        if self.complaint_rate > MAX_COMPLAINT_RATE:
            return (
                f"complaint rate {self.complaint_rate:.2%} over the last {self.sends} sends "
                f"(limit {MAX_COMPLAINT_RATE:.1%}): review targeting and copy before resuming"
            )
        return None


def recent_rates(
    session: Session, column: str, scope_id: uuid.UUID, *, window: int = WINDOW
) -> Rates:
    """Hard bounces and complaints among the last `window` sends of a mailbox or campaign."""
    if column not in ("mailbox_id", "campaign_id"):
        raise ValueError(column)
    row = session.execute(
        text(
            "WITH recent AS (SELECT id, bounce_type FROM emails "
            f"WHERE {column} = :sid AND sent_at IS NOT NULL ORDER BY sent_at DESC LIMIT :n) "
            "SELECT count(*) AS sends, "
            "count(*) FILTER (WHERE bounce_type = 'hard') AS hard, "
            "count(*) FILTER (WHERE EXISTS (SELECT 1 FROM email_events ev "
            "WHERE ev.email_id = recent.id AND ev.kind = 'complaint')) AS complaints FROM recent"
        ),
        {"sid": scope_id, "n": window},
    ).one()
    return Rates(int(row.sends), int(row.hard), int(row.complaints))


def enforce_guardrails(session: Session, organization_id: uuid.UUID) -> list[str]:
    """Pause every mailbox and campaign of the organization past a threshold; what it paused."""
    paused: list[str] = []
    mailboxes = session.execute(
        text("SELECT id, name FROM mailboxes WHERE organization_id = :o AND status = 'active'"),
        {"o": organization_id},
    ).all()
    for mailbox in mailboxes:
        reason = recent_rates(session, "mailbox_id", mailbox.id).breach()
        if reason:
            session.execute(
                text("UPDATE mailboxes SET status = 'paused', status_reason = :r WHERE id = :i"),
                {"r": f"paused by guardrail: {reason}", "i": mailbox.id},
            )
            paused.append(f"mailbox {mailbox.name}: {reason}")
    campaigns = session.execute(
        text("SELECT id, name FROM campaigns WHERE organization_id = :o AND status = 'active'"),
        {"o": organization_id},
    ).all()
    for campaign in campaigns:
        reason = recent_rates(session, "campaign_id", campaign.id).breach()
        if reason:
            session.execute(
                text("UPDATE campaigns SET status = 'paused' WHERE id = :i"), {"i": campaign.id}
            )
            paused.append(f"campaign {campaign.name}: {reason}")
    for line in paused:
        # The notification: a warning in the audit log (the notifications domain reads it).
        log.warning("guardrail paused %s (organization %s)", line, organization_id)
    return paused


def set_kill_switch(
    session: Session, actor: Actor, *, paused: bool, reason: str | None = None
) -> bool:
    """Stop (or resume) all sending of the organization at once; the sender checks it per email."""
    updated = session.execute(
        text(
            "UPDATE organizations SET settings = COALESCE(settings, '{}'::jsonb) "
            "|| jsonb_build_object('sending_paused', CAST(:p AS boolean), "
            "'sending_paused_reason', CAST(:r AS text)) WHERE id = :o RETURNING id"
        ),
        {"p": paused, "r": reason, "o": actor.organization_id},
    ).first()
    if updated is None:
        raise NotFound("Organization not found.")
    return paused


def stop_sequence(session: Session, lead_id: uuid.UUID, reason: StopReason | str) -> int:
    """End a lead's sequence (reply, bounce, unsubscribe, meeting, manual): no further email
    of it is sent, including drafts made later. Returns how many queued emails were stopped.
    Idempotent; the first reason is kept."""
    if reason not in STOP_REASONS:
        raise InvalidInput(f"Unknown stop reason '{reason}'.", field="reason")
    organization_id = session.execute(
        text("SELECT organization_id FROM leads WHERE id = :l"), {"l": lead_id}
    ).scalar()
    if organization_id is None:
        raise NotFound("Lead not found.")
    session.execute(
        insert(SequenceStop)
        .values(lead_id=lead_id, organization_id=organization_id, reason=reason)
        .on_conflict_do_nothing(index_elements=["lead_id"])
    )
    # Emails already claimed are re-checked right before SMTP, so only the queue is touched.
    result = session.execute(
        text(
            "UPDATE emails SET send_state = 'stopped', send_error = :r "
            "WHERE lead_id = :l AND send_state IS NULL AND status IN ('pending', 'approved')"
        ),
        {"r": f"sequence stopped ({reason})", "l": lead_id},
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
