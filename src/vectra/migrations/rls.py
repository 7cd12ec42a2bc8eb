"""Row-level security statements shared by the migrations that add tenant tables."""

from __future__ import annotations

from alembic import op

POLICY = "tenant_isolation"


def tenant_policy_sql(table: str, *, column: str = "organization_id") -> str:
    predicate = f"(vectra_is_system() OR {column} = vectra_current_organization())"
    return (
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;\n"
        f"CREATE POLICY {POLICY} ON {table} USING {predicate} WITH CHECK {predicate};"
    )


def enable_tenant_rls(table: str, *, column: str = "organization_id") -> None:
    """Admit only the rows of the transaction's `app.organization_id` (or system context)."""
    op.execute(tenant_policy_sql(table, column=column))


def disable_tenant_rls(table: str) -> None:
    op.execute(
        f"DROP POLICY IF EXISTS {POLICY} ON {table}; "
        f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY;"
    )
