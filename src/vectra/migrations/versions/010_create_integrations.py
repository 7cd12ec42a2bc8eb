"""Create `integrations` exactly as the seed writes it.

The seed's enum type `integration_type` is created here, with the first table that uses it."""

from __future__ import annotations

from alembic import op

revision = "010_create_integrations"
down_revision = "009_create_agent_runs"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TYPE integration_type AS ENUM ('hubspot', 'salesforce', 'calendly', 'google_calendar');

CREATE TABLE integrations (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id UUID REFERENCES organizations(id) ON DELETE CASCADE,
    type VARCHAR(50) NOT NULL,
    status VARCHAR(50) DEFAULT 'disconnected',
    credentials JSONB,
    settings JSONB DEFAULT '{}',
    last_sync_at TIMESTAMP,
    created_at TIMESTAMP DEFAULT NOW(),
    updated_at TIMESTAMP DEFAULT NOW(),

    UNIQUE(organization_id, type)
);

CREATE INDEX idx_integrations_org ON integrations(organization_id);
"""

DOWNGRADE = """
DROP TABLE integrations;
DROP TYPE integration_type;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
