"""The sender's claim scans due emails in claim order, not all of them.

Why: the claim takes the first N approved, unclaimed, due emails ordered by
(scheduled_for NULLS FIRST, created_at). The index of 022 (`scheduled_for` only) made
PostgreSQL read and sort every due email for each claim of 20, so a campaign of n emails cost
O(n^2) and a claim took ~15 ms at 1,100 queued. This index has the claim's sort order, so a
claim reads only the rows it locks (plus the ones SKIP LOCKED passes over). It supersedes
`idx_emails_due` (same leading column, same predicate).
"""

from __future__ import annotations

from alembic import op

revision = "031_emails_claim_order"
down_revision = "030_inbound_messages"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE INDEX idx_emails_claim_order ON emails (scheduled_for NULLS FIRST, created_at) "
        "WHERE status = 'approved' AND send_state IS NULL"
    )
    op.execute("DROP INDEX idx_emails_due")


def downgrade() -> None:
    op.execute(
        "CREATE INDEX idx_emails_due ON emails(scheduled_for) "
        "WHERE status = 'approved' AND send_state IS NULL"
    )
    op.execute("DROP INDEX idx_emails_claim_order")
