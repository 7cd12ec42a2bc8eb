"""Billing routes: plans, subscription, usage, Stripe checkout / portal / plan change, webhook."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from vectra.accounts.actor import Actor
from vectra.accounts.permissions import Permission
from vectra.billing import service, webhooks
from vectra.billing.plans import PLANS
from vectra.billing.schemas import (
    CheckoutCreate,
    CheckoutRead,
    PlanChange,
    PlanRead,
    PortalRead,
    SubscriptionRead,
    UsageRead,
    WebhookAck,
)
from vectra.settings import Settings, get_settings
from vectra.web.auth import public, require
from vectra.web.deps import SessionDep

router = APIRouter(prefix="/api/v1/billing", tags=["billing"])


def billing_settings() -> Settings:
    """The settings billing reads (a dependency, so tests point it at a local Stripe)."""
    return get_settings()


SettingsDep = Annotated[Settings, Depends(billing_settings)]


@router.get("/plans", dependencies=[public()])
def list_plans() -> list[PlanRead]:
    """Every plan and its limits (public: the pricing page reads it)."""
    return [PlanRead.model_validate(plan.to_dict()) for plan in PLANS.values()]


@router.get("/subscription")
def get_subscription(
    session: SessionDep, actor: Annotated[Actor, require(Permission.BILLING_READ)]
) -> SubscriptionRead:
    return service.subscription_summary(session, actor)


@router.get("/usage")
def get_usage(
    session: SessionDep, actor: Annotated[Actor, require(Permission.BILLING_READ)]
) -> UsageRead:
    return service.usage_summary(session, actor)


@router.post("/checkout", status_code=201)
def create_checkout(
    data: CheckoutCreate,
    session: SessionDep,
    settings: SettingsDep,
    actor: Annotated[Actor, require(Permission.BILLING_MANAGE)],
) -> CheckoutRead:
    """Start a Stripe Checkout for a paid plan; open the returned `url` in the browser."""
    return service.start_checkout(session, actor, data, settings=settings)


@router.post("/portal")
def create_portal_session(
    session: SessionDep,
    settings: SettingsDep,
    actor: Annotated[Actor, require(Permission.BILLING_MANAGE)],
) -> PortalRead:
    """A Stripe Customer Portal link (payment method, invoices, cancellation)."""
    return service.portal_link(session, actor, settings=settings)


@router.post("/plan")
def change_plan(
    data: PlanChange,
    session: SessionDep,
    settings: SettingsDep,
    actor: Annotated[Actor, require(Permission.BILLING_MANAGE)],
) -> SubscriptionRead:
    """Upgrade at once (prorated by Stripe) or downgrade when usage fits the smaller plan."""
    return service.change_plan(session, actor, data, settings=settings)


@router.post("/stripe/webhook", dependencies=[public()])
async def stripe_webhook(
    request: Request, session: SessionDep, settings: SettingsDep
) -> WebhookAck:
    """Stripe's deliveries: 400 unless signed; each event id acted on once; replays get 200."""
    payload = await request.body()  # the raw bytes: the signature covers them exactly
    return webhooks.handle_stripe_webhook(
        session, payload, request.headers.get("stripe-signature"), settings=settings
    )
