"""Billing rules: trials, subscriptions, plan state."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from vectra.accounts.actor import Actor
from vectra.billing import gateway
from vectra.billing.access import billing_state, read_only_message
from vectra.billing.limits import USAGE_COLUMN, usage_period
from vectra.billing.models import Subscription, UsageRecord
from vectra.billing.notifications import list_notifications
from vectra.billing.plans import (
    COUNTED_RESOURCES,
    METERED_RESOURCES,
    TRIAL_DAYS,
    BillingCycle,
    CountedResource,
    Plan,
    PlanName,
    counted_limit,
    get_plan,
    metered_limit,
    parse_plan,
)
from vectra.billing.schemas import (
    CheckoutCreate,
    CheckoutRead,
    CountedUsage,
    MeteredUsage,
    PlanChange,
    PlanRead,
    PortalRead,
    SubscriptionRead,
    UsageNotificationRead,
    UsageRead,
)
from vectra.db.base import utcnow
from vectra.errors import Conflict, InvalidInput
from vectra.settings import Settings


def start_trial(session: Session, organization_id: uuid.UUID) -> Subscription:
    """Give a new organization its 14-day trial subscription."""
    now = utcnow()
    subscription = Subscription(
        organization_id=organization_id,
        plan="trial",
        status="trialing",
        current_period_start=now,
        current_period_end=now + dt.timedelta(days=TRIAL_DAYS),
        trial_end=now + dt.timedelta(days=TRIAL_DAYS),
    )
    session.add(subscription)
    session.flush()
    return subscription


def expire_trials(session: Session, *, now: dt.datetime | None = None) -> int:
    """Move every trial past its end to `expired` (read-only, data kept); returns how many.

    Runs across organizations, so `session` must be in system context. A trial that has a
    paid Stripe subscription attached is left to Stripe's own status.
    """
    result = session.execute(
        text(
            "UPDATE subscriptions SET status = 'expired', updated_at = NOW() "
            "WHERE status = 'trialing' AND plan = 'trial' AND stripe_subscription_id IS NULL "
            "AND trial_end IS NOT NULL AND trial_end <= :now"
        ),
        {"now": now or utcnow()},
    )
    return int(getattr(result, "rowcount", 0) or 0)


# --- reading the plan and usage -------------------------------------------------------


def _subscription(
    session: Session, organization_id: uuid.UUID, *, lock: bool = False
) -> Subscription | None:
    query = select(Subscription).where(Subscription.organization_id == organization_id)
    return session.scalars(query.with_for_update() if lock else query).first()


def current_counts(session: Session, organization_id: uuid.UUID) -> dict[CountedResource, int]:
    """How many users, mailboxes and active campaigns the organization has now."""
    counts = session.execute(
        text(
            "SELECT (SELECT count(*) FROM users WHERE organization_id = :org "
            "        AND is_active IS NOT FALSE) AS users, "
            "       (SELECT count(*) FROM campaigns WHERE organization_id = :org "
            "        AND status = 'active') AS active_campaigns, "
            "       to_regclass('public.mailboxes') IS NOT NULL AS has_mailboxes"
        ),
        {"org": organization_id},
    ).one()
    mailboxes = 0
    if counts.has_mailboxes:  # the mail domain's table; absent in a build without it
        mailboxes = session.execute(
            text("SELECT count(*) FROM mailboxes WHERE organization_id = :org"),
            {"org": organization_id},
        ).scalar_one()
    return {
        "users": int(counts.users),
        "mailboxes": int(mailboxes),
        "active_campaigns": int(counts.active_campaigns),
    }


def subscription_summary(session: Session, actor: Actor) -> SubscriptionRead:
    """The organization's plan, its limits, its subscription and whether it is read-only."""
    state = billing_state(session, actor.organization_id)
    subscription = _subscription(session, actor.organization_id)
    reason = state.read_only_reason
    return SubscriptionRead(
        plan=PlanRead.model_validate(state.plan.to_dict()),
        status=state.effective_status,
        billing_cycle=state.billing_cycle,
        current_period_start=state.current_period_start,
        current_period_end=state.current_period_end,
        trial_end=state.trial_end,
        cancel_at_period_end=bool(subscription and subscription.cancel_at_period_end),
        canceled_at=subscription.canceled_at if subscription else None,
        read_only=reason is not None,
        read_only_reason=read_only_message(reason) if reason else None,
        has_stripe_customer=bool(subscription and subscription.stripe_customer_id),
    )


