"""CRM sync: links from Vectra objects to CRM records, a cursor per object type, a run log.

Why: pushing leads, emails and meetings to HubSpot or Salesforce must be idempotent (a
re-run creates nothing twice, even for objects such as engagements that the CRMs cannot
upsert), resumable (each object type is read from where the last run stopped) and
accountable (each run records what it created, updated, skipped and why records failed).
`crm_links` maps (integration, object type, Vectra key) to the CRM id, with the hash of
what was last pushed so unchanged objects are skipped; failed pushes keep their error and
are retried by later runs. All three are tenant tables under RLS. `integrations` gains
`status_message`, the provider's own words when a connection test or a sync fails.
"""

from __future__ import annotations

from alembic import op

from vectra.migrations.rls import disable_tenant_rls, enable_tenant_rls

revision = "028_crm_sync"
down_revision = "027_leads_campaigns"
branch_labels = None
depends_on = None

TABLES = ("crm_links", "crm_sync_cursors", "crm_sync_runs")


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE integrations ADD COLUMN status_message TEXT;

        CREATE TABLE crm_links (
            id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
            organization_id UUID NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
            integration_id UUID NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
            object_type VARCHAR(20) NOT NULL
                CHECK (object_type IN ('lead', 'company', 'email', 'meeting')),
            vectra_key VARCHAR(320) NOT NULL,
            crm_object VARCHAR(40),
            crm_id VARCHAR(64),
            payload_hash VARCHAR(64),
            attempts INTEGER NOT NULL DEFAULT 0,
            error TEXT,
            synced_at TIMESTAMP,
            created_at TIMESTAMP DEFAULT NOW(),
            updated_at TIMESTAMP DEFAULT NOW(),
            UNIQUE (integration_id, object_type, vectra_key)
        );
        CREATE INDEX idx_crm_links_org ON crm_links(organization_id);
        CREATE INDEX idx_crm_links_retry ON crm_links(integration_id, object_type)
            WHERE crm_id IS NULL OR error IS NOT NULL;
        CREATE TRIGGER update_crm_links_updated_at BEFORE UPDATE ON crm_links
            FOR EACH ROW EXECUTE FUNCTION update_updated_at();

        CREATE TABLE crm_sync_cursors (
            id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
            organization_id UUID NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
            integration_id UUID NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
            object_type VARCHAR(20) NOT NULL,
            position_at TIMESTAMP,
            position_id UUID,
            updated_at TIMESTAMP DEFAULT NOW(),
            UNIQUE (integration_id, object_type)
        );
        CREATE INDEX idx_crm_sync_cursors_org ON crm_sync_cursors(organization_id);
        CREATE TRIGGER update_crm_sync_cursors_updated_at BEFORE UPDATE ON crm_sync_cursors
            FOR EACH ROW EXECUTE FUNCTION update_updated_at();

        CREATE TABLE crm_sync_runs (
            id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
            organization_id UUID NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
            integration_id UUID NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
            reason VARCHAR(100) NOT NULL,
            status VARCHAR(20) NOT NULL DEFAULT 'running'
                CHECK (status IN ('running', 'succeeded', 'partial', 'failed')),
            started_at TIMESTAMP NOT NULL DEFAULT NOW(),
            finished_at TIMESTAMP,
            created INTEGER NOT NULL DEFAULT 0,
            updated INTEGER NOT NULL DEFAULT 0,
            skipped INTEGER NOT NULL DEFAULT 0,
            failed INTEGER NOT NULL DEFAULT 0,
            counts JSONB NOT NULL DEFAULT '{}',
            errors JSONB NOT NULL DEFAULT '[]',
            message TEXT
        );
        CREATE INDEX idx_crm_sync_runs_org ON crm_sync_runs(organization_id);
        CREATE INDEX idx_crm_sync_runs_integration ON crm_sync_runs(integration_id, started_at);
        """
    )
    for table in TABLES:
        enable_tenant_rls(table)


def downgrade() -> None:
    for table in TABLES:
        disable_tenant_rls(table)
    op.execute(
        "DROP TABLE crm_sync_runs; DROP TABLE crm_sync_cursors; DROP TABLE crm_links; "
        "ALTER TABLE integrations DROP COLUMN status_message;"
    )
