"""Accounts: one-time tokens, login attempts, invitations, API keys, audit events.

Why: email verification and password reset need expiring, single-use tokens that are
stored only hashed (`account_tokens`); brute-force limits need a shared record of failed
sign-ins that every web process sees (`login_attempts`, keyed by email and IP, not by
tenant, since it is written before anyone is authenticated); admins invite teammates
(`invitations`) and script Vectra with hashed API keys (`api_keys`); and "who did what to
which object, when, from where" must be answerable for every organization (`audit_events`).
"""

from __future__ import annotations

from alembic import op

from vectra.migrations.rls import disable_tenant_rls, enable_tenant_rls

revision = "025_accounts_security"
down_revision = "024_meetings_scheduling"
branch_labels = None
depends_on = None

TENANT_TABLES = ("account_tokens", "invitations", "api_keys", "audit_events")

UPGRADE = """
CREATE TABLE account_tokens (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id UUID NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    purpose VARCHAR(20) NOT NULL CHECK (purpose IN ('verify_email', 'password_reset')),
    token_hash CHAR(64) NOT NULL UNIQUE,
    email VARCHAR(255) NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT NOW(),
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX idx_account_tokens_org ON account_tokens(organization_id);
CREATE INDEX idx_account_tokens_user ON account_tokens(user_id, purpose, created_at DESC);

CREATE TABLE login_attempts (
    id BIGSERIAL PRIMARY KEY,
    email VARCHAR(255) NOT NULL,
    ip VARCHAR(64),
    succeeded BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT NOW()
);
CREATE INDEX idx_login_attempts_email ON login_attempts(email, created_at DESC);
CREATE INDEX idx_login_attempts_ip ON login_attempts(ip, created_at DESC);

CREATE TABLE invitations (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id UUID NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    email VARCHAR(255) NOT NULL,
    role VARCHAR(50) NOT NULL
        CHECK (role IN ('owner', 'admin', 'manager', 'operator', 'viewer')),
    token_hash CHAR(64) NOT NULL UNIQUE,
    invited_by UUID REFERENCES users(id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL DEFAULT NOW(),
    expires_at TIMESTAMP NOT NULL,
    accepted_at TIMESTAMP,
    accepted_user_id UUID REFERENCES users(id) ON DELETE SET NULL,
    revoked_at TIMESTAMP
);
CREATE INDEX idx_invitations_org ON invitations(organization_id, created_at DESC);
-- One open invitation per address and organization.
CREATE UNIQUE INDEX invitations_open_email_key ON invitations (organization_id, lower(email))
    WHERE accepted_at IS NULL AND revoked_at IS NULL;

CREATE TABLE api_keys (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id UUID NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name VARCHAR(100) NOT NULL,
    prefix VARCHAR(16) NOT NULL,
    secret_hash CHAR(64) NOT NULL UNIQUE,
    scopes TEXT[] NOT NULL
        CHECK (cardinality(scopes) > 0 AND scopes <@ ARRAY['read', 'write']::text[]),
    created_by UUID REFERENCES users(id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL DEFAULT NOW(),
    expires_at TIMESTAMP,
    last_used_at TIMESTAMP,
    revoked_at TIMESTAMP
);
CREATE INDEX idx_api_keys_org ON api_keys(organization_id, created_at DESC);

CREATE TABLE audit_events (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id UUID NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    occurred_at TIMESTAMP NOT NULL DEFAULT clock_timestamp(),
    actor_user_id UUID REFERENCES users(id) ON DELETE SET NULL,
    actor_api_key_id UUID REFERENCES api_keys(id) ON DELETE SET NULL,
    action VARCHAR(100) NOT NULL,
    object_type VARCHAR(50),
    object_id VARCHAR(100),
    ip VARCHAR(64),
    details JSONB NOT NULL DEFAULT '{}'
);
-- Keyset pagination walks (occurred_at, id) newest first within one organization.
CREATE INDEX idx_audit_events_org ON audit_events(organization_id, occurred_at DESC, id DESC);
"""


def upgrade() -> None:
    op.execute(UPGRADE)
    for table in TENANT_TABLES:
        enable_tenant_rls(table)


def downgrade() -> None:
    for table in TENANT_TABLES:
        disable_tenant_rls(table)
    op.execute(
        "DROP TABLE audit_events; DROP TABLE api_keys; DROP TABLE invitations; "
        "DROP TABLE login_attempts; DROP TABLE account_tokens;"
    )
