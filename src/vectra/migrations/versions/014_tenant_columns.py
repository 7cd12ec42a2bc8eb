"""Add `organization_id` to `emails` and `agent_runs`; keep every `updated_at` truthful.

Why: every tenant table must carry its organization so services can scope it in one
statement, row-level security can guard it, and Citus can shard it by organization.
The columns are backfilled from the campaign, then made NOT NULL and indexed. The seed
gives `subscriptions`, `usage_records` and `integrations` an `updated_at` but no
trigger; they get the seed's own `update_updated_at()` trigger.
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text

from vectra.db.errors import DatabaseSetupError

revision = "014_tenant_columns"
down_revision = "013_enum_constraints"
branch_labels = None
depends_on = None

TOUCHED = ("subscriptions", "usage_records", "integrations")


def upgrade() -> None:
    bind = op.get_bind()
    for table in ("emails", "agent_runs"):
        op.execute(
            f"ALTER TABLE {table} ADD COLUMN organization_id UUID "
            "REFERENCES organizations(id) ON DELETE CASCADE"
        )
        op.execute(
            f"UPDATE {table} t SET organization_id = c.organization_id "
            "FROM campaigns c WHERE c.id = t.campaign_id"
        )
        orphans = bind.execute(
            text(f"SELECT count(*) FROM {table} WHERE organization_id IS NULL")
        ).scalar_one()
        if orphans:
            raise DatabaseSetupError(
                f"{orphans} row(s) of {table} have no campaign to take an organization from; "
                f"assign them (UPDATE {table} SET organization_id = ...) and upgrade again."
            )
        op.execute(f"ALTER TABLE {table} ALTER COLUMN organization_id SET NOT NULL")
        op.execute(f"CREATE INDEX idx_{table}_org ON {table}(organization_id)")
    for table in TOUCHED:
        op.execute(
            f"CREATE TRIGGER update_{table}_updated_at BEFORE UPDATE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION update_updated_at()"
        )


def downgrade() -> None:
    for table in TOUCHED:
        op.execute(f"DROP TRIGGER update_{table}_updated_at ON {table}")
    for table in ("emails", "agent_runs"):
        op.execute(f"ALTER TABLE {table} DROP COLUMN organization_id")
