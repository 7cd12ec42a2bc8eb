"""Sending mailboxes, DKIM keys, per-day send counters and the exactly-once send state.

Why: an organization sends through its own SMTP mailboxes (password and DKIM private key
encrypted by the credential vault), each with a daily cap and a warm-up ramp, rotated
across a campaign's mailboxes (`campaign_mailboxes`). Caps must hold under any number of
concurrent workers, so each send increments a per-day counter row (campaign, mailbox,
organization-month) in the same transaction that claims the email; the conditional
upsert is the lock. Exactly-once delivery needs the claim and the SMTP transaction
recorded apart on `emails` (`send_state` sending -> transmitting -> sent, a stable
`message_id` chosen before SMTP): a worker killed after claiming re-sends safely, and
only an email caught `transmitting` is re-sent as a possible duplicate and flagged.
`sequence_stops` makes a stop (reply, bounce, unsubscribe, meeting, manual) stick even
for drafts created later.
"""

from __future__ import annotations

from alembic import op

from vectra.migrations.rls import disable_tenant_rls, enable_tenant_rls

revision = "022_mail_sending"
down_revision = "020_mail_drafts_tracking"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE mailboxes (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id UUID NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name VARCHAR(200) NOT NULL,
    from_name VARCHAR(200) NOT NULL DEFAULT '',
    from_address VARCHAR(255) NOT NULL,
    smtp_host VARCHAR(255) NOT NULL,
    smtp_port INTEGER NOT NULL CHECK (smtp_port BETWEEN 1 AND 65535),
    smtp_security VARCHAR(10) NOT NULL DEFAULT 'starttls'
        CHECK (smtp_security IN ('starttls', 'tls', 'none')),
    smtp_username VARCHAR(255),
    secret TEXT,
    daily_cap INTEGER NOT NULL DEFAULT 50 CHECK (daily_cap >= 0),
    warmup_start INTEGER NOT NULL DEFAULT 20 CHECK (warmup_start >= 0),
    warmup_increment INTEGER NOT NULL DEFAULT 5 CHECK (warmup_increment >= 0),
    warmup_days INTEGER NOT NULL DEFAULT 0 CHECK (warmup_days >= 0),
    warmup_started_on DATE NOT NULL DEFAULT CURRENT_DATE,
    min_interval_seconds INTEGER NOT NULL DEFAULT 60 CHECK (min_interval_seconds >= 0),
    jitter_seconds INTEGER NOT NULL DEFAULT 30 CHECK (jitter_seconds >= 0),
    next_send_at TIMESTAMP,
    signature TEXT NOT NULL DEFAULT '',
    status VARCHAR(10) NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused', 'error')),
    status_reason TEXT,
    sent_total INTEGER NOT NULL DEFAULT 0,
    failed_total INTEGER NOT NULL DEFAULT 0,
    last_sent_at TIMESTAMP,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL DEFAULT NOW(),
    updated_at TIMESTAMP NOT NULL DEFAULT NOW()
);
CREATE INDEX idx_mailboxes_org ON mailboxes(organization_id);
CREATE UNIQUE INDEX mailboxes_org_address_key ON mailboxes(organization_id, lower(from_address));

CREATE TABLE campaign_mailboxes (
    campaign_id UUID NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    mailbox_id UUID NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
    organization_id UUID NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    PRIMARY KEY (campaign_id, mailbox_id)
);
CREATE INDEX idx_campaign_mailboxes_org ON campaign_mailboxes(organization_id);
CREATE INDEX idx_campaign_mailboxes_mailbox ON campaign_mailboxes(mailbox_id);

CREATE TABLE dkim_keys (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id UUID NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    domain VARCHAR(255) NOT NULL,
    selector VARCHAR(63) NOT NULL,
    secret TEXT NOT NULL,
    public_key TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT NOW(),
    UNIQUE (organization_id, domain)
);
CREATE INDEX idx_dkim_keys_org ON dkim_keys(organization_id);

CREATE TABLE send_counters (
    organization_id UUID NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    scope VARCHAR(10) NOT NULL CHECK (scope IN ('campaign', 'mailbox', 'org_month')),
    scope_id UUID NOT NULL,
    day DATE NOT NULL,
    sent INTEGER NOT NULL DEFAULT 0 CHECK (sent >= 0),
    PRIMARY KEY (scope, scope_id, day)
);
CREATE INDEX idx_send_counters_org ON send_counters(organization_id);

CREATE TABLE sequence_stops (
    lead_id UUID PRIMARY KEY REFERENCES leads(id) ON DELETE CASCADE,
    organization_id UUID NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    reason VARCHAR(20) NOT NULL
        CHECK (reason IN ('reply', 'bounce', 'unsubscribe', 'meeting', 'manual', 'complaint')),
    stopped_at TIMESTAMP NOT NULL DEFAULT NOW()
);
CREATE INDEX idx_sequence_stops_org ON sequence_stops(organization_id);

ALTER TABLE emails
    ADD COLUMN mailbox_id UUID REFERENCES mailboxes(id) ON DELETE SET NULL,
    ADD COLUMN message_id VARCHAR(255),
    ADD COLUMN send_state VARCHAR(20)
        CHECK (send_state IN ('sending', 'transmitting', 'sent', 'failed', 'skipped', 'stopped')),
    ADD COLUMN claimed_at TIMESTAMP,
    ADD COLUMN claimed_by VARCHAR(100),
    ADD COLUMN smtp_started_at TIMESTAMP,
    ADD COLUMN send_attempts INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN send_error TEXT,
    ADD COLUMN possible_duplicate BOOLEAN NOT NULL DEFAULT false;
CREATE UNIQUE INDEX emails_message_id_key ON emails(message_id) WHERE message_id IS NOT NULL;
CREATE INDEX idx_emails_mailbox_sent ON emails(mailbox_id, sent_at DESC) WHERE sent_at IS NOT NULL;
-- The sender's hot path: approved emails not yet claimed, by due time.
CREATE INDEX idx_emails_due ON emails(scheduled_for)
    WHERE status = 'approved' AND send_state IS NULL;
CREATE INDEX idx_emails_in_flight ON emails(claimed_at)
    WHERE send_state IN ('sending', 'transmitting');
"""

TABLES = ["mailboxes", "campaign_mailboxes", "dkim_keys", "send_counters", "sequence_stops"]


def upgrade() -> None:
    op.execute(UPGRADE)
    for table in TABLES:
        enable_tenant_rls(table)


def downgrade() -> None:
    op.execute(
        """
        DROP INDEX idx_emails_in_flight; DROP INDEX idx_emails_due;
        DROP INDEX idx_emails_mailbox_sent; DROP INDEX emails_message_id_key;
        ALTER TABLE emails
            DROP COLUMN mailbox_id, DROP COLUMN message_id, DROP COLUMN send_state,
            DROP COLUMN claimed_at, DROP COLUMN claimed_by, DROP COLUMN smtp_started_at,
            DROP COLUMN send_attempts, DROP COLUMN send_error, DROP COLUMN possible_duplicate;
        """
    )
    for table in reversed(TABLES):
        disable_tenant_rls(table)
        op.execute(f"DROP TABLE {table}")
