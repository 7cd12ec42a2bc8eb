"""`vectra agents run` and `vectra campaign rank` as a user runs them (a subprocess)."""

from __future__ import annotations

import json

from sqlalchemy import select

from tests.factories import make_campaign, make_lead, make_organization
from tests.test_cli import vectra
from vectra.agents.models import AgentRun
from vectra.ai.indexing import embed_pending_leads
from vectra.db.engine import Database
from vectra.leads.models import Lead


def test_agents_run_and_campaign_rank(committed_database: Database) -> None:
    with committed_database.system_session() as session:
        org = make_organization(session)
        campaign = make_campaign(
            session,
            org,
            bant_threshold=50,
            target_criteria={
                "description": "Sales leaders at SaaS companies",
                "job_titles": ["VP Sales"],
                "keywords": ["outbound"],
            },
        )
        vp = make_lead(
            session,
            campaign,
            status="enriched",
            job_title="VP Sales",
            company_size="201-500",
            intent="interested",
            enrichment_data={
                "keywords": ["outbound"],
                "icp_fit": 0.8,
                "funding": {"stage": "Series B"},
            },
        )
        chef = make_lead(session, campaign, status="enriched", job_title="Pastry Chef")
        embed_pending_leads(session, org.id)
        slug, campaign_id, vp_id, chef_id = org.slug, campaign.id, vp.id, chef.id

    result = vectra(
        committed_database,
        "agents",
        "run",
        "bant_qualifier",
        "--org",
        slug,
        "--campaign",
        str(campaign_id),
        "--json",
    )
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["agent"] == "bant_qualifier" and document["status"] == "succeeded"
    assert document["summary"]["leads"] == 2 and document["summary"]["qualified"] == 1
    with committed_database.system_session() as session:
        statuses = {r[0]: r[1] for r in session.execute(select(Lead.id, Lead.status))}
        assert (statuses[vp_id], statuses[chef_id]) == ("qualified", "rejected")
        run = session.get(AgentRun, document["run_id"])
        assert run is not None and run.status == "succeeded"

    text_mode = vectra(
        committed_database,
        "agents",
        "run",
        "scheduler",
        "--org",
        slug,
        "--campaign",
        str(campaign_id),
    )
    assert text_mode.returncode == 0, text_mode.stderr
    assert "succeeded" in text_mode.stderr and "leads: 0" in text_mode.stderr

    unknown = vectra(
        committed_database,
        "agents",
        "run",
        "closer",
        "--org",
        slug,
        "--campaign",
        str(campaign_id),
        "--json",
    )
    assert unknown.returncode != 0
    assert json.loads(unknown.stdout)["error"]["code"] == "invalid"

    ranked = vectra(
        committed_database,
        "campaign",
        "rank",
        "--org",
        slug,
        "--campaign",
        str(campaign_id),
        "--limit",
        "5",
        "--json",
    )
    assert ranked.returncode == 0, ranked.stderr
    items = json.loads(ranked.stdout)
    assert [set(i) for i in items] == [{"lead_id", "email", "fit", "reasons"}] * 2
    assert items[0]["lead_id"] == str(vp_id) and items[0]["fit"] >= items[1]["fit"]
