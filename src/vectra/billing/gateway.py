"""Stripe through its SDK: the client, the price ids per plan and cycle, error mapping."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import stripe

from vectra.billing.plans import BillingCycle, PlanName
from vectra.errors import ServiceUnavailable
from vectra.settings import Settings

T = TypeVar("T")


class StripeNotConfigured(ServiceUnavailable):
    """Stripe is not configured on this server (set STRIPE_API_KEY)."""

    code = "billing_not_configured"


def client(settings: Settings) -> stripe.StripeClient:
    """A Stripe client for the configured key (and base address, for a local server)."""
    if not settings.stripe_api_key:
        raise StripeNotConfigured()
    base: Any = {"api": settings.stripe_api_base} if settings.stripe_api_base else None
    return stripe.StripeClient(settings.stripe_api_key, base_addresses=base)


def price_id(settings: Settings, plan: PlanName, cycle: BillingCycle) -> str:
    """The Stripe price of `plan` billed `cycle` (503 naming the setting when it is unset)."""
    name = f"stripe_price_{plan.value}_{cycle.value}"
    value = getattr(settings, name, None)
    if not value:
        raise StripeNotConfigured(
            f"No Stripe price is configured for {plan.value} ({cycle.value}); set {name.upper()}."
        )
    return str(value)


def plan_of_price(settings: Settings, price: str | None) -> tuple[PlanName, BillingCycle] | None:
    """Which plan and cycle a Stripe price id stands for, if it is one of ours."""
    if not price:
        return None
    for plan in PlanName:
        for cycle in BillingCycle:
            if getattr(settings, f"stripe_price_{plan.value}_{cycle.value}", None) == price:
                return plan, cycle
    return None


def call(operation: Callable[[], T]) -> T:
    """Run one Stripe call; its failures become a 503 with Stripe's message, not a 500."""
    try:
        return operation()
    except stripe.StripeError as exc:
        message = getattr(exc, "user_message", None) or str(exc) or type(exc).__name__
        raise ServiceUnavailable(f"Stripe refused or could not be reached: {message}") from exc
