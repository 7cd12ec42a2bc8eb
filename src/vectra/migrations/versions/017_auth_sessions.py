"""Sign-in sessions, and one account per email whatever its case.

Why: bearer tokens and web sessions must be revocable (logout, deactivation, password
reset), so each is a row holding only the SHA-256 of an opaque random token. The seed's
`users.email` is unique as typed; a unique index on `lower(email)` makes Ada@X.com and
ada@x.com one account even if a writer forgets to normalise.
"""

from __future__ import annotations

from alembic import op

from vectra.migrations.rls import disable_tenant_rls, enable_tenant_rls

revision = "017_auth_sessions"
down_revision = "016_procrastinate"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));

        CREATE TABLE auth_sessions (
            id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
            organization_id UUID NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
            user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            token_hash CHAR(64) NOT NULL UNIQUE,
            kind VARCHAR(20) NOT NULL CHECK (kind IN ('bearer', 'web')),
            csrf_token VARCHAR(64),
            ip VARCHAR(64),
            user_agent VARCHAR(300),
            created_at TIMESTAMP NOT NULL DEFAULT NOW(),
            last_used_at TIMESTAMP,
            expires_at TIMESTAMP NOT NULL,
            revoked_at TIMESTAMP
        );
        CREATE INDEX idx_auth_sessions_org ON auth_sessions(organization_id);
        CREATE INDEX idx_auth_sessions_user ON auth_sessions(user_id);
        """
    )
    enable_tenant_rls("auth_sessions")


def downgrade() -> None:
    disable_tenant_rls("auth_sessions")
    op.execute("DROP TABLE auth_sessions; DROP INDEX users_email_lower_key;")
