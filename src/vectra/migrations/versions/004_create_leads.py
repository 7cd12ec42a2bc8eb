"""Create `leads` exactly as the seed writes it.

The seed's enum type `lead_status` is created here, with the first table that uses it."""

from __future__ import annotations

from alembic import op

revision = "004_create_leads"
down_revision = "003_create_campaigns"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TYPE lead_status AS ENUM ('new', 'enriched', 'scoring', 'qualified', 'contacted', 'meeting_scheduled', 'completed', 'rejected');

CREATE TABLE leads (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    campaign_id UUID REFERENCES campaigns(id) ON DELETE CASCADE,
    organization_id UUID REFERENCES organizations(id) ON DELETE CASCADE,
    email VARCHAR(255) NOT NULL,
    first_name VARCHAR(100),
    last_name VARCHAR(100),
    job_title VARCHAR(200),
    company_name VARCHAR(255),
    company_size VARCHAR(50),
    linkedin_url VARCHAR(500),
    phone VARCHAR(50),
    enrichment_data JSONB DEFAULT '{}',
    bant_score INTEGER,
    bant_breakdown JSONB,
    intent VARCHAR(50),
    status VARCHAR(50) DEFAULT 'new',
    source VARCHAR(100),
    created_at TIMESTAMP DEFAULT NOW(),
    updated_at TIMESTAMP DEFAULT NOW(),

    UNIQUE(campaign_id, email)
);

CREATE INDEX idx_leads_campaign ON leads(campaign_id);
CREATE INDEX idx_leads_org ON leads(organization_id);
CREATE INDEX idx_leads_status ON leads(status);
CREATE INDEX idx_leads_score ON leads(bant_score);
"""

DOWNGRADE = """
DROP TABLE leads;
DROP TYPE lead_status;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
