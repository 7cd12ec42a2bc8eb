"""Create `usage_records` exactly as the seed writes it."""

from __future__ import annotations

from alembic import op

revision = "008_create_usage_records"
down_revision = "007_create_subscriptions"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE usage_records (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id UUID REFERENCES organizations(id) ON DELETE CASCADE,
    period_start DATE NOT NULL,
    period_end DATE NOT NULL,
    leads_used INTEGER DEFAULT 0,
    leads_limit INTEGER,
    emails_sent INTEGER DEFAULT 0,
    emails_limit INTEGER,
    api_calls INTEGER DEFAULT 0,
    created_at TIMESTAMP DEFAULT NOW(),
    updated_at TIMESTAMP DEFAULT NOW(),

    UNIQUE(organization_id, period_start)
);

CREATE INDEX idx_usage_org ON usage_records(organization_id, period_start DESC);
"""

DOWNGRADE = """
DROP TABLE usage_records;

"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
