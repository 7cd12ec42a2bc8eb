"""Approval queue page: approve, reject with reason, edit, bulk; roles, tenants, CSRF."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.factories import make_campaign, make_lead, make_organization
from tests.web.pages.support import assert_login_redirect, sign_in
from vectra.accounts.models import Organization
from vectra.mail.models import Email


def draft(session: Session, organization: Organization, **fields: object) -> Email:
    campaign = make_campaign(session, organization, name="Queue test")
    lead = make_lead(session, campaign, first_name="Ada", email=f"ada{id(fields)}@x.example")
    email = Email(
        organization_id=organization.id, lead_id=lead.id, campaign_id=campaign.id,
        subject=fields.pop("subject", "Hi Ada"), body="Hello Ada, a short note.",
        status="pending", sequence_step=0, review_flags=fields.pop("review_flags", []),
        **fields,
    )  # fmt: skip
    session.add(email)
    session.flush()
    return email


def test_anonymous_is_sent_to_login(client: TestClient) -> None:
    assert_login_redirect(client, "/approvals")


def test_empty_queue_says_what_happens(session: Session, client: TestClient) -> None:
    sign_in(session, client)
    page = client.get("/approvals")
    assert page.status_code == 200 and "Nothing to review" in page.text


def test_queue_lists_and_approves(session: Session, client: TestClient) -> None:
    me = sign_in(session, client, role="manager")
    email = draft(session, me.organization)
    foreign = draft(session, make_organization(session), subject="Not yours")
    page = client.get("/approvals")
    assert "Hi Ada" in page.text and "Not yours" not in page.text
    assert '<script src="/static/approvals.js" defer></script>' in page.text
    assert f'action="/approvals/{email.id}/approve"' in page.text
    assert client.post(f"/approvals/{email.id}/approve", data={}).status_code == 403  # no CSRF
    done = client.post(
        f"/approvals/{email.id}/approve", data={"csrf_token": me.csrf}, follow_redirects=False
    )
    assert done.status_code == 303 and "Approved" in done.headers["location"]
    session.refresh(email)
    assert email.status == "approved" and email.approved_by == me.user.id
    again = client.post(f"/approvals/{email.id}/approve", data={"csrf_token": me.csrf})
    assert "Only pending emails can be approved" in again.text
    other = client.post(f"/approvals/{foreign.id}/approve", data={"csrf_token": me.csrf})
    assert other.status_code == 404
    session.refresh(foreign)
    assert foreign.status == "pending"


def test_blocking_flag_refuses_approval(session: Session, client: TestClient) -> None:
    me = sign_in(session, client)
    flag = {"code": "missing_variable", "message": "A variable is missing.", "blocking": True}
    email = draft(session, me.organization, review_flags=[flag])
    assert "Blocking: A variable is missing." in client.get("/approvals").text
    page = client.post(f"/approvals/{email.id}/approve", data={"csrf_token": me.csrf})
    assert "Fix this draft" in page.text
    session.refresh(email)
    assert email.status == "pending"


def test_reject_needs_a_reason(session: Session, client: TestClient) -> None:
    me = sign_in(session, client, role="admin")
    email = draft(session, me.organization)
    empty = client.post(f"/approvals/{email.id}/reject", data={"csrf_token": me.csrf})
    assert "Say why" in empty.text
    session.refresh(email)
    assert email.status == "pending"
    client.post(
        f"/approvals/{email.id}/reject", data={"csrf_token": me.csrf, "reason": "Too pushy"}
    )
    session.refresh(email)
    assert email.status == "rejected" and email.rejection_reason == "Too pushy"


def test_edit_then_bulk_approve(session: Session, client: TestClient) -> None:
    me = sign_in(session, client)
    # An edit re-runs the checker, which blocks mail without the sender's postal address.
    me.organization.settings = {"postal_address": "1 Main St, Springfield"}
    first, second = draft(session, me.organization), draft(session, me.organization)
    form = client.get(f"/approvals/{first.id}/edit")
    assert 'id="subject"' in form.text and "Hello Ada" in form.text
    bad = client.post(
        f"/approvals/{first.id}/edit", data={"csrf_token": me.csrf, "subject": "", "body": "x"}
    )
    assert bad.status_code == 422 and "subject must be" in bad.text
    saved = client.post(
        f"/approvals/{first.id}/edit",
        data={"csrf_token": me.csrf, "subject": "Hi Ada, quick one", "body": "Hello Ada again."},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    session.refresh(first)
    assert first.subject == "Hi Ada, quick one" and first.status == "pending"
    bulk = client.post(
        "/approvals/bulk",
        data={"csrf_token": me.csrf, "email_ids": [str(first.id), str(second.id)]},
    )
    assert "Approved 2." in bulk.text
    session.refresh(first)
    session.refresh(second)
    assert first.status == second.status == "approved"
    assert "Nothing to review" in client.get("/approvals").text


def test_roles_hide_and_refuse(session: Session, client: TestClient) -> None:
    me = sign_in(session, client, role="operator")  # may edit drafts, not approve
    email = draft(session, me.organization)
    page = client.get("/approvals")
    assert "Hi Ada" in page.text
    assert "/approve" not in page.text and "bulk-form" not in page.text
    assert re.search(rf'href="/approvals/{email.id}/edit"', page.text)
    for path, data in (
        (f"/approvals/{email.id}/approve", {}),
        (f"/approvals/{email.id}/reject", {"reason": "no"}),
        ("/approvals/bulk", {"email_ids": str(email.id)}),
    ):
        assert client.post(path, data={"csrf_token": me.csrf, **data}).status_code == 403
    viewer = sign_in(session, client, role="viewer", organization=me.organization)
    assert "Edit" not in client.get("/approvals").text
    refused = client.post(
        f"/approvals/{email.id}/edit", data={"csrf_token": viewer.csrf, "subject": "s", "body": "b"}
    )
    assert refused.status_code == 403
    session.refresh(email)
    assert email.status == "pending" and email.subject == "Hi Ada"
