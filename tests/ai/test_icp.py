"""ICP search: fit with reasons, hard filters, tenant scoping, lookalikes, iterative scans."""

from __future__ import annotations

import uuid
from typing import Any

import numpy as np
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.factories import make_campaign, make_lead, make_organization
from vectra.ai.embeddings import LOCAL_MODEL
from vectra.ai.icp import find_lookalikes, rank_campaign_leads
from vectra.ai.indexing import embed_pending_leads
from vectra.db.engine import Database
from vectra.db.tenancy import as_tenant
from vectra.errors import InvalidInput, NotFound
from vectra.leads import vectors
from vectra.leads.vectors import VectorFilter

CRITERIA = {
    "description": "Revenue leaders at fast-growing B2B SaaS companies",
    "job_titles": ["VP Sales", "Head of Sales"],
    "seniorities": ["vp", "director"],
    "industries": ["SaaS"],
    "company_sizes": ["51-200", "201-500"],
    "countries": ["DE", "FR"],
    "keywords": ["outbound", "pipeline"],
    "exclude": {
        "domains": ["competitor.io"],
        "industries": ["Gambling"],
        "job_titles": ["intern"],
    },
}


def _lead(session: Session, campaign: Any, email: str, title: str, **data: Any) -> Any:
    size = data.pop("company_size", None)
    return make_lead(
        session,
        campaign,
        email=email,
        job_title=title,
        company_name=data.pop("company", "Some Co"),
        company_size=size,
        enrichment_data=data,
    )


@pytest.fixture
def ranked_campaign(session: Session) -> dict[str, Any]:
    org = make_organization(session)
    campaign = make_campaign(session, org, target_criteria=CRITERIA)
    leads = {
        "best": _lead(session, campaign, "anna@saasco.de", "VP Sales", seniority="vp",
                      industry="SaaS", country="DE", employees=150,
                      keywords=["outbound", "pipeline"], technologies=["Salesforce"]),
        "good": _lead(session, campaign, "marc@cloudly.fr", "Head of Sales", seniority="director",
                      industry="SaaS", country="FR", company_size="201-500",
                      keywords=["outbound"]),
        "unknown_country": _lead(session, campaign, "li@saasy.example", "VP Sales",
                                 seniority="vp", industry="SaaS", employees=120),
        "weak": _lead(session, campaign, "bob@bakery.de", "Pastry Chef", seniority="entry",
                      industry="Food", country="DE", employees=60),
        "wrong_country": _lead(session, campaign, "joe@saas.us", "VP Sales", seniority="vp",
                               industry="SaaS", country="US", employees=150),
        "wrong_size": _lead(session, campaign, "eva@bigsaas.de", "VP Sales", seniority="vp",
                            industry="SaaS", country="DE", employees=20000),
        "excluded_domain": _lead(session, campaign, "spy@sales.competitor.io", "VP Sales",
                                 seniority="vp", industry="SaaS", country="DE", employees=150),
        "excluded_industry": _lead(session, campaign, "x@casino.de", "VP Sales", seniority="vp",
                                   industry="gambling", country="DE", employees=150),
        "excluded_title": _lead(session, campaign, "y@saasco.de", "Sales Intern",
                                seniority="entry", industry="SaaS", country="DE",
                                employees=150),
    }  # fmt: skip
    embed_pending_leads(session, org.id)
    return {"org": org, "campaign": campaign, "leads": leads}


def test_ranks_by_fit_with_checkable_reasons(
    session: Session, ranked_campaign: dict[str, Any]
) -> None:
    org, campaign, leads = (ranked_campaign[k] for k in ("org", "campaign", "leads"))
    ranking = rank_campaign_leads(session, org.id, campaign.id, limit=10)
    by_id = {r.lead_id: r for r in ranking}
    names = {lead.id: name for name, lead in leads.items()}
    assert [names[r.lead_id] for r in ranking] == ["best", "good", "unknown_country", "weak"]
    assert all(0.0 <= r.fit <= 1.0 for r in ranking)
    assert [r.fit for r in ranking] == sorted((r.fit for r in ranking), reverse=True)
    best = by_id[leads["best"].id]
    assert best.email == "anna@saasco.de" and best.fit > 0.8
    assert best.reasons[0].startswith("similarity 0.")
    assert "title 'VP Sales' matches 'VP Sales'" in best.reasons
    assert "industry SaaS in target" in best.reasons
    assert "company size 51-200 in target" in best.reasons
    assert "country DE in target" in best.reasons
    assert "keywords outbound, pipeline" in best.reasons
    unknown = by_id[leads["unknown_country"].id]
    assert "country unknown" in unknown.reasons
    weak = by_id[leads["weak"].id]
    assert weak.fit < 0.4 and "industry Food not in target" in weak.reasons
    assert ranking[0].as_dict() == {
        "lead_id": str(best.lead_id),
        "email": best.email,
        "fit": best.fit,
        "reasons": best.reasons,
    }


