"""The sending engine: claim due emails under every cap, send each exactly once, recover.

The life of an approved email (`emails.send_state`):

    NULL --claim--> sending --mark_transmitting--> transmitting --SMTP 250--> sent
                       |                                |
                       +-- lead stopped/suppressed --> stopped      (SMTP 5xx: failed;
                                                                    4xx/network: back to NULL)

- claim (one transaction): due emails are locked with FOR UPDATE SKIP LOCKED, re-checked
  (kill switch, campaign active, lead stopped/suppressed, recipient window, follow-up delay),
  given a mailbox by rotation and counted against the campaign's daily_limit, the mailbox's
  cap (warm-up ramp included) and the plan's emails_limit in the same transaction; a stable
  Message-ID is stored with the claim.
- transmitting is committed right before the SMTP transaction; only an email caught in that
  state can have been accepted by the server without our knowing it.
- A worker holds a PostgreSQL session advisory lock named by its id while it works; the lock
  dies with its connection, so recovery knows a worker is dead without guessing a timeout.
  A dead worker's `sending` emails are sent normally (already counted); its `transmitting`
  ones are re-sent with the same Message-ID and flagged `possible_duplicate`.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import random
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from vectra.db.base import utcnow
from vectra.mail import counters, windows
from vectra.mail.counters import consume_plan_emails, effective_mailbox_cap
from vectra.mail.mailbox_models import CampaignMailbox, Mailbox
from vectra.mail.outgoing import domain_of, new_message_id

log = logging.getLogger("vectra.mail.sending")

# Lead statuses that must never receive outbound mail.
NO_SEND_LEAD_STATUSES = frozenset({"rejected", "completed", "meeting_scheduled"})
ADVISORY_CLASS = 7_310_541  # namespace of the worker liveness locks


def new_worker_id() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class Claimed:
    """An email this worker owns and must transmit."""

    email_id: uuid.UUID
    organization_id: uuid.UUID
    mailbox_id: uuid.UUID
    message_id: str
    resend: bool = False


@dataclass
class ClaimReport:
    claimed: list[Claimed] = field(default_factory=list)
    deferred: int = 0  # outside the recipient's window or follow-up not yet due
    stopped: int = 0  # lead stopped, suppressed or not sendable
    capped: int = 0  # a cap (campaign, mailbox, plan) is full for now
    held: int = 0  # kill switch on, campaign not active, no usable mailbox


# -- worker liveness ---------------------------------------------------------------------


@contextmanager
def worker_lease(connection: Connection, worker_id: str) -> Iterator[None]:
    """Hold `worker_id`'s liveness lock on `connection` (autocommit) for the block."""
    connection.execute(
        text("SELECT pg_advisory_lock(:c, hashtext(:w))"), {"c": ADVISORY_CLASS, "w": worker_id}
    )
    try:
        yield
    finally:
        connection.execute(
            text("SELECT pg_advisory_unlock(:c, hashtext(:w))"),
            {"c": ADVISORY_CLASS, "w": worker_id},
        )


