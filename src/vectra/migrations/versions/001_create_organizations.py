"""Create `organizations` exactly as the seed writes it.

The seed's enum type `plan_type` is created here, with the first table that uses it."""

from __future__ import annotations

from alembic import op

revision = "001_create_organizations"
down_revision = None
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TYPE plan_type AS ENUM ('trial', 'starter', 'growth', 'scale');

CREATE TABLE organizations (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    name VARCHAR(255) NOT NULL,
    slug VARCHAR(100) UNIQUE NOT NULL,
    plan VARCHAR(50) DEFAULT 'trial',
    settings JSONB DEFAULT '{}',
    created_at TIMESTAMP DEFAULT NOW(),
    updated_at TIMESTAMP DEFAULT NOW()
);

CREATE INDEX idx_organizations_slug ON organizations(slug);
"""

DOWNGRADE = """
DROP TABLE organizations;
DROP TYPE plan_type;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
