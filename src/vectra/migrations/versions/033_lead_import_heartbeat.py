"""Import jobs carry a heartbeat and an attempt count, so a job whose process died is rerun.

Why: an import runs in one transaction; when its process dies (restart, deploy, SIGKILL)
the transaction rolls back but the job row stayed `running` for ever, and a re-delivered
Procrastinate job found it `running` and did nothing. `heartbeat_at` is refreshed while a
run is alive (claim, progress, a ticker); the worker's recovery puts a job whose heartbeat
is stale back to `pending` and queues it again, at most a few `attempts`. Existing rows take
the migration time as their heartbeat, so a job stuck before the upgrade is recovered too.
"""

from __future__ import annotations

from alembic import op

revision = "033_lead_import_heartbeat"
down_revision = "032_lead_search"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE lead_import_jobs "
        "ADD COLUMN heartbeat_at TIMESTAMP NOT NULL DEFAULT NOW(), "
        "ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0"
    )
    # The recovery's scan: only unfinished jobs, by heartbeat.
    op.execute(
        "CREATE INDEX idx_lead_import_jobs_heartbeat ON lead_import_jobs (heartbeat_at) "
        "WHERE status IN ('pending', 'running')"
    )


def downgrade() -> None:
    op.execute("DROP INDEX idx_lead_import_jobs_heartbeat")
    op.execute("ALTER TABLE lead_import_jobs DROP COLUMN heartbeat_at, DROP COLUMN attempts")