def adopt_orphans(session: Session, worker_id: str) -> list[Claimed]:
    """Take over the in-flight emails of dead workers (their liveness lock is free)."""
    owners = session.execute(
        text(
            "SELECT DISTINCT claimed_by FROM emails "
            "WHERE send_state IN ('sending', 'transmitting') AND claimed_by IS DISTINCT FROM :me"
        ),
        {"me": worker_id},
    ).scalars()
    adopted: list[Claimed] = []
    for owner in list(owners):
        # xact lock: held until this transaction ends, so two recoverers can't both adopt.
        alive = not session.execute(
            text("SELECT pg_try_advisory_xact_lock(:c, hashtext(:w))"),
            {"c": ADVISORY_CLASS, "w": owner or ""},
        ).scalar()
        if alive:
            continue
        rows = session.execute(
            text(
                "UPDATE emails SET claimed_by = :me, claimed_at = NOW(), "
                "possible_duplicate = possible_duplicate OR send_state = 'transmitting' "
                "WHERE claimed_by IS NOT DISTINCT FROM :owner "
                "AND send_state IN ('sending', 'transmitting') "
                "RETURNING id, organization_id, mailbox_id, message_id, send_state"
            ),
            {"me": worker_id, "owner": owner},
        ).all()
        for row in rows:
            if row.mailbox_id is None:  # its mailbox was deleted: release it for a new claim
                session.execute(
                    text("UPDATE emails SET send_state = NULL, claimed_by = NULL WHERE id = :i"),
                    {"i": row.id},
                )
                continue
            adopted.append(
                Claimed(
                    row.id,
                    row.organization_id,
                    row.mailbox_id,
                    row.message_id,
                    resend=row.send_state == "transmitting",
                )
            )
        if rows:
            log.warning("adopted %d in-flight emails of dead worker %s", len(rows), owner)
    return adopted


# -- claim -------------------------------------------------------------------------------

# One round trip for the whole batch: lock the first `limit` due emails in claim order (read
# straight off idx_emails_claim_order, so a claim costs the same at 10 or 1,000,000 queued),
# then join their lead, campaign, organization, any sequence stop, and (for follow-ups only)
# when the previous step went out.
_CANDIDATES = text(
    "WITH picked AS (SELECT e.id FROM emails e "
    "WHERE e.status = 'approved' AND e.send_state IS NULL "
    "AND (e.scheduled_for IS NULL OR e.scheduled_for <= :now) "
    "ORDER BY e.scheduled_for NULLS FIRST, e.created_at "
    "LIMIT :limit FOR UPDATE SKIP LOCKED) "
    "SELECT e.id, e.organization_id, e.campaign_id, e.lead_id, e.sequence_step, e.delay_days, "
    "e.message_id, l.email AS lead_email, l.status AS lead_status, "
    "l.enrichment_data AS enrichment, c.status AS campaign_status, c.daily_limit, "
    "c.target_criteria, o.settings AS org_settings, st.reason AS stop_reason, "
    "CASE WHEN e.sequence_step > 0 THEN (SELECT max(p.sent_at) FROM emails p "
    " WHERE p.lead_id = e.lead_id AND p.campaign_id = e.campaign_id "
    " AND p.sequence_step < e.sequence_step) END AS previous_sent_at "
    "FROM picked JOIN emails e ON e.id = picked.id "
    "JOIN organizations o ON o.id = e.organization_id "
    "LEFT JOIN leads l ON l.id = e.lead_id LEFT JOIN campaigns c ON c.id = e.campaign_id "
    "LEFT JOIN sequence_stops st ON st.lead_id = e.lead_id "
    "ORDER BY e.scheduled_for NULLS FIRST, e.created_at"
)


def kill_switch_on(org_settings: dict[str, Any] | None) -> bool:
    """The organization-wide stop: nothing leaves while `sending_paused` is set."""
    return bool((org_settings or {}).get("sending_paused"))


def _suppressed(session: Session, organization_id: uuid.UUID, addresses: list[str]) -> set[str]:
    """Which addresses are on the organization's suppression list (the leads domain's)."""
    from vectra.accounts.actor import system_actor
    from vectra.leads.suppression import suppressed_among

    lowered = [a.strip().lower() for a in addresses if a]
    return suppressed_among(session, system_actor(organization_id), lowered)


def suppressed_now(session: Session, organization_id: uuid.UUID, address: str) -> bool:
    """The right-before-SMTP suppression check of one address."""
    return bool(_suppressed(session, organization_id, [address]))


