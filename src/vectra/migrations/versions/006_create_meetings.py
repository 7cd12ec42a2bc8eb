"""Create `meetings` exactly as the seed writes it.

The seed's enum type `meeting_status` is created here, with the first table that uses it."""

from __future__ import annotations

from alembic import op

revision = "006_create_meetings"
down_revision = "005_create_emails"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TYPE meeting_status AS ENUM ('scheduled', 'confirmed', 'completed', 'canceled', 'no_show');

CREATE TABLE meetings (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    lead_id UUID REFERENCES leads(id) ON DELETE CASCADE,
    campaign_id UUID REFERENCES campaigns(id) ON DELETE CASCADE,
    organization_id UUID REFERENCES organizations(id) ON DELETE CASCADE,
    scheduled_at TIMESTAMP NOT NULL,
    duration_minutes INTEGER DEFAULT 30,
    meeting_url VARCHAR(500),
    calendly_event_id VARCHAR(255),
    status VARCHAR(50) DEFAULT 'scheduled',
    completed_at TIMESTAMP,
    no_show BOOLEAN DEFAULT false,
    notes TEXT,
    outcome VARCHAR(100),
    created_at TIMESTAMP DEFAULT NOW(),
    updated_at TIMESTAMP DEFAULT NOW()
);

CREATE INDEX idx_meetings_lead ON meetings(lead_id);
CREATE INDEX idx_meetings_org ON meetings(organization_id);
CREATE INDEX idx_meetings_scheduled ON meetings(scheduled_at);
CREATE INDEX idx_meetings_status ON meetings(status);
"""

DOWNGRADE = """
DROP TABLE meetings;
DROP TYPE meeting_status;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