def test_the_icp_vector_is_stored_with_its_model_and_follows_criteria_edits(
    session: Session, ranked_campaign: dict[str, Any]
) -> None:
    org, campaign = ranked_campaign["org"], ranked_campaign["campaign"]
    rank_campaign_leads(session, org.id, campaign.id, limit=3)

    def stored() -> tuple[list[float], str]:
        row = session.execute(
            text(
                "SELECT CAST(icp_embedding AS float4[]) AS v, icp_embedding_model AS m "
                "FROM campaigns WHERE id = :id"
            ),
            {"id": campaign.id},
        ).one()
        return row.v, row.m

    before, model = stored()
    assert model == LOCAL_MODEL and len(before) == 384
    campaign.target_criteria = {"description": "Pastry chefs and bakers", "countries": ["DE"]}
    session.flush()
    ranking = rank_campaign_leads(session, org.id, campaign.id, limit=1)
    assert ranking[0].email == "bob@bakery.de"  # the edit is taken at once
    after, _ = stored()
    assert float(np.dot(before, after)) < 0.9


def test_other_tenants_and_other_models_are_invisible(
    session: Session, ranked_campaign: dict[str, Any]
) -> None:
    org, campaign, leads = (ranked_campaign[k] for k in ("org", "campaign", "leads"))
    other_org = make_organization(session)
    with pytest.raises(NotFound):
        rank_campaign_leads(session, other_org.id, campaign.id, limit=5)
    with as_tenant(session, other_org.id), pytest.raises(NotFound):
        rank_campaign_leads(session, org.id, campaign.id, limit=5)  # RLS hides it too
    session.execute(
        text("UPDATE leads SET embedding_model = 'other-model' WHERE id = :id"),
        {"id": leads["best"].id},
    )
    with as_tenant(session, org.id):
        ranking = rank_campaign_leads(session, org.id, campaign.id, limit=10)
    assert leads["best"].id not in {r.lead_id for r in ranking}
    with pytest.raises(InvalidInput) as bad:
        rank_campaign_leads(session, org.id, campaign.id, limit=0)
    assert bad.value.field == "limit"


def test_lookalikes_start_from_won_leads_or_chosen_ones(
    session: Session, ranked_campaign: dict[str, Any]
) -> None:
    org, campaign, leads = (ranked_campaign[k] for k in ("org", "campaign", "leads"))
    with pytest.raises(InvalidInput):  # nobody booked a meeting yet
        find_lookalikes(session, org.id)
    session.execute(
        text("UPDATE leads SET status = 'meeting_scheduled' WHERE id = :id"),
        {"id": leads["best"].id},
    )
    found = find_lookalikes(session, org.id, campaign_id=campaign.id, limit=3)
    assert leads["best"].id not in {f.lead_id for f in found}  # the seed is not its own match
    assert found[0].email in {"eva@bigsaas.de", "joe@saas.us", "spy@sales.competitor.io",
                              "x@casino.de", "li@saasy.example"}  # fmt: skip
    assert "booked a meeting or were won" in found[0].reasons[0]
    chosen = find_lookalikes(session, org.id, lead_ids=[leads["weak"].id], limit=2)
    assert chosen[0].similarity >= chosen[1].similarity
    assert "1 chosen lead(s)" in chosen[0].reasons[0]
    foreign = make_lead(session, make_campaign(session, make_organization(session)))
    with pytest.raises(NotFound) as missing:
        find_lookalikes(session, org.id, lead_ids=[foreign.id])
    assert missing.value.field == "lead_ids"