def usage_summary(session: Session, actor: Actor) -> UsageRead:
    """This period's usage against the plan's limits, and the usage notifications."""
    organization_id = actor.organization_id
    state = billing_state(session, organization_id)
    period = usage_period(state)
    record = session.scalars(
        select(UsageRecord).where(
            UsageRecord.organization_id == organization_id,
            UsageRecord.period_start == period.start,
        )
    ).first()
    metered = []
    for resource in METERED_RESOURCES:
        used = int(getattr(record, USAGE_COLUMN[resource]) or 0) if record else 0
        limit = metered_limit(state.plan, resource)
        metered.append(
            MeteredUsage(
                resource=resource,
                used=used,
                limit=limit,
                remaining=max(limit - used, 0),
                percent=round(100 * used / limit, 1) if limit else 100.0,
            )
        )
    counts = current_counts(session, organization_id)
    counted = [
        CountedUsage(resource=r, current=counts[r], limit=counted_limit(state.plan, r))
        for r in COUNTED_RESOURCES
    ]
    notes = list_notifications(session, organization_id)
    return UsageRead(
        plan=state.plan.name.value,
        period_start=period.start,
        period_end=period.end,
        metered=metered,
        counted=counted,
        notifications=[UsageNotificationRead.model_validate(n) for n in notes],
    )


def ensure_plan_fits(session: Session, organization_id: uuid.UUID, plan: Plan) -> None:
    """409 naming what to reduce when the organization has more than `plan` allows."""
    counts = current_counts(session, organization_id)
    over = {
        resource: (counts[resource], counted_limit(plan, resource))
        for resource in COUNTED_RESOURCES
        if counts[resource] > counted_limit(plan, resource)
    }
    if over:
        reduce = "; ".join(
            f"{resource.replace('_', ' ')}: {now} now, {plan.title} allows {limit} "
            f"(remove or deactivate {now - limit})"
            for resource, (now, limit) in over.items()
        )
        raise Conflict(
            f"The organization has more than the {plan.title} plan allows. Reduce first: {reduce}.",
            over={r: {"current": n, "limit": lim} for r, (n, lim) in over.items()},
        )


# --- Stripe: checkout, portal, plan changes -------------------------------------------

_LIVE_STRIPE_STATUSES = {"active", "trialing", "past_due", "unpaid", "incomplete"}


def _timestamp(value: Any) -> dt.datetime | None:
    if value in (None, ""):
        return None
    return dt.datetime.fromtimestamp(int(value), dt.UTC).replace(tzinfo=None)


def plain(stripe_object: Any) -> dict[str, Any]:
    """A Stripe SDK object as plain JSON data."""
    if isinstance(stripe_object, dict) and not hasattr(stripe_object, "to_dict"):
        return stripe_object
    data: dict[str, Any] = json.loads(str(stripe_object))
    return data


def set_organization_plan(session: Session, organization_id: uuid.UUID, plan: str) -> None:
    """Keep `organizations.plan` in step with the subscription's plan."""
    session.execute(
        text(
            "UPDATE organizations SET plan = :plan WHERE id = :org AND plan IS DISTINCT FROM :plan"
        ),
        {"plan": plan, "org": organization_id},
    )


def apply_stripe_subscription(
    session: Session, subscription: Subscription, data: dict[str, Any], settings: Settings
) -> None:
    """Copy a Stripe subscription object onto ours (status, plan, cycle, periods)."""
    items = (data.get("items") or {}).get("data") or [{}]
    item = items[0]
    price = (item.get("price") or {}).get("id")
    mapped = gateway.plan_of_price(settings, price)
    metadata = data.get("metadata") or {}
    if mapped is None and metadata.get("plan") in {p.value for p in PlanName}:
        mapped = PlanName(metadata["plan"]), BillingCycle(metadata.get("billing_cycle", "monthly"))
    status = str(data.get("status") or subscription.status)
    subscription.stripe_subscription_id = data.get("id") or subscription.stripe_subscription_id
    subscription.stripe_customer_id = data.get("customer") or subscription.stripe_customer_id
    # A first payment still pending must not end a running trial, nor grant the new plan.
    if not (status == "incomplete" and subscription.status == "trialing"):
        subscription.status = status
    if mapped is not None and status not in {"incomplete", "incomplete_expired"}:
        subscription.plan, subscription.billing_cycle = mapped[0].value, mapped[1].value
        set_organization_plan(session, subscription.organization_id, mapped[0].value)  # type: ignore[arg-type]
    # Newer API versions keep the period on the item, older ones on the subscription.
    start = data.get("current_period_start") or item.get("current_period_start")
    end = data.get("current_period_end") or item.get("current_period_end")
    if start and end:
        subscription.current_period_start = _timestamp(start)
        subscription.current_period_end = _timestamp(end)
    if status != "trialing" or data.get("trial_end"):
        subscription.trial_end = _timestamp(data.get("trial_end")) or subscription.trial_end
    subscription.cancel_at_period_end = bool(data.get("cancel_at_period_end"))
    subscription.canceled_at = _timestamp(data.get("canceled_at"))
    session.flush()


def _billing_subscription(session: Session, organization_id: uuid.UUID) -> Subscription:
    subscription = _subscription(session, organization_id, lock=True)
    if subscription is None:  # organizations made before billing existed
        subscription = start_trial(session, organization_id)
    return subscription


