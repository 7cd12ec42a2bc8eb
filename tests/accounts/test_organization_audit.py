"""Organization settings, deletion, the audit log and the web-session cookie helpers."""

from __future__ import annotations

from fastapi import Request, Response
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.accounts.conftest import Team
from vectra.accounts import sessions
from vectra.accounts.actor import Actor
from vectra.accounts.audit import record
from vectra.accounts.cookies import (
    SESSION_COOKIE,
    clear_session_cookie,
    csrf_token,
    set_session_cookie,
)
from vectra.accounts.models import Organization
from vectra.accounts.roles import Role
from vectra.web import auth

ADDRESS = {"street": "1 Main St", "city": "Berlin", "postal_code": "10115", "country": "de"}


class TestOrganizationSettings:
    def test_read_and_update(self, client: TestClient, team: Team) -> None:
        current = client.get("/api/v1/organization", headers=team.viewer.headers).json()
        assert current["settings"]["timezone"] == "UTC"
        assert current["settings"]["postal_address"] is None
        changed = client.patch(
            "/api/v1/organization",
            json={
                "name": "Renamed GmbH",
                "timezone": "Europe/Berlin",
                "postal_address": ADDRESS,
                "sending_defaults": {"from_name": "Renamed Sales", "daily_limit": 80},
                "data_retention_months": 12,
            },
            headers=team.admin.headers,
        )
        assert changed.status_code == 200, changed.text
        body = changed.json()
        assert body["name"] == "Renamed GmbH"
        assert body["settings"]["postal_address"]["country"] == "DE"
        # a partial update of the defaults keeps the others
        client.patch(
            "/api/v1/organization",
            json={"sending_defaults": {"skip_weekends": False}},
            headers=team.admin.headers,
        )
        again = client.get("/api/v1/organization", headers=team.viewer.headers).json()
        defaults = again["settings"]["sending_defaults"]
        assert defaults["from_name"] == "Renamed Sales" and defaults["skip_weekends"] is False
        assert again["settings"]["timezone"] == "Europe/Berlin"
        events = client.get(
            "/api/v1/audit", params={"action": "organization."}, headers=team.owner.headers
        ).json()["items"]
        assert len(events) == 2

    def test_bad_values_name_the_field(self, client: TestClient, team: Team) -> None:
        for body, field in [
            ({"timezone": "Mars/Olympus"}, "timezone"),
            ({"postal_address": {**ADDRESS, "city": ""}}, "postal_address.city"),
            ({"postal_address": {"street": "1 Main St"}}, "postal_address.city"),
            ({"postal_address": {**ADDRESS, "country": "Germany"}}, "postal_address.country"),
            ({"data_retention_months": 0}, "data_retention_months"),
            ({"sending_defaults": {"daily_limit": -1}}, "sending_defaults.daily_limit"),
            ({"name": ""}, "name"),
            ({"plan": "scale"}, "plan"),
        ]:
            response = client.patch("/api/v1/organization", json=body, headers=team.owner.headers)
            assert response.status_code == 422, body
            assert response.json()["error"]["field"] == field, (body, response.json())

    def test_only_the_owner_deletes_and_must_confirm_the_slug(
        self, client: TestClient, team: Team, session: Session
    ) -> None:
        slug = team.organization.slug
        denied = client.request(
            "DELETE",
            "/api/v1/organization",
            json={"confirm_slug": slug},
            headers=team.admin.headers,
        )
        assert denied.status_code == 403
        wrong = client.request(
            "DELETE",
            "/api/v1/organization",
            json={"confirm_slug": "nope"},
            headers=team.owner.headers,
        )
        assert wrong.status_code == 422 and wrong.json()["error"]["field"] == "confirm_slug"
        done = client.request(
            "DELETE",
            "/api/v1/organization",
            json={"confirm_slug": slug},
            headers=team.owner.headers,
        )
        assert done.status_code == 204, done.text
        left = session.scalar(
            select(func.count()).select_from(Organization).where(Organization.slug == slug)
        )
        assert left == 0
        assert client.get("/api/v1/me", headers=team.owner.headers).status_code == 401


