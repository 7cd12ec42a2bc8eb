"""API keys: shown once, stored hashed, scoped, revocable, expiring, counted in usage."""

from __future__ import annotations

import hashlib
import threading
from concurrent.futures import ThreadPoolExecutor

from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from tests.accounts.conftest import Team, member
from tests.factories import make_organization
from vectra.accounts.models import ApiKey
from vectra.accounts.usage import ApiCallCounter
from vectra.db.engine import Database
from vectra.web.app import create_app


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def create_key(client: TestClient, team: Team, **body: object) -> dict[str, object]:
    response = client.post(
        "/api/v1/api-keys",
        json={"name": "CRM sync", "scopes": ["read"], **body},
        headers=team.admin.headers,
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


class TestApiKeys:
    def test_secret_shown_once_and_stored_hashed(
        self, client: TestClient, team: Team, session: Session
    ) -> None:
        created = create_key(client, team)
        secret = str(created["secret"])
        assert secret.startswith("vk_") and len(secret) > 40
        assert secret.startswith(str(created["prefix"]))
        stored = session.scalar(select(ApiKey).where(ApiKey.id == created["id"]))
        assert stored is not None
        assert stored.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
        listed = client.get("/api/v1/api-keys", headers=team.admin.headers).json()
        assert [k["id"] for k in listed] == [created["id"]]
        assert "secret" not in listed[0]
        events = client.get(
            "/api/v1/audit", params={"object_type": "api_key"}, headers=team.owner.headers
        ).json()["items"]
        assert [e["action"] for e in events] == ["api_key.created"]

    def test_read_key_reads_but_cannot_write(self, client: TestClient, team: Team) -> None:
        secret = str(create_key(client, team)["secret"])
        assert client.get("/api/v1/users", headers=bearer(secret)).status_code == 200
        assert client.get("/api/v1/organization", headers=bearer(secret)).status_code == 200
        denied = client.patch(
            "/api/v1/organization", json={"name": "Hijacked"}, headers=bearer(secret)
        )
        assert denied.status_code == 403
        assert client.get("/api/v1/audit", headers=bearer(secret)).status_code == 403

    def test_write_key_never_manages_users_keys_billing_or_org(
        self, client: TestClient, team: Team
    ) -> None:
        secret = str(create_key(client, team, scopes=["read", "write"])["secret"])
        me_like = client.get("/api/v1/users", headers=bearer(secret))
        assert me_like.status_code == 200
        for method, url, body in [
            ("POST", "/api/v1/api-keys", {"name": "x", "scopes": ["write"]}),
            ("PATCH", f"/api/v1/users/{team.viewer.user.id}", {"role": "admin"}),
            ("POST", "/api/v1/invitations", {"email": "x@example.com", "role": "viewer"}),
            ("PATCH", "/api/v1/organization", {"name": "Hijacked"}),
            ("DELETE", "/api/v1/organization", {"confirm_slug": team.organization.slug}),
        ]:
            response = client.request(method, url, json=body, headers=bearer(secret))
            assert response.status_code == 403, (method, url, response.text)

    def test_bad_scopes_and_past_expiry_name_the_field(
        self, client: TestClient, team: Team
    ) -> None:
        for body, field in [
            ({"name": "k", "scopes": ["admin"]}, "scopes.0"),
            ({"name": "k", "scopes": []}, "scopes"),
            ({"name": "k", "scopes": ["read"], "expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
        ]:
            response = client.post("/api/v1/api-keys", json=body, headers=team.admin.headers)
            assert response.status_code == 422, body
            assert response.json()["error"]["field"] == field

    def test_revoked_and_expired_keys_stop_working(
        self, client: TestClient, team: Team, session: Session
    ) -> None:
        revoked = create_key(client, team)
        expiring = create_key(client, team, expires_at="2999-01-01T00:00:00Z")
        assert (
            client.get("/api/v1/users", headers=bearer(str(revoked["secret"]))).status_code == 200
        )
        gone = client.delete(f"/api/v1/api-keys/{revoked['id']}", headers=team.admin.headers)
        assert gone.status_code == 200 and gone.json()["revoked_at"] is not None
        assert (
            client.get("/api/v1/users", headers=bearer(str(revoked["secret"]))).status_code == 401
        )
        assert (
            client.get("/api/v1/users", headers=bearer(str(expiring["secret"]))).status_code == 200
        )
        session.execute(
            text("UPDATE api_keys SET expires_at = now() - interval '1 s' WHERE id = :i"),
            {"i": expiring["id"]},
        )
        assert (
            client.get("/api/v1/users", headers=bearer(str(expiring["secret"]))).status_code == 401
        )
        assert client.get("/api/v1/users", headers=bearer("vk_forged")).status_code == 401

    def test_last_used_is_recorded(self, client: TestClient, team: Team, session: Session) -> None:
        created = create_key(client, team)
        client.get("/api/v1/users", headers=bearer(str(created["secret"])))
        key = session.scalar(select(ApiKey).where(ApiKey.id == created["id"]))
        assert key is not None and key.last_used_at is not None


def _api_calls(database: Database, organization_id: object) -> int:
    with database.owner_engine.connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT coalesce(sum(api_calls), 0) FROM usage_records "
                    "WHERE organization_id = :o"
                ),
                {"o": organization_id},
            ).scalar_one()
        )


