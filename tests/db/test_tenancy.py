"""Row-level security: a query that forgets its organization filter still sees only its own."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.orm import Session

from tests.factories import make_campaign, make_lead, make_organization, make_user
from vectra.db.engine import Database
from vectra.db.tenancy import as_tenant, set_tenant
from vectra.leads.models import Lead


@pytest.fixture
def two_tenants(session: Session):  # type: ignore[no-untyped-def]
    a, b = make_organization(session), make_organization(session)
    for org in (a, b):
        make_user(session, org)
        campaign = make_campaign(session, org)
        for _ in range(3):
            make_lead(session, campaign)
    return a, b


def test_app_role_is_neither_superuser_nor_owner(session: Session) -> None:
    row = session.execute(
        text(
            "SELECT r.rolsuper, r.rolbypassrls, "
            "(SELECT tableowner FROM pg_tables WHERE tablename = 'leads') "
            "FROM pg_roles r WHERE r.rolname = current_user"
        )
    ).one()
    assert row[0] is False and row[1] is False
    assert row[2] != session.execute(text("SELECT current_user")).scalar_one()


def test_unfiltered_query_sees_only_own_organization(session: Session, two_tenants) -> None:  # type: ignore[no-untyped-def]
    a, b = two_tenants
    with as_tenant(session, a.id):
        leads = session.scalars(select(Lead)).all()  # no WHERE organization_id: on purpose
        assert len(leads) == 3
        assert {lead.organization_id for lead in leads} == {a.id}
        for table in ("organizations", "users", "campaigns", "leads", "subscriptions"):
            column = "id" if table == "organizations" else "organization_id"
            orgs = session.execute(text(f"SELECT DISTINCT {column} FROM {table}")).scalars().all()
            assert set(orgs) <= {a.id}, table
    with as_tenant(session, b.id):
        assert session.scalar(select(func.count()).select_from(Lead)) == 3


def test_no_context_sees_nothing(database: Database, two_tenants, session: Session) -> None:  # type: ignore[no-untyped-def]
    set_tenant(session, None, system=False)
    assert session.scalar(select(func.count()).select_from(Lead)) == 0
    assert session.execute(text("SELECT count(*) FROM organizations")).scalar_one() == 0


def test_cannot_write_into_another_organization(session: Session, two_tenants) -> None:  # type: ignore[no-untyped-def]
    a, b = two_tenants
    with as_tenant(session, b.id):
        campaign_b = session.execute(text("SELECT id FROM campaigns")).scalar_one()
    with (
        as_tenant(session, a.id),
        pytest.raises(ProgrammingError, match="row-level security"),
        session.begin_nested(),
    ):
        session.execute(
            text(
                "INSERT INTO leads (campaign_id, organization_id, email) "
                "VALUES (:c, :o, 'intruder@example.com')"
            ),
            {"c": campaign_b, "o": b.id},
        )
    with as_tenant(session, a.id):
        # Updating another tenant's rows silently touches nothing: they are invisible.
        touched = session.execute(
            text("UPDATE leads SET first_name = 'x' WHERE organization_id = :o"), {"o": b.id}
        ).rowcount
        assert touched == 0


def test_every_tenant_table_has_a_policy(session: Session) -> None:
    rows = session.execute(
        text(
            """
            SELECT c.relname, c.relrowsecurity,
                   EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind = 'r'
              AND (c.relname = 'organizations' OR EXISTS (
                   SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid
                   AND a.attname = 'organization_id' AND NOT a.attisdropped))
            """
        )
    ).all()
    assert len(rows) >= 10
    unguarded = [name for name, rls, policy in rows if not (rls and policy)]
    assert not unguarded, f"tenant tables without row-level security: {unguarded}"


def test_tenant_context_does_not_leak_across_pooled_transactions(
    committed_database: Database,
) -> None:
    with committed_database.system_session() as session:
        a, b = make_organization(session), make_organization(session)
        make_lead(session, make_campaign(session, a))
        a_id, b_id = a.id, b.id
    with committed_database.tenant_session(a_id) as session:
        assert session.scalar(select(func.count()).select_from(Lead)) == 1
    # Same pool, next transaction, other tenant: the previous setting is gone.
    with committed_database.tenant_session(b_id) as session:
        assert session.scalar(select(func.count()).select_from(Lead)) == 0
    with committed_database.sessions() as session, session.begin():
        assert session.scalar(select(func.count()).select_from(Lead)) == 0
