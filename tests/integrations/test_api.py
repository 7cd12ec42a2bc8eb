"""Integrations API: roles, tenants, input errors, status from a real test call, no secret out."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from tests.factories import make_campaign, make_organization, make_user
from tests.integrations.conftest import HUBSPOT_TOKEN, connect, make_pipeline
from tests.integrations.fake_crm import FakeHubSpot
from vectra.accounts.models import Organization
from vectra.accounts.sessions import issue_session
from vectra.integrations import service
from vectra.integrations.config import get_integration_settings
from vectra.integrations.models import Integration
from vectra.integrations.tasks import enqueue_sync, run_organization_sync

URL = "/api/v1/integrations"


def _auth(session: Session, org: Organization, role: str = "admin") -> dict[str, str]:
    user = make_user(session, org, role=role)
    return {"Authorization": f"Bearer {issue_session(session, user).token}"}


@pytest.fixture
def hubspot_env(hubspot: FakeHubSpot, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHubSpot]:
    monkeypatch.setenv("HUBSPOT_API_URL", hubspot.url)
    get_integration_settings.cache_clear()
    yield hubspot
    monkeypatch.undo()
    get_integration_settings.cache_clear()


class TestPutAndList:
    def test_stores_credentials_in_the_vault_and_shows_only_field_names(
        self, client: TestClient, session: Session
    ) -> None:
        org = make_organization(session)
        headers = _auth(session, org)
        body = {"credentials": {"access_token": HUBSPOT_TOKEN}, "settings": {"push_enabled": True}}
        put = client.put(f"{URL}/hubspot", json=body, headers=headers)
        listed = client.get(URL, headers=_auth(session, org, "viewer"))

        assert put.status_code == 200, put.text
        assert put.json()["credential_fields"] == ["access_token"]
        assert put.json()["status"] == "disconnected"
        assert listed.status_code == 200 and listed.json()["items"][0]["type"] == "hubspot"
        assert HUBSPOT_TOKEN not in put.text + listed.text
        stored = session.execute(text("SELECT credentials::text FROM integrations")).scalar_one()
        assert HUBSPOT_TOKEN not in stored and '"vault"' in stored

    @pytest.mark.parametrize("kind", ["hubspot", "salesforce", "calendly", "google_calendar"])
    def test_accepts_every_seed_type(self, client: TestClient, session: Session, kind: str) -> None:
        org = make_organization(session)
        credentials = {
            "hubspot": {"access_token": "t"},
            "salesforce": {"access_token": "t", "instance_url": "https://x.my.salesforce.com"},
            "calendly": {"personal_access_token": "t"},
            "google_calendar": {"note": "connected per user"},
        }[kind]
        response = client.put(f"{URL}/{kind}", json={"credentials": credentials},
                              headers=_auth(session, org))  # fmt: skip
        assert response.status_code == 200, response.text

    def test_merge_keeps_secrets_when_only_settings_change(
        self, client: TestClient, session: Session
    ) -> None:
        org = make_organization(session)
        headers = _auth(session, org)
        client.put(f"{URL}/hubspot", json={"credentials": {"access_token": "a"}}, headers=headers)
        response = client.put(f"{URL}/hubspot", json={"settings": {"sync_interval_minutes": 15}},
                              headers=headers)  # fmt: skip
        assert response.json()["credential_fields"] == ["access_token"]
        assert response.json()["settings"] == {"sync_interval_minutes": 15}

    @pytest.mark.parametrize(
        ("path", "body", "field"),
        [
            ("/zoho", {"settings": {}}, "type"),
            ("/hubspot", {"credentials": {"api_key": "x"}}, "credentials.api_key"),
            ("/hubspot", {"credentials": {"access_token": ""}}, "credentials.access_token"),
            ("/hubspot", {"settings": {"sync_interval_minutes": 1}},
             "settings.sync_interval_minutes"),
            ("/salesforce", {"credentials": {"username": "u"}}, "credentials"),
        ],
    )  # fmt: skip
    def test_bad_input_is_422_naming_the_field(
        self, client: TestClient, session: Session, path: str, body: dict, field: str
    ) -> None:
        org = make_organization(session)
        response = client.put(f"{URL}{path}", json=body, headers=_auth(session, org))
        assert response.status_code == 422
        assert response.json()["error"]["field"] == field

    def test_roles_and_anonymous(self, client: TestClient, session: Session) -> None:
        org = make_organization(session)
        body = {"credentials": {"access_token": "t"}}
        assert client.put(f"{URL}/hubspot", json=body).status_code == 401
        for role in ("manager", "operator", "viewer"):
            response = client.put(f"{URL}/hubspot", json=body, headers=_auth(session, org, role))
            assert response.status_code == 403, role


class TestTenants:
    def test_another_organizations_integration_is_404(
        self, client: TestClient, session: Session
    ) -> None:
        mine = make_organization(session)
        theirs = make_organization(session)
        connect(session, theirs, "hubspot", {"access_token": "theirs"})
        headers = _auth(session, mine)
        for method, path in [("GET", "/hubspot"), ("DELETE", "/hubspot"),
                             ("POST", "/hubspot/test"), ("GET", "/hubspot/runs"),
                             ("POST", "/hubspot/sync")]:  # fmt: skip
            assert client.request(method, f"{URL}{path}", headers=headers).status_code == 404
        assert client.get(URL, headers=headers).json()["items"] == []

    def test_pull_campaign_of_another_organization_is_404(
        self, client: TestClient, session: Session
    ) -> None:
        mine = make_organization(session)
        foreign = make_campaign(session, make_organization(session))
        response = client.put(f"{URL}/hubspot", headers=_auth(session, mine),
                              json={"settings": {"pull_campaign_id": str(foreign.id)}})  # fmt: skip
        assert response.status_code == 404


class TestConnectionTest:
    def test_good_token_connects_bad_token_errors_with_hubspots_message(
        self, client: TestClient, session: Session, hubspot_env: FakeHubSpot
    ) -> None:
        org = make_organization(session)
        headers = _auth(session, org)
        client.put(f"{URL}/hubspot", json={"credentials": {"access_token": HUBSPOT_TOKEN}},
                   headers=headers)  # fmt: skip
        ok = client.post(f"{URL}/hubspot/test", headers=headers)
        assert ok.status_code == 200 and ok.json()["status"] == "connected"
        assert hubspot_env.calls("GET", "/crm/v3/objects/contacts")[0].query == {"limit": ["1"]}

        client.put(f"{URL}/hubspot", json={"credentials": {"access_token": "wrong"}},
                   headers=headers)  # fmt: skip
        bad = client.post(f"{URL}/hubspot/test", headers=headers)
        assert bad.json()["status"] == "error"
        assert "expired 2 hour(s) ago" in bad.json()["status_message"]

    def test_delete_removes_the_row(self, client: TestClient, session: Session) -> None:
        org = make_organization(session)
        headers = _auth(session, org)
        client.put(f"{URL}/hubspot", json={"credentials": {"access_token": "x"}}, headers=headers)
        assert client.delete(f"{URL}/hubspot", headers=headers).status_code == 204
        assert client.get(f"{URL}/hubspot", headers=headers).status_code == 404


def test_no_credential_reaches_logs_or_responses(
    client: TestClient, session: Session, hubspot_env: FakeHubSpot,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    secrets = ["rotating-refresh-7f3a", "client-secret-9c1e", "fresh-access-4b2d", "old-acc-5e6f"]
    hubspot_env.oauth[secrets[0]] = secrets[2]
    p = make_pipeline(session)
    headers = _auth(session, p.organization)
    caplog.set_level(logging.DEBUG)
    bodies = [
        client.put(f"{URL}/hubspot", headers=headers, json={"credentials": {
            "access_token": secrets[3], "refresh_token": secrets[0],
            "client_id": "cid", "client_secret": secrets[1]}}).text,
        client.post(f"{URL}/hubspot/test", headers=headers).text,  # refreshes the token
        client.get(URL, headers=headers).text,
    ]  # fmt: skip
    from vectra.integrations.sync import run_sync

    run = run_sync(session, p.organization.id, "hubspot", reason="t")
    bodies.append(client.get(f"{URL}/hubspot/runs", headers=headers).text)

    assert run.status == "succeeded" and '"connected"' in bodies[1]
    assert len(hubspot_env.calls("POST", "/oauth/v1/token")) == 1
    logged = [r.getMessage() + " " + repr(vars(r)) for r in caplog.records]
    assert logged  # the requests and the sync did log
    for secret in secrets:
        assert not any(secret in line for line in logged), secret
        assert not any(secret in body for body in bodies), secret


def test_enqueue_sync_collapses_bursts_and_needs_a_connected_crm(session: Session) -> None:
    org = make_organization(session)
    assert enqueue_sync(session, org.id, "lead_qualified") is None  # no CRM yet
    connect(session, org, "hubspot", {"access_token": "t"})

    first = enqueue_sync(session, org.id, "lead_qualified")
    second = enqueue_sync(session, org.id, "meeting_booked")

    assert first is not None and second is None
    queued = session.execute(
        text("SELECT count(*) FROM procrastinate_jobs WHERE task_name = :t AND status = 'todo'"),
        {"t": "integrations.sync_organization"},
    ).scalar_one()
    assert queued == 1
    assert session.scalar(select(func.count()).select_from(Integration)) >= 1  # tx still usable


def test_job_runs_and_commits_the_run_log(committed_database, hubspot_env: FakeHubSpot) -> None:  # type: ignore[no-untyped-def]
    with committed_database.system_session() as session:
        p = make_pipeline(session)
        connect(session, p.organization, "hubspot", {"access_token": HUBSPOT_TOKEN})
        org_id = p.organization.id

    results = run_organization_sync(committed_database, org_id, "schedule")

    assert [r["status"] for r in results] == ["succeeded"]
    with committed_database.tenant_session(org_id) as session:
        row = service.find_integration(session, org_id, "hubspot")
        assert row is not None and row.last_sync_at is not None
        runs = session.execute(text("SELECT created, reason FROM crm_sync_runs")).all()
    assert runs == [(6, "schedule")]  # 2 contacts, 2 companies, 1 email, 1 meeting
    assert len(hubspot_env.contacts) == 2


def test_rotation_reencrypts_integration_credentials(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vectra.integrations import vault
    from vectra.settings import get_settings

    org = make_organization(session)
    row = connect(session, org, "salesforce", {"access_token": "a", "instance_url": "https://x"})
    old = get_settings().model_copy(update={"secret_key": "an-old-key-0123456789-abcdefghij"})
    secret = {"access_token": "a", "instance_url": "https://x"}
    row.credentials = {"vault": vault.encrypt(secret, settings=old), "fields": sorted(secret)}
    session.flush()
    monkeypatch.setenv("VECTRA_SECRET_KEY_PREVIOUS", "an-old-key-0123456789-abcdefghij")

    assert service.rotate_credentials(session) == 1
    assert vault.is_current(row.credentials["vault"])
    assert service.read_credentials(row)["access_token"] == "a"
    assert service.rotate_credentials(session) == 0
