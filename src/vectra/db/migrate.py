"""Apply, undo and report migrations (Alembic, run as the owner role).

Domains add revisions independently; when two land from the same parent the history has
several heads for a while, so upgrades target every head (`heads`) until a merge revision
joins them. Revisions of different domains touch different tables, so their order between
branches does not matter.
"""

from __future__ import annotations

from dataclasses import dataclass

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from vectra.db.engine import Database

HEADS = "heads"


def alembic_config(database: Database) -> Config:
    config = Config()
    config.set_main_option("script_location", "vectra:migrations")
    config.attributes["app_role"] = database.urls.app_role
    return config


def upgrade(database: Database, revision: str = HEADS) -> None:
    """Bring the schema to `revision` (default: every head) in one transaction."""
    config = alembic_config(database)
    with database.owner_engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, HEADS if revision == "head" else revision)


def downgrade(database: Database, revision: str) -> None:
    config = alembic_config(database)
    with database.owner_engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


@dataclass(frozen=True)
class MigrationStatus:
    current: str | None
    head: str
    pending: list[str]

    @property
    def up_to_date(self) -> bool:
        return not self.pending


def status(database: Database) -> MigrationStatus:
    """Where the schema is, where the code is, and what is left to apply (oldest first)."""
    script = ScriptDirectory.from_config(alembic_config(database))
    heads = sorted(script.get_heads())
    with database.owner_engine.connect() as connection:
        applied_heads = MigrationContext.configure(connection).get_current_heads()
    applied: set[str] = set()
    for rev in applied_heads:
        applied.update(r.revision for r in script.iterate_revisions(rev, "base"))
    pending = [
        rev.revision
        for rev in reversed(list(script.walk_revisions("base", "heads")))
        if rev.revision not in applied
    ]
    return MigrationStatus(
        current=",".join(sorted(applied_heads)) or None, head=",".join(heads), pending=pending
    )
