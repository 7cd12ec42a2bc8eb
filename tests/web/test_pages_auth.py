"""Sign-up, sign-in and sign-out through the pages: cookie sessions and CSRF."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "form without a CSRF token"
    return match.group(1)


def sign_up(client: TestClient, email: str = "olive@acme.example") -> None:
    page = client.get("/signup")
    assert page.status_code == 200
    response = client.post(
        "/signup",
        data={
            "organization_name": "Acme Pages",
            "email": email,
            "password": "a long enough passphrase",
            "first_name": "Olive",
            "last_name": "Owner",
            "csrf_token": csrf_of(page.text),
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/dashboard"
    cookie = response.headers["set-cookie"]
    assert "vectra_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie


class TestPages:
    def test_signup_lands_on_the_dashboard(self, client: TestClient) -> None:
        sign_up(client)
        dashboard = client.get("/dashboard")
        assert dashboard.status_code == 200
        assert "Acme Pages" in dashboard.text
        assert "verify your email" in dashboard.text

    def test_anonymous_page_redirects_to_login(self, client: TestClient) -> None:
        response = client.get("/dashboard", follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/login?next=/dashboard"

    def test_login_form_fields_and_wrong_password(self, client: TestClient) -> None:
        sign_up(client)
        client.cookies.clear()
        page = client.get("/login")
        assert 'name="email"' in page.text and 'name="password"' in page.text
        assert 'type="submit"' in page.text
        wrong = client.post(
            "/login",
            data={
                "email": "olive@acme.example",
                "password": "nope nope nope",
                "csrf_token": csrf_of(page.text),
            },
        )
        assert wrong.status_code == 400
        assert "Invalid email or password" in wrong.text

    def test_login_then_logout(self, client: TestClient) -> None:
        sign_up(client)
        client.cookies.clear()
        page = client.get("/login?next=/dashboard")
        ok = client.post(
            "/login",
            data={
                "email": "OLIVE@acme.example",
                "password": "a long enough passphrase",
                "csrf_token": csrf_of(page.text),
                "next": "//evil.example/",
            },
            follow_redirects=False,
        )
        assert ok.status_code == 303
        assert ok.headers["location"] == "/dashboard"  # no open redirect
        dashboard = client.get("/dashboard")
        out = client.post(
            "/logout", data={"csrf_token": csrf_of(dashboard.text)}, follow_redirects=False
        )
        assert out.status_code == 303
        assert client.get("/dashboard", follow_redirects=False).status_code == 303

    def test_forms_without_csrf_are_refused(self, client: TestClient) -> None:
        client.get("/login")
        response = client.post("/login", data={"email": "a@b.example", "password": "x" * 12})
        assert response.status_code == 403
        sign_up(client)
        assert client.post("/logout", data={}).status_code == 403

    def test_cookie_session_cannot_call_the_api_unsafely_without_csrf(
        self, client: TestClient
    ) -> None:
        sign_up(client)
        assert client.get("/api/v1/me").status_code == 200  # safe method: cookie is enough
        assert client.post("/api/v1/auth/logout").status_code == 403
        assert client.get("/api/v1/me").status_code == 200

    def test_static_assets_are_served_locally(self, client: TestClient) -> None:
        page = client.get("/login")
        assert "/static/vendor/pico.min.css" in page.text
        assert "https://" not in re.sub(r'href="https://[^"]*"', "", page.text.split("<body")[0])
        assert client.get("/static/app.css").status_code == 200
