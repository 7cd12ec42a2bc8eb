"""An organization's billing state, and the read-only mode of unpaid or ended subscriptions.

Past-due, unpaid and canceled subscriptions and ended trials degrade the organization to
read-only: every write is refused with 402 `read_only` naming the reason and the way out,
reads keep working, and nothing is deleted. Billing itself stays writable, so the owner
can always pay their way out.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from vectra.accounts.actor import Actor
from vectra.accounts.permissions import Permission
from vectra.billing.plans import Plan, PlanName, get_plan
from vectra.db.base import utcnow
from vectra.errors import QuotaExceeded

# Stripe's subscription statuses, plus `expired` for a trial that ended unpaid.
ACTIVE_STATUSES = frozenset({"trialing", "active", "incomplete"})
READ_ONLY_STATUSES = frozenset({"past_due", "canceled", "unpaid", "incomplete_expired", "expired"})

# Writes that stay open in read-only mode: paying, and erasure requests owed by law.
_ALWAYS_WRITABLE = frozenset({Permission.BILLING_MANAGE, Permission.PRIVACY_MANAGE})

_WAY_OUT = (
    "Reads still work and no data is deleted. An owner can restore full access by "
    "choosing a plan (POST /api/v1/billing/checkout) or updating the payment method "
    "(POST /api/v1/billing/portal)."
)
_REASONS = {
    "past_due": "the last payment failed and the subscription is past due",
    "unpaid": "the subscription is unpaid",
    "canceled": "the subscription was canceled",
    "incomplete_expired": "the first payment of the subscription never completed",
    "expired": "the free trial has ended",
}


class ReadOnly(QuotaExceeded):
    """The organization is read-only until its billing is sorted out."""

    code = "read_only"


@dataclass(frozen=True)
class BillingState:
    """What billing knows about one organization, read in one query."""

    organization_id: uuid.UUID
    plan: Plan
    status: str | None
    billing_cycle: str | None
    current_period_start: dt.datetime | None
    current_period_end: dt.datetime | None
    trial_end: dt.datetime | None

    @property
    def effective_status(self) -> str | None:
        """The status, with a trial past its end counted as `expired` before the job runs."""
        if (
            self.status == "trialing"
            and self.plan.name is PlanName.TRIAL
            and self.trial_end is not None
            and self.trial_end <= utcnow()
        ):
            return "expired"
        return self.status

    @property
    def read_only_reason(self) -> str | None:
        status = self.effective_status
        if status in READ_ONLY_STATUSES:
            return _REASONS[status]
        return None


def billing_state(session: Session, organization_id: uuid.UUID) -> BillingState:
    """The organization's plan and subscription; an organization without one is on its
    `organizations.plan` (the seed defaults it to trial) with no status."""
    row = session.execute(
        text(
            "SELECT o.plan AS org_plan, s.plan, s.status, s.billing_cycle, "
            "s.current_period_start, s.current_period_end, s.trial_end "
            "FROM organizations o LEFT JOIN subscriptions s ON s.organization_id = o.id "
            "WHERE o.id = :org"
        ),
        {"org": organization_id},
    ).first()
    if row is None:
        return BillingState(organization_id, get_plan(None), None, None, None, None, None)
    return BillingState(
        organization_id=organization_id,
        plan=get_plan(row.plan or row.org_plan),
        status=row.status,
        billing_cycle=row.billing_cycle,
        current_period_start=row.current_period_start,
        current_period_end=row.current_period_end,
        trial_end=row.trial_end,
    )


def read_only_message(reason: str) -> str:
    return f"This organization is read-only: {reason}. {_WAY_OUT}"


def read_only_reason(session: Session, organization_id: uuid.UUID) -> str | None:
    """Why the organization is read-only, or None when it may write."""
    return billing_state(session, organization_id).read_only_reason


def ensure_writable(session: Session, organization_id: uuid.UUID) -> None:
    """Raise 402 `read_only` when the organization's subscription does not allow writes."""
    reason = read_only_reason(session, organization_id)
    if reason is not None:
        raise ReadOnly(read_only_message(reason), reason=reason)


def refuse_writes_when_read_only(session: Session, actor: Actor, permission: Permission) -> None:
    """The route-level check: reads and billing always pass; other writes need a live plan."""
    if permission.value.endswith(".read") or permission in _ALWAYS_WRITABLE:
        return
    ensure_writable(session, actor.organization_id)