class TestAuditLog:
    def test_sign_up_and_sign_in_are_recorded(self, client: TestClient) -> None:
        signup = client.post(
            "/api/v1/auth/signup",
            json={
                "organization_name": "Audited",
                "email": "audit@audited.example",
                "password": "a sufficiently long passphrase",
            },
        ).json()
        client.post(
            "/api/v1/auth/login",
            json={"email": "audit@audited.example", "password": "a sufficiently long passphrase"},
        )
        headers = {"Authorization": f"Bearer {signup['access_token']}"}
        items = client.get("/api/v1/audit", headers=headers).json()["items"]
        assert [e["action"] for e in items] == ["user.signed_in", "user.signed_up"]
        assert items[1]["object_id"] == signup["organization"]["id"]
        assert all(e["ip"] == "testclient" for e in items)

    def test_keyset_pagination_and_filters(
        self, client: TestClient, team: Team, other_team: Team, session: Session
    ) -> None:
        actor = Actor(
            organization_id=team.organization.id, role=Role.OWNER, user_id=team.owner.user.id
        )
        for n in range(7):
            record(session, actor, "lead.exported", object_type="campaign", object_id=f"c{n % 2}")
        record(
            session,
            Actor(organization_id=other_team.organization.id, role=Role.OWNER),
            "lead.exported",
            object_type="campaign",
            object_id="c0",
        )
        seen: list[str] = []
        cursor = None
        pages = 0
        while True:
            params = {
                "action": "lead.exported",
                "limit": 3,
                **({"cursor": cursor} if cursor else {}),
            }
            page = client.get("/api/v1/audit", params=params, headers=team.admin.headers).json()
            seen += [e["id"] for e in page["items"]]
            pages += 1
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert pages == 3 and len(seen) == len(set(seen)) == 7  # the other org's event stays out
        only_c0 = client.get(
            "/api/v1/audit", params={"object_id": "c0"}, headers=team.admin.headers
        ).json()["items"]
        assert len(only_c0) == 4
        bad = client.get("/api/v1/audit", params={"cursor": "garbage!"}, headers=team.admin.headers)
        assert bad.status_code == 422 and bad.json()["error"]["field"] == "cursor"

    def test_only_owner_and_admin_read_it(self, client: TestClient, team: Team) -> None:
        assert client.get("/api/v1/audit", headers=team.admin.headers).status_code == 200
        assert client.get("/api/v1/audit", headers=team.manager.headers).status_code == 403


class TestWebCookie:
    def test_cookie_flags_and_csrf(self, client: TestClient, team: Team, session: Session) -> None:
        issued = sessions.issue_session(session, team.manager.user, kind="web")
        response = Response()
        set_session_cookie(response, issued, base_url="https://vectra.example")
        cookie = response.headers["set-cookie"]
        assert f"{SESSION_COOKIE}={issued.token}" in cookie
        for flag in ("HttpOnly", "SameSite=lax", "Secure", "Path=/"):
            assert flag.lower() in cookie.lower()
        plain = Response()
        set_session_cookie(plain, issued, base_url="http://127.0.0.1:8000")
        assert "secure" not in plain.headers["set-cookie"].lower()
        cleared = Response()
        clear_session_cookie(cleared, base_url="http://127.0.0.1:8000")
        assert "max-age=0" in cleared.headers["set-cookie"].lower()
        assert SESSION_COOKIE == auth.SESSION_COOKIE

        request = Request(
            {
                "type": "http",
                "method": "GET",
                "path": "/",
                "headers": [(b"cookie", f"{SESSION_COOKIE}={issued.token}".encode())],
            }
        )
        token = csrf_token(session, request)
        assert token == issued.session.csrf_token and token
        assert csrf_token(session, Request({"type": "http", "headers": []})) is None

        client.cookies.set(SESSION_COOKIE, issued.token)
        try:
            assert client.get("/api/v1/me").status_code == 200
            assert client.post("/api/v1/auth/logout").status_code == 403  # no CSRF token
            wrong = client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": "guess"})
            assert wrong.status_code == 403
            right = client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": token})
            assert right.status_code == 204
            assert client.get("/api/v1/me").status_code == 401
        finally:
            client.cookies.clear()
