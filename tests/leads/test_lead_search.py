"""Lead search: the index walk and the pg_trgm path (`vectra_lead_search`, migration 032) give
the same keyset pages as a plain scan, stay inside the tenant, and rare terms reach the index."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from tests.factories import make_campaign, make_organization, make_user
from vectra.accounts.actor import Actor
from vectra.accounts.roles import Role
from vectra.db.engine import Database
from vectra.db.tenancy import set_tenant
from vectra.leads import service
from vectra.leads.service import LeadFilters, list_leads

SEED = """
INSERT INTO leads (campaign_id, organization_id, email, first_name, last_name, company_name,
                   job_title, created_at)
SELECT :campaign, :org, 'lead' || g || '@example.com', 'Ada', 'Name' || g,
       CASE WHEN g % 97 = 0 THEN '50%_off Ltd' WHEN g % 89 = 0 THEN '50xyoff Ltd'
            ELSE 'Company ' || (g % 40) END,
       'CTO', timestamp '2026-01-01' - ((g / 3) || ' minutes')::interval
FROM generate_series(1, :n) AS g
"""


def seed(session: Session, rows: int) -> tuple[Actor, uuid.UUID]:
    org = make_organization(session)
    user = make_user(session, org)
    campaign = make_campaign(session, org)
    session.execute(text(SEED), {"campaign": campaign.id, "org": org.id, "n": rows})
    return Actor(organization_id=org.id, role=Role.OWNER, user_id=user.id), campaign.id


def expected(session: Session, campaign_id: uuid.UUID, term: str) -> list[uuid.UUID]:
    rows = session.execute(
        text(
            "SELECT id, created_at, first_name, last_name, company_name, job_title FROM leads "
            "WHERE campaign_id = :c"
        ),
        {"c": campaign_id},
    ).all()
    hits = [
        r for r in rows if term.lower() in " ".join(v or "" for v in r[2:]).lower()
    ]  # the searched text, as `SEARCH_EXPR` builds it
    return [r.id for r in sorted(hits, key=lambda r: (r.created_at, r.id), reverse=True)]


def every_page(
    session: Session, actor: Actor, campaign_id: uuid.UUID, term: str
) -> list[uuid.UUID]:
    found: list[uuid.UUID] = []
    cursor = None
    while True:
        page = list_leads(session, actor, campaign_id, LeadFilters(q=term), cursor=cursor, limit=7)
        found += [lead.id for lead in page.items]
        if (cursor := page.next_cursor) is None:
            return found


@pytest.fixture
def statements(session: Session) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(args[2])

    connection = session.connection()
    event.listen(connection, "before_cursor_execute", record)
    yield seen
    event.remove(connection, "before_cursor_execute", record)


# term -> served through the trigram function once the first window is smaller than the campaign
TERMS = {
    "company": False,  # in every row: the walk fills a page at once
    "Na": False,  # no trigram to look up
    "50": False,  # none either, and sparse: window after window
    "company 7": True,  # 1 row in 40: rare in the sample, every word frequent
    "name123": True,  # one word, rare
    "NAME12 company 12": True,  # the rarest word narrows the index scan
    "50%_off": True,  # LIKE wildcards are literal
    "zzz": True,
}


class TestSearchPages:
    @pytest.mark.parametrize("term", sorted(TERMS))
    def test_small_campaign_walks(self, session: Session, statements: list[str], term: str) -> None:
        actor, campaign_id = seed(session, 300)
        want = expected(session, campaign_id, term)
        set_tenant(session, actor.organization_id)
        statements.clear()
        assert every_page(session, actor, campaign_id, term) == want
        assert not any("vectra_lead_search" in s for s in statements)

    @pytest.mark.parametrize("term", sorted(TERMS))
    def test_rare_terms_go_through_the_index(
        self,
        session: Session,
        statements: list[str],
        monkeypatch: pytest.MonkeyPatch,
        term: str,
    ) -> None:
        monkeypatch.setattr(service, "FIRST_WINDOW", 20)
        monkeypatch.setattr(service, "NEXT_WINDOW", 30)  # several windows per page
        actor, campaign_id = seed(session, 300)
        want = expected(session, campaign_id, term)
        assert term.lower() in ("zzz", "50%_off") or want  # the term does find something
        set_tenant(session, actor.organization_id)
        statements.clear()
        assert every_page(session, actor, campaign_id, term) == want
        assert any("vectra_lead_search" in s for s in statements) == TERMS[term]

    def test_filters_and_search_together(
        self, session: Session, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(service, "FIRST_WINDOW", 20)
        actor, campaign_id = seed(session, 300)
        session.execute(
            text(
                "UPDATE leads SET bant_score = 90 WHERE campaign_id = :c AND last_name LIKE '%47'"
            ),
            {"c": campaign_id},
        )
        want = [
            i
            for i in expected(session, campaign_id, "company 7")
            if session.scalar(text("SELECT bant_score FROM leads WHERE id = :i"), {"i": i}) == 90
        ]
        set_tenant(session, actor.organization_id)
        page = list_leads(session, actor, campaign_id, LeadFilters(q="company 7", min_score=80))
        assert [lead.id for lead in page.items] == want and want


class TestTenancy:
    def test_the_function_sees_only_the_tenant(self, session: Session) -> None:
        _actor, campaign_id = seed(session, 50)
        other = make_organization(session)
        count = "SELECT count(*) FROM vectra_lead_search(:c, '%name1%', '%name1%')"
        assert session.scalar(text(count), {"c": campaign_id}) > 0  # system context
        set_tenant(session, other.id)
        assert session.scalar(text(count), {"c": campaign_id}) == 0


def trigram_scans(connection: Any) -> int:
    connection.execute(text("SELECT pg_stat_force_next_flush()"))
    connection.commit()  # the backend flushes its statistics when it goes idle
    return int(
        connection.execute(
            text(
                "SELECT idx_scan FROM pg_stat_user_indexes "
                "WHERE indexrelname = 'idx_leads_search_trgm'"
            )
        ).scalar_one()
    )


def test_rare_term_is_served_by_the_trigram_index(
    committed_database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "FIRST_WINDOW", 20)
    with committed_database.app_engine.connect() as connection:
        session = Session(bind=connection)
        set_tenant(session, None, system=True)
        actor, campaign_id = seed(session, 5000)
        session.commit()
        with committed_database.owner_engine.connect().execution_options(
            isolation_level="AUTOCOMMIT"
        ) as owner:
            owner.execute(text("VACUUM ANALYZE leads"))  # statistics, and no GIN pending list
        before = trigram_scans(connection)
        connection.execute(text("SET enable_seqscan = off"))  # no cheap full read either
        set_tenant(session, actor.organization_id)
        page = list_leads(session, actor, campaign_id, LeadFilters(q="name1234"))
        assert [lead.last_name for lead in page.items] == ["Name1234"]
        session.commit()
        assert trigram_scans(connection) == before + 1
        session.close()
