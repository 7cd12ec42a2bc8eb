"""Campaign routes through the real app and database."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.factories import make_campaign, make_organization, make_user
from vectra.accounts import sessions
from vectra.accounts.models import Organization
from vectra.campaigns import service

SEQUENCE = {"steps": [{"delay_days": 0, "subject": "Hi {{ lead.first_name }}", "body": "Hello"}]}


def token_for(
    session: Session, organization: Organization, role: str = "manager"
) -> dict[str, str]:
    user = make_user(session, organization, role=role)
    return {"Authorization": f"Bearer {sessions.issue_session(session, user).token}"}


@pytest.fixture
def org(session: Session) -> Organization:
    return make_organization(session)


@pytest.fixture
def headers(session: Session, org: Organization) -> dict[str, str]:
    return token_for(session, org)


class TestCreateCampaign:
    def test_anonymous(self, client: TestClient) -> None:
        assert client.post("/api/v1/campaigns", json={"name": "X"}).status_code == 401

    def test_wrong_role(self, client: TestClient, session: Session, org: Organization) -> None:
        viewer = token_for(session, org, role="operator")
        assert (
            client.post("/api/v1/campaigns", json={"name": "X"}, headers=viewer).status_code == 403
        )

    def test_unknown_criteria_key_names_the_field(
        self, client: TestClient, headers: dict[str, str]
    ) -> None:
        response = client.post(
            "/api/v1/campaigns",
            json={"name": "X", "target_criteria": {"industries": ["SaaS"], "colour": "red"}},
            headers=headers,
        )
        assert response.status_code == 422
        assert response.json()["error"]["field"] == "target_criteria.colour"

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"name": "X", "daily_limit": 0}, "daily_limit"),
            ({"name": "X", "daily_limit": 10_001}, "daily_limit"),
            ({"name": "X", "bant_threshold": 101}, "bant_threshold"),
            (
                {"name": "X", "target_criteria": {"company_sizes": ["2-3"]}},
                "target_criteria.company_sizes.0",
            ),
            ({"name": ""}, "name"),
        ],
    )
    def test_bad_input(
        self, client: TestClient, headers: dict[str, str], body: dict[str, object], field: str
    ) -> None:
        response = client.post("/api/v1/campaigns", json=body, headers=headers)
        assert response.status_code == 422, response.text
        assert response.json()["error"]["field"] == field

    def test_bad_sequence_template_names_the_step(
        self, client: TestClient, headers: dict[str, str]
    ) -> None:
        bad = {
            "steps": [SEQUENCE["steps"][0], {"delay_days": 2, "subject": "Hi", "body": "{% if %}"}]
        }
        response = client.post(
            "/api/v1/campaigns", json={"name": "X", "email_template": bad}, headers=headers
        )
        assert response.status_code == 422
        assert response.json()["error"]["field"].startswith("email_template.steps.1")

    def test_valid(self, client: TestClient, headers: dict[str, str], org: Organization) -> None:
        criteria = {
            "industries": ["SaaS"],
            "company_sizes": ["51-200"],
            "exclude": {"domains": ["rival.com"]},
        }
        response = client.post(
            "/api/v1/campaigns",
            json={"name": " Q3 outbound ", "target_criteria": criteria, "email_template": SEQUENCE},
            headers=headers,
        )
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["name"] == "Q3 outbound"
        assert body["status"] == "draft"
        assert body["organization_id"] == str(org.id)
        assert body["target_criteria"]["exclude"]["domains"] == ["rival.com"]
        assert body["email_template"]["steps"][0]["subject"] == "Hi {{ lead.first_name }}"


class TestGetCampaign:
    def test_anonymous(self, client: TestClient, session: Session, org: Organization) -> None:
        campaign = make_campaign(session, org)
        assert client.get(f"/api/v1/campaigns/{campaign.id}").status_code == 401

    def test_other_tenant_is_404(
        self, client: TestClient, session: Session, headers: dict[str, str]
    ) -> None:
        foreign = make_campaign(session, make_organization(session))
        assert client.get(f"/api/v1/campaigns/{foreign.id}", headers=headers).status_code == 404

    def test_not_found(self, client: TestClient, headers: dict[str, str]) -> None:
        assert client.get(f"/api/v1/campaigns/{uuid.uuid4()}", headers=headers).status_code == 404

    def test_bad_id(self, client: TestClient, headers: dict[str, str]) -> None:
        response = client.get("/api/v1/campaigns/not-a-uuid", headers=headers)
        assert response.status_code == 422
        assert response.json()["error"]["field"] == "path.campaign_id"

    def test_valid(
        self, client: TestClient, session: Session, org: Organization, headers: dict[str, str]
    ) -> None:
        campaign = make_campaign(session, org, name="Mine")
        response = client.get(f"/api/v1/campaigns/{campaign.id}", headers=headers)
        assert response.status_code == 200
        assert response.json()["name"] == "Mine"


class TestListCampaigns:
    def test_anonymous(self, client: TestClient) -> None:
        assert client.get("/api/v1/campaigns").status_code == 401

    def test_bad_cursor(self, client: TestClient, headers: dict[str, str]) -> None:
        response = client.get("/api/v1/campaigns?cursor=%%%garbage", headers=headers)
        assert response.status_code == 422
        assert response.json()["error"]["field"] == "cursor"

    def test_pages_cover_everything_once_and_only_mine(
        self, client: TestClient, session: Session, org: Organization, headers: dict[str, str]
    ) -> None:
        mine = {str(make_campaign(session, org).id) for _ in range(7)}
        make_campaign(session, make_organization(session))
        seen: list[str] = []
        cursor = None
        while True:
            params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
            page = client.get("/api/v1/campaigns", params=params, headers=headers).json()
            seen += [c["id"] for c in page["items"]]
            if not (cursor := page["next_cursor"]):
                break
        assert len(seen) == len(set(seen)) == 7
        assert set(seen) == mine

    def test_status_filter(
        self, client: TestClient, session: Session, org: Organization, headers: dict[str, str]
    ) -> None:
        make_campaign(session, org)
        paused = make_campaign(session, org, status="paused")
        body = client.get("/api/v1/campaigns?status=paused", headers=headers).json()
        assert [c["id"] for c in body["items"]] == [str(paused.id)]


class TestUpdateCampaign:
    def test_wrong_role(self, client: TestClient, session: Session, org: Organization) -> None:
        campaign = make_campaign(session, org)
        viewer = token_for(session, org, role="viewer")
        response = client.patch(
            f"/api/v1/campaigns/{campaign.id}", json={"name": "Y"}, headers=viewer
        )
        assert response.status_code == 403

    def test_other_tenant_is_404(
        self, client: TestClient, session: Session, headers: dict[str, str]
    ) -> None:
        foreign = make_campaign(session, make_organization(session))
        response = client.patch(
            f"/api/v1/campaigns/{foreign.id}", json={"name": "Y"}, headers=headers
        )
        assert response.status_code == 404

    def test_invalid_transition_names_both_states(
        self, client: TestClient, session: Session, org: Organization, headers: dict[str, str]
    ) -> None:
        campaign = make_campaign(session, org)
        response = client.patch(
            f"/api/v1/campaigns/{campaign.id}", json={"status": "completed"}, headers=headers
        )
        assert response.status_code == 409
        error = response.json()["error"]
        assert error["code"] == "invalid_transition"
        assert "'draft'" in error["message"] and "'completed'" in error["message"]

    def test_activation_says_what_is_missing(
        self, client: TestClient, session: Session, org: Organization, headers: dict[str, str]
    ) -> None:
        campaign = make_campaign(session, org)
        response = client.patch(
            f"/api/v1/campaigns/{campaign.id}", json={"status": "active"}, headers=headers
        )
        assert response.status_code == 409
        missing = response.json()["error"]["missing"]
        assert "an email sequence (email_template)" in missing
        assert "a postal address" in missing

    def test_lifecycle_keeps_dates(
        self,
        client: TestClient,
        session: Session,
        org: Organization,
        headers: dict[str, str],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        # Mailboxes belong to the mail domain; stand in for its check, keep the others real.
        monkeypatch.setattr(
            service, "READINESS_CHECKS", [service._has_sequence, service._has_postal_address]
        )
        org.settings = {"postal_address": "1 Main St, Springfield"}
        session.flush()
        campaign = make_campaign(session, org, email_template=SEQUENCE)
        url = f"/api/v1/campaigns/{campaign.id}"
        active = client.patch(url, json={"status": "active"}, headers=headers).json()
        assert active["status"] == "active" and active["started_at"]
        assert (
            client.patch(url, json={"status": "paused"}, headers=headers).json()["status"]
            == "paused"
        )
        resumed = client.patch(url, json={"status": "active"}, headers=headers).json()
        assert resumed["started_at"] == active["started_at"]
        done = client.patch(url, json={"status": "completed"}, headers=headers).json()
        assert done["completed_at"]
        assert (
            client.patch(url, json={"status": "archived"}, headers=headers).json()["status"]
            == "archived"
        )

    def test_daily_limit_bounds(
        self, client: TestClient, session: Session, org: Organization, headers: dict[str, str]
    ) -> None:
        campaign = make_campaign(session, org)
        response = client.patch(
            f"/api/v1/campaigns/{campaign.id}", json={"daily_limit": 20_000}, headers=headers
        )
        assert response.status_code == 422
        assert response.json()["error"]["field"] == "daily_limit"


class TestDeleteCampaign:
    def test_anonymous(self, client: TestClient, session: Session, org: Organization) -> None:
        campaign = make_campaign(session, org)
        assert client.delete(f"/api/v1/campaigns/{campaign.id}").status_code == 401

    def test_other_tenant_is_404(
        self, client: TestClient, session: Session, headers: dict[str, str]
    ) -> None:
        foreign = make_campaign(session, make_organization(session))
        assert client.delete(f"/api/v1/campaigns/{foreign.id}", headers=headers).status_code == 404

    def test_draft_is_deleted_others_archived(
        self, client: TestClient, session: Session, org: Organization, headers: dict[str, str]
    ) -> None:
        draft = make_campaign(session, org)
        running = make_campaign(session, org, status="active")
        assert client.delete(f"/api/v1/campaigns/{draft.id}", headers=headers).status_code == 204
        assert client.get(f"/api/v1/campaigns/{draft.id}", headers=headers).status_code == 404
        response = client.delete(f"/api/v1/campaigns/{running.id}", headers=headers)
        assert response.headers["x-vectra-outcome"] == "archived"
        body = client.get(f"/api/v1/campaigns/{running.id}", headers=headers).json()
        assert body["status"] == "archived" and body["completed_at"]
