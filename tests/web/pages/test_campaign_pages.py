"""Campaign pages: list, create form, detail with state-machine buttons; roles, tenants, CSRF."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.factories import make_campaign, make_lead, make_organization
from tests.web.pages.support import assert_login_redirect, sign_in
from vectra.campaigns.models import Campaign

SEQUENCE = {"steps": [{"delay_days": 0, "subject": "Hi {{ lead.first_name }}", "body": "Hello"}]}


def test_anonymous_is_sent_to_login(client: TestClient) -> None:
    for path in ("/campaigns", "/campaigns/new"):
        assert_login_redirect(client, path)


def test_empty_state_tells_what_to_do(session: Session, client: TestClient) -> None:
    sign_in(session, client)
    page = client.get("/campaigns")
    assert page.status_code == 200
    assert "No campaigns yet" in page.text
    assert 'href="/campaigns/new"' in page.text


def test_list_links_each_campaign_to_its_page(session: Session, client: TestClient) -> None:
    me = sign_in(session, client, role="viewer")
    campaign = make_campaign(session, me.organization, name="Fintech CFOs")
    make_lead(session, campaign)
    other = make_campaign(session, make_organization(session), name="Not mine")
    page = client.get("/campaigns")
    assert re.search(rf'<a href="/campaigns/{campaign.id}">Fintech CFOs</a>', page.text)
    assert "Not mine" not in page.text
    # A viewer sees campaigns but no create button, and the server refuses the form anyway.
    assert "New campaign" not in page.text
    assert client.get("/campaigns/new").status_code == 403
    detail = client.get(f"/campaigns/{campaign.id}")
    assert detail.status_code == 200 and "Fintech CFOs" in detail.text
    assert "/status" not in detail.text  # no status buttons for a viewer
    assert client.get(f"/campaigns/{other.id}").status_code == 404


def test_create_campaign_through_the_form(session: Session, client: TestClient) -> None:
    me = sign_in(session, client, role="manager")
    form = client.get("/campaigns/new")
    assert form.status_code == 200
    assert 'for="name"' in form.text and 'id="name"' in form.text  # labelled fields
    data = {
        "csrf_token": me.csrf,
        "name": "EU SaaS heads of sales",
        "icp": "Series A SaaS",
        "industries": "Software, Fintech",
        "countries": "fr, de",
        "seniorities": ["vp", "director"],
        "company_sizes": ["51-200"],
        "bant_threshold": "70",
        "daily_limit": "40",
        "subject": "Hi {{ lead.first_name }}",
        "body": "Hello there",
        "delay_days": "0",
    }
    created = client.post("/campaigns/new", data=data, follow_redirects=False)
    assert created.status_code == 303, created.text
    campaign = session.scalar(select(Campaign).where(Campaign.name == "EU SaaS heads of sales"))
    assert campaign is not None and campaign.organization_id == me.organization.id
    assert campaign.target_criteria["countries"] == ["FR", "DE"]
    assert campaign.target_criteria["seniorities"] == ["vp", "director"]
    assert campaign.email_template is not None
    assert campaign.email_template["steps"][0]["subject"] == "Hi {{ lead.first_name }}"
    assert created.headers["location"] == f"/campaigns/{campaign.id}"
    page = client.get(created.headers["location"])
    assert "Software, Fintech" in page.text and "Start" in page.text


def test_create_refuses_bad_input_and_missing_csrf(session: Session, client: TestClient) -> None:
    me = sign_in(session, client)
    bad = client.post(
        "/campaigns/new",
        data={"csrf_token": me.csrf, "name": "X", "daily_limit": "0"},
    )
    assert bad.status_code == 422
    assert "daily_limit" in bad.text and 'value="X"' in bad.text  # refilled form
    broken = client.post(
        "/campaigns/new",
        data={"csrf_token": me.csrf, "name": "Y", "subject": "{{ oops", "body": "b"},
    )
    assert broken.status_code == 422 and "syntax" in broken.text.lower()
    forged = client.post("/campaigns/new", data={"csrf_token": "nope", "name": "Z"})
    assert forged.status_code == 403
    names = set(session.scalars(select(Campaign.name)))
    assert not names & {"X", "Y", "Z"}


def test_status_buttons_follow_the_state_machine(session: Session, client: TestClient) -> None:
    me = sign_in(session, client, role="manager")
    campaign = make_campaign(session, me.organization, email_template=SEQUENCE)
    page = client.get(f"/campaigns/{campaign.id}")
    buttons = set(re.findall(r'name="status" value="(\w+)"', page.text))
    assert buttons == {"active", "archived"}  # from draft
    assert "needs:" in page.text  # what is missing to start (mailbox, postal address)
    refused = client.post(
        f"/campaigns/{campaign.id}/status", data={"csrf_token": me.csrf, "status": "active"}
    )
    assert refused.status_code == 409 and "cannot start yet" in refused.text
    session.refresh(campaign)
    assert campaign.status == "draft"
    illegal = client.post(
        f"/campaigns/{campaign.id}/status", data={"csrf_token": me.csrf, "status": "paused"}
    )
    assert illegal.status_code == 409 and "cannot go from" in illegal.text
    no_csrf = client.post(f"/campaigns/{campaign.id}/status", data={"status": "archived"})
    assert no_csrf.status_code == 403
    archived = client.post(
        f"/campaigns/{campaign.id}/status",
        data={"csrf_token": me.csrf, "status": "archived"},
        follow_redirects=False,
    )
    assert archived.status_code == 303
    session.refresh(campaign)
    assert campaign.status == "archived"
    assert 'name="status"' not in client.get(f"/campaigns/{campaign.id}").text


def test_status_change_refused_by_role_and_tenant(session: Session, client: TestClient) -> None:
    me = sign_in(session, client, role="operator")
    mine = make_campaign(session, me.organization)
    response = client.post(
        f"/campaigns/{mine.id}/status", data={"csrf_token": me.csrf, "status": "archived"}
    )
    assert response.status_code == 403
    boss = sign_in(session, client, role="owner")
    theirs = make_campaign(session, make_organization(session))
    foreign = client.post(
        f"/campaigns/{theirs.id}/status", data={"csrf_token": boss.csrf, "status": "archived"}
    )
    assert foreign.status_code == 404
    session.refresh(mine)
    session.refresh(theirs)
    assert mine.status == "draft" and theirs.status == "draft"