def start_checkout(
    session: Session, actor: Actor, data: CheckoutCreate, *, settings: Settings
) -> CheckoutRead:
    """A Stripe Checkout Session for a paid plan; the webhook applies it once paid."""
    plan = parse_plan(data.plan)
    cycle = BillingCycle(data.billing_cycle)
    if not plan.purchasable:
        raise InvalidInput("The trial cannot be bought; choose a paid plan.", field="plan")
    subscription = _billing_subscription(session, actor.organization_id)
    if subscription.stripe_subscription_id and subscription.status in _LIVE_STRIPE_STATUSES:
        raise Conflict(
            "This organization already has a Stripe subscription; change its plan with "
            "POST /api/v1/billing/plan, or manage payment in POST /api/v1/billing/portal."
        )
    ensure_plan_fits(session, actor.organization_id, plan)
    price = gateway.price_id(settings, plan.name, cycle)
    stripe = gateway.client(settings)
    organization_id = str(actor.organization_id)
    if not subscription.stripe_customer_id:
        who = session.execute(
            text(
                "SELECT o.name, u.email FROM organizations o "
                "LEFT JOIN users u ON u.id = :user AND u.organization_id = o.id WHERE o.id = :org"
            ),
            {"org": actor.organization_id, "user": actor.user_id},
        ).one()
        params: dict[str, Any] = {
            "name": who.name,
            "metadata": {"organization_id": organization_id},
        }
        if who.email:
            params["email"] = who.email
        customer = gateway.call(
            lambda: stripe.v1.customers.create(
                params,  # type: ignore[arg-type]
                # A retried request must not make a second customer for the organization.
                {"idempotency_key": f"vectra-customer-{organization_id}"},
            )
        )
        subscription.stripe_customer_id = customer.id
        session.flush()
    metadata = {"organization_id": organization_id, "plan": plan.name.value, "billing_cycle": cycle}
    base = settings.base_url.rstrip("/")
    checkout = gateway.call(
        lambda: stripe.v1.checkout.sessions.create(
            {
                "mode": "subscription",
                "customer": subscription.stripe_customer_id or "",
                "client_reference_id": organization_id,
                "line_items": [{"price": price, "quantity": 1}],
                "success_url": f"{base}/settings/billing?checkout=success"
                "&session_id={CHECKOUT_SESSION_ID}",
                "cancel_url": f"{base}/settings/billing?checkout=canceled",
                "metadata": metadata,
                "subscription_data": {"metadata": metadata},
            }
        )
    )
    return CheckoutRead(id=checkout.id, url=checkout.url or "")


def portal_link(session: Session, actor: Actor, *, settings: Settings) -> PortalRead:
    """A Stripe Customer Portal session (payment method, invoices, cancellation)."""
    subscription = _subscription(session, actor.organization_id)
    if subscription is None or not subscription.stripe_customer_id:
        raise Conflict(
            "There is no Stripe customer for this organization yet; choose a plan with "
            "POST /api/v1/billing/checkout first."
        )
    stripe = gateway.client(settings)
    customer = subscription.stripe_customer_id
    portal = gateway.call(
        lambda: stripe.v1.billing_portal.sessions.create(
            {
                "customer": customer,
                "return_url": f"{settings.base_url.rstrip('/')}/settings/billing",
            }
        )
    )
    return PortalRead(url=portal.url)


def change_plan(
    session: Session, actor: Actor, data: PlanChange, *, settings: Settings
) -> SubscriptionRead:
    """Move a paid subscription to another plan: upgrades invoice the prorated difference
    at once; downgrades are refused (409) while usage exceeds the smaller plan."""
    target = parse_plan(data.plan)
    subscription = _subscription(session, actor.organization_id, lock=True)
    if (
        subscription is None
        or not subscription.stripe_subscription_id
        or subscription.status not in {"active", "trialing", "past_due"}
    ):
        raise Conflict(
            "There is no paid subscription to change; choose a plan with "
            "POST /api/v1/billing/checkout."
        )
    cycle = BillingCycle(data.billing_cycle or subscription.billing_cycle or "monthly")
    current = get_plan(subscription.plan)
    if target.name is current.name and cycle.value == subscription.billing_cycle:
        raise Conflict(f"The organization is already on {target.title} ({cycle.value}).")
    ensure_plan_fits(session, actor.organization_id, target)
    price = gateway.price_id(settings, target.name, cycle)
    stripe = gateway.client(settings)
    stripe_id = subscription.stripe_subscription_id
    existing = plain(gateway.call(lambda: stripe.v1.subscriptions.retrieve(stripe_id)))
    item_id = existing["items"]["data"][0]["id"]
    upgrade = target.rank > current.rank
    metadata = {
        "organization_id": str(actor.organization_id),
        "plan": target.name.value,
        "billing_cycle": cycle.value,
    }
    updated = gateway.call(
        lambda: stripe.v1.subscriptions.update(
            stripe_id,
            {
                "items": [{"id": item_id, "price": price}],
                # Upgrades are charged now; downgrades credit the rest on the next invoice.
                "proration_behavior": "always_invoice" if upgrade else "create_prorations",
                "metadata": metadata,
            },
        )
    )
    apply_stripe_subscription(session, subscription, plain(updated), settings)
    return subscription_summary(session, actor)
