"""The scheduler agent: for a lead who wants to talk, propose three times and a booking link.

For a lead whose reply intent is `interested` or `meeting_request`, it takes the host's
availability (working hours, buffer, minimum notice) minus busy time (bookings, Google
Calendar), picks three slots on different days where it can, writes them in the lead's time
zone, and drafts the reply as a `pending` email so it goes through the campaign's approval.
Every run is an `agent_runs` row (agent_type 'scheduler') with its input, output and timing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from vectra.accounts.actor import Actor
from vectra.accounts.models import User
from vectra.agents import runner
from vectra.agents.models import AgentRun
from vectra.campaigns.models import Campaign
from vectra.errors import InvalidInput, InvalidTransition, NotFound, VectraError
from vectra.leads.models import Lead
from vectra.mail.models import Email
from vectra.meetings.availability import find_free_slots, organization_timezone
from vectra.meetings.booking import booking_url
from vectra.meetings.google import busy_for_user
from vectra.meetings.slots import Slot, zone_or_none
from vectra.utc import as_utc, utc_iso

WANTS_MEETING = frozenset({"interested", "meeting_request"})
PROPOSALS = 3
LOOKAHEAD_DAYS = 10


@dataclass(frozen=True)
class Proposal:
    """What a run did: the drafted email and slots, or why it could not (run stays `failed`)."""

    run_id: uuid.UUID
    status: str
    email_id: uuid.UUID | None = None
    slots: tuple[Slot, ...] = ()
    timezone: str | None = None
    booking_url: str | None = None
    error: str | None = None


def pick_spread(slots: list[Slot], zone: str, count: int = PROPOSALS) -> list[Slot]:
    """`count` slots, one per day (the lead's days) first, earliest first; fill from the rest."""
    tz = ZoneInfo(zone)
    chosen: list[Slot] = []
    days: set[dt.date] = set()
    for slot in slots:
        day = slot.start.astimezone(tz).date()
        if day not in days:
            chosen.append(slot)
            days.add(day)
        if len(chosen) == count:
            return chosen
    for slot in slots:
        if slot not in chosen:
            chosen.append(slot)
        if len(chosen) == count:
            break
    return sorted(chosen, key=lambda s: s.start)


def _lead_zone(session: Session, lead: Lead) -> str:
    guess = (lead.enrichment_data or {}).get("timezone")
    if isinstance(guess, str) and zone_or_none(guess):
        return guess
    assert lead.organization_id is not None
    return organization_timezone(session, lead.organization_id)


def _host(session: Session, actor: Actor, lead: Lead, host_user_id: uuid.UUID | None) -> User:
    candidate = host_user_id
    if candidate is None and lead.campaign_id is not None:
        candidate = session.scalar(
            select(Campaign.created_by).where(
                Campaign.id == lead.campaign_id,
                Campaign.organization_id == actor.organization_id,
            )
        )
    candidate = candidate or actor.user_id
    host = (
        session.scalar(
            select(User).where(User.id == candidate, User.organization_id == actor.organization_id)
        )
        if candidate
        else None
    )
    if host is None:
        raise InvalidInput("No host user for this lead's meeting.", field="host_user_id")
    return host


def draft_text(lead: Lead, host: User, slots: list[Slot], zone: str, link: str) -> str:
    """The reply: a greeting, three times in the lead's zone, and the self-serve link."""
    tz = ZoneInfo(zone)
    lines = [
        f"Hi {lead.first_name or 'there'},",
        "",
        "Great to hear from you. Would one of these work?",
        "",
    ]
    for slot in slots:
        local = slot.start.astimezone(tz)
        lines.append(f"- {local:%A %d %B, %H:%M} ({zone})")
    lines += [
        "",
        f"Or pick any time that suits you here: {link}",
        "",
        "Best,",
        " ".join(p for p in (host.first_name, host.last_name) if p) or host.email,
    ]
    return "\n".join(lines)


def propose_meeting(
    session: Session,
    actor: Actor,
    lead_id: uuid.UUID,
    *,
    host_user_id: uuid.UUID | None = None,
    now: dt.datetime | None = None,
) -> Proposal:
    """Run the scheduler for one interested lead: 3 slots + booking link, drafted as pending."""
    lead = session.scalar(
        select(Lead).where(Lead.id == lead_id, Lead.organization_id == actor.organization_id)
    )
    if lead is None:
        raise NotFound("No such lead.", field="lead_id")
    if lead.intent not in WANTS_MEETING:
        raise InvalidTransition(
            f"The scheduler acts on interested or meeting-request replies, not '{lead.intent}'.",
            field="intent",
        )
    # Recorded by the runner: a retried job finds the succeeded run instead of drafting twice.
    run = runner.open_run(
        session, actor, "scheduler", lead.campaign_id,
        {"lead_id": str(lead.id), "intent": lead.intent},
    )  # fmt: skip
    if run.status == "succeeded":
        return _recorded(run)
    runner.start(session, run)
    ctx = runner.RunContext(run=run)
    try:
        with session.begin_nested():
            host, zone, slots, link, email = _draft(session, actor, lead, host_user_id, now)
    except VectraError as exc:
        # The run itself is kept (as failed) so the operator sees why nothing was drafted.
        runner.fail(session, run, exc.message, ctx)
        return Proposal(run.id, "failed", error=exc.message)
    output = {
        "email_id": str(email.id),
        "host_user_id": str(host.id),
        "timezone": zone,
        "slots": [utc_iso(s.start) for s in slots],
        "slot_ends": [utc_iso(s.end) for s in slots],
        "booking_url": link,
    }
    runner.succeed(session, run, output, ctx)  # deterministic: no model call, 0 tokens
    return Proposal(run.id, "succeeded", email.id, tuple(slots), zone, link)


def _recorded(run: AgentRun) -> Proposal:
    out = run.output_data or {}
    slots = tuple(
        Slot(dt.datetime.fromisoformat(a), dt.datetime.fromisoformat(b))
        for a, b in zip(out.get("slots", []), out.get("slot_ends", []), strict=False)
    )
    return Proposal(
        run.id, "succeeded", uuid.UUID(out["email_id"]) if out.get("email_id") else None,
        slots, out.get("timezone"), out.get("booking_url"),
    )  # fmt: skip


def run_scheduler(
    session: Session,
    actor: Actor,
    campaign_id: uuid.UUID | None,
    input_data: dict[str, object],
    ctx: runner.RunContext,
) -> dict[str, object]:
    """Campaign entry point: propose times to every interested lead without a proposal yet."""
    if campaign_id is None:
        raise InvalidInput("The scheduler works on a campaign.", field="campaign_id")
    leads = list(
        session.scalars(
            select(Lead)
            .where(
                Lead.organization_id == actor.organization_id,
                Lead.campaign_id == campaign_id,
                Lead.intent.in_(WANTS_MEETING),
                Lead.status == "contacted",
            )
            .order_by(Lead.id)
        )
    )
    counts = {"leads": len(leads), "proposed": 0, "already_proposed": 0, "failed": 0}
    for i, lead in enumerate(leads, 1):
        before = runner.idempotency_key(
            "scheduler", lead.campaign_id, {"lead_id": str(lead.id), "intent": lead.intent}
        )
        done = session.scalar(
            select(AgentRun.id).where(
                AgentRun.organization_id == actor.organization_id,
                AgentRun.idempotency_key == before,
                AgentRun.status == "succeeded",
            )
        )
        if done is not None:
            counts["already_proposed"] += 1
        else:
            result = propose_meeting(session, actor, lead.id)
            counts["proposed" if result.status == "succeeded" else "failed"] += 1
        ctx.advance(i, len(leads))
    return dict(counts)


def _draft(
    session: Session,
    actor: Actor,
    lead: Lead,
    host_user_id: uuid.UUID | None,
    now: dt.datetime | None,
) -> tuple[User, str, list[Slot], str, Email]:
    """Host, zone, three slots, link, and the pending reply (raises when impossible)."""
    host = _host(session, actor, lead, host_user_id)
    zone = _lead_zone(session, lead)
    now = as_utc(now or dt.datetime.now(dt.UTC))
    free = find_free_slots(
        session,
        actor.organization_id,
        host.id,
        start=now,
        end=now + dt.timedelta(days=LOOKAHEAD_DAYS),
        now=now,
        external_busy=busy_for_user,
    )
    if not free:
        raise InvalidInput("The host has no free time in the next 10 days.", field="host")
    slots = pick_spread(free, zone)
    link = booking_url(lead.id, host.id)
    email = Email(
        organization_id=actor.organization_id,
        lead_id=lead.id,
        campaign_id=lead.campaign_id,
        subject="Finding a time to talk",
        body=draft_text(lead, host, slots, zone, link),
        status="pending",
        needs_review=True,
    )
    session.add(email)
    session.flush()
    return host, zone, slots, link, email
