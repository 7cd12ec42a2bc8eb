"""The approval queue API: who may do what, tenancy, pagination, and the draft rules."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.factories import make_user
from tests.mail.drafting import actor_for, qualified_lead, sequence, setup_org
from vectra.accounts import sessions
from vectra.accounts.models import User
from vectra.mail.drafts import draft_sequence_for_lead
from vectra.mail.models import Email


def auth(session: Session, user: User) -> dict[str, str]:
    return {"Authorization": f"Bearer {sessions.issue_session(session, user).token}"}


def drafted(session: Session, *, template: dict | None = None, leads: int = 1):  # type: ignore[no-untyped-def]
    organization, owner, campaign = setup_org(session, template=template)
    emails: list[Email] = []
    for _ in range(leads):
        lead = qualified_lead(session, campaign)
        emails += draft_sequence_for_lead(session, actor_for(owner), lead.id)
    return organization, owner, campaign, emails


class TestRoles:
    def test_operators_list_and_edit_but_only_managers_approve(
        self, client: TestClient, session: Session
    ) -> None:
        organization, _owner, _campaign, emails = drafted(session)
        operator = auth(session, make_user(session, organization, role="operator"))
        manager_user = make_user(session, organization, role="manager")
        manager = auth(session, manager_user)
        target = emails[0].id

        listed = client.get("/api/v1/emails", headers=operator)
        assert listed.status_code == 200
        assert {i["id"] for i in listed.json()["items"]} == {str(e.id) for e in emails}
        assert client.post(f"/api/v1/emails/{target}/approve", headers=operator).status_code == 403
        reject = client.post(
            f"/api/v1/emails/{target}/reject", headers=operator, json={"reason": "tone"}
        )
        assert reject.status_code == 403

        approved = client.post(f"/api/v1/emails/{target}/approve", headers=manager)
        assert approved.status_code == 200
        body = approved.json()
        assert body["status"] == "approved"
        assert body["approved_by"] == str(manager_user.id)
        assert body["approved_at"]

    def test_viewers_read_only(self, client: TestClient, session: Session) -> None:
        organization, _owner, _campaign, emails = drafted(session)
        viewer = auth(session, make_user(session, organization, role="viewer"))
        assert client.get(f"/api/v1/emails/{emails[0].id}", headers=viewer).status_code == 200
        edit = client.patch(f"/api/v1/emails/{emails[0].id}", headers=viewer, json={"body": "x"})
        assert edit.status_code == 403

    def test_anonymous_is_401(self, client: TestClient) -> None:
        assert client.get("/api/v1/emails").status_code == 401


class TestTenancy:
    def test_another_organizations_email_is_404_everywhere(
        self, client: TestClient, session: Session
    ) -> None:
        _org, _owner, _campaign, emails = drafted(session)
        _other_org, other_owner, _c = setup_org(session)
        other = auth(session, other_owner)
        target = emails[0].id
        assert client.get(f"/api/v1/emails/{target}", headers=other).status_code == 404
        assert client.post(f"/api/v1/emails/{target}/approve", headers=other).status_code == 404
        reject = client.post(f"/api/v1/emails/{target}/reject", headers=other, json={"reason": "x"})
        assert reject.status_code == 404
        edit = client.patch(f"/api/v1/emails/{target}", headers=other, json={"subject": "x"})
        assert edit.status_code == 404
        assert client.get("/api/v1/emails", headers=other).json()["items"] == []
        bulk = client.post(
            "/api/v1/emails/bulk-approve", headers=other, json={"email_ids": [str(target)]}
        )
        assert bulk.json() == {"approved": [], "skipped": {str(target): "not_found"}}
        session.refresh(emails[0])
        assert emails[0].status == "pending"
        draft = client.post(
            "/api/v1/emails/drafts", headers=other, json={"lead_id": str(emails[0].lead_id)}
        )
        assert draft.status_code == 404


class TestQueue:
    def test_keyset_pages_cover_the_queue_once(self, client: TestClient, session: Session) -> None:
        _org, owner, _campaign, emails = drafted(session, leads=3)
        headers = auth(session, owner)
        seen: list[str] = []
        cursor = None
        while True:
            params = {"limit": 4} | ({"cursor": cursor} if cursor else {})
            page = client.get("/api/v1/emails", headers=headers, params=params).json()
            seen += [i["id"] for i in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert len(seen) == len(set(seen)) == len(emails) == 6

    def test_filters(self, client: TestClient, session: Session) -> None:
        _org, owner, _campaign, emails = drafted(session, leads=2)
        headers = auth(session, owner)
        lead_id = emails[0].lead_id
        by_lead = client.get("/api/v1/emails", headers=headers, params={"lead_id": str(lead_id)})
        assert {i["lead_id"] for i in by_lead.json()["items"]} == {str(lead_id)}
        approved = client.get("/api/v1/emails", headers=headers, params={"status": "approved"})
        assert approved.json()["items"] == []
        bad = client.get("/api/v1/emails", headers=headers, params={"status": "bogus"})
        assert bad.status_code == 422 and bad.json()["error"]["field"] == "status"
        bad_cursor = client.get("/api/v1/emails", headers=headers, params={"cursor": "zz"})
        assert bad_cursor.status_code == 422

    def test_reject_needs_a_reason(self, client: TestClient, session: Session) -> None:
        _org, owner, _campaign, emails = drafted(session)
        headers = auth(session, owner)
        url = f"/api/v1/emails/{emails[0].id}/reject"
        assert client.post(url, headers=headers, json={"reason": ""}).status_code == 422
        done = client.post(url, headers=headers, json={"reason": "Too pushy"})
        assert done.json()["status"] == "rejected"
        assert done.json()["rejection_reason"] == "Too pushy"
        again = client.post(f"/api/v1/emails/{emails[0].id}/approve", headers=headers)
        assert again.status_code == 409

    def test_an_edit_rechecks_and_returns_to_pending(
        self, client: TestClient, session: Session
    ) -> None:
        template = sequence(steps=[{"subject": "Hi {{ lead.phone }}", "body": "x"}])
        _org, owner, _campaign, emails = drafted(session, template=template)
        headers = auth(session, owner)
        url = f"/api/v1/emails/{emails[0].id}"
        blocked = client.post(f"{url}/approve", headers=headers)
        assert blocked.status_code == 409
        assert "missing_variable" in blocked.json()["error"]["message"]
        edited = client.patch(
            url,
            headers=headers,
            json={"subject": "Hi Ada", "body": "Buy now!!! https://elsewhere.example"},
        )
        assert edited.status_code == 200
        codes = {f["code"] for f in edited.json()["review_flags"]}
        assert "missing_variable" not in codes
        assert {"spam_words", "unknown_link_domain", "length"} <= codes
        assert "&lt;" not in edited.json()["body_html"]
        assert client.post(f"{url}/approve", headers=headers).status_code == 200
        assert client.patch(url, headers=headers, json={"body": "late"}).status_code == 409

    def test_bulk_approve_reports_what_it_skipped(
        self, client: TestClient, session: Session
    ) -> None:
        _org, owner, _campaign, emails = drafted(session, leads=2)
        headers = auth(session, owner)
        client.post(f"/api/v1/emails/{emails[0].id}/reject", headers=headers, json={"reason": "no"})
        missing = uuid.uuid4()
        ids = [str(e.id) for e in emails] + [str(missing)]
        result = client.post(
            "/api/v1/emails/bulk-approve", headers=headers, json={"email_ids": ids}
        )
        assert result.status_code == 200
        body = result.json()
        assert set(body["approved"]) == {str(e.id) for e in emails[1:]}
        assert set(body["skipped"]) == {str(emails[0].id), str(missing)}
        empty = client.post("/api/v1/emails/bulk-approve", headers=headers, json={"email_ids": []})
        assert empty.status_code == 422

    def test_drafting_through_the_api(self, client: TestClient, session: Session) -> None:
        _org, owner, campaign = setup_org(session)
        lead = qualified_lead(session, campaign)
        headers = auth(session, owner)
        made = client.post("/api/v1/emails/drafts", headers=headers, json={"lead_id": str(lead.id)})
        assert made.status_code == 201
        assert [d["sequence_step"] for d in made.json()] == [0, 1]
        stats = client.get(
            "/api/v1/emails/variant-stats",
            headers=headers,
            params={"campaign_id": str(campaign.id)},
        )
        assert stats.status_code == 200
        assert [(r["step"], r["drafts"], r["sent"]) for r in stats.json()] == [(0, 1, 0), (1, 1, 0)]


def test_edits_are_text_and_the_html_part_is_escaped(client: TestClient, session: Session) -> None:
    _org, owner, _campaign, emails = drafted(session)
    headers = auth(session, owner)
    url = f"/api/v1/emails/{emails[0].id}"
    raw_html = client.patch(url, headers=headers, json={"body_html": "<script>x</script>"})
    assert raw_html.status_code == 422
    edited = client.patch(url, headers=headers, json={"body": "Hi <script>alert(1)</script>"})
    assert edited.status_code == 200
    assert "<script>" not in edited.json()["body_html"]
    assert "&lt;script&gt;" in edited.json()["body_html"]
