"""Batch lead embedding: one UPDATE per batch, resumable, model-tagged, tenant-scoped."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from tests.factories import make_campaign, make_lead, make_organization
from vectra.ai import tasks
from vectra.ai.embeddings import LOCAL_MODEL, local_embedder
from vectra.ai.indexing import embed_pending_leads, profile_text
from vectra.db.engine import Database
from vectra.db.tenancy import as_tenant
from vectra.leads import vectors
from vectra.worker.app import running_app

TITLES = ["VP Sales", "CTO", "Head of Marketing", "Data Engineer", "CFO", "Office Manager"]
INDUSTRIES = ["SaaS", "Fintech", "Retail", "Logistics", "Healthcare"]


def _leads(session: Session, campaign: Any, n: int) -> list[Any]:
    return [
        make_lead(
            session,
            campaign,
            job_title=TITLES[i % len(TITLES)],
            company_name=f"Company {i}",
            enrichment_data={
                "industry": INDUSTRIES[i % len(INDUSTRIES)],
                "employees": 10 * (i + 1),
                "country": ["DE", "FR", "US"][i % 3],
                "keywords": [f"topic{i % 7}"],
            },
        )
        for i in range(n)
    ]


@pytest.fixture
def update_statements(session: Session) -> Iterator[list[str]]:
    seen: list[str] = []
    connection = session.connection()

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE LEADS"):
            seen.append(statement)

    event.listen(connection, "before_cursor_execute", record)
    yield seen
    event.remove(connection, "before_cursor_execute", record)


def _stored(session: Session, organization_id: uuid.UUID) -> dict[uuid.UUID, Any]:
    rows = session.execute(
        text(
            "SELECT id, embedding_model, CAST(embedding AS float4[]) AS v FROM leads "
            "WHERE organization_id = :org"
        ),
        {"org": organization_id},
    ).all()
    return {r.id: (r.embedding_model, r.v) for r in rows}


def test_embeds_every_lead_in_batches_with_one_update_each(
    session: Session, update_statements: list[str]
) -> None:
    org = make_organization(session)
    campaign = make_campaign(session, org)
    leads = _leads(session, campaign, 150)
    report = embed_pending_leads(session, org.id, batch_size=64)
    assert (report.embedded, report.batches, report.done) == (150, 3, True)
    assert len(update_statements) == 3  # 64 + 64 + 22 rows, one statement per batch
    stored = _stored(session, org.id)
    assert {model for model, _ in stored.values()} == {LOCAL_MODEL}
    # What is stored is the embedding of the lead's own profile text, row for row.
    sample = [leads[0], leads[77], leads[149]]
    profiles = {p.id: p for p in _profiles(session, org.id, [lead.id for lead in sample])}
    expected = local_embedder().embed([profile_text(profiles[lead.id]) for lead in sample])
    for lead, vector in zip(sample, expected, strict=True):
        assert float(np.dot(np.asarray(stored[lead.id][1]), vector)) > 0.999


def _profiles(session: Session, org_id: uuid.UUID, ids: list[uuid.UUID]) -> list[Any]:
    # Clear the vectors so `leads_needing_vectors` returns these profiles again.
    vectors.clear_lead_vectors(session, org_id, ids)
    return vectors.leads_needing_vectors(session, org_id, model=LOCAL_MODEL, limit=10)


def test_resumes_where_it_stopped_and_refreshes_stale_models(session: Session) -> None:
    org = make_organization(session)
    campaign = make_campaign(session, org)
    _leads(session, campaign, 130)
    first = embed_pending_leads(session, org.id, batch_size=64, max_batches=1)
    assert (first.embedded, first.done) == (64, False)
    second = embed_pending_leads(session, org.id, batch_size=64)
    assert (second.embedded, second.done) == (66, True)  # only the ones still missing
    assert embed_pending_leads(session, org.id).embedded == 0
    # A vector of another model is stale: re-embedded, never compared with the current one.
    session.execute(
        text(
            "UPDATE leads SET embedding_model = 'old-model' WHERE id IN "
            "(SELECT id FROM leads WHERE organization_id = :org ORDER BY id LIMIT 5)"
        ),
        {"org": org.id},
    )
    assert embed_pending_leads(session, org.id).embedded == 5
    assert {m for m, _ in _stored(session, org.id).values()} == {LOCAL_MODEL}


def test_scoped_to_a_campaign_and_to_the_tenant(session: Session) -> None:
    org = make_organization(session)
    target, other = make_campaign(session, org), make_campaign(session, org)
    foreign_org = make_organization(session)
    foreign = make_campaign(session, foreign_org)
    _leads(session, target, 70)
    _leads(session, other, 10)
    _leads(session, foreign, 10)
    with as_tenant(session, org.id):
        report = embed_pending_leads(session, org.id, campaign_id=target.id)
        assert report.embedded == 70
        # RLS: even asked for the other organization, the tenant context sees none of it.
        assert embed_pending_leads(session, foreign_org.id).embedded == 0
    counts = session.execute(
        text(
            "SELECT campaign_id, count(embedding) FROM leads "
            "WHERE campaign_id IN (:a, :b, :c) GROUP BY campaign_id"
        ),
        {"a": target.id, "b": other.id, "c": foreign.id},
    ).all()
    assert dict(counts) == {target.id: 70, other.id: 0, foreign.id: 0}


def test_the_job_embeds_a_campaign_in_committed_batches(committed_database: Database) -> None:
    with committed_database.system_session() as session:
        org = make_organization(session)
        campaign = make_campaign(session, org)
        _leads(session, campaign, 140)
        org_id, campaign_id = org.id, campaign.id
    with committed_database.tenant_session(org_id) as session:
        tasks.defer_lead_embedding(session, org_id, campaign_id=campaign_id)
    tasks.use_database(committed_database)
    try:
        worker_app = running_app(committed_database.urls)

        async def drain() -> None:
            async with worker_app.open_async():
                await worker_app.run_worker_async(
                    queues=[tasks.QUEUE], wait=False, install_signal_handlers=False
                )

        asyncio.run(drain())
    finally:
        tasks.use_database(None)
    with committed_database.owner_engine.connect() as conn:
        status = conn.execute(
            text(
                "SELECT status, queue_name FROM procrastinate_jobs "
                "WHERE task_name = 'ai.embed_leads'"
            )
        ).one()
        embedded = conn.execute(
            text("SELECT count(*) FROM leads WHERE embedding_model = :m"), {"m": LOCAL_MODEL}
        ).scalar_one()
    assert tuple(status) == ("succeeded", "embeddings")
    assert embedded == 140


def test_synchronous_run_commits_per_batch(committed_database: Database) -> None:
    with committed_database.system_session() as session:
        org = make_organization(session)
        _leads(session, make_campaign(session, org), 100)
        org_id = org.id
    report = tasks.embed_leads_now(committed_database, org_id, batch_size=64)
    assert (report.embedded, report.batches, report.done) == (100, 2, True)
    again = tasks.embed_leads_now(committed_database, org_id)
    assert (again.embedded, again.done) == (0, True)
