"""Drafts, A/B variants, review flags and tracking events for outbound mail.

Why: a draft needs to remember which sequence step and A/B variant it renders (so variant
stats and follow-up delays can be computed), its HTML part next to the seed's plain `body`,
what the checker found (`review_flags`), which lead fields its personalisation used
(`personalization`, so every claim is traceable), and why a reviewer rejected it. A unique
index on (lead, campaign, step) makes drafting a lead's sequence idempotent.
Opens, clicks, bounces and complaints are kept one row per event in `email_events`
(tenant RLS): machine activity (Apple MPP, Gmail's image proxy, link scanners) is stored
and reported separately, and the seed's `opened_at/open_count/clicked_at/click_count`
roll-ups count people only; bounce and complaint rows feed the sending guardrails.
"""

from __future__ import annotations

from alembic import op

from vectra.migrations.rls import disable_tenant_rls, enable_tenant_rls

revision = "020_mail_drafts_tracking"
down_revision = "019_billing"
branch_labels = None
depends_on = None

UPGRADE = """
ALTER TABLE emails
    ADD COLUMN sequence_step INTEGER,
    ADD COLUMN delay_days INTEGER,
    ADD COLUMN variant VARCHAR(50),
    ADD COLUMN body_html TEXT,
    ADD COLUMN review_flags JSONB NOT NULL DEFAULT '[]',
    ADD COLUMN needs_review BOOLEAN NOT NULL DEFAULT true,
    ADD COLUMN personalization JSONB NOT NULL DEFAULT '{}',
    ADD COLUMN rejection_reason TEXT,
    ADD COLUMN scheduled_for TIMESTAMP,
    ADD COLUMN machine_open_count INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN machine_click_count INTEGER NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX emails_lead_campaign_step_key
    ON emails (lead_id, campaign_id, sequence_step) WHERE sequence_step IS NOT NULL;
CREATE INDEX idx_emails_org_status_created
    ON emails (organization_id, status, created_at DESC, id DESC);

CREATE TABLE email_events (
    id BIGSERIAL PRIMARY KEY,
    organization_id UUID NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    email_id UUID NOT NULL REFERENCES emails(id) ON DELETE CASCADE,
    kind VARCHAR(20) NOT NULL
        CHECK (kind IN ('open', 'click', 'delivered', 'bounce', 'complaint', 'unsubscribe', 'reply')),
    occurred_at TIMESTAMP NOT NULL DEFAULT NOW(),
    machine BOOLEAN NOT NULL DEFAULT false,
    machine_reason VARCHAR(50),
    method VARCHAR(10),
    url TEXT,
    user_agent VARCHAR(500),
    ip VARCHAR(64),
    detail JSONB NOT NULL DEFAULT '{}'
);
CREATE INDEX idx_email_events_org ON email_events(organization_id, kind, occurred_at);
CREATE INDEX idx_email_events_email ON email_events(email_id, kind, occurred_at);
"""


def upgrade() -> None:
    op.execute(UPGRADE)
    enable_tenant_rls("email_events")


def downgrade() -> None:
    disable_tenant_rls("email_events")
    op.execute(
        """
        DROP TABLE email_events;
        DROP INDEX idx_emails_org_status_created;
        DROP INDEX emails_lead_campaign_step_key;
        ALTER TABLE emails
            DROP COLUMN sequence_step, DROP COLUMN delay_days, DROP COLUMN variant,
            DROP COLUMN body_html, DROP COLUMN review_flags, DROP COLUMN needs_review,
            DROP COLUMN personalization, DROP COLUMN rejection_reason,
            DROP COLUMN scheduled_for, DROP COLUMN machine_open_count,
            DROP COLUMN machine_click_count;
        """
    )
