"""Install the job queue's schema (Procrastinate, pinned to 3.10.x).

Why: jobs live in PostgreSQL, so a job deferred inside a request's transaction exists
exactly when that transaction commits, and no broker has to run beside the database.
The SQL is Procrastinate's own `schema.sql`; a Procrastinate upgrade brings its own
migration files, applied by a later revision. The app role's grants come from the
default privileges set in 015.
"""

from __future__ import annotations

from alembic import op
from procrastinate.schema import SchemaManager

revision = "016_procrastinate"
down_revision = "015_row_level_security"
branch_labels = None
depends_on = None

DROP_ALL = """
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT tgname, tgrelid::regclass AS tbl FROM pg_trigger
             WHERE tgname LIKE 'procrastinate%' AND NOT tgisinternal LOOP
        EXECUTE format('DROP TRIGGER %I ON %s', r.tgname, r.tbl);
    END LOOP;
    FOR r IN SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname LIKE 'procrastinate%' LOOP
        EXECUTE format('DROP TABLE IF EXISTS %I CASCADE', r.relname);
    END LOOP;
    FOR r IN SELECT p.oid::regprocedure AS fn FROM pg_proc p
             JOIN pg_namespace n ON n.oid = p.pronamespace
             WHERE n.nspname = 'public' AND p.proname LIKE 'procrastinate%' LOOP
        EXECUTE format('DROP FUNCTION IF EXISTS %s CASCADE', r.fn);
    END LOOP;
    FOR r IN SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
             WHERE n.nspname = 'public' AND t.typname LIKE 'procrastinate%' AND t.typtype IN ('e', 'c') LOOP
        EXECUTE format('DROP TYPE IF EXISTS %I CASCADE', r.typname);
    END LOOP;
END $$;
"""


def _execute_verbatim(statements: str) -> None:
    # Straight to psycopg with no parameters: the SQL holds '%' and ':' that must reach
    # PostgreSQL untouched, inside the migration's own transaction.
    op.get_bind().connection.driver_connection.execute(statements)  # type: ignore[union-attr]


def upgrade() -> None:
    _execute_verbatim(SchemaManager.get_schema())


def downgrade() -> None:
    _execute_verbatim(DROP_ALL)
