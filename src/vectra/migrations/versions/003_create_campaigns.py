"""Create `campaigns` exactly as the seed writes it.

The seed's enum type `campaign_status` is created here, with the first table that uses it."""

from __future__ import annotations

from alembic import op

revision = "003_create_campaigns"
down_revision = "002_create_users"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TYPE campaign_status AS ENUM ('draft', 'active', 'paused', 'completed', 'archived');

CREATE TABLE campaigns (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id UUID REFERENCES organizations(id) ON DELETE CASCADE,
    created_by UUID REFERENCES users(id),
    name VARCHAR(255) NOT NULL,
    description TEXT,
    status VARCHAR(50) DEFAULT 'draft',
    target_criteria JSONB NOT NULL DEFAULT '{}',
    email_template JSONB,
    bant_threshold INTEGER DEFAULT 60,
    daily_limit INTEGER DEFAULT 50,
    started_at TIMESTAMP,
    completed_at TIMESTAMP,
    created_at TIMESTAMP DEFAULT NOW(),
    updated_at TIMESTAMP DEFAULT NOW()
);

CREATE INDEX idx_campaigns_org ON campaigns(organization_id);
CREATE INDEX idx_campaigns_status ON campaigns(status);
"""

DOWNGRADE = """
DROP TABLE campaigns;
DROP TYPE campaign_status;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
