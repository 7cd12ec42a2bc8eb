"""Agent routes: the run log (filters, keyset pages, tenants), enqueueing (idempotent,
deferred job), BANT weights and the ICP ranking, through the real app and database."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.factories import make_campaign, make_lead, make_organization, make_user
from vectra.accounts import sessions
from vectra.accounts.actor import system_actor
from vectra.accounts.models import Organization
from vectra.agents import runner
from vectra.ai.indexing import embed_pending_leads


def token_for(session: Session, org: Organization, role: str = "manager") -> dict[str, str]:
    user = make_user(session, org, role=role)
    return {"Authorization": f"Bearer {sessions.issue_session(session, user).token}"}


def _jobs(session: Session) -> list[tuple[str, str]]:
    rows = session.execute(
        text("SELECT task_name, args->>'run_id' FROM procrastinate_jobs ORDER BY id")
    ).all()
    return [(r[0], r[1]) for r in rows if r[0] == "agents.run"]


def test_enqueue_is_idempotent_and_defers_one_job(client: TestClient, session: Session) -> None:
    org = make_organization(session)
    campaign = make_campaign(session, org)
    url = f"/api/v1/campaigns/{campaign.id}/agents/prospector"
    viewer = token_for(session, org, "viewer")
    assert client.post(url, headers=viewer).status_code == 403
    headers = token_for(session, org)
    first = client.post(url, headers=headers)
    assert first.status_code == 202, first.text
    run = first.json()
    assert (run["agent_type"], run["status"], run["campaign_id"]) == (
        "prospector",
        "pending",
        str(campaign.id),
    )
    assert _jobs(session) == [("agents.run", run["id"])]
    again = client.post(url, headers=headers)
    assert again.json()["id"] == run["id"]
    # a different input is different work
    other = client.post(url, headers=headers, json={"limit": 10})
    assert other.status_code == 202 and other.json()["id"] != run["id"]
    assert other.json()["input_data"]["limit"] == 10
    assert other.json()["input_data"]["work"]["leads"] == 0
    # a new lead to prospect: the same request is new work
    make_lead(session, campaign)
    fresh = client.post(url, headers=headers)
    assert fresh.json()["id"] not in (run["id"], other.json()["id"])
    assert fresh.json()["input_data"]["work"]["leads"] == 1

    bad = client.post(f"/api/v1/campaigns/{campaign.id}/agents/closer", headers=headers)
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "agent"
    foreign = make_campaign(session, make_organization(session))
    missing = client.post(f"/api/v1/campaigns/{foreign.id}/agents/prospector", headers=headers)
    assert missing.status_code == 404


def test_run_log_filters_pages_and_tenants(client: TestClient, session: Session) -> None:
    org = make_organization(session)
    campaign = make_campaign(session, org)
    actor = system_actor(org.id)
    for i in range(5):
        runner.open_run(session, actor, "prospector", campaign.id, {"i": i})
    failed = runner.open_run(session, actor, "bant_qualifier", None, {})
    runner.execute(session, actor, failed)  # no campaign: fails with a reason
    theirs = make_organization(session)
    hidden = runner.open_run(session, system_actor(theirs.id), "prospector", None, {})
    headers = token_for(session, org, "viewer")

    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/api/v1/agent-runs", headers=headers, params=params).json()
        seen += [r["id"] for r in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert len(seen) == 6 == len(set(seen)) and str(hidden.id) not in seen

    only_failed = client.get("/api/v1/agent-runs", headers=headers, params={"status": "failed"})
    (row,) = only_failed.json()["items"]
    assert row["id"] == str(failed.id) and "works on a campaign" in row["error_message"]
    assert row["duration_ms"] is not None and row["completed_at"] is not None
    by_agent = client.get(
        "/api/v1/agent-runs",
        headers=headers,
        params={"agent": "prospector", "campaign_id": str(campaign.id)},
    )
    assert len(by_agent.json()["items"]) == 5
    bad = client.get("/api/v1/agent-runs", headers=headers, params={"status": "done"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "status"

    one = client.get(f"/api/v1/agent-runs/{failed.id}", headers=headers)
    assert one.status_code == 200 and one.json()["status"] == "failed"
    assert client.get(f"/api/v1/agent-runs/{hidden.id}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/agent-runs/{uuid.uuid4()}", headers=headers).status_code == 404


def test_bant_weights(client: TestClient, session: Session) -> None:
    org = make_organization(session)
    campaign = make_campaign(session, org)
    url = f"/api/v1/campaigns/{campaign.id}/bant-weights"
    body = {"budget": 2, "authority": 1.5, "need": 1, "timeline": 0.5}
    assert (
        client.put(url, json=body, headers=token_for(session, org, "operator")).status_code == 403
    )
    headers = token_for(session, org)
    ok = client.put(url, json=body, headers=headers)
    assert ok.status_code == 200
    assert ok.json() == {
        "budget": 2.0,
        "authority": 1.5,
        "need": 1.0,
        "timeline": 0.5,
        "source": "manual",
    }
    session.refresh(campaign)
    assert (campaign.bant_weights or {})["budget"] == 2.0
    negative = client.put(url, json={**body, "need": -1}, headers=headers)
    assert negative.status_code == 422 and negative.json()["error"]["field"] == "need"
    zero = client.put(url, json=dict.fromkeys(body, 0), headers=headers)
    assert zero.status_code == 422
    foreign = make_campaign(session, make_organization(session))
    other = client.put(f"/api/v1/campaigns/{foreign.id}/bant-weights", json=body, headers=headers)
    assert other.status_code == 404


def test_ranking(client: TestClient, session: Session) -> None:
    org = make_organization(session)
    campaign = make_campaign(
        session,
        org,
        target_criteria={
            "description": "Sales leaders at SaaS companies",
            "job_titles": ["VP Sales"],
        },
    )
    best = make_lead(session, campaign, job_title="VP Sales", company_name="Cloudly SaaS")
    make_lead(session, campaign, job_title="Pastry Chef", company_name="Bakery")
    embed_pending_leads(session, org.id)
    headers = token_for(session, org, "viewer")
    response = client.get(
        f"/api/v1/campaigns/{campaign.id}/ranking", headers=headers, params={"limit": 5}
    )
    assert response.status_code == 200, response.text
    items = response.json()
    assert [set(i) for i in items] == [{"lead_id", "email", "fit", "reasons"}] * 2
    assert items[0]["lead_id"] == str(best.id) and items[0]["fit"] > items[1]["fit"]
    foreign = make_campaign(session, make_organization(session))
    assert client.get(f"/api/v1/campaigns/{foreign.id}/ranking", headers=headers).status_code == 404
    assert (
        client.get(
            f"/api/v1/campaigns/{campaign.id}/ranking", headers=headers, params={"limit": 0}
        ).status_code
        == 422
    )
