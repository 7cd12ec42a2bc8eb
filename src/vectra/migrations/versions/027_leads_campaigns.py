"""Leads: case-insensitive uniqueness, list indexes, status history, import jobs, suppressions.

Why: `UNIQUE(campaign_id, email)` from the seed is case-sensitive, so Ada@X.com and
ada@x.com could both be imported; a unique index on `lower(email)` closes that for every
writer. Lead lists are keyset-paginated by (created_at, id) per campaign and searched by
name/company/title with pg_trgm, so they need matching indexes to stay fast at 1M leads.
Each status change is kept (`lead_status_history`) so the UI can show who moved a lead and
why. Large CSV imports run as jobs whose progress the UI polls (`lead_import_jobs`). The
organization-wide do-not-contact list (`suppressions`: emails and whole domains, with the
reason and where it came from) is checked at import and again at send time.
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text

from vectra.db.errors import DatabaseSetupError
from vectra.migrations.rls import disable_tenant_rls, enable_tenant_rls

revision = "027_leads_campaigns"
down_revision = "025_accounts_security"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE UNIQUE INDEX leads_campaign_email_lower_key ON leads (campaign_id, lower(email));
CREATE INDEX idx_leads_campaign_created ON leads (campaign_id, created_at DESC, id DESC);
CREATE INDEX idx_leads_campaign_status_created
    ON leads (campaign_id, status, created_at DESC, id DESC);
CREATE INDEX idx_leads_search_trgm ON leads USING gin (
    (coalesce(first_name, '') || ' ' || coalesce(last_name, '') || ' ' ||
     coalesce(company_name, '') || ' ' || coalesce(job_title, '')) gin_trgm_ops
);
CREATE INDEX idx_campaigns_org_created ON campaigns (organization_id, created_at DESC, id DESC);

CREATE TABLE lead_status_history (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id UUID NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    lead_id UUID NOT NULL REFERENCES leads(id) ON DELETE CASCADE,
    from_status VARCHAR(50),
    to_status VARCHAR(50) NOT NULL,
    actor_kind VARCHAR(20) NOT NULL CHECK (actor_kind IN ('user', 'api_key', 'agent', 'system')),
    actor_user_id UUID REFERENCES users(id) ON DELETE SET NULL,
    actor_api_key_id UUID,
    agent VARCHAR(50),
    reason TEXT,
    created_at TIMESTAMP NOT NULL DEFAULT NOW()
);
CREATE INDEX idx_lead_status_history_org ON lead_status_history(organization_id);
CREATE INDEX idx_lead_status_history_lead ON lead_status_history(lead_id, created_at);

CREATE TABLE lead_import_jobs (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id UUID NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    campaign_id UUID NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    created_by UUID REFERENCES users(id) ON DELETE SET NULL,
    filename VARCHAR(255),
    status VARCHAR(20) NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'running', 'succeeded', 'failed')),
    bytes_total BIGINT NOT NULL DEFAULT 0,
    bytes_read BIGINT NOT NULL DEFAULT 0,
    rows_read INTEGER NOT NULL DEFAULT 0,
    column_map JSONB NOT NULL DEFAULT '{}',
    payload BYTEA,
    report JSONB,
    error TEXT,
    created_at TIMESTAMP NOT NULL DEFAULT NOW(),
    started_at TIMESTAMP,
    finished_at TIMESTAMP,
    updated_at TIMESTAMP NOT NULL DEFAULT NOW()
);
CREATE INDEX idx_lead_import_jobs_org ON lead_import_jobs(organization_id);
CREATE INDEX idx_lead_import_jobs_campaign ON lead_import_jobs(campaign_id, created_at DESC);
CREATE TRIGGER update_lead_import_jobs_updated_at BEFORE UPDATE ON lead_import_jobs
    FOR EACH ROW EXECUTE FUNCTION update_updated_at();

CREATE TABLE suppressions (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id UUID NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    kind VARCHAR(10) NOT NULL CHECK (kind IN ('email', 'domain')),
    value VARCHAR(255) NOT NULL CHECK (value = lower(value)),
    reason VARCHAR(30) NOT NULL
        CHECK (reason IN ('unsubscribe', 'hard_bounce', 'complaint', 'manual', 'import')),
    source VARCHAR(100),
    created_by UUID REFERENCES users(id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL DEFAULT NOW(),
    UNIQUE (organization_id, kind, value)
);
CREATE INDEX idx_suppressions_org ON suppressions(organization_id, created_at DESC, id DESC);
"""

DOWNGRADE = """
DROP TABLE suppressions;
DROP TABLE lead_import_jobs;
DROP TABLE lead_status_history;
DROP INDEX idx_campaigns_org_created;
DROP INDEX idx_leads_search_trgm;
DROP INDEX idx_leads_campaign_status_created;
DROP INDEX idx_leads_campaign_created;
DROP INDEX leads_campaign_email_lower_key;
"""


def upgrade() -> None:
    clashes = (
        op.get_bind()
        .execute(
            text(
                "SELECT count(*) FROM (SELECT 1 FROM leads GROUP BY campaign_id, lower(email) "
                "HAVING count(*) > 1) AS d"
            )
        )
        .scalar_one()
    )
    if clashes:
        raise DatabaseSetupError(
            f"{clashes} lead address(es) appear twice in one campaign in different letter case; "
            "delete the extra rows (SELECT campaign_id, lower(email) FROM leads GROUP BY 1, 2 "
            "HAVING count(*) > 1) and upgrade again."
        )
    op.execute(UPGRADE)
    for table in ("lead_status_history", "lead_import_jobs", "suppressions"):
        enable_tenant_rls(table)


def downgrade() -> None:
    for table in ("lead_status_history", "lead_import_jobs", "suppressions"):
        disable_tenant_rls(table)
    op.execute(DOWNGRADE)
