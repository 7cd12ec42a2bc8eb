"""Dashboard funnel: the reporting service's numbers, the JSON endpoint, scoping and roles."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.factories import make_campaign, make_lead, make_organization
from tests.web.pages.support import assert_login_redirect, sign_in
from vectra.accounts.actor import Actor
from vectra.accounts.models import Organization
from vectra.accounts.roles import Role
from vectra.campaigns import reporting
from vectra.campaigns.models import Campaign
from vectra.db.base import utcnow
from vectra.leads.tables import LeadStatusHistory
from vectra.mail.models import Email
from vectra.meetings.models import Meeting


def seed_funnel(session: Session, organization: Organization, name: str = "Funnel") -> Campaign:
    """7 leads: 7 imported, 6 enriched (one later rejected), 4 qualified, 3 contacted,
    2 replied, 2 meetings, 1 won."""
    campaign = make_campaign(session, organization, name=name)
    now = utcnow()
    statuses = ["new", "rejected", "enriched", "qualified", "contacted", "contacted",
                "meeting_scheduled"]  # fmt: skip
    leads = [make_lead(session, campaign, status=s) for s in statuses]
    org = organization.id
    # The rejected lead was enriched first: it still counts as enriched.
    history = {"organization_id": org, "actor_kind": "agent", "created_at": now}
    session.add(LeadStatusHistory(lead_id=leads[1].id, to_status="enriched", **history))
    for lead in leads[3:]:
        session.add(LeadStatusHistory(lead_id=lead.id, to_status="qualified", **history))
    for i, lead in enumerate(leads[4:]):
        session.add(
            Email(organization_id=org, lead_id=lead.id, campaign_id=campaign.id, subject="s",
                  body="b", status="sent", sent_at=now,
                  replied_at=now if i >= 1 else None)
        )  # fmt: skip
    for i, lead in enumerate(leads[5:]):
        session.add(
            Meeting(organization_id=org, lead_id=lead.id, campaign_id=campaign.id,
                    scheduled_at=now + dt.timedelta(days=1),
                    outcome="closed_won" if i == 1 else None)
        )  # fmt: skip
    session.flush()
    return campaign


EXPECTED = {"imported": 7, "enriched": 6, "qualified": 4, "contacted": 3, "replied": 2,
            "meeting": 2, "won": 1}  # fmt: skip


def test_funnel_counts_each_stage_once_per_lead(session: Session) -> None:
    organization = make_organization(session)
    campaign = seed_funnel(session, organization)
    empty = make_campaign(session, organization, name="Empty")
    seed_funnel(session, make_organization(session), name="Someone else's")
    actor = Actor(organization_id=organization.id, role=Role.VIEWER)
    funnels = {f.name: f.counts for f in reporting.funnel(session, actor)}
    assert funnels == {"Funnel": EXPECTED, "Empty": dict.fromkeys(reporting.STAGES, 0)}
    assert reporting.totals(
        reporting.funnel(session, actor, campaign_id=empty.id)
    ) == dict.fromkeys(reporting.STAGES, 0)
    days = reporting.daily(session, actor, days=7, campaign_id=campaign.id)
    assert len(days["days"]) == 7 and days["days"][-1] == utcnow().date().isoformat()
    assert {s: sum(v) for s, v in days["series"].items()} == {
        **EXPECTED, "enriched": 1,  # only the rejected lead's enrichment is in the history
    }  # fmt: skip


def test_dashboard_page_and_json(session: Session, client: TestClient) -> None:
    assert_login_redirect(client, "/dashboard")
    assert client.get("/dashboard/funnel.json", follow_redirects=False).status_code == 303
    me = sign_in(session, client, role="viewer")
    first = client.get("/dashboard")
    assert "Get started" in first.text and "Create a campaign" not in first.text  # viewer
    campaign = seed_funnel(session, me.organization)
    theirs = seed_funnel(session, make_organization(session), name="Theirs")
    page = client.get("/dashboard")
    assert 'id="funnel-chart"' in page.text and "/static/dashboard.js" in page.text
    assert "Theirs" not in page.text
    data = client.get("/dashboard/funnel.json").json()
    assert data["stages"] == list(reporting.STAGES)
    assert data["totals"] == EXPECTED
    assert [c["name"] for c in data["campaigns"]] == ["Funnel"]
    assert len(data["daily"]["days"]) == 30
    one = client.get(f"/dashboard/funnel.json?campaign_id={campaign.id}&days=7").json()
    assert one["totals"] == EXPECTED and len(one["daily"]["days"]) == 7
    assert client.get(f"/dashboard/funnel.json?campaign_id={theirs.id}").status_code == 404
    assert client.get("/dashboard/funnel.json?days=0").status_code == 422


def test_owner_empty_dashboard_points_to_next_steps(session: Session, client: TestClient) -> None:
    sign_in(session, client)
    page = client.get("/dashboard")
    assert 'href="/campaigns/new"' in page.text and 'href="/mailboxes"' in page.text
