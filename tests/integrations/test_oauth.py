"""OAuth2 authorization-code connect for HubSpot and Salesforce against local fake providers."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from tests.factories import make_organization, make_user
from tests.integrations.fake_crm import FakeHubSpot, FakeSalesforce, FakeServer
from tests.web.pages.support import sign_in
from vectra.accounts.models import AuditEvent, Organization
from vectra.accounts.sessions import issue_session
from vectra.integrations import service
from vectra.integrations.config import get_integration_settings
from vectra.integrations.models import Integration

URL = "/api/v1/integrations"
APP = ("vectra-app-id", "vectra-app-secret")


def _auth(session: Session, org: Organization, role: str = "admin") -> dict[str, str]:
    user = make_user(session, org, role=role)
    return {"Authorization": f"Bearer {issue_session(session, user).token}"}


@pytest.fixture
def apps(
    hubspot: FakeHubSpot, salesforce: FakeSalesforce, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, FakeServer]]:
    for fake, prefix in ((hubspot, "HUBSPOT"), (salesforce, "SALESFORCE")):
        monkeypatch.setenv(f"{prefix}_CLIENT_ID", APP[0])
        monkeypatch.setenv(f"{prefix}_CLIENT_SECRET", APP[1])
        fake.client_secrets[APP[0]] = APP[1]
    monkeypatch.setenv("HUBSPOT_API_URL", hubspot.url)
    monkeypatch.setenv("HUBSPOT_AUTHORIZE_URL", f"{hubspot.url}/oauth/authorize")
    monkeypatch.setenv("SALESFORCE_LOGIN_URL", salesforce.url)
    get_integration_settings.cache_clear()
    yield {"hubspot": hubspot, "salesforce": salesforce}
    monkeypatch.undo()
    get_integration_settings.cache_clear()


def _consent(client: TestClient, headers: dict[str, str], kind: str) -> dict[str, str]:
    """Start the flow; return the authorize URL's query (what the provider's page receives)."""
    started = client.get(f"{URL}/{kind}/oauth/authorize", headers=headers)
    assert started.status_code == 200, started.text
    query = parse_qs(urlparse(started.json()["url"]).query)
    return {key: values[0] for key, values in query.items()}


def _error(response: httpx.Response) -> str:
    """The callback sends the browser back to the settings page with the error to show."""
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith("/settings?error="), location
    return location


def _grant(fake: FakeServer, query: dict[str, str], code: str) -> None:
    """The provider's consent screen: the user accepts and a code is issued."""
    fake.codes[code] = (query["client_id"], query["redirect_uri"])


