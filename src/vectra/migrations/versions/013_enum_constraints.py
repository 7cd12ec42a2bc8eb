"""Let the seed's enum types constrain the columns they describe.

Why: the seed declares the enum types but keeps its columns VARCHAR. A CHECK against
`enum_range(NULL::<type>)` makes the database refuse `campaigns.status = 'bogus'`
while keeping each column's declared type exactly as the seed wrote it; a value added
to an enum type later is accepted by its column at once.
"""

from __future__ import annotations

from alembic import op

revision = "013_enum_constraints"
down_revision = "012_extensions"
branch_labels = None
depends_on = None

CONSTRAINED = [
    ("organizations", "plan", "plan_type"),
    ("users", "role", "user_role"),
    ("campaigns", "status", "campaign_status"),
    ("leads", "status", "lead_status"),
    ("emails", "status", "email_status"),
    ("meetings", "status", "meeting_status"),
    ("subscriptions", "plan", "plan_type"),
    ("agent_runs", "agent_type", "agent_type"),
    ("integrations", "type", "integration_type"),
]


def upgrade() -> None:
    for table, column, enum in CONSTRAINED:
        op.execute(
            f"ALTER TABLE {table} ADD CONSTRAINT {table}_{column}_enum "
            f"CHECK ({column} IS NULL OR {column}::text = ANY (enum_range(NULL::{enum})::text[]))"
        )


def downgrade() -> None:
    for table, column, _enum in CONSTRAINED:
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {table}_{column}_enum")
