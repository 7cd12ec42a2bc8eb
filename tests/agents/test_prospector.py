"""The prospector through the runner: verify, enrich, embed, rank, move new -> enriched,
record the run, and never apply the same run twice."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.agents.local_dns import LocalDns
from tests.factories import make_campaign, make_lead, make_organization
from vectra.accounts.actor import system_actor
from vectra.agents import prospector, runner
from vectra.agents.email_check import DomainVerifier
from vectra.agents.models import AgentRun
from vectra.leads.tables import LeadStatusHistory

NULL_MX = "the domain accepts no mail"
CRITERIA = {
    "description": "Revenue leaders at B2B SaaS companies",
    "job_titles": ["VP Sales", "Head of Sales"],
    "keywords": ["outbound"],
}


@pytest.fixture
def dns_verifier(local_dns: LocalDns) -> Iterator[DomainVerifier]:
    verifier = DomainVerifier(local_dns.resolver(timeout=0.3))
    prospector.configure(verifier=verifier)
    yield verifier
    prospector.configure()


def _history(session: Session, lead_id: Any) -> list[tuple[Any, ...]]:
    rows = session.scalars(
        select(LeadStatusHistory)
        .where(LeadStatusHistory.lead_id == lead_id)
        .order_by(LeadStatusHistory.created_at)
    )
    return [(r.from_status, r.to_status, r.agent, r.reason) for r in rows]


def test_prospects_a_campaign(session: Session, dns_verifier: DomainVerifier) -> None:
    org = make_organization(session)
    campaign = make_campaign(session, org, target_criteria=CRITERIA)
    vp = make_lead(
        session,
        campaign,
        email="  Anna@SaaSco.de ",
        job_title="VP Sales",
        company_name="SaaSco",
        enrichment_data={"employees": 150, "keywords": ["outbound"]},
    )
    jefe = make_lead(session, campaign, email="pablo@cloudly.fr", job_title="Jefe de ventas")
    role = make_lead(session, campaign, email="sales@bakery.de", job_title="Pastry Chef")
    dead = make_lead(session, campaign, email="x@nomail.example", job_title="CEO")
    unknown = make_lead(session, campaign, email="ceo@slowdns.example", job_title="CEO")
    done = make_lead(session, campaign, email="old@saasco.de", status="enriched")

    run = runner.run_agent(session, system_actor(org.id), "prospector", campaign.id)

    assert run.status == "succeeded" and run.error_message is None
    assert run.agent_type == "prospector" and run.tokens_used == 0
    assert run.duration_ms is not None and run.started_at and run.completed_at
    out = run.output_data or {}
    assert (out["leads"], out["enriched"], out["rejected"]) == (5, 4, 1)
    assert out["email"]["email_unknown"] == 1 and out["email"]["role"] == 1
    assert out["embedded"] >= 4 and out["ranked"] >= 1

    for lead in (vp, jefe, role, dead, unknown, done):
        session.refresh(lead)
    assert vp.email == "anna@saasco.de" and vp.status == "enriched"
    assert vp.company_size == "51-200"
    data = vp.enrichment_data or {}
    assert data["company_domain"] == "saasco.de" and data["seniority"] == "vp"
    assert data["department"] == "sales" and data["email_verification"]["status"] == "valid"
    assert 0 < data["icp_fit"] <= 1 and data["icp_reasons"][0].startswith("similarity")
    assert (jefe.enrichment_data or {})["seniority"] == "manager"
    assert (role.enrichment_data or {})["email_verification"]["role"] is True
    assert role.status == "enriched"
    assert (unknown.enrichment_data or {})["email_verification"]["status"] == "unknown"
    assert unknown.status == "enriched"
    assert dead.status == "rejected"
    assert _history(session, dead.id) == [
        (
            "new",
            "rejected",
            "prospector",
            "undeliverable address: null MX: the domain accepts no mail",
        )
    ]
    assert _history(session, vp.id)[0][:3] == ("new", "enriched", "prospector")
    assert done.status == "enriched" and _history(session, done.id) == []

    # a retry of the same run applies nothing twice
    assert runner.execute(session, system_actor(org.id), run) is run
    assert len(_history(session, vp.id)) == 1
    # asking again finds no new leads: a new, empty run; new leads are new work
    again = runner.run_agent(session, system_actor(org.id), "prospector", campaign.id)
    assert again.id != run.id and (again.output_data or {})["leads"] == 0
    assert (again.input_data or {})["work"]["leads"] == 0
    assert (run.input_data or {})["work"]["leads"] == 5
    make_lead(session, campaign, email="new@cloudly.fr", job_title="CFO")
    third = runner.run_agent(session, system_actor(org.id), "prospector", campaign.id)
    assert (third.output_data or {})["enriched"] == 1
    runs = session.scalars(select(AgentRun).where(AgentRun.organization_id == org.id)).all()
    assert len(runs) == 3


def test_a_failed_run_is_recorded_and_retried_in_place(
    session: Session, dns_verifier: DomainVerifier
) -> None:
    org = make_organization(session)
    other = make_organization(session)
    foreign = make_campaign(session, other)
    with pytest.raises(Exception, match="Campaign not found"):
        runner.run_agent(session, system_actor(org.id), "prospector", foreign.id)
    run = runner.open_run(session, system_actor(org.id), "prospector", None, {})
    runner.execute(session, system_actor(org.id), run)
    assert run.status == "failed" and "works on a campaign" in (run.error_message or "")
    assert run.completed_at is not None and run.duration_ms is not None
    retried = runner.open_run(session, system_actor(org.id), "prospector", None, {})
    assert retried.id == run.id
