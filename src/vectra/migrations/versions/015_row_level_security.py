"""Row-level security on every tenant table, and the application role's grants.

Why: services scope each query by organization; RLS is the second wall, so a query
that forgets its filter still sees one organization's rows. The application connects
as a role (`VECTRA_APP_ROLE`, default `vectra_app`) that is neither superuser nor
table owner, so the policies apply to it; migrations run as the owner. Policies admit
rows whose organization equals the transaction's `app.organization_id`, or any row
when `app.system` is on (sign-up, login by email, webhooks, cross-tenant schedulers).
"""

from __future__ import annotations

import os

from alembic import context, op
from sqlalchemy import text

from vectra.db.errors import DatabaseSetupError
from vectra.migrations.rls import POLICY, tenant_policy_sql

revision = "015_row_level_security"
down_revision = "014_tenant_columns"
branch_labels = None
depends_on = None

TENANT_TABLES = (
    "users",
    "campaigns",
    "leads",
    "emails",
    "meetings",
    "subscriptions",
    "usage_records",
    "agent_runs",
    "integrations",
)

FUNCTIONS = """
CREATE FUNCTION vectra_current_organization() RETURNS uuid
    LANGUAGE sql STABLE
    AS $$ SELECT NULLIF(current_setting('app.organization_id', true), '')::uuid $$;

CREATE FUNCTION vectra_is_system() RETURNS boolean
    LANGUAGE sql STABLE
    AS $$ SELECT coalesce(current_setting('app.system', true), '') = 'on' $$;
"""


def app_role() -> str:
    role = context.config.attributes.get("app_role") or os.environ.get("VECTRA_APP_ROLE")
    return str(role or "vectra_app")


def upgrade() -> None:
    bind = op.get_bind()
    role = app_role()
    exists = bind.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).scalar()
    if not exists:
        nested = bind.begin_nested()
        try:
            bind.execute(text(f'CREATE ROLE "{role}" NOLOGIN NOSUPERUSER NOBYPASSRLS'))
            nested.commit()
        except Exception as exc:
            nested.rollback()
            raise DatabaseSetupError(
                f"The application role '{role}' does not exist and this login cannot create it. "
                f"Ask an administrator to run: CREATE ROLE \"{role}\" LOGIN PASSWORD '...'; "
                "then set DATABASE_APP_URL to log in as it (see README, 'Your own PostgreSQL')."
            ) from exc
    flags = bind.execute(
        text("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = :r"), {"r": role}
    ).scalar()
    if flags:
        raise DatabaseSetupError(
            f"The application role '{role}' is a superuser or bypasses RLS; tenant isolation "
            f'needs an ordinary role: ALTER ROLE "{role}" NOSUPERUSER NOBYPASSRLS;'
        )
    op.execute(FUNCTIONS)
    op.execute(f'GRANT USAGE ON SCHEMA public TO "{role}"')
    op.execute(f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "{role}"')
    op.execute(f'GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO "{role}"')
    op.execute(
        "ALTER DEFAULT PRIVILEGES IN SCHEMA public "
        f'GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO "{role}"'
    )
    op.execute(
        f'ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO "{role}"'
    )
    # The app reads the schema version (`vectra doctor`) but never writes it.
    op.execute(f'REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM "{role}"')
    op.execute(tenant_policy_sql("organizations", column="id"))
    for table in TENANT_TABLES:
        op.execute(tenant_policy_sql(table))


def downgrade() -> None:
    role = app_role()
    for table in ("organizations", *TENANT_TABLES):
        op.execute(
            f"DROP POLICY {POLICY} ON {table}; ALTER TABLE {table} DISABLE ROW LEVEL SECURITY"
        )
    op.execute(
        "ALTER DEFAULT PRIVILEGES IN SCHEMA public "
        f'REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM "{role}"'
    )
    op.execute(
        f'ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE USAGE, SELECT, UPDATE ON SEQUENCES FROM "{role}"'
    )
    op.execute(f'REVOKE ALL ON ALL TABLES IN SCHEMA public FROM "{role}"')
    op.execute(f'REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM "{role}"')
    op.execute("DROP FUNCTION vectra_is_system(); DROP FUNCTION vectra_current_organization();")
