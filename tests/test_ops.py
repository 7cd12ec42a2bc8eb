"""Operations: doctor, backup and restore, metrics, security headers."""

from __future__ import annotations

import json
import uuid

import psycopg
from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.conftest import APP_ROLE
from tests.factories import make_campaign, make_lead, make_organization
from tests.test_cli import vectra
from vectra.db.embedded import OWNER_ROLE, EmbeddedServer, drop_database, ensure_database
from vectra.db.engine import Database, DatabaseUrls

COUNTED = ("organizations", "users", "campaigns", "leads", "subscriptions", "auth_sessions")


def _counts(uri: str) -> dict[str, int]:
    with psycopg.connect(uri) as conn:
        return {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # type: ignore[index]
            for table in COUNTED
        }


def test_backup_restores_into_a_fresh_database(
    committed_database: Database, pg_server: EmbeddedServer, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    with committed_database.system_session() as session:
        for _ in range(2):
            organization = make_organization(session)
            campaign = make_campaign(session, organization)
            for _ in range(5):
                make_lead(session, campaign)
    backup = vectra(committed_database, "backup", str(tmp_path / "b.dump"), "--json")
    assert backup.returncode == 0, backup.stderr
    assert json.loads(backup.stdout)["bytes"] > 0

    name = f"vectra_r_{uuid.uuid4().hex[:10]}"
    ensure_database(pg_server, name, app_role=APP_ROLE)
    target = Database(
        DatabaseUrls(
            owner=pg_server.uri(user=OWNER_ROLE, database=name),
            app=pg_server.uri(user=APP_ROLE, database=name),
            app_role=APP_ROLE,
        )
    )
    try:
        restored = vectra(target, "restore", str(tmp_path / "b.dump"), "--json")
        assert restored.returncode == 0, restored.stderr
        assert json.loads(restored.stdout)["up_to_date"] is True
        assert _counts(target.urls.owner) == _counts(committed_database.urls.owner)
        assert _counts(target.urls.owner)["leads"] == 10
        # The restored copy keeps tenant isolation: the app role sees nothing without a tenant.
        with target.app_engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM leads")).scalar_one() == 0
        # A second restore into a database that now has data is refused.
        again = vectra(target, "restore", str(tmp_path / "b.dump"), "--json")
        assert again.returncode == 1
        assert json.loads(again.stdout)["error"]["code"] == "not_empty"
    finally:
        target.dispose()
        drop_database(pg_server, name)


def test_doctor_reports_what_to_fix(committed_database: Database) -> None:
    result = vectra(committed_database, "doctor", "--json")
    document = json.loads(result.stdout)
    checks = {c["name"]: c for c in document["checks"]}
    assert checks["database"]["status"] == "ok"
    assert checks["tenant isolation"]["status"] == "ok"
    assert checks["migrations"]["status"] == "ok"
    assert checks["extension vector"]["status"] == "ok"
    assert checks["worker"]["status"] == "warn"  # nobody runs a worker in this test
    assert "vectra worker" in checks["worker"]["fix"]
    assert result.returncode == 0  # warnings alone do not fail


def test_metrics_in_prometheus_format(client: TestClient) -> None:
    client.get("/healthz")
    client.get(f"/api/v1/campaigns/{uuid.uuid4()}")
    body = client.get("/metrics").text
    assert 'vectra_http_requests_total{method="GET",route="/healthz",status="200"}' in body
    assert "vectra_http_request_duration_seconds_bucket" in body
    assert "vectra_jobs" in body or "# HELP vectra_jobs" in body
    # route templates, never raw ids, as label values
    assert "/api/v1/campaigns/{" in body or "unmatched" in body
    assert str(uuid.UUID(int=0))[:8] not in body


def test_security_headers(client: TestClient) -> None:
    response = client.get("/login")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "/static/vendor/swagger-ui-bundle.js" in docs.text
    assert "cdn.jsdelivr" not in docs.text