@pytest.mark.parametrize("kind", ["hubspot", "salesforce"])
def test_connect_stores_tokens_in_the_vault_and_the_connection_works(
    client: TestClient, session: Session, apps: dict[str, FakeServer], kind: str
) -> None:
    org = make_organization(session)
    headers = _auth(session, org)
    query = _consent(client, headers, kind)
    assert query["client_id"] == APP[0]
    assert query["redirect_uri"].endswith(f"/api/v1/integrations/{kind}/oauth/callback")
    if kind == "hubspot":
        assert "crm.objects.contacts.write" in query["scope"].split()
    else:
        assert query["response_type"] == "code" and "refresh_token" in query["scope"].split()
    _grant(apps[kind], query, "code-1")

    done = client.get(
        f"{URL}/{kind}/oauth/callback",
        params={"code": "code-1", "state": query["state"]},
        headers=headers,
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    assert done.headers["location"].startswith(f"/settings?notice={kind}+connected")

    exchange = [r.form() for r in apps[kind].requests if r.path.endswith("/token")]
    assert exchange and exchange[-1]["grant_type"] == "authorization_code"
    assert exchange[-1]["redirect_uri"] == query["redirect_uri"]
    row = session.scalar(select(Integration).where(Integration.organization_id == org.id))
    assert row is not None and (row.type, row.status) == (kind, "connected")
    secret = service.read_credentials(row)
    assert secret["refresh_token"].startswith("rt-") and secret["client_id"] == APP[0]
    if kind == "salesforce":
        assert secret["instance_url"] == apps[kind].url
    stored = session.execute(text("SELECT credentials::text FROM integrations")).scalar_one()
    assert secret["access_token"] not in stored and secret["refresh_token"] not in stored
    shown = client.get(f"{URL}/{kind}", headers=headers)
    assert secret["access_token"] not in shown.text and "refresh_token" in shown.text

    tested = client.post(f"{URL}/{kind}/test", headers=headers)
    assert tested.status_code == 200 and tested.json()["status"] == "connected", tested.text
    audited = session.scalars(
        select(AuditEvent.action).where(AuditEvent.organization_id == org.id)
    ).all()
    assert "integration.connected" in audited


def test_a_state_completes_only_for_the_admin_who_started_it(
    client: TestClient, session: Session, apps: dict[str, FakeServer]
) -> None:
    # An attacker's state sent to a victim must not attach the victim's CRM to the attacker's
    # organization (nor to the victim's, which never asked).
    attacker_org, victim_org = make_organization(session), make_organization(session)
    query = _consent(client, _auth(session, attacker_org), "hubspot")
    _grant(apps["hubspot"], query, "victims-code")
    params = {"code": "victims-code", "state": query["state"]}
    anonymous = client.get(f"{URL}/hubspot/oauth/callback", params=params)
    assert anonymous.status_code == 401
    refused = client.get(
        f"{URL}/hubspot/oauth/callback",
        params=params,
        headers=_auth(session, victim_org),
        follow_redirects=False,
    )
    assert "another+user" in _error(refused)
    assert not [r for r in apps["hubspot"].requests if r.path == "/oauth/v1/token"]
    assert session.scalars(select(Integration)).all() == []


def test_forged_state_denied_consent_and_a_refused_code_store_nothing(
    client: TestClient, session: Session, apps: dict[str, FakeServer]
) -> None:
    org = make_organization(session)
    headers = _auth(session, org)
    callback = f"{URL}/hubspot/oauth/callback"
    forged = client.get(
        callback, params={"code": "x", "state": "made.up"}, headers=headers, follow_redirects=False
    )
    assert "state+is+not+valid" in _error(forged)

    query = _consent(client, headers, "hubspot")
    denied = client.get(
        callback,
        params={"error": "access_denied", "error_description": "The user declined."},
        headers=headers,
        follow_redirects=False,
    )
    assert "declined" in _error(denied)

    # A code the provider never issued: its own error message comes back, nothing is stored.
    bad = client.get(
        callback,
        params={"code": "never", "state": query["state"]},
        headers=headers,
        follow_redirects=False,
    )
    assert "invalid+code" in _error(bad)
    assert session.scalars(select(Integration)).all() == []


def test_roles_and_configuration(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = make_organization(session)
    monkeypatch.delenv("HUBSPOT_CLIENT_ID", raising=False)
    get_integration_settings.cache_clear()
    try:
        missing = client.get(f"{URL}/hubspot/oauth/authorize", headers=_auth(session, org))
        assert missing.status_code == 400 and "HUBSPOT_CLIENT_ID" in missing.text
        viewer = client.get(f"{URL}/hubspot/oauth/authorize", headers=_auth(session, org, "viewer"))
        assert viewer.status_code == 403
        calendly = client.get(f"{URL}/calendly/oauth/authorize", headers=_auth(session, org))
        assert calendly.status_code == 422 and calendly.json()["error"]["field"] == "type"
    finally:
        get_integration_settings.cache_clear()


def test_settings_page_connects_with_the_browser_session(
    client: TestClient, session: Session, apps: dict[str, FakeServer]
) -> None:
    me = sign_in(session, client, role="admin")
    page = client.get("/settings")
    assert 'action="/settings/integrations/hubspot/connect"' in page.text
    assert (
        client.post(
            "/settings/integrations/hubspot/connect",
            data={"csrf_token": "forged"},
            follow_redirects=False,
        ).status_code
        == 403
    )
    started = client.post(
        "/settings/integrations/hubspot/connect",
        data={"csrf_token": me.csrf},
        follow_redirects=False,
    )
    assert started.status_code == 303
    consent = started.headers["location"]
    assert consent.startswith(f"{apps['hubspot'].url}/oauth/authorize?")
    query = {k: v[0] for k, v in parse_qs(urlparse(consent).query).items()}
    _grant(apps["hubspot"], query, "browser-code")
    # The provider redirects the browser: only the session cookie comes along.
    done = client.get(
        f"{URL}/hubspot/oauth/callback",
        params={"code": "browser-code", "state": query["state"]},
        follow_redirects=False,
    )
    assert done.status_code == 303 and "notice=hubspot+connected" in done.headers["location"]
    mine = Integration.organization_id == me.organization.id
    row = session.scalar(select(Integration).where(mine))
    assert row is not None and row.status == "connected"

    viewer = TestClient(client.app)
    sign_in(session, viewer, role="viewer", organization=me.organization)
    assert "/settings/integrations/hubspot/connect" not in viewer.get("/settings").text
