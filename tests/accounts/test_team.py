"""Users and invitations: roles, deactivation, the last-owner rule, inviting and accepting."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.accounts.conftest import Team, member
from tests.factories import make_organization
from vectra.db.engine import Database
from vectra.web.app import create_app


def invite_token(message: EmailMessage) -> str:
    found = re.search(r"/invitations/accept\?token=([A-Za-z0-9_\-]+)", message.get_content())
    assert found
    return found.group(1)


class TestUsers:
    def test_list_and_get(self, client: TestClient, team: Team) -> None:
        listed = client.get("/api/v1/users", headers=team.viewer.headers)
        assert listed.status_code == 200
        assert {u["role"] for u in listed.json()} == {"owner", "admin", "manager", "viewer"}
        one = client.get(f"/api/v1/users/{team.manager.user.id}", headers=team.viewer.headers)
        assert one.json()["email"] == team.manager.user.email

    def test_change_role_is_audited(self, client: TestClient, team: Team) -> None:
        url = f"/api/v1/users/{team.viewer.user.id}"
        changed = client.patch(url, json={"role": "operator"}, headers=team.admin.headers)
        assert changed.status_code == 200 and changed.json()["role"] == "operator"
        events = client.get(
            "/api/v1/audit", params={"action": "user.role_changed"}, headers=team.owner.headers
        ).json()["items"]
        assert events[0]["details"] == {"from": "viewer", "to": "operator"}
        assert events[0]["actor_user_id"] == str(team.admin.user.id)
        assert events[0]["ip"] == "testclient"

    def test_bad_role_names_the_field(self, client: TestClient, team: Team) -> None:
        url = f"/api/v1/users/{team.viewer.user.id}"
        response = client.patch(url, json={"role": "emperor"}, headers=team.owner.headers)
        assert response.status_code == 422 and response.json()["error"]["field"] == "role"

    def test_admin_cannot_make_or_touch_an_owner(self, client: TestClient, team: Team) -> None:
        promote = client.patch(
            f"/api/v1/users/{team.manager.user.id}",
            json={"role": "owner"},
            headers=team.admin.headers,
        )
        assert promote.status_code == 403
        demote = client.patch(
            f"/api/v1/users/{team.owner.user.id}",
            json={"role": "viewer"},
            headers=team.admin.headers,
        )
        assert demote.status_code == 403
        remove = client.delete(f"/api/v1/users/{team.owner.user.id}", headers=team.admin.headers)
        assert remove.status_code == 403

    def test_last_owner_cannot_be_demoted_or_removed(self, client: TestClient, team: Team) -> None:
        url = f"/api/v1/users/{team.owner.user.id}"
        demote = client.patch(url, json={"role": "admin"}, headers=team.owner.headers)
        assert demote.status_code == 409 and demote.json()["error"]["field"] == "role"
        assert client.delete(url, headers=team.owner.headers).status_code == 409
        # with a second owner, the first may step down
        promote = client.patch(
            f"/api/v1/users/{team.admin.user.id}",
            json={"role": "owner"},
            headers=team.owner.headers,
        )
        assert promote.status_code == 200
        assert (
            client.patch(url, json={"role": "admin"}, headers=team.owner.headers).status_code == 200
        )

    def test_deactivation_revokes_access_at_once(self, client: TestClient, team: Team) -> None:
        assert client.get("/api/v1/me", headers=team.manager.headers).status_code == 200
        gone = client.delete(f"/api/v1/users/{team.manager.user.id}", headers=team.admin.headers)
        assert gone.status_code == 200 and gone.json()["is_active"] is False
        assert client.get("/api/v1/me", headers=team.manager.headers).status_code == 401
        back = client.patch(
            f"/api/v1/users/{team.manager.user.id}",
            json={"is_active": True},
            headers=team.admin.headers,
        )
        assert back.json()["is_active"] is True
        # the old token stays revoked: reactivation needs a new sign-in
        assert client.get("/api/v1/me", headers=team.manager.headers).status_code == 401


class TestInvitations:
    def test_invite_accept_sign_in(
        self, client: TestClient, team: Team, smtp_sink: list[EmailMessage]
    ) -> None:
        created = client.post(
            "/api/v1/invitations",
            json={"email": "New.Hire@Example.com", "role": "manager"},
            headers=team.admin.headers,
        )
        assert created.status_code == 201, created.text
        assert created.json()["status"] == "pending"
        assert smtp_sink[0]["To"] == "new.hire@example.com"
        token = invite_token(smtp_sink[0])
        again = client.post(
            "/api/v1/invitations",
            json={"email": "new.hire@example.com", "role": "viewer"},
            headers=team.admin.headers,
        )
        assert again.status_code == 409 and again.json()["error"]["field"] == "email"

        weak = client.post(
            "/api/v1/invitations/accept", json={"token": token, "password": "password123"}
        )
        assert weak.status_code == 422 and weak.json()["error"]["field"] == "password"
        accepted = client.post(
            "/api/v1/invitations/accept",
            json={"token": token, "password": "welcome aboard, friend", "first_name": "Nia"},
        )
        assert accepted.status_code == 201, accepted.text
        body = accepted.json()
        assert body["organization"]["id"] == str(team.organization.id)
        assert body["user"]["role"] == "manager" and body["user"]["email_verified"] is True
        me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
        assert me.status_code == 200
        reused = client.post(
            "/api/v1/invitations/accept", json={"token": token, "password": "welcome aboard, again"}
        )
        assert reused.status_code == 400 and reused.json()["error"]["field"] == "token"
        listed = client.get("/api/v1/invitations", headers=team.viewer.headers).json()
        assert [i["status"] for i in listed] == ["accepted"]
        actions = {
            e["action"]
            for e in client.get("/api/v1/audit", headers=team.owner.headers).json()["items"]
        }
        assert {"invitation.created", "invitation.accepted"} <= actions

    def test_cannot_invite_an_existing_account(
        self, client: TestClient, team: Team, other_team: Team, smtp_sink: list[EmailMessage]
    ) -> None:
        for email in (team.viewer.user.email, other_team.viewer.user.email.upper()):
            response = client.post(
                "/api/v1/invitations",
                json={"email": email, "role": "viewer"},
                headers=team.admin.headers,
            )
            assert response.status_code == 409 and response.json()["error"]["field"] == "email"
        assert smtp_sink == []

    def test_admin_cannot_invite_an_owner(
        self, client: TestClient, team: Team, smtp_sink: list[EmailMessage]
    ) -> None:
        body = {"email": "boss@example.com", "role": "owner"}
        assert (
            client.post("/api/v1/invitations", json=body, headers=team.admin.headers).status_code
            == 403
        )
        assert (
            client.post("/api/v1/invitations", json=body, headers=team.owner.headers).status_code
            == 201
        )

    def test_revoked_or_expired_invitation_cannot_be_accepted(
        self, client: TestClient, team: Team, session: Session, smtp_sink: list[EmailMessage]
    ) -> None:
        first = client.post(
            "/api/v1/invitations",
            json={"email": "a@example.com", "role": "viewer"},
            headers=team.admin.headers,
        ).json()
        client.post(
            "/api/v1/invitations",
            json={"email": "b@example.com", "role": "viewer"},
            headers=team.admin.headers,
        )
        revoked_token, expired_token = invite_token(smtp_sink[0]), invite_token(smtp_sink[1])
        revoke = client.delete(f"/api/v1/invitations/{first['id']}", headers=team.admin.headers)
        assert revoke.status_code == 200 and revoke.json()["status"] == "revoked"
        session.execute(
            text(
                "UPDATE invitations SET expires_at = now() - interval '1 second' "
                "WHERE email = 'b@example.com'"
            )
        )
        for token in (revoked_token, expired_token):
            response = client.post(
                "/api/v1/invitations/accept",
                json={"token": token, "password": "welcome aboard, friend"},
            )
            assert response.status_code == 400
        # an expired invitation no longer blocks a new one
        renewed = client.post(
            "/api/v1/invitations",
            json={"email": "b@example.com", "role": "viewer"},
            headers=team.admin.headers,
        )
        assert renewed.status_code == 201


def test_concurrent_demotions_of_the_last_two_owners_leave_one(
    committed_database: Database,
) -> None:
    with committed_database.system_session() as session:
        organization = make_organization(session)
        a = member(session, organization, "owner")
        b = member(session, organization, "owner")
        org_id, a_id, b_id = organization.id, a.user.id, b.user.id
        a_headers, b_headers = a.headers, b.headers
    app = create_app(committed_database)
    barrier = threading.Barrier(2)

    def demote(job: tuple[dict[str, str], object]) -> int:
        headers, target = job
        with TestClient(app) as client:
            barrier.wait()
            return client.patch(
                f"/api/v1/users/{target}", json={"role": "manager"}, headers=headers
            ).status_code

    # each owner demotes the other at the same moment
    with ThreadPoolExecutor(2) as pool:
        codes = sorted(pool.map(demote, [(a_headers, b_id), (b_headers, a_id)]))
    assert codes == [200, 409]
    with committed_database.owner_engine.connect() as conn:
        owners = conn.execute(
            text("SELECT count(*) FROM users WHERE organization_id = :o AND role = 'owner'"),
            {"o": org_id},
        ).scalar_one()
    assert owners == 1
