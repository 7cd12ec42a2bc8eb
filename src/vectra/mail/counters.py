"""Send caps counted in the claiming transaction: campaign/day, mailbox/day, plan/period.

Each cap is a row in `send_counters` bumped by one conditional upsert: the row lock taken by
ON CONFLICT DO UPDATE serialises concurrent claimers, and its WHERE re-reads the latest
committed count, so no number of workers can pass a cap. The count commits or rolls back
with the claim itself.
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

_BUMP = text(
    "INSERT INTO send_counters (organization_id, scope, scope_id, day, sent) "
    "VALUES (:org, :scope, :sid, :day, 1) "
    "ON CONFLICT (scope, scope_id, day) DO UPDATE SET sent = send_counters.sent + 1 "
    "WHERE send_counters.sent < :cap RETURNING sent"
)
_RELEASE = text(
    "UPDATE send_counters SET sent = sent - 1 "
    "WHERE scope = :scope AND scope_id = :sid AND day = :day AND sent > 0"
)


def try_count(
    session: Session,
    organization_id: uuid.UUID,
    scope: str,
    scope_id: uuid.UUID,
    day: dt.date,
    cap: int,
) -> bool:
    """Count one send against `cap` for (scope, scope_id, day); False (nothing counted) if full."""
    if cap <= 0:
        return False
    row = session.execute(
        _BUMP, {"org": organization_id, "scope": scope, "sid": scope_id, "day": day, "cap": cap}
    ).first()
    return row is not None


def release(session: Session, scope: str, scope_id: uuid.UUID, day: dt.date) -> None:
    """Give back one counted send that did not happen (refused before SMTP)."""
    session.execute(_RELEASE, {"scope": scope, "sid": scope_id, "day": day})


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


def consume_plan_email(session: Session, organization_id: uuid.UUID) -> bool:
    """Count one email against the plan's `emails_limit` (vectra.billing.limits); False if over.

    Seam: billing owns the plan limit; if its module is absent the plan cap is not enforced
    here (logged once per call site) and the campaign and mailbox caps still hold.
    """
    try:
        limits = importlib.import_module("vectra.billing.limits")
    except ImportError:
        log.warning("vectra.billing.limits unavailable: plan email cap not enforced")
        return True
    try:
        limits.consume(session, organization_id, "emails", 1)
    except VectraError as exc:
        if exc.status_code == 402:  # over the plan's emails, or the account is read-only
            return False
        raise
    return True
