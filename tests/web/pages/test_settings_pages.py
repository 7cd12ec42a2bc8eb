"""Settings page: organization and postal address, invitations, API keys, usage; roles."""

from __future__ import annotations

from email.message import EmailMessage

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.factories import make_organization
from tests.web.pages.support import assert_login_redirect, sign_in
from vectra.accounts.actor import Actor
from vectra.accounts.api_keys import create_api_key
from vectra.accounts.models import ApiKey, Invitation
from vectra.accounts.roles import Role

ADDRESS = {"street": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "us"}


def test_anonymous_is_sent_to_login(client: TestClient) -> None:
    assert_login_redirect(client, "/settings")


def test_owner_sets_the_postal_address(session: Session, client: TestClient) -> None:
    me = sign_in(session, client)
    page = client.get("/settings")
    assert "Add your postal address" in page.text and 'for="street"' in page.text
    form = {"csrf_token": me.csrf, "name": "Acme Renamed", "timezone": "Europe/Paris", **ADDRESS}
    assert (
        client.post("/settings/organization", data={**form, "csrf_token": "x"}).status_code == 403
    )
    saved = client.post("/settings/organization", data=form)
    assert "Organization saved." in saved.text
    session.refresh(me.organization)
    assert me.organization.name == "Acme Renamed"
    assert me.organization.settings["postal_address"]["country"] == "US"
    assert me.organization.settings["timezone"] == "Europe/Paris"
    bad = client.post("/settings/organization", data={**form, "timezone": "Mars/Base"})
    assert "Mars/Base" in bad.text and 'role="alert"' in bad.text
    session.refresh(me.organization)
    assert me.organization.settings["timezone"] == "Europe/Paris"


def test_viewer_sees_no_admin_sections(session: Session, client: TestClient) -> None:
    me = sign_in(session, client, role="viewer")
    page = client.get("/settings")
    assert page.status_code == 200
    assert 'action="/settings/organization"' not in page.text
    assert 'id="api-keys"' not in page.text and "/settings/invitations" not in page.text
    assert 'id="usage"' in page.text  # billing.read is a read permission
    form = {"csrf_token": me.csrf, "name": "Hijack", **ADDRESS}
    assert client.post("/settings/organization", data=form).status_code == 403
    assert (
        client.post("/settings/api-keys", data={"csrf_token": me.csrf, "name": "k"}).status_code
        == 403
    )
    session.refresh(me.organization)
    assert me.organization.name != "Hijack"


def test_invite_and_api_keys(
    session: Session, client: TestClient, smtp_sink: list[EmailMessage]
) -> None:
    me = sign_in(session, client, role="admin")
    invited = client.post(
        "/settings/invitations",
        data={"csrf_token": me.csrf, "email": "new@acme.example", "role": "manager"},
    )
    assert "Invitation sent to new@acme.example." in invited.text
    assert "new@acme.example (manager): pending" in invited.text
    assert [m["To"] for m in smtp_sink] == ["new@acme.example"]
    owner = client.post(
        "/settings/invitations",
        data={"csrf_token": me.csrf, "email": "boss@acme.example", "role": "owner"},
    )
    assert "Only an owner can invite an owner." in owner.text
    emails = set(session.scalars(select(Invitation.email)))
    assert "boss@acme.example" not in emails

    created = client.post(
        "/settings/api-keys", data={"csrf_token": me.csrf, "name": "CRM", "scopes": ["read"]}
    )
    assert "copy it now" in created.text
    key = session.scalar(select(ApiKey).where(ApiKey.organization_id == me.organization.id))
    assert key is not None and key.scopes == ["read"]
    shown = created.text.split('id="new-key" readonly value="')[1].split('"')[0]
    assert shown.startswith(key.prefix)
    assert 'id="new-key"' not in client.get("/settings").text  # shown once
    revoked = client.post(f"/settings/api-keys/{key.id}/revoke", data={"csrf_token": me.csrf})
    assert "Key revoked." in revoked.text
    session.refresh(key)
    assert key.revoked_at is not None
    other = Actor(organization_id=make_organization(session).id, role=Role.OWNER)
    theirs = create_api_key(session, other, name="theirs", scopes=["read"]).api_key
    refused = client.post(f"/settings/api-keys/{theirs.id}/revoke", data={"csrf_token": me.csrf})
    assert refused.status_code == 404
    session.refresh(theirs)
    assert theirs.revoked_at is None
