"""Every datetime the JSON API returns carries its UTC offset.

The columns are naive-UTC `TIMESTAMP`s; an offset-less ISO string is read as local time by
clients (`new Date("2026-11-27T03:00:00")` in a browser), so each one must say it is UTC.
"""

from __future__ import annotations

import datetime as dt
import re
import typing
import uuid
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel, TypeAdapter
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.routes import all_api_routes
from vectra.db.tenancy import as_system

DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
SIGNUP = {
    "organization_name": "Clockwork Ltd",
    "email": "owner@clockwork.example",
    "password": "a sufficiently long passphrase",
}
LEAD_ADDRESS = "ada@prospect.example"


def datetime_strings(document: Any) -> Iterator[str]:
    """Every string in a JSON document that looks like a datetime (dates alone do not)."""
    if isinstance(document, dict):
        for value in document.values():
            yield from datetime_strings(value)
    elif isinstance(document, list):
        for value in document:
            yield from datetime_strings(value)
    elif isinstance(document, str) and DATETIME.match(document):
        yield document


def assert_utc(document: Any) -> int:
    """Each datetime parses to an aware value at offset 0; returns how many were checked."""
    found = list(datetime_strings(document))
    for value in found:
        parsed = dt.datetime.fromisoformat(value)
        assert parsed.tzinfo is not None, f"{value!r} has no offset"
        assert parsed.utcoffset() == dt.timedelta(0), f"{value!r} is not UTC"
    return len(found)


def checked(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    body = response.json()
    assert assert_utc(body) > 0, f"no datetime in {body!r}"
    return body


class TestResponses:
    def test_signup_campaign_lead_and_friends(self, client: TestClient, session: Session) -> None:
        signed = client.post("/api/v1/auth/signup", json=SIGNUP)
        assert signed.status_code == 201, signed.text
        headers = {"Authorization": f"Bearer {signed.json()['access_token']}"}

        campaign = checked(
            client.post("/api/v1/campaigns", json={"name": "Q4"}, headers=headers), 201
        )
        checked(client.get(f"/api/v1/campaigns/{campaign['id']}", headers=headers))
        checked(client.get("/api/v1/campaigns", headers=headers))

        lead = checked(
            client.post(
                f"/api/v1/campaigns/{campaign['id']}/leads",
                json={"email": LEAD_ADDRESS, "first_name": "Ada"},
                headers=headers,
            ),
            201,
        )
        checked(client.get(f"/api/v1/leads/{lead['id']}", headers=headers))
        checked(client.get(f"/api/v1/campaigns/{campaign['id']}/leads", headers=headers))
        checked(
            client.post("/api/v1/suppressions", json={"value": "no.example"}, headers=headers),
            201,
        )
        checked(client.get("/api/v1/users", headers=headers))
        checked(client.get("/api/v1/billing/subscription", headers=headers))
        checked(client.get("/api/v1/audit", headers=headers))
        export = checked(
            client.get("/api/v1/privacy/export", params={"email": LEAD_ADDRESS}, headers=headers)
        )
        assert export["tables"]["leads"][0]["created_at"].endswith("Z")

    def test_an_aware_input_is_stored_naive_utc_and_read_back_in_utc(
        self, client: TestClient, session: Session
    ) -> None:
        signed = client.post("/api/v1/auth/signup", json=SIGNUP)
        headers = {"Authorization": f"Bearer {signed.json()['access_token']}"}
        year = dt.datetime.now(dt.UTC).year + 1
        created = checked(
            client.post(
                "/api/v1/api-keys",
                json={
                    "name": "ci",
                    "scopes": ["read"],
                    "expires_at": f"{year}-06-01T14:30:00+02:00",
                },
                headers=headers,
            ),
            201,
        )
        assert created["expires_at"] == f"{year}-06-01T12:30:00Z"
        with as_system(session):
            stored = session.execute(
                text("SELECT expires_at FROM api_keys WHERE id = :i"),
                {"i": uuid.UUID(created["id"])},
            ).scalar_one()
        assert stored == dt.datetime(year, 6, 1, 12, 30)  # naive UTC, as before

        naive = client.post(
            "/api/v1/api-keys",
            json={"name": "ci2", "scopes": ["read"], "expires_at": f"{year}-06-01T14:30:00"},
            headers=headers,
        )
        assert checked(naive, 201)["expires_at"] == f"{year}-06-01T14:30:00Z"

        # A filter given with an offset compares in UTC: 1 h ago in UTC+5 is still 1 h ago.
        since = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).astimezone(
            dt.timezone(dt.timedelta(hours=5))
        )
        audit = checked(
            client.get("/api/v1/audit", params={"since": since.isoformat()}, headers=headers)
        )
        assert audit["items"]


def _datetime_fields(model: type[BaseModel], seen: set[type]) -> Iterator[tuple[str, Any]]:
    """(qualified name, field type with its metadata) of every datetime field, nested too."""
    if model in seen:
        return
    seen.add(model)
    for name, info in model.model_fields.items():
        if _mentions(info.annotation, dt.datetime):
            annotation = info.annotation
            if info.metadata:  # `x: UtcDateTime` keeps its validator and serializer here
                annotation = typing.Annotated[annotation, *info.metadata]
            yield f"{model.__name__}.{name}", annotation
        for nested in _models_in(info.annotation):
            yield from _datetime_fields(nested, seen)


def _args(annotation: Any) -> tuple[Any, ...]:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return (typing.get_args(annotation)[0],)
    return typing.get_args(annotation)


def _mentions(annotation: Any, kind: type) -> bool:
    if annotation is kind:
        return True
    return any(_mentions(arg, kind) for arg in _args(annotation))


def _models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for arg in _args(annotation):
        yield from _models_in(arg)


def test_every_response_models_datetime_field_writes_an_offset(app: FastAPI) -> None:
    """A guard for fields added later: a naive value must still leave as UTC."""
    seen: set[type] = set()
    fields = dict(
        field
        for route in all_api_routes(app)
        if route.response_model is not None
        for model in _models_in(route.response_model)
        for field in _datetime_fields(model, seen)
    )
    assert len(fields) > 40
    naive = dt.datetime(2026, 11, 27, 3, 0, 0, 123456)
    for name, annotation in fields.items():
        written = TypeAdapter(annotation).dump_json(naive).decode()
        assert written == '"2026-11-27T03:00:00.123456Z"', f"{name} writes {written}"
