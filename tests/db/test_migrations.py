"""Migrations go down to nothing and up again; the seed's enums constrain their columns."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tests.factories import make_campaign, make_organization
from vectra.db import migrate
from vectra.db.engine import Database


def test_downgrade_to_base_and_upgrade_again(committed_database: Database) -> None:
    migrate.downgrade(committed_database, "base")
    status = migrate.status(committed_database)
    assert status.current is None
    with committed_database.owner_engine.connect() as conn:
        left = conn.execute(
            text(
                "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> 'alembic_version'"
            )
        ).scalar_one()
        enums = conn.execute(text("SELECT count(*) FROM pg_type WHERE typtype = 'e'")).scalar_one()
    assert left == 0
    assert enums == 0
    migrate.upgrade(committed_database)
    assert migrate.status(committed_database).up_to_date


def test_status_lists_pending_revisions(committed_database: Database) -> None:
    migrate.downgrade(committed_database, "014_tenant_columns")
    status = migrate.status(committed_database)
    assert status.current == "014_tenant_columns"
    assert status.pending[:2] == ["015_row_level_security", "016_procrastinate"]
    assert set(status.head.split(",")) <= set(status.pending)
    migrate.upgrade(committed_database)


def test_every_revision_says_why() -> None:
    import importlib
    import pkgutil

    import vectra.migrations.versions as versions

    for info in pkgutil.iter_modules(versions.__path__):
        module = importlib.import_module(f"vectra.migrations.versions.{info.name}")
        assert module.revision == info.name, f"{info.name}: revision id must match file name"
        assert len(module.revision) <= 32, "alembic_version.version_num is VARCHAR(32)"
        assert (module.__doc__ or "").strip(), f"{info.name} has no docstring"
        if int(info.name[:3]) >= 12:
            assert "Why:" in module.__doc__, f"{info.name}: later revisions state their reason"


@pytest.mark.parametrize(
    ("table", "column"),
    [("campaigns", "status"), ("organizations", "plan"), ("users", "role")],
)
def test_enum_types_refuse_unknown_values(session: Session, table: str, column: str) -> None:
    organization = make_organization(session)
    campaign = make_campaign(session, organization)
    key = {"campaigns": campaign.id, "organizations": organization.id}.get(table)
    with pytest.raises(IntegrityError, match=f"{table}_{column}_enum"), session.begin_nested():
        if table == "users":
            session.execute(
                text(
                    "INSERT INTO users (organization_id, email, password_hash, role) "
                    "VALUES (:o, 'x@example.com', 'x', 'bogus')"
                ),
                {"o": organization.id},
            )
        else:
            session.execute(
                text(f"UPDATE {table} SET {column} = 'bogus' WHERE id = :id"), {"id": key}
            )


def test_updated_at_trigger_moves(session: Session) -> None:
    organization = make_organization(session)
    campaign = make_campaign(session, organization)
    session.execute(
        text("UPDATE campaigns SET updated_at = '2000-01-01' WHERE id = :id"), {"id": campaign.id}
    )
    session.execute(
        text("UPDATE campaigns SET name = 'renamed' WHERE id = :id"), {"id": campaign.id}
    )
    updated = session.execute(
        text("SELECT updated_at FROM campaigns WHERE id = :id"), {"id": campaign.id}
    ).scalar_one()
    assert updated.year > 2000
