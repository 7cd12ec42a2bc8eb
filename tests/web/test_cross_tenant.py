"""Another organization's id is a 404 on every route, never a 403 or its data.

Built from the OpenAPI document itself: every GET / PATCH / DELETE under /api/ with a path
id is called with organization B's owner token and an id that exists in organization A
(for the kinds of objects this file knows how to make) or a random one (for the rest);
each must answer 404. A route added by any domain joins the sweep by existing.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.factories import make_campaign, make_lead, make_organization, make_user
from vectra.accounts import sessions
from vectra.accounts.models import ApiKey, Invitation
from vectra.db.base import utcnow
from vectra.db.tenancy import as_system

METHODS = ("get", "patch", "delete")


def objects_of(session: Session, organization_id: uuid.UUID) -> dict[str, uuid.UUID]:
    """One object of each kind this sweep can make, in organization A, by path-param name."""
    from vectra.accounts.models import Organization

    organization = session.get(Organization, organization_id)
    assert organization is not None
    user = make_user(session, organization, role="viewer")
    campaign = make_campaign(session, organization)
    lead = make_lead(session, campaign)
    with as_system(session):
        invitation = Invitation(
            organization_id=organization_id,
            email=f"invitee-{uuid.uuid4().hex[:8]}@example.com",
            role="viewer",
            token_hash=uuid.uuid4().hex * 2,
            expires_at=utcnow() + dt.timedelta(days=1),
        )
        key = ApiKey(
            organization_id=organization_id,
            name="sweep",
            prefix="vk_sweep",
            secret_hash=uuid.uuid4().hex * 2,
            scopes=["read"],
        )
        session.add_all([invitation, key])
        session.flush()
    return {
        "user_id": user.id,
        "campaign_id": campaign.id,
        "lead_id": lead.id,
        "invitation_id": invitation.id,
        "api_key_id": key.id,
    }


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = doc["components"]["schemas"][name]
    if "anyOf" in schema:
        schema = next((s for s in schema["anyOf"] if s.get("type") != "null"), schema["anyOf"][0])
        return _resolve(doc, schema)
    return schema


def sample(doc: dict[str, Any], schema: dict[str, Any]) -> Any:
    """A minimal value that passes validation, so the route itself answers (not a 422)."""
    schema = _resolve(doc, schema)
    if "enum" in schema:
        return schema["enum"][0]
    kind, fmt = schema.get("type"), schema.get("format")
    if kind == "object":
        props = schema.get("properties", {})
        return {k: sample(doc, props[k]) for k in schema.get("required", []) if k in props}
    if kind == "array":
        return [sample(doc, schema.get("items", {}))] * schema.get("minItems", 0)
    if kind == "integer":
        return max(schema.get("minimum", 1), 1)
    if kind == "number":
        return max(schema.get("minimum", 1.0), 1.0)
    if kind == "boolean":
        return False
    return {
        "uuid": str(uuid.uuid4()),
        "email": "sweep@example.com",
        "date-time": dt.datetime.now(dt.UTC).isoformat(),
        "date": dt.date.today().isoformat(),
    }.get(fmt or "", "x" * max(schema.get("minLength", 1), 1))


def is_id(doc: dict[str, Any], param: dict[str, Any]) -> bool:
    schema = _resolve(doc, param.get("schema", {}))
    return (
        param["name"] == "id"
        or param["name"].endswith("_id")
        or schema.get("format") == "uuid"
        or schema.get("type") == "integer"
    )


def swept_operations(app: FastAPI) -> list[tuple[str, str, dict[str, Any]]]:
    """GET/PATCH/DELETE under /api/ whose path names an object by id (not e.g. `{kind}`)."""
    doc = app.openapi()
    found = []
    for path, operations in doc["paths"].items():
        if not path.startswith("/api/") or "{" not in path:
            continue
        for method in METHODS:
            operation = operations.get(method)
            path_params = [p for p in (operation or {}).get("parameters", []) if p["in"] == "path"]
            if operation and any(is_id(doc, p) for p in path_params):
                found.append((method, path, operation))
    return found


def test_every_id_route_answers_404_to_another_organization(
    app: FastAPI, client: TestClient, session: Session
) -> None:
    doc = app.openapi()
    a = make_organization(session, name="Tenant A")
    b = make_organization(session, name="Tenant B")
    a_token = sessions.issue_session(session, make_user(session, a, role="owner")).token
    b_token = sessions.issue_session(session, make_user(session, b, role="owner")).token
    known = objects_of(session, a.id)
    operations = swept_operations(app)
    assert len(operations) >= 5  # the sweep must be sweeping something
    wrong: list[str] = []
    used_known = set()
    for method, path, operation in operations:
        url = path
        query: dict[str, Any] = {}
        for param in operation.get("parameters", []):
            name = param["name"]
            if param["in"] == "path":
                if name in known:
                    value: Any = known[name]
                    used_known.add(name)
                elif not is_id(doc, param):
                    value = sample(doc, param.get("schema", {}))  # e.g. an enum's first value
                elif _resolve(doc, param.get("schema", {})).get("type") == "integer":
                    value = random.randint(10**8, 10**9)
                else:
                    value = uuid.uuid4()
                url = url.replace("{" + name + "}", str(value))
            elif param["in"] == "query" and param.get("required"):
                query[name] = sample(doc, param.get("schema", {}))
        body = None
        content = operation.get("requestBody", {}).get("content", {})
        if "application/json" in content:
            body = sample(doc, content["application/json"].get("schema", {}))
        response = client.request(
            method.upper(),
            url,
            params=query,
            json=body,
            headers={"Authorization": f"Bearer {b_token}"},
        )
        if response.status_code != 404:
            wrong.append(f"{method.upper()} {path}: {response.status_code} {response.text[:120]}")
        if method == "get" and all(
            p["name"] in known for p in operation.get("parameters", []) if p["in"] == "path"
        ):
            # The id is real: its own organization gets past the 404.
            own = client.get(url, params=query, headers={"Authorization": f"Bearer {a_token}"})
            if own.status_code == 404:
                wrong.append(f"GET {path}: 404 for its own organization (fixture not real?)")
    assert used_known, "no route used an id of organization A"
    assert not wrong, "routes that do not answer 404 to another organization:\n" + "\n".join(wrong)
