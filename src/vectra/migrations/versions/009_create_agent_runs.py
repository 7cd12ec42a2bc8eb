"""Create `agent_runs` exactly as the seed writes it.

The seed's enum type `agent_type` is created here, with the first table that uses it."""

from __future__ import annotations

from alembic import op

revision = "009_create_agent_runs"
down_revision = "008_create_usage_records"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TYPE agent_type AS ENUM ('prospector', 'bant_qualifier', 'scheduler');

CREATE TABLE agent_runs (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    campaign_id UUID REFERENCES campaigns(id) ON DELETE CASCADE,
    agent_type VARCHAR(50) NOT NULL,
    status VARCHAR(50) DEFAULT 'pending',
    input_data JSONB,
    output_data JSONB,
    error_message TEXT,
    started_at TIMESTAMP,
    completed_at TIMESTAMP,
    duration_ms INTEGER,
    tokens_used INTEGER,
    created_at TIMESTAMP DEFAULT NOW()
);

CREATE INDEX idx_agent_runs_campaign ON agent_runs(campaign_id);
CREATE INDEX idx_agent_runs_status ON agent_runs(status);
"""

DOWNGRADE = """
DROP TABLE agent_runs;
DROP TYPE agent_type;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
