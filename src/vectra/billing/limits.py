"""Plan limits, enforced in the caller's transaction: the API other domains call.

    from vectra.billing import limits
    limits.consume(session, org_id, "leads", amount=len(rows))   # before/with the insert
    limits.check_count_limit(session, org_id, "users", current=count_of_users)
    limits.max_daily_limit(plan)                                  # cap for campaigns.daily_limit

Metered resources (leads, emails, API calls) are counted in `usage_records`, one row per
organization per usage period; `consume` adds to it with one `INSERT ... ON CONFLICT DO
UPDATE ... WHERE used + amount <= limit`, so concurrent callers can never push the count
past the limit, and the count rolls back with the caller's work if that fails.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import NoReturn

from sqlalchemy import text
from sqlalchemy.orm import Session

from vectra.billing.access import BillingState, ReadOnly, billing_state, read_only_message
from vectra.billing.plans import (
    CountedResource,
    MeteredResource,
    Plan,
    PlanName,
    counted_limit,
    get_plan,
    metered_limit,
)
from vectra.errors import InvalidInput, QuotaExceeded

__all__ = [
    "NOTIFY_THRESHOLDS",
    "Period",
    "QuotaExceeded",
    "ReadOnly",
    "add_api_calls",
    "check_count_limit",
    "consume",
    "lock_count",
    "max_daily_limit",
    "plan_for",
    "remaining",
    "usage_period",
]

# usage_records column of each metered resource.
USAGE_COLUMN: dict[MeteredResource, str] = {
    "leads": "leads_used",
    "emails": "emails_sent",
    "api_calls": "api_calls",
}
_LABEL = {
    "leads": "leads",
    "emails": "emails",
    "api_calls": "API calls",
    "users": "users",
    "mailboxes": "mailboxes",
    "active_campaigns": "active campaigns",
}
NOTIFY_THRESHOLDS = (80, 100)


@dataclass(frozen=True)
class Period:
    """A usage period: `start` inclusive, `end` exclusive (the day the next one starts)."""

    start: dt.date
    end: dt.date


def _add_months(day: dt.date, months: int) -> dt.date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    next_first = dt.date(year + (month == 12), month % 12 + 1, 1)
    last_day = (next_first - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last_day))


def usage_period(state: BillingState, today: dt.date | None = None) -> Period:
    """The period usage counts toward: the trial while it runs, the monthly slice of the
    paid billing period (a yearly plan's limits are still monthly), else the calendar month."""
    today = today or dt.datetime.now(dt.UTC).date()
    start = state.current_period_start
    if state.plan.name is PlanName.TRIAL and state.status == "trialing" and start is not None:
        end = state.trial_end or state.current_period_end
        if end is not None and start.date() <= today < end.date():
            return Period(start.date(), end.date())
    elif state.status is not None and start is not None and start.date() <= today:
        anchor = start.date()
        months = (today.year - anchor.year) * 12 + today.month - anchor.month
        for k in (months - 1, months, months + 1):
            low, high = _add_months(anchor, k), _add_months(anchor, k + 1)
            if low <= today < high:
                return Period(low, high)
    first = today.replace(day=1)
    return Period(first, _add_months(first, 1))


def plan_for(session: Session, organization_id: uuid.UUID) -> Plan:
    """The organization's current plan."""
    return billing_state(session, organization_id).plan


def _check_resource(resource: str, allowed: tuple[str, ...]) -> None:
    if resource not in allowed:
        raise InvalidInput(
            f"Unknown resource '{resource}'; one of {', '.join(allowed)}.", field="resource"
        )


def consume(
    session: Session, organization_id: uuid.UUID, resource: MeteredResource, amount: int = 1
) -> None:
    """Count `amount` of `resource` against this period's limit, or raise QuotaExceeded (402).

    Runs in the caller's transaction: if the caller's work rolls back, so does the count.
    A read-only organization (unpaid, canceled, trial ended) gets ReadOnly (402) instead.
    """
    _check_resource(resource, tuple(USAGE_COLUMN))
    if amount < 0:
        raise InvalidInput("amount must not be negative.", field="amount")
    state = billing_state(session, organization_id)
    if (reason := state.read_only_reason) is not None:
        raise ReadOnly(read_only_message(reason), reason=reason)
    if amount == 0:
        return
    plan = state.plan
    limit = metered_limit(plan, resource)
    period = usage_period(state)
    column = USAGE_COLUMN[resource]
    if amount > limit:
        _refuse(session, organization_id, resource, period, amount, limit, plan)
    # One statement: the row lock taken by ON CONFLICT DO UPDATE serialises concurrent
    # callers and the WHERE sees the latest committed count, so the limit cannot be passed.
    used = session.execute(
        text(
            f"INSERT INTO usage_records (organization_id, period_start, period_end, {column}, "
            "leads_limit, emails_limit) "
            "VALUES (:org, :start, :end, :amount, :leads_limit, :emails_limit) "
            "ON CONFLICT (organization_id, period_start) DO UPDATE SET "
            f"{column} = COALESCE(usage_records.{column}, 0) + :amount, "
            "leads_limit = EXCLUDED.leads_limit, emails_limit = EXCLUDED.emails_limit, "
            "updated_at = NOW() "
            f"WHERE COALESCE(usage_records.{column}, 0) + :amount <= :limit "
            f"RETURNING {column}"
        ),
        {
            "org": organization_id,
            "start": period.start,
            "end": period.end,
            "amount": amount,
            "limit": limit,
            "leads_limit": plan.limits.leads_per_month,
            "emails_limit": plan.limits.emails_per_month,
        },
    ).scalar()
    if used is None:
        _refuse(session, organization_id, resource, period, amount, limit, plan)
    _record_thresholds(session, organization_id, resource, period, used - amount, used, limit)


def _used(
    session: Session, organization_id: uuid.UUID, resource: MeteredResource, period: Period
) -> int:
    value = session.execute(
        text(
            f"SELECT COALESCE({USAGE_COLUMN[resource]}, 0) FROM usage_records "
            "WHERE organization_id = :org AND period_start = :start"
        ),
        {"org": organization_id, "start": period.start},
    ).scalar()
    return int(value or 0)


def _refuse(
    session: Session,
    organization_id: uuid.UUID,
    resource: MeteredResource,
    period: Period,
    amount: int,
    limit: int,
    plan: Plan,
) -> NoReturn:
    used = _used(session, organization_id, resource, period)
    label = _LABEL[resource]
    raise QuotaExceeded(
        f"The {plan.title} plan allows {limit} {label} per period "
        f"({period.start.isoformat()} to {period.end.isoformat()}); {used} used, "
        f"{amount} more requested. Upgrade the plan or wait for the next period.",
        resource=resource,
        limit=limit,
        used=used,
        requested=amount,
    )


def _record_thresholds(
    session: Session,
    organization_id: uuid.UUID,
    resource: MeteredResource,
    period: Period,
    before: int,
    after: int,
    limit: int,
) -> None:
    from vectra.billing import notifications  # the mail helper behind it is optional

    for threshold in NOTIFY_THRESHOLDS:
        mark = limit * threshold / 100
        if before < mark <= after:
            notifications.record_usage_threshold(
                session,
                organization_id,
                resource=resource,
                period_start=period.start,
                threshold=threshold,
                used=after,
                limit=limit,
            )


def remaining(
    session: Session, organization_id: uuid.UUID, resource: MeteredResource
) -> int | None:
    """How much of `resource` is left this period (0 when read-only; None means unlimited,
    which no plan is today but callers should accept)."""
    _check_resource(resource, tuple(USAGE_COLUMN))
    state = billing_state(session, organization_id)
    if state.read_only_reason is not None:
        return 0
    limit = metered_limit(state.plan, resource)
    used = _used(session, organization_id, resource, usage_period(state))
    return max(limit - used, 0)


def lock_count(session: Session, organization_id: uuid.UUID, resource: CountedResource) -> None:
    """Serialise adds of one counted resource in one organization until the transaction ends.

    Call it before counting what exists, then `check_count_limit`, then insert: two
    concurrent invitations cannot both see "2 of 3 users" and both succeed.
    """
    session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
        {"key": f"vectra.billing.count:{organization_id}:{resource}"},
    )


