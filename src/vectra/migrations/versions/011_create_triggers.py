"""Create the seed's `update_updated_at()` function and its BEFORE UPDATE triggers."""

from __future__ import annotations

from alembic import op

revision = "011_create_triggers"
down_revision = "010_create_integrations"
branch_labels = None
depends_on = None

UPGRADE = """
-- Auto-update updated_at
CREATE OR REPLACE FUNCTION update_updated_at()
RETURNS TRIGGER AS $$
BEGIN
    NEW.updated_at = NOW();
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

-- Apply to all tables
CREATE TRIGGER update_organizations_updated_at BEFORE UPDATE ON organizations
    FOR EACH ROW EXECUTE FUNCTION update_updated_at();

CREATE TRIGGER update_users_updated_at BEFORE UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION update_updated_at();

CREATE TRIGGER update_campaigns_updated_at BEFORE UPDATE ON campaigns
    FOR EACH ROW EXECUTE FUNCTION update_updated_at();

CREATE TRIGGER update_leads_updated_at BEFORE UPDATE ON leads
    FOR EACH ROW EXECUTE FUNCTION update_updated_at();

CREATE TRIGGER update_emails_updated_at BEFORE UPDATE ON emails
    FOR EACH ROW EXECUTE FUNCTION update_updated_at();

CREATE TRIGGER update_meetings_updated_at BEFORE UPDATE ON meetings
    FOR EACH ROW EXECUTE FUNCTION update_updated_at();
"""

DOWNGRADE = """
DROP TRIGGER update_organizations_updated_at ON organizations;
DROP TRIGGER update_users_updated_at ON users;
DROP TRIGGER update_campaigns_updated_at ON campaigns;
DROP TRIGGER update_leads_updated_at ON leads;
DROP TRIGGER update_emails_updated_at ON emails;
DROP TRIGGER update_meetings_updated_at ON meetings;
DROP FUNCTION update_updated_at();
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
