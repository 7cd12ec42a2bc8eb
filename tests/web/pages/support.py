"""Signing a user in for page tests: a web session cookie and its CSRF token."""

from __future__ import annotations

import re
from dataclasses import dataclass

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.factories import make_organization, make_user
from vectra.accounts.models import Organization, User
from vectra.accounts.sessions import issue_session
from vectra.web.auth import SESSION_COOKIE


@dataclass
class SignedIn:
    organization: Organization
    user: User
    csrf: str


def sign_in(
    session: Session,
    client: TestClient,
    *,
    role: str = "owner",
    organization: Organization | None = None,
) -> SignedIn:
    """A user of `role` (in a new organization unless given), signed in on `client`."""
    organization = organization or make_organization(session)
    user = make_user(session, organization, role=role)
    issued = issue_session(session, user, kind="web")
    client.cookies.set(SESSION_COOKIE, issued.token)
    return SignedIn(organization, user, issued.session.csrf_token or "")


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "form without a CSRF token"
    return match.group(1)


def assert_login_redirect(client: TestClient, path: str) -> None:
    client.cookies.clear()
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303, (path, response.status_code)
    assert response.headers["location"].startswith("/login?next=")
