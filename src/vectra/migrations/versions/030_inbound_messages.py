"""Inbound mail store: raw received messages, IMAP settings and UID cursors per mailbox.

Why: nothing received may be lost, so every message (SMTP on the bounce domain, or IMAP
from a sending mailbox) is stored raw before it is parsed, and processed by a job deferred
in the same transaction. Its organization is often unknown on arrival (a DSN to a VERP
address names an email, not a tenant), so `organization_id` is nullable, but only while
the row is `received`, `quarantined` or `unparseable`: the RLS predicate
`organization_id = current organization` is never true for NULL, so such rows are visible
in system context only. Processing is exactly-once per (organization, Message-ID): a
partial unique index over processed rows makes a second delivery a `duplicate`.
Mailboxes gain IMAP fields (replies land there) and `imap_cursors` keeps the last UID
seen per mailbox and folder, reset when the server's UIDVALIDITY changes.
"""

from __future__ import annotations

from alembic import op

from vectra.migrations.rls import disable_tenant_rls, enable_tenant_rls

revision = "030_inbound_messages"
down_revision = "029_agent_runs_bant"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE inbound_messages (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id UUID REFERENCES organizations(id) ON DELETE CASCADE,
    state VARCHAR(20) NOT NULL DEFAULT 'received'
        CHECK (state IN ('received', 'processed', 'duplicate', 'quarantined', 'unparseable')),
    source VARCHAR(10) NOT NULL CHECK (source IN ('smtp', 'imap')),
    mail_from TEXT,
    rcpt_to TEXT[] NOT NULL DEFAULT '{}',
    mailbox_id UUID REFERENCES mailboxes(id) ON DELETE SET NULL,
    raw BYTEA NOT NULL,
    raw_size INTEGER NOT NULL,
    dedupe_key VARCHAR(1000),
    message_id VARCHAR(998),
    kind VARCHAR(20),
    bounce_type VARCHAR(10),
    dsn_status VARCHAR(20),
    recipient VARCHAR(320),
    sender TEXT,
    subject TEXT,
    body TEXT,
    intent VARCHAR(30),
    intent_confidence REAL,
    intent_source VARCHAR(20),
    return_on DATE,
    details JSONB NOT NULL DEFAULT '{}',
    email_id UUID REFERENCES emails(id) ON DELETE SET NULL,
    lead_id UUID REFERENCES leads(id) ON DELETE SET NULL,
    campaign_id UUID REFERENCES campaigns(id) ON DELETE SET NULL,
    duplicate_of UUID REFERENCES inbound_messages(id) ON DELETE SET NULL,
    error TEXT,
    effects JSONB NOT NULL DEFAULT '{}',
    handled_at TIMESTAMP,
    handled_by UUID REFERENCES users(id) ON DELETE SET NULL,
    received_at TIMESTAMP NOT NULL DEFAULT NOW(),
    processed_at TIMESTAMP,
    CONSTRAINT inbound_org_known_once_processed CHECK (
        organization_id IS NOT NULL OR state IN ('received', 'quarantined', 'unparseable'))
);
CREATE INDEX idx_inbound_messages_org ON inbound_messages(organization_id);
CREATE UNIQUE INDEX inbound_messages_processed_once
    ON inbound_messages(organization_id, dedupe_key) WHERE state = 'processed';
CREATE INDEX idx_inbound_replies ON inbound_messages(organization_id, received_at DESC, id DESC)
    WHERE kind = 'reply' AND state = 'processed';
CREATE INDEX idx_inbound_lead ON inbound_messages(lead_id, received_at);
CREATE INDEX idx_inbound_pending ON inbound_messages(received_at) WHERE state = 'received';

ALTER TABLE mailboxes
    ADD COLUMN imap_host VARCHAR(255),
    ADD COLUMN imap_port INTEGER CHECK (imap_port BETWEEN 1 AND 65535),
    ADD COLUMN imap_security VARCHAR(10) NOT NULL DEFAULT 'tls'
        CHECK (imap_security IN ('tls', 'starttls', 'none')),
    ADD COLUMN imap_username VARCHAR(255),
    ADD COLUMN imap_folder VARCHAR(255) NOT NULL DEFAULT 'INBOX',
    ADD COLUMN imap_enabled BOOLEAN NOT NULL DEFAULT false,
    ADD COLUMN imap_last_polled_at TIMESTAMP,
    ADD COLUMN imap_last_error TEXT;

CREATE TABLE imap_cursors (
    mailbox_id UUID NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
    folder VARCHAR(255) NOT NULL,
    organization_id UUID NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    uidvalidity BIGINT NOT NULL,
    last_uid BIGINT NOT NULL DEFAULT 0,
    updated_at TIMESTAMP NOT NULL DEFAULT NOW(),
    PRIMARY KEY (mailbox_id, folder)
);
CREATE INDEX idx_imap_cursors_org ON imap_cursors(organization_id);
"""

TABLES = ("inbound_messages", "imap_cursors")


def upgrade() -> None:
    op.execute(UPGRADE)
    for table in TABLES:
        enable_tenant_rls(table)


def downgrade() -> None:
    for table in TABLES:
        disable_tenant_rls(table)
    op.execute(
        """
        DROP TABLE imap_cursors;
        DROP TABLE inbound_messages;
        ALTER TABLE mailboxes
            DROP COLUMN imap_host, DROP COLUMN imap_port, DROP COLUMN imap_security,
            DROP COLUMN imap_username, DROP COLUMN imap_folder, DROP COLUMN imap_enabled,
            DROP COLUMN imap_last_polled_at, DROP COLUMN imap_last_error;
        """
    )
