"""Billing bookkeeping: processed Stripe events, usage notifications, customer lookup.

Why: Stripe delivers webhooks at least once and replays them, so each event id is
stored in `stripe_events` in the same transaction as its effect and a second delivery
does nothing (the table is Stripe's, not a tenant's: an event may name no organization,
so it carries none and has no row-level security). `usage_notifications` records each
80% / 100% usage threshold once per period and resource, for mail and for the UI; it is
a tenant table under RLS. Webhooks find subscriptions by Stripe customer id, so that
column gets an index beside the seed's one on the subscription id.
"""

from __future__ import annotations

from alembic import op

from vectra.migrations.rls import disable_tenant_rls, enable_tenant_rls

revision = "019_billing"
down_revision = "018_lead_embeddings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE stripe_events (
            id VARCHAR(255) PRIMARY KEY,
            type VARCHAR(100) NOT NULL,
            livemode BOOLEAN NOT NULL DEFAULT false,
            stripe_created TIMESTAMP,
            received_at TIMESTAMP NOT NULL DEFAULT NOW()
        );

        CREATE TABLE usage_notifications (
            id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
            organization_id UUID NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
            period_start DATE NOT NULL,
            resource VARCHAR(20) NOT NULL CHECK (resource IN ('leads', 'emails', 'api_calls')),
            threshold INTEGER NOT NULL CHECK (threshold IN (80, 100)),
            used INTEGER NOT NULL,
            limit_value INTEGER NOT NULL,
            delivered_via VARCHAR(20),
            created_at TIMESTAMP NOT NULL DEFAULT NOW(),
            dismissed_at TIMESTAMP,
            UNIQUE (organization_id, period_start, resource, threshold)
        );
        CREATE INDEX idx_usage_notifications_org ON usage_notifications(organization_id);

        CREATE INDEX idx_subscriptions_stripe_customer ON subscriptions(stripe_customer_id);
        """
    )
    enable_tenant_rls("usage_notifications")


def downgrade() -> None:
    disable_tenant_rls("usage_notifications")
    op.execute(
        """
        DROP INDEX idx_subscriptions_stripe_customer;
        DROP TABLE usage_notifications;
        DROP TABLE stripe_events;
        """
    )
