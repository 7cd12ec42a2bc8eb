"""Lead, suppression routes and the lead status machine, on the real database."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.factories import make_campaign, make_lead, make_organization, make_user
from vectra.accounts import sessions
from vectra.accounts.models import Organization
from vectra.leads.service import neutralise_cell
from vectra.leads.status import TRANSITIONS, LeadStatus, can_transition, explain_refusal


def headers_for(session: Session, org: Organization, role: str = "operator") -> dict[str, str]:
    user = make_user(session, org, role=role)
    return {"Authorization": f"Bearer {sessions.issue_session(session, user).token}"}


class TestCreateLead:
    def test_anonymous(self, client: TestClient, session: Session) -> None:
        campaign = make_campaign(session, make_organization(session))
        url = f"/api/v1/campaigns/{campaign.id}/leads"
        assert client.post(url, json={"email": "a@b.co"}).status_code == 401

    def test_wrong_role(self, client: TestClient, session: Session) -> None:
        org = make_organization(session)
        campaign = make_campaign(session, org)
        response = client.post(
            f"/api/v1/campaigns/{campaign.id}/leads",
            json={"email": "a@b.co"},
            headers=headers_for(session, org, "viewer"),
        )
        assert response.status_code == 403

    def test_other_tenant_is_404(self, client: TestClient, session: Session) -> None:
        foreign = make_campaign(session, make_organization(session))
        response = client.post(
            f"/api/v1/campaigns/{foreign.id}/leads",
            json={"email": "a@b.co"},
            headers=headers_for(session, make_organization(session)),
        )
        assert response.status_code == 404

    def test_bad_email_names_the_field(self, client: TestClient, session: Session) -> None:
        org = make_organization(session)
        campaign = make_campaign(session, org)
        response = client.post(
            f"/api/v1/campaigns/{campaign.id}/leads",
            json={"email": "not an email"},
            headers=headers_for(session, org),
        )
        assert response.status_code == 422
        assert response.json()["error"]["field"] == "email"

    def test_valid_normalised_and_unique_in_any_case(
        self, client: TestClient, session: Session
    ) -> None:
        org = make_organization(session)
        campaign = make_campaign(session, org)
        headers = headers_for(session, org)
        url = f"/api/v1/campaigns/{campaign.id}/leads"
        created = client.post(url, json={"email": "  Ada@XN--MNCHEN-3YA.de "}, headers=headers)
        assert created.status_code == 201, created.text
        assert created.json()["email"] == "ada@münchen.de"
        again = client.post(url, json={"email": "ADA@münchen.de"}, headers=headers)
        assert again.status_code == 409 and again.json()["error"]["field"] == "email"

    def test_suppressed_address_is_refused(self, client: TestClient, session: Session) -> None:
        org = make_organization(session)
        campaign = make_campaign(session, org)
        headers = headers_for(session, org)
        added = client.post("/api/v1/suppressions", json={"value": "@Rival.com"}, headers=headers)
        assert added.status_code == 201 and added.json()["kind"] == "domain"
        response = client.post(
            f"/api/v1/campaigns/{campaign.id}/leads", json={"email": "x@rival.com"}, headers=headers
        )
        assert response.status_code == 409


class TestLeadDetailAndStatus:
    def test_other_tenant_is_404(self, client: TestClient, session: Session) -> None:
        lead = make_lead(session, make_campaign(session, make_organization(session)))
        headers = headers_for(session, make_organization(session))
        assert client.get(f"/api/v1/leads/{lead.id}", headers=headers).status_code == 404
        assert client.patch(f"/api/v1/leads/{lead.id}", json={}, headers=headers).status_code == 404

    def test_not_found(self, client: TestClient, session: Session) -> None:
        headers = headers_for(session, make_organization(session))
        assert client.get(f"/api/v1/leads/{uuid.uuid4()}", headers=headers).status_code == 404

    def test_refused_transition_is_explained(self, client: TestClient, session: Session) -> None:
        org = make_organization(session)
        lead = make_lead(session, make_campaign(session, org))
        response = client.patch(
            f"/api/v1/leads/{lead.id}",
            json={"status": "contacted"},
            headers=headers_for(session, org),
        )
        assert response.status_code == 409
        assert "only a qualified lead is contacted" in response.json()["error"]["message"]

    def test_changes_are_recorded(self, client: TestClient, session: Session) -> None:
        org = make_organization(session)
        lead = make_lead(session, make_campaign(session, org))
        headers = headers_for(session, org)
        for to in ("enriched", "scoring", "rejected"):
            response = client.patch(
                f"/api/v1/leads/{lead.id}",
                json={"status": to, "reason": f"to {to}"},
                headers=headers,
            )
            assert response.status_code == 200, response.text
        history = client.get(f"/api/v1/leads/{lead.id}", headers=headers).json()["status_history"]
        assert [(h["from_status"], h["to_status"]) for h in history] == [
            ("new", "enriched"),
            ("enriched", "scoring"),
            ("scoring", "rejected"),
        ]
        assert history[-1]["reason"] == "to rejected" and history[-1]["actor_kind"] == "user"


class TestListLeads:
    def test_filters_search_and_pages(self, client: TestClient, session: Session) -> None:
        org = make_organization(session)
        campaign = make_campaign(session, org)
        for i in range(5):
            make_lead(session, campaign, company_name=f"Globex {i}", bant_score=50 + i * 10)
        make_lead(session, campaign, company_name="Initech", bant_score=99)
        make_lead(
            session, make_campaign(session, make_organization(session)), company_name="Globex"
        )
        headers = headers_for(session, org)
        url = f"/api/v1/campaigns/{campaign.id}/leads"
        seen, cursor = [], None
        while True:
            params = {
                "q": "globex",
                "min_score": 60,
                "limit": 2,
                **({"cursor": cursor} if cursor else {}),
            }
            page = client.get(url, params=params, headers=headers).json()
            seen += [lead["company_name"] for lead in page["items"]]
            if not (cursor := page["next_cursor"]):
                break
        assert sorted(seen) == ["Globex 1", "Globex 2", "Globex 3", "Globex 4"]
        bad = client.get(url, params={"min_score": 90, "max_score": 10}, headers=headers)
        assert bad.status_code == 422 and bad.json()["error"]["field"] == "min_score"


class TestSuppressions:
    def test_wrong_role_and_bad_input(self, client: TestClient, session: Session) -> None:
        org = make_organization(session)
        viewer = headers_for(session, org, "viewer")
        assert (
            client.post(
                "/api/v1/suppressions", json={"value": "a@b.co"}, headers=viewer
            ).status_code
            == 403
        )
        bad = client.post(
            "/api/v1/suppressions", json={"value": "nodot"}, headers=headers_for(session, org)
        )
        assert bad.status_code == 422 and bad.json()["error"]["field"] == "value"

    def test_other_tenant_cannot_remove(self, client: TestClient, session: Session) -> None:
        org = make_organization(session)
        entry = client.post(
            "/api/v1/suppressions", json={"value": "a@b.co"}, headers=headers_for(session, org)
        ).json()
        other = headers_for(session, make_organization(session))
        assert (
            client.delete(f"/api/v1/suppressions/{entry['id']}", headers=other).status_code == 404
        )

    def test_removal_is_audited(self, client: TestClient, session: Session) -> None:
        org = make_organization(session)
        headers = headers_for(session, org)
        entry = client.post(
            "/api/v1/suppressions", json={"value": "A@B.co"}, headers=headers
        ).json()
        assert entry["value"] == "a@b.co"
        assert (
            client.get("/api/v1/suppressions", headers=headers).json()["items"][0]["id"]
            == entry["id"]
        )
        assert (
            client.delete(f"/api/v1/suppressions/{entry['id']}", headers=headers).status_code == 204
        )
        action = session.execute(
            text("SELECT action FROM audit_events WHERE object_id = :id"), {"id": entry["id"]}
        ).scalar_one()
        assert action == "suppression.removed"


class TestExport:
    def test_formulas_are_neutralised(self, client: TestClient, session: Session) -> None:
        org = make_organization(session)
        campaign = make_campaign(session, org)
        make_lead(session, campaign, company_name='=HYPERLINK("http://evil")')
        response = client.get(
            f"/api/v1/campaigns/{campaign.id}/leads/export", headers=headers_for(session, org)
        )
        assert response.status_code == 200
        assert "'=HYPERLINK" in response.text


@given(st.text(max_size=20))
def test_no_exported_cell_starts_a_formula(value: str) -> None:
    assert not neutralise_cell(value).startswith(("=", "+", "-", "@", "\t", "\r"))


@given(st.lists(st.sampled_from(list(LeadStatus)), max_size=12))
def test_status_machine_walks_only_declared_edges(path: list[LeadStatus]) -> None:
    current = LeadStatus.NEW
    for to in path:
        if to == current:
            continue
        if can_transition(current, to):
            assert to in TRANSITIONS[current]
            current = to
        else:
            message = explain_refusal(current, to)
            assert f"'{current}'" in message and f"'{to}'" in message
    # completed is final; every state but completed can move somewhere
    assert all(TRANSITIONS[s] for s in LeadStatus if s != LeadStatus.COMPLETED)
