"""Stripe webhooks: signature checked, each event acted on exactly once, in one transaction.

The event row in `stripe_events` is inserted (ON CONFLICT DO NOTHING) in the same
transaction as the event's effect: a replay finds the row and does nothing, and a failed
effect rolls the row back too, so Stripe's retry gets a second chance.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable
from typing import Any

import stripe
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from vectra.billing.models import Subscription
from vectra.billing.plans import PlanName
from vectra.billing.schemas import WebhookAck
from vectra.billing.service import apply_stripe_subscription, plain, set_organization_plan
from vectra.db.tenancy import as_system
from vectra.errors import BadRequest, ServiceUnavailable
from vectra.settings import Settings

log = logging.getLogger(__name__)
TOLERANCE_S = 300


def verify(payload: bytes, signature: str | None, settings: Settings) -> dict[str, Any]:
    """The event, if `Stripe-Signature` is Stripe's for this payload and at most 5 min old."""
    if not settings.stripe_webhook_secret:
        raise ServiceUnavailable("Stripe webhooks are not configured (set STRIPE_WEBHOOK_SECRET).")
    if not signature:
        raise BadRequest("Missing Stripe-Signature header.")
    try:
        event = stripe.Webhook.construct_event(
            payload, signature, settings.stripe_webhook_secret, tolerance=TOLERANCE_S
        )
    except stripe.SignatureVerificationError as exc:
        raise BadRequest("Stripe-Signature does not verify (forged, altered or stale).") from exc
    except ValueError as exc:
        raise BadRequest("The webhook body is not a Stripe event.") from exc
    data = plain(event)
    if not data.get("id") or not data.get("type"):
        raise BadRequest("The webhook body is not a Stripe event.")
    return data


def handle_stripe_webhook(
    session: Session, payload: bytes, signature: str | None, *, settings: Settings
) -> WebhookAck:
    """Verify, deduplicate and apply one Stripe event (the caller commits)."""
    event = verify(payload, signature, settings)
    with as_system(session):  # Stripe speaks for any organization
        created = event.get("created")
        first = session.execute(
            text(
                "INSERT INTO stripe_events (id, type, livemode, stripe_created) "
                "VALUES (:id, :type, :livemode, :created) ON CONFLICT (id) DO NOTHING RETURNING id"
            ),
            {
                "id": event["id"],
                "type": event["type"],
                "livemode": bool(event.get("livemode")),
                "created": dt.datetime.fromtimestamp(int(created), dt.UTC).replace(tzinfo=None)
                if created
                else None,
            },
        ).scalar()
        if first is None:
            return WebhookAck(duplicate=True)
        handler = HANDLERS.get(event["type"])
        if handler is None:
            return WebhookAck()  # acknowledged, so Stripe stops retrying types we ignore
        obj = (event.get("data") or {}).get("object") or {}
        handler(session, obj, settings)
    return WebhookAck(handled=True)


def _find(
    session: Session,
    *,
    subscription_id: str | None = None,
    customer_id: str | None = None,
    organization_id: str | None = None,
) -> Subscription | None:
    """Our subscription for a Stripe object: by subscription id, customer, or our own id."""
    if subscription_id:
        found = session.scalars(
            select(Subscription)
            .where(Subscription.stripe_subscription_id == subscription_id)
            .with_for_update()
        ).first()
        if found:
            return found
    if customer_id:
        found = session.scalars(
            select(Subscription)
            .where(Subscription.stripe_customer_id == customer_id)
            .with_for_update()
        ).first()
        if found:
            return found
    if organization_id:
        try:
            org = uuid.UUID(organization_id)
        except ValueError:
            return None
        return session.scalars(
            select(Subscription).where(Subscription.organization_id == org).with_for_update()
        ).first()
    return None


def _unknown(kind: str, obj: dict[str, Any]) -> None:
    log.warning("stripe %s for no known organization", kind, extra={"stripe_id": obj.get("id")})


