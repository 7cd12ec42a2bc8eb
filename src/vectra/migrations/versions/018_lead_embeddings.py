"""Add lead and campaign ICP embeddings (pgvector `vector(384)`) with an HNSW cosine index.

Why: leads are ranked against their campaign's ideal customer profile by semantic
similarity. Each vector is stored with the tag of the model that made it
(`embedding_model`), so vectors of different models are never compared and a model
change is detected (the batch job re-embeds rows whose tag is not the current model).
The HNSW index (`vector_cosine_ops`) serves tenant- and campaign-filtered top-k queries
with pgvector 0.8's iterative index scans. Columns are nullable: a lead is embedded by a
job after it is imported.
"""

from __future__ import annotations

from alembic import op

revision = "018_lead_embeddings"
down_revision = "017_auth_sessions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE leads
            ADD COLUMN embedding vector(384),
            ADD COLUMN embedding_model VARCHAR(100);
        ALTER TABLE campaigns
            ADD COLUMN icp_embedding vector(384),
            ADD COLUMN icp_embedding_model VARCHAR(100);
        CREATE INDEX idx_leads_embedding_hnsw ON leads
            USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64);
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP INDEX IF EXISTS idx_leads_embedding_hnsw;
        ALTER TABLE campaigns DROP COLUMN icp_embedding_model, DROP COLUMN icp_embedding;
        ALTER TABLE leads DROP COLUMN embedding_model, DROP COLUMN embedding;
        """
    )
