"""Alembic environment: Vectra always hands it an open owner connection (see db/migrate.py)."""

from __future__ import annotations

from alembic import context

from vectra.db.engine import Database
from vectra.db.resolve import resolve_database_urls


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:  # plain `alembic` CLI: resolve the database like `vectra` does
        database = Database(resolve_database_urls())
        with database.owner_engine.begin() as conn:
            context.configure(connection=conn, target_metadata=None)
            with context.begin_transaction():
                context.run_migrations()
        database.dispose()
        return
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("Vectra's migrations run online only: use `vectra db upgrade`.")
run_migrations_online()