def _unit(rng: np.random.Generator, center: np.ndarray, n: int, noise: float) -> np.ndarray:
    points = center + rng.normal(scale=noise, size=(n, center.size))
    return (points / np.linalg.norm(points, axis=1, keepdims=True)).astype(np.float32)


def test_filtered_hnsw_search_returns_full_k_with_iterative_scans(
    committed_database: Database,
) -> None:
    """1% of rows pass the filter; plain HNSW finds its ef_search nearest, all filtered out."""
    n, matching = 3000, 30
    rng = np.random.default_rng(7)
    near, far = rng.normal(size=384), rng.normal(size=384)
    with committed_database.system_session() as session:
        org = make_organization(session)
        campaign = make_campaign(session, org)
        org_id, campaign_id = org.id, campaign.id
        session.execute(
            text(
                "INSERT INTO leads (campaign_id, organization_id, email, enrichment_data) "
                "SELECT :c, :o, 'l' || g || '@x.example', "
                "jsonb_build_object('country', CASE WHEN g <= :m THEN 'IS' ELSE 'US' END) "
                "FROM generate_series(1, :n) AS g"
            ),
            {"c": campaign_id, "o": org_id, "n": n, "m": matching},
        )
        rows = session.execute(
            text("SELECT id, enrichment_data ->> 'country' AS c FROM leads ORDER BY id")
        ).all()
        ids = np.array([r.id for r in rows])
        is_match = np.array([r.c == "IS" for r in rows])
        data = np.where(is_match[:, None], _unit(rng, far, n, 0.6), _unit(rng, near, n, 0.6))
        for start in range(0, n, 500):
            vectors.store_lead_vectors(
                session,
                org_id,
                list(ids[start : start + 500]),
                data[start : start + 500],
                model="m",
            )
    with committed_database.owner_engine.connect() as owner:
        owner.execute(text("ANALYZE leads"))  # real statistics, as production has them
        owner.commit()
    query = _unit(rng, near, 1, 0.1)[0]
    where = VectorFilter(campaign_id=campaign_id, countries=["IS"])
    with committed_database.tenant_session(org_id) as session:
        # At 3,000 rows the planner rightly prefers an exact scan of 30 rows; a large table
        # makes it take the HNSW index, as forbidding the exact plans' Sort does here.
        session.execute(text("SET LOCAL enable_sort = off; SET LOCAL enable_seqscan = off"))
        plan = "\n".join(
            session.execute(
                text(
                    "EXPLAIN SELECT l.id FROM leads l WHERE l.organization_id = :o "
                    "AND l.embedding_model = 'm' AND l.campaign_id = :c "
                    "AND (l.enrichment_data ->> 'country' IS NULL "
                    "OR upper(l.enrichment_data ->> 'country') = ANY(CAST(:k AS text[]))) "
                    "ORDER BY l.embedding <=> CAST(CAST(:q AS float4[]) AS vector(384)) LIMIT 10"
                ),
                {"o": org_id, "c": campaign_id, "k": ["IS"], "q": query.tolist()},
            ).scalars()
        )
        assert "Index Scan using idx_leads_embedding_hnsw" in plan, plan
        plain = vectors.nearest_leads(
            session, org_id, query, model="m", limit=10, where=where, iterative=False, ef_search=40
        )
        iterative = vectors.nearest_leads(
            session, org_id, query, model="m", limit=10, where=where, iterative=True, ef_search=40
        )
    assert len(plain) < 10  # what plain HNSW does under a 1% filter
    assert len(iterative) == 10  # pgvector 0.8 iterative scan: the full k
    matching_ids = set(ids[is_match])
    assert all(m.lead_id in matching_ids for m in iterative)
    sims = [m.similarity for m in iterative]
    assert sims == sorted(sims, reverse=True)  # relaxed order, re-sorted by exact distance
    exact = set(ids[is_match][np.argsort(-(data[is_match] @ query))[:10]])
    assert len(exact & {m.lead_id for m in iterative}) >= 9


def test_store_refuses_mismatched_batches(session: Session) -> None:
    org_id = uuid.uuid4()
    with pytest.raises(ValueError, match="one vector per lead"):
        vectors.store_lead_vectors(session, org_id, [uuid.uuid4()], np.zeros((2, 384)), model="m")
    with pytest.raises(ValueError, match="384"):
        vectors.store_lead_vectors(session, org_id, [uuid.uuid4()], np.zeros((1, 3)), model="m")
