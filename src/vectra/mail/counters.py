"""Send caps counted in the claiming transaction: campaign/day, mailbox/day, plan/period.

Each cap is a row in `send_counters`: a claim locks it with an upsert (ON CONFLICT DO UPDATE
takes the row lock and returns the latest committed count), grants what fits under the cap
and adds it, so concurrent claimers queue on the row and no number of workers can pass a
cap. The count commits or rolls back with the claim itself.
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from vectra.errors import VectraError

log = logging.getLogger("vectra.mail.sending")

_RELEASE = text(
    "UPDATE send_counters SET sent = GREATEST(0, sent - :n) "
    "WHERE scope = :scope AND scope_id = :sid AND day = :day"
)
# Locks the counter row (creating it at 0) and returns its latest committed count: the
# DO UPDATE is what takes the row lock, so a concurrent claimer waits here.
_LOCK = text(
    "INSERT INTO send_counters (organization_id, scope, scope_id, day, sent) "
    "VALUES (:org, :scope, :sid, :day, 0) "
    "ON CONFLICT (scope, scope_id, day) DO UPDATE SET sent = send_counters.sent RETURNING sent"
)
_ADD = text(
    "UPDATE send_counters SET sent = sent + :n WHERE scope = :scope AND scope_id = :sid "
    "AND day = :day"
)


def take(
    session: Session,
    organization_id: uuid.UUID,
    scope: str,
    scope_id: uuid.UUID,
    day: dt.date,
    *,
    cap: int,
    want: int,
) -> int:
    """Count up to `want` sends against `cap` for (scope, scope_id, day); how many were granted.

    The row stays locked until the caller's transaction ends, so grants never overlap."""
    if want <= 0 or cap <= 0:
        return 0
    key = {"org": organization_id, "scope": scope, "sid": scope_id, "day": day}
    current = int(session.execute(_LOCK, key).scalar_one())
    granted = max(0, min(want, cap - current))
    if granted:
        session.execute(_ADD, {**key, "n": granted})
    return granted


def release(session: Session, scope: str, scope_id: uuid.UUID, day: dt.date, n: int = 1) -> None:
    """Give back counted sends that did not happen (refused before SMTP)."""
    if n > 0:
        session.execute(_RELEASE, {"scope": scope, "sid": scope_id, "day": day, "n": n})


def sent_on(session: Session, scope: str, scope_id: uuid.UUID, day: dt.date) -> int:
    value = session.execute(
        text("SELECT sent FROM send_counters WHERE scope = :s AND scope_id = :i AND day = :d"),
        {"s": scope, "i": scope_id, "d": day},
    ).scalar()
    return int(value or 0)


def effective_mailbox_cap(mailbox: Any, today: dt.date) -> int:
    """A mailbox's cap today: its warm-up ramp (start + increment per day) up to daily_cap."""
    if mailbox.warmup_days <= 0:
        return int(mailbox.daily_cap)
    elapsed = max(0, (today - mailbox.warmup_started_on).days)
    if elapsed >= mailbox.warmup_days:
        return int(mailbox.daily_cap)
    return int(min(mailbox.daily_cap, mailbox.warmup_start + mailbox.warmup_increment * elapsed))


def consume_plan_emails(session: Session, organization_id: uuid.UUID, want: int) -> int:
    """Count up to `want` emails against the plan's `emails_limit` through
    `vectra.billing.limits` (same transaction, row-locked there); how many were granted.

    Seam: billing owns the plan limit; if its module is absent the plan cap is not enforced
    here (logged) and the campaign and mailbox caps still hold.
    """
    if want <= 0:
        return 0
    try:
        limits = importlib.import_module("vectra.billing.limits")
    except ImportError:
        log.warning("vectra.billing.limits unavailable: plan email cap not enforced")
        return want
    try:
        limits.consume(session, organization_id, "emails", want)
        return want
    except VectraError as exc:
        if exc.status_code != 402:  # 402: over the plan's emails, or the account is read-only
            raise
    left = int(limits.remaining(session, organization_id, "emails") or 0)
    granted = min(want, left)
    if granted <= 0:
        return 0
    try:
        limits.consume(session, organization_id, "emails", granted)
    except VectraError as exc:
        if exc.status_code != 402:
            raise
        return 0
    return granted