def check_count_limit(
    session: Session,
    organization_id: uuid.UUID,
    resource: CountedResource,
    current: int,
    *,
    adding: int = 1,
) -> None:
    """Refuse (402) adding `adding` more of `resource` when `current` (how many exist now,
    not counting the new ones) plus them would pass the plan's limit."""
    _check_resource(resource, ("users", "mailboxes", "active_campaigns"))
    plan = plan_for(session, organization_id)
    limit = counted_limit(plan, resource)
    if current + adding > limit:
        label = _LABEL[resource]
        raise QuotaExceeded(
            f"The {plan.title} plan allows {limit} {label}; you have {current}. "
            "Upgrade the plan or remove some first.",
            resource=resource,
            limit=limit,
            used=current,
            requested=adding,
        )


def max_daily_limit(plan: Plan | PlanName | str | None) -> int:
    """The highest `campaigns.daily_limit` a campaign on `plan` may set."""
    resolved = plan if isinstance(plan, Plan) else get_plan(plan)
    return resolved.limits.max_daily_limit


def add_api_calls(session: Session, organization_id: uuid.UUID, n: int) -> None:
    """Add `n` API calls already served to this period's count (atomic, never refused).

    For batched counters (the API's request middleware); `consume(..., "api_calls")` is the
    variant that refuses calls over the limit.
    """
    if n <= 0:
        return
    state = billing_state(session, organization_id)
    period = usage_period(state)
    limits = state.plan.limits
    after = session.execute(
        text(
            "INSERT INTO usage_records (organization_id, period_start, period_end, api_calls, "
            "leads_limit, emails_limit) VALUES (:org, :start, :end, :n, :leads, :emails) "
            "ON CONFLICT (organization_id, period_start) DO UPDATE SET "
            "api_calls = COALESCE(usage_records.api_calls, 0) + EXCLUDED.api_calls, "
            "updated_at = NOW() RETURNING api_calls"
        ),
        {
            "org": organization_id,
            "start": period.start,
            "end": period.end,
            "n": n,
            "leads": limits.leads_per_month,
            "emails": limits.emails_per_month,
        },
    ).scalar_one()
    limit = limits.api_calls_per_month
    _record_thresholds(session, organization_id, "api_calls", period, after - n, after, limit)