def lead_blocked(
    session: Session, organization_id: uuid.UUID, lead_id: uuid.UUID | None
) -> str | None:
    """Why this lead must not be mailed now (stopped, suppressed, status), or None."""
    if lead_id is None:
        return "no lead"
    lead = session.execute(
        text(
            "SELECT l.email, l.status, st.reason FROM leads l "
            "LEFT JOIN sequence_stops st ON st.lead_id = l.id WHERE l.id = :l"
        ),
        {"l": lead_id},
    ).one_or_none()
    if lead is None:
        return "lead deleted"
    return _blocked_reason(lead.status, lead.reason) or (
        "suppressed" if _suppressed(session, organization_id, [lead.email]) else None
    )


def _blocked_reason(lead_status: str | None, stop_reason: str | None) -> str | None:
    if lead_status in NO_SEND_LEAD_STATUSES:
        return f"lead is {lead_status}"
    if stop_reason:
        return f"sequence stopped ({stop_reason})"
    return None


def _campaign_window(row: Any) -> tuple[windows.SendingWindow, str | None]:
    # Optional per-campaign sending settings live next to the campaign's criteria.
    sending = (row.target_criteria or {}).get("sending") or {}
    org_settings = row.org_settings or {}
    window = windows.SendingWindow.from_settings(
        sending.get("window") or org_settings.get("sending_window")
    )
    return window, sending.get("timezone") or org_settings.get("timezone")


def _due_time(row: Any, now: dt.datetime) -> dt.datetime:
    """The earliest moment the email may go: follow-up delay in business days, then the
    recipient's local window (DST-correct, holidays skipped)."""
    window, default_tz = _campaign_window(row)
    enrichment = row.enrichment or {}
    tz = windows.recipient_timezone(enrichment, default=default_tz)
    country = str(enrichment.get("country") or "").upper() or None
    earliest = now
    if row.sequence_step:  # steps count from 0 (the composer's index): any later one waits
        if row.previous_sent_at is None:  # the earlier step hasn't gone yet: look again later
            return now + dt.timedelta(hours=1)
        due = windows.follow_up_due(
            row.previous_sent_at, row.delay_days or 0, tz, country=country, window=window
        )
        earliest = max(now, due)
    return windows.next_send_time(earliest, tz, country=country, window=window)


def claim_due_emails(
    session: Session, worker_id: str, *, limit: int = 20, now: dt.datetime | None = None
) -> ClaimReport:
    """Claim up to `limit` due emails for `worker_id`, counting every cap in this transaction
    (system context; the caller commits). What can't go now stays unclaimed, reason counted."""
    now = now or utcnow()
    report = ClaimReport()
    rows = session.execute(_CANDIDATES, {"now": now, "limit": limit}).all()
    suppressed: set[str] = set()
    for organization_id in {r.organization_id for r in rows}:
        suppressed |= _suppressed(
            session,
            organization_id,
            [r.lead_email for r in rows if r.organization_id == organization_id],
        )
    stopped: list[tuple[uuid.UUID, str]] = []
    deferred: list[tuple[uuid.UUID, dt.datetime]] = []
    sendable: dict[uuid.UUID, list[Any]] = {}
    for row in rows:
        if (
            kill_switch_on(row.org_settings)
            or row.campaign_id is None
            or row.campaign_status != "active"
        ):
            report.held += 1
            continue
        reason = (
            "no lead"
            if row.lead_email is None
            else _blocked_reason(row.lead_status, row.stop_reason)
        )
        if reason is None and row.lead_email.strip().lower() in suppressed:
            reason = "suppressed"
        if reason is not None:
            stopped.append((row.id, reason))
            continue
        due = _due_time(row, now)
        if due > now:
            deferred.append((row.id, due))
            continue
        sendable.setdefault(row.campaign_id, []).append(row)
    for email_id, reason in stopped:
        session.execute(
            text("UPDATE emails SET send_state = 'stopped', send_error = :r WHERE id = :i"),
            {"r": reason, "i": email_id},
        )
    for email_id, due in deferred:
        session.execute(
            text("UPDATE emails SET scheduled_for = :d WHERE id = :i"), {"d": due, "i": email_id}
        )
    report.stopped, report.deferred = len(stopped), len(deferred)
    for group in sendable.values():
        claimed = _claim_campaign_group(session, group, worker_id, now)
        report.claimed += claimed
        report.capped += len(group) - len(claimed)
    return report


