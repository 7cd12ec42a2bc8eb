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
from vectra.mail.counters import consume_plan_email, effective_mailbox_cap
from vectra.mail.mailbox_models import Mailbox
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

_CANDIDATES = text(
    "SELECT e.id, e.organization_id, e.campaign_id, e.lead_id, e.sequence_step, e.delay_days, "
    "e.message_id FROM emails e "
    "WHERE e.status = 'approved' AND e.send_state IS NULL "
    "AND (e.scheduled_for IS NULL OR e.scheduled_for <= :now) "
    "ORDER BY e.scheduled_for NULLS FIRST, e.created_at "
    "LIMIT :limit FOR UPDATE OF e SKIP LOCKED"
)


@dataclass
class _CampaignInfo:
    active: bool
    daily_limit: int
    window: windows.SendingWindow
    default_tz: str | None
    mailboxes: list[uuid.UUID]


def _campaign_info(
    session: Session, campaign_id: uuid.UUID, org_settings: dict[str, Any]
) -> _CampaignInfo:
    row = session.execute(
        text("SELECT status, daily_limit, target_criteria FROM campaigns WHERE id = :c"),
        {"c": campaign_id},
    ).one()
    # Optional per-campaign sending settings live next to the campaign's criteria.
    sending = (row.target_criteria or {}).get("sending") or {}
    mailbox_ids = session.execute(
        text("SELECT mailbox_id FROM campaign_mailboxes WHERE campaign_id = :c"), {"c": campaign_id}
    ).scalars()
    return _CampaignInfo(
        active=row.status == "active",
        daily_limit=int(row.daily_limit if row.daily_limit is not None else 50),
        window=windows.SendingWindow.from_settings(
            sending.get("window") or org_settings.get("sending_window")
        ),
        default_tz=sending.get("timezone") or org_settings.get("timezone"),
        mailboxes=list(mailbox_ids),
    )


def kill_switch_on(org_settings: dict[str, Any] | None) -> bool:
    """The organization-wide stop: nothing leaves while `sending_paused` is set."""
    return bool((org_settings or {}).get("sending_paused"))


def lead_blocked(
    session: Session, organization_id: uuid.UUID, lead_id: uuid.UUID | None
) -> str | None:
    """Why this lead must not be mailed now (stopped, suppressed, status), or None."""
    if lead_id is None:
        return "no lead"
    lead = session.execute(
        text("SELECT email, status FROM leads WHERE id = :l"), {"l": lead_id}
    ).one_or_none()
    if lead is None:
        return "lead deleted"
    if lead.status in NO_SEND_LEAD_STATUSES:
        return f"lead is {lead.status}"
    stop = session.execute(
        text("SELECT reason FROM sequence_stops WHERE lead_id = :l"), {"l": lead_id}
    ).scalar()
    if stop:
        return f"sequence stopped ({stop})"
    if _is_suppressed(session, organization_id, lead.email):
        return "suppressed"
    return None


def _is_suppressed(session: Session, organization_id: uuid.UUID, address: str) -> bool:
    """The leads domain's suppression list (address or whole domain)."""
    from vectra.accounts.actor import system_actor
    from vectra.leads.suppression import is_suppressed

    return is_suppressed(session, system_actor(organization_id), address)


def _pick_mailbox(
    session: Session, organization_id: uuid.UUID, candidates: list[uuid.UUID], now: dt.datetime
) -> Mailbox | None:
    """The campaign mailbox to use next: active, spacing elapsed, least recently used, and
    with room under its cap (counted here). Rotation falls out of least-recently-used."""
    if not candidates:
        return None
    rows = (
        session.query(Mailbox)
        .filter(
            Mailbox.id.in_(candidates),
            Mailbox.organization_id == organization_id,
            Mailbox.status == "active",
            (Mailbox.next_send_at.is_(None)) | (Mailbox.next_send_at <= now),
        )
        .order_by(Mailbox.last_sent_at.asc().nullsfirst(), Mailbox.id)
        .with_for_update(skip_locked=True)
        .all()
    )
    today = now.date()
    for mailbox in rows:
        cap = effective_mailbox_cap(mailbox, today)
        if counters.try_count(session, organization_id, "mailbox", mailbox.id, today, cap):
            spacing = mailbox.min_interval_seconds + random.uniform(0, mailbox.jitter_seconds)  # noqa: S311
            mailbox.next_send_at = now + dt.timedelta(seconds=spacing) if spacing > 0 else None
            mailbox.last_sent_at = now
            return mailbox
    return None


