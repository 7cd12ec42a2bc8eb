"""Sign-up, login, logout and /me through the real app and database."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from vectra.accounts.models import Organization, User
from vectra.db.engine import Database
from vectra.web.app import create_app

SIGNUP = {
    "organization_name": "Acme Robotics",
    "email": "Owner@Acme.example",
    "password": "a sufficiently long passphrase",
    "first_name": "Olive",
    "last_name": "Owner",
}


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class TestSignup:
    def test_valid(self, client: TestClient, session: Session) -> None:
        response = client.post("/api/v1/auth/signup", json=SIGNUP)
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["token_type"] == "bearer"
        assert body["organization"]["slug"] == "acme-robotics"
        assert body["organization"]["plan"] == "trial"
        assert body["user"] == {**body["user"], "email": "owner@acme.example", "role": "owner"}
        me = client.get("/api/v1/me", headers=auth(body["access_token"]))
        assert me.status_code == 200
        assert me.json()["organization"]["id"] == body["organization"]["id"]
        assert "billing.manage" in me.json()["permissions"]
        status = session.execute(
            text("SELECT status FROM subscriptions WHERE organization_id = :o"),
            {"o": body["organization"]["id"]},
        ).scalar_one()
        assert status == "trialing"

    def test_duplicate_email_any_case(self, client: TestClient, session: Session) -> None:
        assert client.post("/api/v1/auth/signup", json=SIGNUP).status_code == 201
        again = client.post(
            "/api/v1/auth/signup",
            json={**SIGNUP, "organization_name": "Other", "email": "OWNER@acme.EXAMPLE"},
        )
        assert again.status_code == 409
        assert again.json()["error"]["field"] == "email"
        # nothing half-created: the second organization does not exist
        assert session.scalar(select(func.count()).select_from(Organization)) == 1

    def test_bad_input_names_the_field(self, client: TestClient) -> None:
        weak = client.post("/api/v1/auth/signup", json={**SIGNUP, "password": "short"})
        assert weak.status_code == 422
        assert weak.json()["error"]["field"] == "password"
        bad_email = client.post("/api/v1/auth/signup", json={**SIGNUP, "email": "not-an-email"})
        assert bad_email.status_code == 422
        assert bad_email.json()["error"]["field"] == "email"
        unknown = client.post("/api/v1/auth/signup", json={**SIGNUP, "plan": "scale"})
        assert unknown.status_code == 422
        assert unknown.json()["error"]["field"] == "plan"


class TestLogin:
    def test_valid_and_logout_revokes(self, client: TestClient) -> None:
        client.post("/api/v1/auth/signup", json=SIGNUP)
        login = client.post(
            "/api/v1/auth/login",
            json={"email": "OWNER@acme.example", "password": SIGNUP["password"]},
        )
        assert login.status_code == 200
        token = login.json()["access_token"]
        assert client.get("/api/v1/me", headers=auth(token)).status_code == 200
        assert client.post("/api/v1/auth/logout", headers=auth(token)).status_code == 204
        assert client.get("/api/v1/me", headers=auth(token)).status_code == 401

    def test_same_answer_for_unknown_email_and_wrong_password(self, client: TestClient) -> None:
        client.post("/api/v1/auth/signup", json=SIGNUP)
        wrong = client.post(
            "/api/v1/auth/login", json={"email": SIGNUP["email"], "password": "wrong password!"}
        )
        unknown = client.post(
            "/api/v1/auth/login", json={"email": "nobody@acme.example", "password": "whatever12"}
        )
        assert wrong.status_code == unknown.status_code == 401
        assert wrong.json() == unknown.json()

    def test_deactivated_user_loses_access_at_once(
        self, client: TestClient, session: Session
    ) -> None:
        token = client.post("/api/v1/auth/signup", json=SIGNUP).json()["access_token"]
        session.execute(text("UPDATE users SET is_active = false"))
        assert client.get("/api/v1/me", headers=auth(token)).status_code == 401

    def test_last_login_is_recorded(self, client: TestClient, session: Session) -> None:
        client.post("/api/v1/auth/signup", json=SIGNUP)
        client.post(
            "/api/v1/auth/login", json={"email": SIGNUP["email"], "password": SIGNUP["password"]}
        )
        user = session.scalar(select(User).where(User.email == "owner@acme.example"))
        assert user is not None and user.last_login_at is not None


class TestAnonymous:
    def test_private_routes_answer_401(self, client: TestClient) -> None:
        assert client.get("/api/v1/me").status_code == 401
        assert client.get("/api/v1/me", headers=auth("vs_forged")).status_code == 401
        assert client.get("/api/v1/me", headers=auth("garbage")).status_code == 401


def test_concurrent_signups_with_the_same_name_get_distinct_slugs(
    committed_database: Database,
) -> None:
    app = create_app(committed_database)
    barrier = threading.Barrier(6)

    def sign_up(n: int) -> int:
        with TestClient(app) as client:
            barrier.wait()
            body = {**SIGNUP, "email": f"owner{n}@acme.example"}
            return client.post("/api/v1/auth/signup", json=body).status_code

    with ThreadPoolExecutor(6) as pool:
        codes = list(pool.map(sign_up, range(6)))
    assert codes == [201] * 6
    with committed_database.owner_engine.connect() as conn:
        slugs = conn.execute(text("SELECT slug FROM organizations")).scalars().all()
    assert len(set(slugs)) == 6
    assert "acme-robotics" in slugs
