"""Every API route declares a permission, and every role gets exactly what the table says.

The walk is built from the app's own routes: a new route without `require(...)` or
`public()` fails here, and so does a route whose answer for some role disagrees with
`vectra.accounts.permissions.ROLE_PERMISSIONS`.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.factories import make_organization, make_user
from tests.routes import all_api_routes
from vectra.accounts import sessions
from vectra.accounts.permissions import ROLE_PERMISSIONS
from vectra.accounts.roles import Role
from vectra.web.auth import PublicRoute, Requirement


def declared(route: Any) -> list[Any]:
    """The Requirement / PublicRoute markers anywhere in the route's dependency tree."""
    found: list[Any] = []
    stack = [route.dependant]
    while stack:
        dependant = stack.pop()
        if isinstance(dependant.call, Requirement | PublicRoute):
            found.append(dependant.call)
        stack.extend(dependant.dependencies)
    return found


def api_routes(app: FastAPI) -> list[Any]:
    routes = [r for r in all_api_routes(app) if r.path.startswith("/api/")]
    assert len(routes) > 50, f"only {len(routes)} API routes found: the walk is broken"
    return routes


def test_every_api_route_declares_exactly_one_permission(app: FastAPI) -> None:
    undeclared = []
    for route in api_routes(app):
        markers = {
            type(m).__name__ + ":" + str(getattr(m, "permission", "")) for m in declared(route)
        }
        if len(markers) != 1:
            undeclared.append(f"{sorted(route.methods)} {route.path}: {sorted(markers)}")
    assert not undeclared, "routes without exactly one require()/public():\n" + "\n".join(
        undeclared
    )


def _fill(path: str) -> str:
    return re.sub(r"\{[^}]+\}", str(uuid.uuid4()), path)


@pytest.mark.parametrize("role", list(Role))
def test_each_role_gets_what_the_table_says(
    role: Role, app: FastAPI, client: TestClient, session: Session
) -> None:
    organization = make_organization(session)
    user = make_user(session, organization, role=role.value)
    token = sessions.issue_session(session, user).token
    headers = {"Authorization": f"Bearer {token}"}
    wrong = []
    for route in api_routes(app):
        requirements = [m for m in declared(route) if isinstance(m, Requirement)]
        if not requirements:
            continue
        allowed = requirements[0].permission in ROLE_PERMISSIONS[role]
        for method in sorted(route.methods - {"HEAD", "OPTIONS"}):
            if route.path.endswith("/auth/logout"):
                continue  # would revoke the token the rest of the walk uses
            response = client.request(method, _fill(route.path), headers=headers, json={})
            if response.status_code == 401:
                wrong.append(f"{method} {route.path}: 401 for a valid token")
            elif allowed and response.status_code == 403:
                wrong.append(f"{method} {route.path}: 403 but {role} holds the permission")
            elif not allowed and response.status_code != 403:
                wrong.append(f"{method} {route.path}: {response.status_code}, {role} lacks it")
    assert not wrong, "\n".join(wrong)


def test_anonymous_calls_to_private_routes_get_401(app: FastAPI, client: TestClient) -> None:
    for route in api_routes(app):
        if not any(isinstance(m, Requirement) for m in declared(route)):
            continue
        for method in route.methods - {"HEAD", "OPTIONS"}:
            response = client.request(method, _fill(route.path), json={})
            assert response.status_code == 401, f"{method} {route.path}"
