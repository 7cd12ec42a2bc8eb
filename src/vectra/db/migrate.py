"""Apply, undo and report migrations (Alembic, run as the owner role)."""

from __future__ import annotations

from dataclasses import dataclass

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from vectra.db.engine import Database


def alembic_config(database: Database) -> Config:
    config = Config()
    config.set_main_option("script_location", "vectra:migrations")
    config.attributes["app_role"] = database.urls.app_role
    return config


def upgrade(database: Database, revision: str = "head") -> None:
    """Bring the schema to `revision` in one transaction (all or nothing)."""
    config = alembic_config(database)
    with database.owner_engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


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
    script = ScriptDirectory.from_config(alembic_config(database))
    head = script.get_current_head()
    assert head is not None
    with database.owner_engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    pending = [
        rev.revision
        for rev in script.iterate_revisions(head, current or "base")
        if rev.revision != current
    ]
    return MigrationStatus(current=current, head=head, pending=list(reversed(pending)))
