"""Require the extensions Vectra needs: vector (>= 0.8), pg_trgm, btree_gist.

Why: lead embeddings and ICP search use pgvector (0.8's iterative index scans keep
tenant-filtered HNSW search exact enough), fuzzy company/name matching uses pg_trgm,
and the booking page's no-double-booking exclusion constraint needs btree_gist.
Downgrade leaves the extensions in place: they may be shared, and only a superuser
could create them again.
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text

from vectra.db.errors import DatabaseSetupError

revision = "012_extensions"
down_revision = "011_create_triggers"
branch_labels = None
depends_on = None

REQUIRED = {"vector": (0, 8), "pg_trgm": None, "btree_gist": None}


def _version(value: str) -> tuple[int, ...]:
    return tuple(int(part) for part in value.split(".") if part.isdigit())


def upgrade() -> None:
    bind = op.get_bind()
    database = bind.execute(text("SELECT current_database()")).scalar_one()
    for name, minimum in REQUIRED.items():
        installed = bind.execute(
            text("SELECT extversion FROM pg_extension WHERE extname = :n"), {"n": name}
        ).scalar()
        if installed is None:
            available = bind.execute(
                text("SELECT default_version FROM pg_available_extensions WHERE name = :n"),
                {"n": name},
            ).scalar()
            if available is None:
                raise DatabaseSetupError(
                    f"PostgreSQL extension '{name}' is not installed on the server of database "
                    f"'{database}'. Install it (pgvector >= 0.8 for 'vector'; 'pg_trgm' and "
                    "'btree_gist' ship with postgresql-contrib), or unset DATABASE_URL to use "
                    "Vectra's embedded PostgreSQL."
                )
            nested = bind.begin_nested()
            try:
                bind.execute(text(f'CREATE EXTENSION IF NOT EXISTS "{name}"'))
                nested.commit()
            except Exception as exc:
                nested.rollback()
                raise DatabaseSetupError(
                    f"Could not create extension '{name}' in database '{database}' ({exc.__class__.__name__}). "
                    f'Ask a superuser to run: CREATE EXTENSION "{name}"; in that database, '
                    "then run `vectra db upgrade` again."
                ) from exc
            installed = available
        if minimum and _version(installed) < minimum:
            raise DatabaseSetupError(
                f"Extension '{name}' is version {installed}; Vectra needs >= "
                f'{".".join(map(str, minimum))}. Run: ALTER EXTENSION "{name}" UPDATE;'
            )


def downgrade() -> None:
    pass
