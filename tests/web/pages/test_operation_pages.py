"""Meetings (outcome capture), mailbox health and audit pages: roles, tenants, CSRF, flows."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.factories import make_campaign, make_lead, make_organization
from tests.web.pages.support import assert_login_redirect, sign_in
from vectra.accounts import audit
from vectra.accounts.actor import Actor
from vectra.accounts.models import Organization
from vectra.accounts.roles import Role
from vectra.db.base import utcnow
from vectra.mail import mailboxes
from vectra.mail.mailbox_schemas import MailboxCreate
from vectra.meetings.models import Meeting


def meeting(session: Session, organization: Organization, **fields: object) -> Meeting:
    lead = make_lead(session, make_campaign(session, organization), first_name="Maya")
    row = Meeting(
        organization_id=organization.id, lead_id=lead.id, campaign_id=lead.campaign_id,
        scheduled_at=fields.pop("scheduled_at", utcnow() - dt.timedelta(hours=2)), **fields,
    )  # fmt: skip
    session.add(row)
    session.flush()
    return row


def test_anonymous_is_sent_to_login(client: TestClient) -> None:
    for path in ("/meetings", "/mailboxes", "/audit"):
        assert_login_redirect(client, path)


def test_empty_states(session: Session, client: TestClient) -> None:
    sign_in(session, client)
    assert "No meetings yet" in client.get("/meetings").text
    assert "No mailbox connected" in client.get("/mailboxes").text


def test_meeting_outcome_capture(session: Session, client: TestClient) -> None:
    me = sign_in(session, client, role="operator")
    past = meeting(session, me.organization)
    future = meeting(session, me.organization, scheduled_at=utcnow() + dt.timedelta(days=2))
    theirs = meeting(session, make_organization(session))
    page = client.get("/meetings")
    assert "Maya" in page.text and page.text.count('action="/meetings/') == 2
    form = {"csrf_token": me.csrf, "outcome": "closed_won", "notes": "Signed"}
    assert client.post(f"/meetings/{past.id}/outcome", data={"outcome": "x"}).status_code == 403
    saved = client.post(f"/meetings/{past.id}/outcome", data=form, follow_redirects=False)
    assert saved.status_code == 303
    session.refresh(past)
    assert past.outcome == "closed_won" and past.notes == "Signed"
    early = client.post(f"/meetings/{future.id}/outcome", data=form)
    assert "recorded after it" in early.text
    bad = client.post(f"/meetings/{past.id}/outcome", data={**form, "outcome": "maybe"})
    assert "Outcome must be one of" in bad.text
    assert client.post(f"/meetings/{theirs.id}/outcome", data=form).status_code == 404
    session.refresh(future)
    session.refresh(theirs)
    assert future.outcome is None and theirs.outcome is None
    sign_in(session, client, role="viewer", organization=me.organization)
    assert 'action="/meetings/' not in client.get("/meetings").text
    viewer = client.post(f"/meetings/{past.id}/outcome", data=form)
    assert viewer.status_code == 403


def test_mailbox_health(session: Session, client: TestClient) -> None:
    me = sign_in(session, client, role="viewer")
    actor = Actor(organization_id=me.organization.id, role=Role.OWNER)
    mailboxes.create_mailbox(
        session, actor,
        MailboxCreate(name="sales", from_name="Ann", from_address="ann@acme-sender.com",
                      smtp_host="127.0.0.1", smtp_port=2525, smtp_security="none",
                      daily_cap=100, warmup_start=20, warmup_increment=10, warmup_days=8),
    )  # fmt: skip
    other = Actor(organization_id=make_organization(session).id, role=Role.OWNER)
    mailboxes.create_mailbox(
        session, other,
        MailboxCreate(name="theirs", from_address="x@other-sender.com", smtp_host="127.0.0.1",
                      smtp_port=2525, smtp_security="none"),
    )  # fmt: skip
    page = client.get("/mailboxes")
    assert page.status_code == 200
    assert "ann@acme-sender.com" in page.text and "x@other-sender.com" not in page.text
    assert "0 / 20" in page.text  # first warm-up day: 20 of 100
    assert 'aria-label="Warm-up progress"' in page.text and "20% of 100/day" in page.text


def test_audit_is_for_admins(session: Session, client: TestClient) -> None:
    me = sign_in(session, client, role="admin")
    actor = Actor(organization_id=me.organization.id, role=Role.ADMIN, user_id=me.user.id)
    audit.record(session, actor, "api_key.created", object_type="api_key", object_id="k1")
    other = Actor(organization_id=make_organization(session).id, role=Role.OWNER)
    audit.record(session, other, "user.role_changed", object_type="user", object_id="u9")
    page = client.get("/audit")
    assert "api_key.created" in page.text and "user.role_changed" not in page.text
    assert 'href="/audit"' in page.text
    assert "No events for this action" in client.get("/audit?action=user.").text
    sign_in(session, client, role="manager", organization=me.organization)
    assert 'href="/audit"' not in client.get("/dashboard").text
    assert client.get("/audit").status_code == 403


def test_every_nav_link_opens(session: Session, client: TestClient) -> None:
    """No dead links: each page the owner's navigation offers answers 200."""
    import re

    sign_in(session, client)
    nav = client.get("/dashboard").text.split("<nav>")[1].split("</nav>")[0]
    links = re.findall(r'<a href="(/[^"]*)"', nav)
    assert {"/campaigns", "/leads", "/approvals", "/meetings", "/settings", "/audit"} <= set(links)
    for link in links:
        assert client.get(link).status_code == 200, link
