"""Create `users` exactly as the seed writes it.

The seed's enum type `user_role` is created here, with the first table that uses it."""

from __future__ import annotations

from alembic import op

revision = "002_create_users"
down_revision = "001_create_organizations"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TYPE user_role AS ENUM ('owner', 'admin', 'manager', 'operator', 'viewer');

CREATE TABLE users (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id UUID REFERENCES organizations(id) ON DELETE CASCADE,
    email VARCHAR(255) UNIQUE NOT NULL,
    password_hash VARCHAR(255) NOT NULL,
    first_name VARCHAR(100),
    last_name VARCHAR(100),
    role VARCHAR(50) DEFAULT 'operator',
    is_active BOOLEAN DEFAULT true,
    email_verified_at TIMESTAMP,
    last_login_at TIMESTAMP,
    created_at TIMESTAMP DEFAULT NOW(),
    updated_at TIMESTAMP DEFAULT NOW()
);

CREATE INDEX idx_users_org ON users(organization_id);
CREATE INDEX idx_users_email ON users(email);
"""

DOWNGRADE = """
DROP TABLE users;
DROP TYPE user_role;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