def test_concurrent_calls_are_all_counted(committed_database: Database) -> None:
    with committed_database.system_session() as session:
        organization = make_organization(session)
        admin = member(session, organization, "admin")
        org_id, headers = organization.id, admin.headers
    app = create_app(committed_database)
    with TestClient(app) as client:
        secret = client.post(
            "/api/v1/api-keys", json={"name": "load", "scopes": ["read"]}, headers=headers
        ).json()["secret"]
        counter: ApiCallCounter = app.state.api_calls
        barrier = threading.Barrier(8)

        def call(n: int) -> int:
            own = TestClient(app)  # one client per thread; the outer one holds the lifespan
            barrier.wait()
            codes = [
                own.get("/api/v1/users", headers=bearer(secret)).status_code for _ in range(10)
            ]
            if n == 0:
                counter.flush()  # a flush in the middle of the traffic loses nothing
            return codes.count(200)

        with ThreadPoolExecutor(8) as pool:
            served = sum(pool.map(call, range(8)))
        # calls with a user's token are not API-key calls
        client.get("/api/v1/users", headers=headers)
    assert served == 80
    # leaving the client ran the app's shutdown, which flushed the rest
    assert counter.pending() == 0
    assert _api_calls(committed_database, org_id) == 80


def test_flush_adds_to_the_current_period_row(committed_database: Database) -> None:
    with committed_database.system_session() as session:
        organization = make_organization(session)
        org_id = organization.id
        # billing's own row for a period covering today, with counts of its own
        session.execute(
            text(
                "INSERT INTO usage_records (organization_id, period_start, period_end, "
                "api_calls, emails_sent) VALUES (:o, current_date - 3, current_date + 27, 5, 7)"
            ),
            {"o": org_id},
        )
    counter = ApiCallCounter(committed_database)
    counter.add(org_id, 3)
    counter.flush()
    counter.add(org_id, 2)
    counter.flush()
    with committed_database.owner_engine.connect() as conn:
        rows = conn.execute(
            text("SELECT api_calls, emails_sent FROM usage_records WHERE organization_id = :o"),
            {"o": org_id},
        ).all()
    assert rows == [(10, 7)]


def test_failed_flush_keeps_the_counts(committed_database: Database) -> None:
    with committed_database.system_session() as session:
        org_id = make_organization(session).id
    broken = Database(committed_database.urls.__class__(owner="postgresql://nobody@127.0.0.1:1/x"))
    counter = ApiCallCounter(broken)
    counter.add(org_id, 4)
    try:
        counter.flush()
        raise AssertionError("a flush to an unreachable database must fail")
    except Exception as exc:
        assert not isinstance(exc, AssertionError)
    assert counter.pending() == 4
    counter.database = committed_database
    assert counter.flush() == 4
    assert _api_calls(committed_database, org_id) == 4
