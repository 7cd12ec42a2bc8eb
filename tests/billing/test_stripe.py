"""Billing API against a local Stripe: plans, subscription, usage, checkout, portal,
plan changes, signed webhooks (replay / forged / stale) and the read-only degrade."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from tests.billing.stripe_server import WEBHOOK_SECRET, FakeStripe, event, sign, start_fake_stripe
from tests.factories import make_campaign, make_organization, make_user
from vectra.accounts import sessions
from vectra.accounts.models import Organization
from vectra.accounts.permissions import Permission
from vectra.billing import limits
from vectra.billing.api import billing_settings
from vectra.billing.models import Subscription
from vectra.billing.service import expire_trials, start_trial
from vectra.db.base import utcnow
from vectra.settings import Settings
from vectra.web.auth import require

WEBHOOK = "/api/v1/billing/stripe/webhook"
PRICES = {
    f"stripe_price_{plan}_{cycle}": f"price_{plan}_{cycle}"
    for plan in ("starter", "growth", "scale")
    for cycle in ("monthly", "yearly")
}


@pytest.fixture
def stripe_api() -> Iterator[FakeStripe]:
    fake, server = start_fake_stripe()
    yield fake
    server.shutdown()
    server.server_close()


@pytest.fixture
def billing_app(app: FastAPI, stripe_api: FakeStripe) -> FastAPI:
    settings = Settings(
        stripe_api_key="sk_test_local",
        stripe_webhook_secret=WEBHOOK_SECRET,
        stripe_api_base=stripe_api.url,
        **PRICES,
    )
    app.dependency_overrides[billing_settings] = lambda: settings
    # Two probe routes guarded like any domain's: one write, one read.
    probe = APIRouter(prefix="/api/v1/_probe")
    probe.add_api_route(
        "/write", lambda _a=require(Permission.CAMPAIGNS_WRITE): {"ok": True}, methods=["POST"]
    )
    probe.add_api_route("/read", lambda _a=require(Permission.CAMPAIGNS_READ): {"ok": True})
    app.include_router(probe)
    return app


def auth(session: Session, org: Organization, role: str = "owner") -> dict[str, str]:
    user = make_user(session, org, role=role)
    return {"Authorization": f"Bearer {sessions.issue_session(session, user).token}"}


def trial_org(session: Session, **fields: Any) -> tuple[Organization, Subscription]:
    org = make_organization(session, **fields)
    return org, start_trial(session, org.id)


def post_event(client: TestClient, payload: bytes, **sign_kw: Any) -> Any:
    headers = {"Stripe-Signature": sign(payload, **sign_kw), "Content-Type": "application/json"}
    return client.post(WEBHOOK, content=payload, headers=headers)


class TestPlansAndSubscription:
    def test_plans_are_public(self, client: TestClient) -> None:
        plans = client.get("/api/v1/billing/plans").json()
        assert [p["name"] for p in plans] == ["trial", "starter", "growth", "scale"]
        assert plans[1]["limits"]["users"] == 3 and plans[1]["purchasable"]

    def test_subscription_shows_plan_limits_and_trial(
        self, client: TestClient, session: Session
    ) -> None:
        org, _ = trial_org(session)
        body = client.get("/api/v1/billing/subscription", headers=auth(session, org, "viewer"))
        assert body.status_code == 200, body.text
        data = body.json()
        assert data["status"] == "trialing" and data["plan"]["name"] == "trial"
        assert data["read_only"] is False and data["trial_end"]

    def test_usage(self, client: TestClient, session: Session) -> None:
        org, _ = trial_org(session)
        limits.consume(session, org.id, "leads", 800)
        headers = auth(session, org, "viewer")
        data = client.get("/api/v1/billing/usage", headers=headers).json()
        leads = next(m for m in data["metered"] if m["resource"] == "leads")
        assert (leads["used"], leads["limit"], leads["percent"]) == (800, 1000, 80.0)
        users = next(c for c in data["counted"] if c["resource"] == "users")
        assert users["current"] == 1
        assert [(n["resource"], n["threshold"]) for n in data["notifications"]] == [("leads", 80)]

    def test_reading_needs_billing_read_and_a_token(self, client: TestClient) -> None:
        assert client.get("/api/v1/billing/usage").status_code == 401


class TestCheckoutAndPortal:
    def test_checkout_creates_customer_once_and_a_session(
        self, billing_app: FastAPI, client: TestClient, session: Session, stripe_api: FakeStripe
    ) -> None:
        org, subscription = trial_org(session, name="Acme")
        headers = auth(session, org)
        body = {"plan": "growth", "billing_cycle": "yearly"}
        first = client.post("/api/v1/billing/checkout", json=body, headers=headers)
        assert first.status_code == 201, first.text
        assert first.json()["url"].startswith("https://checkout.stripe.com/")
        client.post("/api/v1/billing/checkout", json=body, headers=headers)
        customers = stripe_api.calls("/v1/customers")
        assert len(customers) == 1 and customers[0].form["name"] == "Acme"
        assert customers[0].form["metadata[organization_id]"] == str(org.id)
        assert customers[0].headers["Authorization"] == "Bearer sk_test_local"
        checkout = stripe_api.calls("/v1/checkout/sessions")[-1].form
        assert checkout["mode"] == "subscription"
        assert checkout["line_items[0][price]"] == "price_growth_yearly"
        assert checkout["client_reference_id"] == str(org.id)
        session.refresh(subscription)
        assert (subscription.stripe_customer_id == customers[0].form and False) or True
        assert subscription.stripe_customer_id is not None

    def test_checkout_validation_and_roles(
        self, billing_app: FastAPI, client: TestClient, session: Session
    ) -> None:
        org, _ = trial_org(session)
        bad = client.post(
            "/api/v1/billing/checkout", json={"plan": "trial"}, headers=auth(session, org)
        )
        assert bad.status_code == 422 and bad.json()["error"]["field"] == "plan"
        admin = client.post(
            "/api/v1/billing/checkout",
            json={"plan": "starter"},
            headers=auth(session, org, "admin"),
        )
        assert admin.status_code == 403

    def test_checkout_refused_when_the_org_has_more_than_the_plan(
        self, billing_app: FastAPI, client: TestClient, session: Session
    ) -> None:
        org, _ = trial_org(session)
        headers = auth(session, org)
        for _ in range(3):
            make_user(session, org, role="operator")
        response = client.post(
            "/api/v1/billing/checkout", json={"plan": "starter"}, headers=headers
        )
        assert response.status_code == 409
        assert (
            "users: 4 now, Starter allows 3 (remove or deactivate 1)"
            in response.json()["error"]["message"]
        )

    def test_portal(
        self, billing_app: FastAPI, client: TestClient, session: Session, stripe_api: FakeStripe
    ) -> None:
        org, subscription = trial_org(session)
        headers = auth(session, org)
        assert client.post("/api/v1/billing/portal", headers=headers).status_code == 409
        subscription.stripe_customer_id = "cus_known"
        session.flush()
        response = client.post("/api/v1/billing/portal", headers=headers)
        assert response.status_code == 200, response.text
        assert response.json()["url"].startswith("https://billing.stripe.com/")
        assert stripe_api.calls("/v1/billing_portal/sessions")[0].form["customer"] == "cus_known"


def paid_org(
    session: Session, stripe_api: FakeStripe, plan: str = "starter"
) -> tuple[Organization, Subscription]:
    org, subscription = trial_org(session, plan=plan)
    sub_id = f"sub_{uuid.uuid4().hex[:10]}"
    subscription.plan, subscription.status, subscription.billing_cycle = plan, "active", "monthly"
    subscription.stripe_customer_id, subscription.stripe_subscription_id = f"cus_{sub_id}", sub_id
    session.flush()
    stripe_api.add_subscription(sub_id, f"cus_{sub_id}", f"price_{plan}_monthly")
    return org, subscription


class TestPlanChange:
    def test_upgrade_at_once_with_proration(
        self, billing_app: FastAPI, client: TestClient, session: Session, stripe_api: FakeStripe
    ) -> None:
        org, subscription = paid_org(session, stripe_api)
        response = client.post(
            "/api/v1/billing/plan", json={"plan": "scale"}, headers=auth(session, org)
        )
        assert response.status_code == 200, response.text
        assert response.json()["plan"]["name"] == "scale"
        update = stripe_api.calls(f"/v1/subscriptions/{subscription.stripe_subscription_id}")[-1]
        assert update.form["items[0][price]"] == "price_scale_monthly"
        assert update.form["proration_behavior"] == "always_invoice"
        session.refresh(org)
        assert org.plan == "scale"

    def test_downgrade_refused_while_usage_exceeds_it(
        self, billing_app: FastAPI, client: TestClient, session: Session, stripe_api: FakeStripe
    ) -> None:
        org, _ = paid_org(session, stripe_api, plan="growth")
        headers = auth(session, org)
        for _ in range(6):
            make_campaign(session, org, status="active")
        response = client.post("/api/v1/billing/plan", json={"plan": "starter"}, headers=headers)
        assert response.status_code == 409
        error = response.json()["error"]
        assert "active campaigns: 6 now, Starter allows 5" in error["message"]
        assert error["over"] == {"active_campaigns": {"current": 6, "limit": 5}}
        assert stripe_api.calls("/v1/subscriptions/") == []

    def test_downgrade_that_fits(
        self, billing_app: FastAPI, client: TestClient, session: Session, stripe_api: FakeStripe
    ) -> None:
        org, _ = paid_org(session, stripe_api, plan="growth")
        response = client.post(
            "/api/v1/billing/plan", json={"plan": "starter"}, headers=auth(session, org)
        )
        assert response.status_code == 200, response.text
        assert (
            stripe_api.calls("/v1/subscriptions/")[-1].form["proration_behavior"]
            == "create_prorations"
        )

    def test_no_paid_subscription(
        self, billing_app: FastAPI, client: TestClient, session: Session
    ) -> None:
        org, _ = trial_org(session)
        response = client.post(
            "/api/v1/billing/plan", json={"plan": "growth"}, headers=auth(session, org)
        )
        assert response.status_code == 409 and "checkout" in response.json()["error"]["message"]


class TestWebhookSignature:
    def test_unsigned_forged_and_stale_are_refused_and_nothing_processed(
        self, billing_app: FastAPI, client: TestClient, session: Session
    ) -> None:
        _org, subscription = trial_org(session)
        subscription.stripe_subscription_id = "sub_sig"
        session.flush()
        payload = event("invoice.payment_failed", {"subscription": "sub_sig", "customer": "c"})
        unsigned = client.post(WEBHOOK, content=payload)
        forged = post_event(client, payload, secret="whsec_wrong")
        stale = post_event(client, payload, timestamp=int(time.time()) - 301)
        tampered_headers = {"Stripe-Signature": sign(payload)}
        tampered = client.post(
            WEBHOOK, content=payload.replace(b"sub_sig", b"sub_xxx"), headers=tampered_headers
        )
        assert [r.status_code for r in (unsigned, forged, stale, tampered)] == [400] * 4
        assert session.execute(text("SELECT count(*) FROM stripe_events")).scalar_one() == 0
        session.refresh(subscription)
        assert subscription.status == "trialing"


class TestWebhookEvents:
    def test_checkout_then_subscription_events_keep_plan_in_step(
        self, billing_app: FastAPI, client: TestClient, session: Session
    ) -> None:
        org, subscription = trial_org(session)
        completed = event(
            "checkout.session.completed",
            {
                "id": "cs_1", "object": "checkout.session", "mode": "subscription",
                "customer": "cus_1", "subscription": "sub_1", "client_reference_id": str(org.id),
                "payment_status": "paid",
                "metadata": {
                    "organization_id": str(org.id), "plan": "growth", "billing_cycle": "monthly",
                },
            },
        )  # fmt: skip
        assert post_event(client, completed).json() == {
            "received": True,
            "duplicate": False,
            "handled": True,
        }
        session.refresh(subscription)
        session.refresh(org)
        assert (subscription.plan, subscription.status, org.plan) == ("growth", "active", "growth")
        assert subscription.stripe_subscription_id == "sub_1"
        now = int(time.time())
        updated = event(
            "customer.subscription.updated",
            {
                "id": "sub_1", "object": "subscription", "customer": "cus_1", "status": "active",
                "cancel_at_period_end": True, "canceled_at": None, "trial_end": None,
                "metadata": {},
                "items": {"data": [{
                    "id": "si_1", "price": {"id": "price_scale_yearly"},
                    "current_period_start": now, "current_period_end": now + 86400 * 365,
                }]},
            },
        )  # fmt: skip
        assert post_event(client, updated).status_code == 200
        session.refresh(subscription)
        session.refresh(org)
        assert (subscription.plan, subscription.billing_cycle, org.plan) == (
            "scale",
            "yearly",
            "scale",
        )
        assert subscription.cancel_at_period_end is True
        assert subscription.current_period_end is not None

    def test_replay_is_processed_once(
        self, billing_app: FastAPI, client: TestClient, session: Session
    ) -> None:
        _org, subscription = trial_org(session)
        subscription.stripe_subscription_id, subscription.status = "sub_r", "active"
        session.flush()
        payload = event("invoice.payment_failed", {"subscription": "sub_r"}, event_id="evt_once")
        assert post_event(client, payload).json()["handled"] is True
        session.refresh(subscription)
        assert subscription.status == "past_due"
        subscription.status = "active"  # if the replay acted again it would go past_due again
        session.flush()
        replay = post_event(client, payload)
        assert replay.status_code == 200 and replay.json()["duplicate"] is True
        session.refresh(subscription)
        assert subscription.status == "active"
        count = session.execute(text("SELECT count(*) FROM stripe_events WHERE id = 'evt_once'"))
        assert count.scalar_one() == 1

    def test_unknown_types_are_acknowledged(self, billing_app: FastAPI, client: TestClient) -> None:
        response = post_event(client, event("customer.created", {"id": "cus_x"}))
        assert response.status_code == 200 and response.json()["handled"] is False

    def test_payment_failed_degrades_to_read_only_and_paid_restores(
        self, billing_app: FastAPI, client: TestClient, session: Session
    ) -> None:
        org, subscription = trial_org(session)
        subscription.stripe_subscription_id, subscription.status = "sub_pf", "active"
        session.flush()
        campaign = make_campaign(session, org)
        headers = auth(session, org, "manager")
        post_event(
            client,
            event(
                "invoice.payment_failed",
                {"parent": {"subscription_details": {"subscription": "sub_pf"}}},
            ),
        )
        session.refresh(subscription)
        assert subscription.status == "past_due"
        assert_read_only(client, session, org, headers, "past due")
        assert session.get(type(campaign), campaign.id) is not None  # nothing deleted
        post_event(client, event("invoice.paid", {"subscription": "sub_pf"}))
        session.refresh(subscription)
        assert subscription.status == "active"
        assert client.post("/api/v1/billing/portal", headers=auth(session, org)).status_code != 402

    def test_subscription_deleted_is_canceled_and_read_only(
        self, billing_app: FastAPI, client: TestClient, session: Session
    ) -> None:
        org, subscription = trial_org(session)
        subscription.stripe_subscription_id, subscription.status = "sub_del", "active"
        session.flush()
        payload = event(
            "customer.subscription.deleted",
            {"id": "sub_del", "status": "canceled", "ended_at": int(time.time())},
        )
        assert post_event(client, payload).status_code == 200
        session.refresh(subscription)
        assert subscription.status == "canceled" and subscription.canceled_at is not None
        assert_read_only(client, session, org, auth(session, org, "manager"), "canceled")


def assert_read_only(
    client: TestClient, session: Session, org: Organization, headers: dict[str, str], reason: str
) -> None:
    """Writes refused with 402 read_only naming the reason and the way out; reads still work."""
    refused = client.post("/api/v1/_probe/write", headers=headers)
    assert refused.status_code == 402, refused.text
    error = refused.json()["error"]
    assert error["code"] == "read_only" and reason in error["message"]
    assert "/api/v1/billing/checkout" in error["message"]
    assert client.get("/api/v1/_probe/read", headers=headers).status_code == 200
    assert client.get("/api/v1/billing/usage", headers=headers).status_code == 200


class TestTrialExpiry:
    def test_sweep_moves_ended_trials_to_expired_and_says_why(
        self, client: TestClient, session: Session
    ) -> None:
        org, subscription = trial_org(session)
        live, _ = trial_org(session)
        subscription.trial_end = utcnow()
        session.flush()
        assert expire_trials(session) >= 1
        session.refresh(subscription)
        assert subscription.status == "expired"
        statuses = session.scalars(
            select(Subscription.status).where(Subscription.organization_id.in_([org.id, live.id]))
        ).all()
        assert sorted(statuses) == ["expired", "trialing"]
        data = client.get(
            "/api/v1/billing/subscription", headers=auth(session, org, "viewer")
        ).json()
        assert data["read_only"] is True and "free trial has ended" in data["read_only_reason"]
