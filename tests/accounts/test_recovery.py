"""Password policy, email verification and password reset, through the app and a real SMTP sink."""

from __future__ import annotations

import re
from email.message import EmailMessage

from fastapi.testclient import TestClient
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from tests.accounts.conftest import Team
from tests.factories import PASSWORD
from vectra.accounts.actor import Actor
from vectra.accounts.models import AccountToken, User
from vectra.accounts.passwords import common_passwords, is_common_password
from vectra.accounts.recovery import require_verified_owner
from vectra.accounts.roles import Role
from vectra.errors import PermissionDenied

SIGNUP = {
    "organization_name": "Verified Ltd",
    "email": "Vera@Verified.example",
    "password": "a sufficiently long passphrase",
}


def token_in(message: EmailMessage, path: str) -> str:
    body = message.get_content()
    found = re.search(re.escape(path) + r"\?token=([A-Za-z0-9_\-]+)", body)
    assert found, body
    return found.group(1)


class TestPasswordPolicy:
    def test_list_is_shipped_and_case_insensitive(self) -> None:
        assert len(common_passwords()) > 19_000
        assert is_common_password("QwertyUIOP")
        assert not is_common_password("a sufficiently long passphrase")

    def test_common_password_refused_at_signup(self, client: TestClient) -> None:
        response = client.post("/api/v1/auth/signup", json={**SIGNUP, "password": "1q2w3e4r5t"})
        assert response.status_code == 422
        assert response.json()["error"]["field"] == "password"
        assert "common" in response.json()["error"]["message"]


class TestEmailVerification:
    def test_signup_mails_a_link_that_verifies_once(
        self, client: TestClient, session: Session, smtp_sink: list[EmailMessage]
    ) -> None:
        body = client.post("/api/v1/auth/signup", json=SIGNUP).json()
        headers = {"Authorization": f"Bearer {body['access_token']}"}
        assert body["user"]["email_verified"] is False
        assert len(smtp_sink) == 1
        assert smtp_sink[0]["To"] == "vera@verified.example"
        token = token_in(smtp_sink[0], "/verify-email")
        # The token is stored only hashed.
        stored = session.scalars(select(AccountToken.token_hash)).all()
        assert token not in stored and len(stored) == 1

        verified = client.post("/api/v1/auth/verify-email", json={"token": token})
        assert verified.status_code == 200, verified.text
        assert verified.json()["email_verified"] is True
        assert client.get("/api/v1/me", headers=headers).json()["user"]["email_verified"] is True
        reused = client.post("/api/v1/auth/verify-email", json={"token": token})
        assert reused.status_code == 400
        assert reused.json()["error"]["field"] == "token"
        again = client.post("/api/v1/auth/verify-email/request", headers=headers)
        assert again.status_code == 409

    def test_request_sends_a_new_link_and_old_ones_stop_working(
        self, client: TestClient, smtp_sink: list[EmailMessage]
    ) -> None:
        body = client.post("/api/v1/auth/signup", json=SIGNUP).json()
        headers = {"Authorization": f"Bearer {body['access_token']}"}
        first = token_in(smtp_sink[0], "/verify-email")
        assert client.post("/api/v1/auth/verify-email/request", headers=headers).status_code == 202
        second = token_in(smtp_sink[1], "/verify-email")
        assert first != second
        assert client.post("/api/v1/auth/verify-email", json={"token": first}).status_code == 400
        assert client.post("/api/v1/auth/verify-email", json={"token": second}).status_code == 200

    def test_expired_token_is_refused(
        self, client: TestClient, session: Session, smtp_sink: list[EmailMessage]
    ) -> None:
        client.post("/api/v1/auth/signup", json=SIGNUP)
        token = token_in(smtp_sink[0], "/verify-email")
        session.execute(text("UPDATE account_tokens SET expires_at = now() - interval '1 second'"))
        response = client.post("/api/v1/auth/verify-email", json={"token": token})
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "invalid_token"

    def test_signup_works_without_mail_configured(self, client: TestClient) -> None:
        assert client.post("/api/v1/auth/signup", json=SIGNUP).status_code == 201

    def test_sending_needs_a_verified_owner(self, session: Session, team: Team) -> None:
        actor = Actor(organization_id=team.organization.id, role=Role.MANAGER)
        try:
            require_verified_owner(session, actor)
            raise AssertionError("an unverified owner must not allow sending")
        except PermissionDenied as exc:
            assert exc.field == "email_verified"
        session.execute(
            update(User)
            .where(User.id == team.admin.user.id)
            .values(email_verified_at=text("now()"))
        )
        try:
            require_verified_owner(session, actor)  # an admin's verification is not enough
            raise AssertionError("only an owner's verification counts")
        except PermissionDenied:
            pass
        session.execute(
            update(User)
            .where(User.id == team.owner.user.id)
            .values(email_verified_at=text("now()"))
        )
        require_verified_owner(session, actor)


class TestPasswordReset:
    def test_same_answer_for_unknown_email_and_reset_revokes_sessions(
        self, client: TestClient, team: Team, smtp_sink: list[EmailMessage]
    ) -> None:
        known = client.post(
            "/api/v1/auth/password-reset/request", json={"email": team.owner.user.email.upper()}
        )
        unknown = client.post(
            "/api/v1/auth/password-reset/request", json={"email": "nobody@nowhere.example"}
        )
        assert known.status_code == unknown.status_code == 202
        assert known.json() == unknown.json()
        assert len(smtp_sink) == 1 and smtp_sink[0]["To"] == team.owner.user.email
        token = token_in(smtp_sink[0], "/reset-password")

        weak = client.post(
            "/api/v1/auth/password-reset", json={"token": token, "password": "short"}
        )
        assert weak.status_code == 422 and weak.json()["error"]["field"] == "password"
        done = client.post(
            "/api/v1/auth/password-reset",
            json={"token": token, "password": "a brand new passphrase"},
        )
        assert done.status_code == 204, done.text
        # every session of the user is gone; the new password works, the old does not
        assert client.get("/api/v1/me", headers=team.owner.headers).status_code == 401
        assert client.get("/api/v1/me", headers=team.admin.headers).status_code == 200
        email = team.owner.user.email
        old = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        assert old.status_code == 401
        new = client.post(
            "/api/v1/auth/login", json={"email": email, "password": "a brand new passphrase"}
        )
        assert new.status_code == 200
        reused = client.post(
            "/api/v1/auth/password-reset",
            json={"token": token, "password": "yet another passphrase"},
        )
        assert reused.status_code == 400 and reused.json()["error"]["field"] == "token"
        audit = client.get(
            "/api/v1/audit", params={"action": "user.password_reset"}, headers=team.admin.headers
        )
        assert [e["object_id"] for e in audit.json()["items"]] == [str(team.owner.user.id)]

    def test_reset_mails_are_capped_quietly(
        self, client: TestClient, team: Team, smtp_sink: list[EmailMessage]
    ) -> None:
        for _ in range(5):
            response = client.post(
                "/api/v1/auth/password-reset/request", json={"email": team.viewer.user.email}
            )
            assert response.status_code == 202
        assert len(smtp_sink) == 3

    def test_without_mail_configured_every_address_gets_503(
        self, client: TestClient, team: Team
    ) -> None:
        for email in (team.owner.user.email, "nobody@nowhere.example"):
            response = client.post("/api/v1/auth/password-reset/request", json={"email": email})
            assert response.status_code == 503