def claim_due_emails(
    session: Session, worker_id: str, *, limit: int = 20, now: dt.datetime | None = None
) -> ClaimReport:
    """Claim up to `limit` due emails for `worker_id`, counting every cap (system context;
    the caller commits). Emails that can't go now stay unclaimed, their reason counted."""
    now = now or utcnow()
    report = ClaimReport()
    candidates = session.execute(_CANDIDATES, {"now": now, "limit": limit}).all()
    org_cache: dict[uuid.UUID, dict[str, Any]] = {}
    campaign_cache: dict[uuid.UUID, _CampaignInfo] = {}
    full: set[tuple[str, uuid.UUID]] = set()
    for email in candidates:
        org_settings = org_cache.get(email.organization_id)
        if org_settings is None:
            org_settings = (
                session.execute(
                    text("SELECT settings FROM organizations WHERE id = :o"),
                    {"o": email.organization_id},
                ).scalar()
                or {}
            )
            org_cache[email.organization_id] = org_settings
        if kill_switch_on(org_settings) or email.campaign_id is None:
            report.held += 1
            continue
        info = campaign_cache.get(email.campaign_id)
        if info is None:
            info = campaign_cache[email.campaign_id] = _campaign_info(
                session, email.campaign_id, org_settings
            )
        if not info.active or ("campaign", email.campaign_id) in full:
            report.held += 1
            continue
        blocked = lead_blocked(session, email.organization_id, email.lead_id)
        if blocked is not None:
            session.execute(
                text("UPDATE emails SET send_state = 'stopped', send_error = :r WHERE id = :i"),
                {"r": blocked, "i": email.id},
            )
            report.stopped += 1
            continue
        due = _due_time(session, email, info, now)
        if due > now:
            session.execute(
                text("UPDATE emails SET scheduled_for = :d WHERE id = :i"),
                {"d": due, "i": email.id},
            )
            report.deferred += 1
            continue
        claimed = _claim_one(session, email, info, worker_id, now, full)
        if claimed is None:
            report.capped += 1
        else:
            report.claimed.append(claimed)
    return report


def _due_time(session: Session, email: Any, info: _CampaignInfo, now: dt.datetime) -> dt.datetime:
    """The earliest moment `email` may go: follow-up delay in business days, then the
    recipient's local window (DST-correct, holidays skipped)."""
    enrichment = (
        session.execute(
            text("SELECT enrichment_data FROM leads WHERE id = :l"), {"l": email.lead_id}
        ).scalar()
        or {}
    )
    tz = windows.recipient_timezone(enrichment, default=info.default_tz)
    country = str(enrichment.get("country") or "").upper() or None
    earliest = now
    if email.sequence_step and email.sequence_step > 1:
        previous = session.execute(
            text(
                "SELECT max(sent_at) FROM emails WHERE lead_id = :l AND campaign_id = :c "
                "AND sequence_step < :s"
            ),
            {"l": email.lead_id, "c": email.campaign_id, "s": email.sequence_step},
        ).scalar()
        if previous is None:  # the earlier step hasn't gone yet: look again in an hour
            return now + dt.timedelta(hours=1)
        earliest = max(
            now,
            windows.follow_up_due(
                previous, email.delay_days or 0, tz, country=country, window=info.window
            ),
        )
    return windows.next_send_time(earliest, tz, country=country, window=info.window)


def _claim_one(
    session: Session,
    email: Any,
    info: _CampaignInfo,
    worker_id: str,
    now: dt.datetime,
    full: set[tuple[str, uuid.UUID]],
) -> Claimed | None:
    today = now.date()
    savepoint = session.begin_nested()
    if not counters.try_count(
        session, email.organization_id, "campaign", email.campaign_id, today, info.daily_limit
    ):
        full.add(("campaign", email.campaign_id))
        savepoint.rollback()
        return None
    mailbox = _pick_mailbox(session, email.organization_id, info.mailboxes, now)
    if mailbox is None or not consume_plan_email(session, email.organization_id):
        savepoint.rollback()
        return None
    message_id = email.message_id or new_message_id(domain_of(mailbox.from_address))
    session.execute(
        text(
            "UPDATE emails SET send_state = 'sending', claimed_at = :now, claimed_by = :w, "
            "mailbox_id = :m, message_id = :mid, send_attempts = send_attempts + 1, "
            "send_error = NULL WHERE id = :i"
        ),
        {"now": now, "w": worker_id, "m": mailbox.id, "mid": message_id, "i": email.id},
    )
    session.flush()
    savepoint.commit()
    return Claimed(email.id, email.organization_id, mailbox.id, message_id)