def _checkout_completed(session: Session, obj: dict[str, Any], settings: Settings) -> None:
    if obj.get("mode") not in (None, "subscription"):
        return
    metadata = obj.get("metadata") or {}
    subscription = _find(
        session,
        subscription_id=obj.get("subscription"),
        customer_id=obj.get("customer"),
        organization_id=obj.get("client_reference_id") or metadata.get("organization_id"),
    )
    if subscription is None:
        return _unknown("checkout session", obj)
    subscription.stripe_customer_id = obj.get("customer") or subscription.stripe_customer_id
    subscription.stripe_subscription_id = (
        obj.get("subscription") or subscription.stripe_subscription_id
    )
    plan, cycle = metadata.get("plan"), metadata.get("billing_cycle")
    paid = obj.get("payment_status") in ("paid", "no_payment_required")
    if paid and plan in {p.value for p in PlanName if p is not PlanName.TRIAL}:
        subscription.plan, subscription.status = plan, "active"
        subscription.billing_cycle = cycle or subscription.billing_cycle
        subscription.trial_end = None
        set_organization_plan(session, subscription.organization_id, plan)  # type: ignore[arg-type]
    session.flush()


def _subscription_changed(session: Session, obj: dict[str, Any], settings: Settings) -> None:
    subscription = _find(
        session,
        subscription_id=obj.get("id"),
        customer_id=obj.get("customer"),
        organization_id=(obj.get("metadata") or {}).get("organization_id"),
    )
    if subscription is None:
        return _unknown("subscription", obj)
    apply_stripe_subscription(session, subscription, obj, settings)


def _subscription_deleted(session: Session, obj: dict[str, Any], settings: Settings) -> None:
    subscription = _find(session, subscription_id=obj.get("id"), customer_id=obj.get("customer"))
    if subscription is None:
        return _unknown("subscription", obj)
    # Canceled: read-only from now on; the plan name and every row are kept.
    subscription.status = "canceled"
    subscription.cancel_at_period_end = False
    ended = obj.get("ended_at") or obj.get("canceled_at")
    subscription.canceled_at = (
        dt.datetime.fromtimestamp(int(ended), dt.UTC).replace(tzinfo=None)
        if ended
        else subscription.canceled_at
    )
    session.flush()


def _invoice_subscription_id(invoice: dict[str, Any]) -> str | None:
    # Older API versions put it on the invoice; newer ones under parent.subscription_details.
    parent = (invoice.get("parent") or {}).get("subscription_details") or {}
    value = invoice.get("subscription") or parent.get("subscription")
    return value if isinstance(value, str) else None


def _invoice_paid(session: Session, obj: dict[str, Any], settings: Settings) -> None:
    subscription = _find(
        session, subscription_id=_invoice_subscription_id(obj), customer_id=obj.get("customer")
    )
    if subscription is None:
        return _unknown("invoice", obj)
    if subscription.status in ("past_due", "unpaid", "incomplete"):
        subscription.status = "active"  # paid: writes are open again
    session.flush()


def _invoice_payment_failed(session: Session, obj: dict[str, Any], settings: Settings) -> None:
    subscription = _find(
        session, subscription_id=_invoice_subscription_id(obj), customer_id=obj.get("customer")
    )
    if subscription is None:
        return _unknown("invoice", obj)
    if subscription.status in ("active", "trialing", "past_due"):
        subscription.status = "past_due"  # read-only until paid; Stripe keeps retrying
    session.flush()


HANDLERS: dict[str, Callable[[Session, dict[str, Any], Settings], None]] = {
    "checkout.session.completed": _checkout_completed,
    "customer.subscription.created": _subscription_changed,
    "customer.subscription.updated": _subscription_changed,
    "customer.subscription.deleted": _subscription_deleted,
    "invoice.paid": _invoice_paid,
    "invoice.payment_failed": _invoice_payment_failed,
}

__all__ = ["HANDLERS", "TOLERANCE_S", "handle_stripe_webhook", "verify"]
