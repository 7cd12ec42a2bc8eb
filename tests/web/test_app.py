"""The app skeleton: health, request ids, the error shape, OpenAPI."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field

from vectra.db.engine import Database, DatabaseUrls
from vectra.errors import Conflict
from vectra.web.app import create_app


class Body(BaseModel):
    name: str = Field(min_length=2)


def test_healthz_checks_the_database(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_healthz_reports_an_unreachable_database(tmp_path) -> None:  # type: ignore[no-untyped-def]
    dead = Database(DatabaseUrls(owner=f"postgresql://nobody:@/nothing?host={tmp_path}"))
    with TestClient(create_app(dead)) as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"


def test_request_id_is_echoed_or_made(client: TestClient) -> None:
    assert (
        client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"]
        == "abc-123"
    )
    made = client.get("/healthz", headers={"X-Request-ID": "bad id\n"}).headers["x-request-id"]
    assert made != "bad id\n" and len(made) == 32


def test_openapi_is_served(client: TestClient) -> None:
    assert client.get("/openapi.json").json()["info"]["title"] == "Vectra"
    assert client.get("/docs").status_code == 200


def test_errors_share_one_shape(app, client: TestClient) -> None:  # type: ignore[no-untyped-def]
    router = APIRouter()

    @router.post("/_probe")
    def probe(body: Body) -> dict[str, str]:
        raise Conflict("Already there.", field="name")

    app.include_router(router)
    conflict = client.post("/_probe", json={"name": "ok"})
    assert conflict.status_code == 409
    assert conflict.json() == {
        "error": {"code": "conflict", "message": "Already there.", "field": "name"}
    }
    invalid = client.post("/_probe", json={"name": "x"})
    assert invalid.status_code == 422
    assert invalid.json()["error"]["field"] == "name"
    assert invalid.json()["error"]["code"] == "invalid"
    missing = client.get("/nowhere")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