def _lock_mailboxes(session: Session, campaign_id: uuid.UUID, now: dt.datetime) -> list[Mailbox]:
    """The campaign's usable mailboxes, least recently used first, locked for this claim.

    SKIP LOCKED: a mailbox another worker is assigning right now is skipped, not waited on."""
    return list(
        session.query(Mailbox)
        .join(CampaignMailbox, CampaignMailbox.mailbox_id == Mailbox.id)
        .filter(
            CampaignMailbox.campaign_id == campaign_id,
            Mailbox.status == "active",
            (Mailbox.next_send_at.is_(None)) | (Mailbox.next_send_at <= now),
        )
        .order_by(Mailbox.last_sent_at.asc().nullsfirst(), Mailbox.id)
        .with_for_update(of=Mailbox, skip_locked=True)
        .all()
    )


def _claim_campaign_group(
    session: Session, group: list[Any], worker_id: str, now: dt.datetime
) -> list[Claimed]:
    """Assign one campaign's sendable emails to mailboxes within every cap."""
    today = now.date()
    first = group[0]
    organization_id, campaign_id = first.organization_id, first.campaign_id
    daily_limit = int(first.daily_limit if first.daily_limit is not None else 50)
    boxes = _lock_mailboxes(session, campaign_id, now)
    if not boxes:
        return []
    granted = counters.take(
        session, organization_id, "campaign", campaign_id, today, cap=daily_limit, want=len(group)
    )
    # Rotation: spread the grant evenly over the mailboxes; a mailbox with spacing gets one
    # email per claim (the next claim comes after its interval).
    assignments: list[tuple[Mailbox, int]] = []
    left = granted
    for index, box in enumerate(boxes):
        if left <= 0:
            break
        share = -(-left // (len(boxes) - index))
        spaced = box.min_interval_seconds > 0 or box.jitter_seconds > 0
        want = 1 if spaced else share
        cap = effective_mailbox_cap(box, today)
        got = counters.take(session, organization_id, "mailbox", box.id, today, cap=cap, want=want)
        if got:
            assignments.append((box, got))
            left -= got
    assigned = granted - left
    plan = consume_plan_emails(session, organization_id, assigned)
    excess = assigned - plan
    while excess > 0 and assignments:  # the plan ran out: hand back the last mailboxes' share
        box, got = assignments.pop()
        back = min(got, excess)
        counters.release(session, "mailbox", box.id, today, back)
        if got > back:
            assignments.append((box, got - back))
        excess -= back
    used = sum(got for _, got in assignments)
    counters.release(session, "campaign", campaign_id, today, granted - used)
    claimed: list[Claimed] = []
    rows = iter(group)
    for box, got in assignments:
        spacing = box.min_interval_seconds + random.uniform(0, box.jitter_seconds)  # noqa: S311
        box.next_send_at = now + dt.timedelta(seconds=spacing) if spacing > 0 else None
        box.last_sent_at = now
        for _ in range(got):
            row = next(rows)
            message_id = row.message_id or new_message_id(domain_of(box.from_address))
            claimed.append(Claimed(row.id, organization_id, box.id, message_id))
    if claimed:
        session.execute(
            text(
                "UPDATE emails SET send_state = 'sending', claimed_at = :now, claimed_by = :w, "
                "mailbox_id = :m, message_id = :mid, send_attempts = send_attempts + 1, "
                "send_error = NULL WHERE id = :i"
            ),
            [
                {
                    "now": now,
                    "w": worker_id,
                    "m": c.mailbox_id,
                    "mid": c.message_id,
                    "i": c.email_id,
                }
                for c in claimed
            ],
        )
    session.flush()
    return claimed
