"""Agent runs: idempotency keys and keyset listing; campaigns: editable BANT weights.

Why: the queue retries a job that failed or whose worker died, and the API lets a user
press "run" twice; without a key per (agent, campaign, input) the same prospecting or
qualification would be applied twice. The unique partial index makes the second attempt
find the first run instead of inserting a new one. The (organization, created_at, id)
index serves the newest-first keyset pages of `GET /agent-runs`. `campaigns.bant_weights`
holds the per-campaign weights of the four BANT sub-scores (edited by a manager or fitted
from meeting outcomes), NULL meaning equal weights.
"""

from __future__ import annotations

from alembic import op

revision = "029_agent_runs_bant"
down_revision = "028_crm_sync"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE agent_runs ADD COLUMN idempotency_key VARCHAR(64);
        CREATE UNIQUE INDEX uq_agent_runs_idempotency
            ON agent_runs (organization_id, idempotency_key)
            WHERE idempotency_key IS NOT NULL;
        CREATE INDEX idx_agent_runs_org_created ON agent_runs (organization_id, created_at, id);
        ALTER TABLE campaigns ADD COLUMN bant_weights JSONB;
        """
    )


def downgrade() -> None:
    op.execute(
        """
        ALTER TABLE campaigns DROP COLUMN bant_weights;
        DROP INDEX idx_agent_runs_org_created;
        DROP INDEX uq_agent_runs_idempotency;
        ALTER TABLE agent_runs DROP COLUMN idempotency_key;
        """
    )
