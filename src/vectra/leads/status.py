"""The lead status machine (the seed's `lead_status`): every change goes through `transition`.

new -> enriched -> scoring -> qualified | rejected; qualified -> contacted ->
meeting_scheduled -> completed. A person may also disqualify a lead before it is contacted,
re-score a qualified or rejected lead, and close a contacted lead that never booked.
Each change is one row of `lead_status_history` (when, from, to, who or which agent, why).
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy.orm import Session

from vectra.accounts.actor import Actor
from vectra.db.base import utcnow
from vectra.errors import InvalidInput, InvalidTransition
from vectra.leads.models import Lead
from vectra.leads.tables import LeadStatusHistory


class LeadStatus(StrEnum):
    """The seed's `lead_status`."""

    NEW = "new"
    ENRICHED = "enriched"
    SCORING = "scoring"
    QUALIFIED = "qualified"
    CONTACTED = "contacted"
    MEETING_SCHEDULED = "meeting_scheduled"
    COMPLETED = "completed"
    REJECTED = "rejected"


L = LeadStatus
TRANSITIONS: dict[LeadStatus, frozenset[LeadStatus]] = {
    L.NEW: frozenset({L.ENRICHED, L.REJECTED}),
    L.ENRICHED: frozenset({L.SCORING, L.REJECTED}),
    L.SCORING: frozenset({L.QUALIFIED, L.REJECTED}),
    L.QUALIFIED: frozenset({L.CONTACTED, L.SCORING, L.REJECTED}),
    L.REJECTED: frozenset({L.SCORING}),
    L.CONTACTED: frozenset({L.MEETING_SCHEDULED, L.COMPLETED}),
    L.MEETING_SCHEDULED: frozenset({L.COMPLETED}),
    L.COMPLETED: frozenset(),
}

# Why a refused move is refused, for the moves people try most.
_HINTS: dict[tuple[LeadStatus, LeadStatus], str] = {
    (L.NEW, L.QUALIFIED): "a lead is enriched and scored before it can be qualified",
    (L.NEW, L.CONTACTED): "only a qualified lead is contacted",
    (L.ENRICHED, L.CONTACTED): "only a qualified lead is contacted",
    (L.REJECTED, L.CONTACTED): "a rejected lead is never contacted; re-score it first",
    (L.QUALIFIED, L.MEETING_SCHEDULED): "a meeting follows contact",
}


def can_transition(current: LeadStatus, to: LeadStatus) -> bool:
    return to in TRANSITIONS[current]


def explain_refusal(current: LeadStatus, to: LeadStatus) -> str:
    """Why `current -> to` is refused, and what is allowed from `current`."""
    allowed = ", ".join(sorted(TRANSITIONS[current])) or "nothing (final state)"
    hint = _HINTS.get((current, to))
    why = f": {hint}" if hint else ""
    return f"A lead cannot go from '{current}' to '{to}'{why}. From '{current}': {allowed}."


def parse_status(value: str, *, field: str = "status") -> LeadStatus:
    try:
        return LeadStatus(value)
    except ValueError:
        raise InvalidInput(
            f"Unknown lead status '{value}'; one of: {', '.join(s.value for s in LeadStatus)}.",
            field=field,
        ) from None


def transition(
    session: Session,
    actor: Actor,
    lead: Lead,
    to: LeadStatus,
    *,
    reason: str | None = None,
    agent: str | None = None,
) -> LeadStatusHistory | None:
    """Move `lead` to `to` and record who did it and why (None when already there)."""
    current = LeadStatus(lead.status or L.NEW.value)
    if current == to:
        return None
    if not can_transition(current, to):
        raise InvalidTransition(
            explain_refusal(current, to),
            field="status",
            from_status=current.value,
            to_status=to.value,
        )
    lead.status = to.value
    if agent:
        kind = "agent"
    elif actor.api_key_id is not None:
        kind = "api_key"
    elif actor.user_id is not None:
        kind = "user"
    else:
        kind = "system"
    entry = LeadStatusHistory(
        organization_id=lead.organization_id or actor.organization_id,
        lead_id=lead.id,
        from_status=current.value,
        to_status=to.value,
        actor_kind=kind,
        actor_user_id=actor.user_id,
        actor_api_key_id=actor.api_key_id,
        agent=agent,
        reason=reason,
        # Wall-clock time, not the transaction's: several moves in one transaction stay ordered.
        created_at=utcnow(),
    )
    session.add(entry)
    session.flush()
    if to == LeadStatus.QUALIFIED:
        # A qualified lead goes to the CRM: queued in this transaction, collapsed per org.
        from vectra.integrations.tasks import enqueue_sync

        enqueue_sync(session, entry.organization_id, "lead qualified")
    return entry
