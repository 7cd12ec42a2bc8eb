"""The `vectra` command against a real, migrated database given by DATABASE_URL."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from sqlalchemy import text

from vectra.db.engine import Database


def vectra(database: Database, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": database.urls.owner,
        "DATABASE_APP_URL": database.urls.app or "",
        "VECTRA_LOG_JSON": "true",
    }
    return subprocess.run(
        [sys.executable, "-m", "vectra.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_org_create_json(committed_database: Database) -> None:
    result = vectra(
        committed_database,
        "org", "create", "--name", "Ünïcode Widgets GmbH", "--owner-email", "Ada@Widgets.example",
        "--password", "a long enough passphrase", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)  # exactly one JSON document
    assert document["organization"]["slug"] == "unicode-widgets-gmbh"
    assert document["user"]["email"] == "ada@widgets.example"
    with committed_database.owner_engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT u.role, s.plan, s.status, s.trial_end > now() FROM users u "
                "JOIN subscriptions s ON s.organization_id = u.organization_id WHERE u.id = :id"
            ),
            {"id": document["user"]["id"]},
        ).one()
    assert tuple(row) == ("owner", "trial", "trialing", True)


def test_org_create_refuses_duplicates_and_weak_passwords(committed_database: Database) -> None:
    args = ["org", "create", "--name", "Acme", "--owner-email", "ops@acme.example", "--json"]
    assert vectra(committed_database, *args, "--password", "long enough password").returncode == 0
    again = vectra(
        committed_database,
        *args[:5],
        "OPS@acme.example",
        "--json",
        "--password",
        "long enough password",
    )
    assert again.returncode == 1
    assert json.loads(again.stdout)["error"]["code"] == "conflict"
    weak = vectra(
        committed_database,
        "org",
        "create",
        "--name",
        "B",
        "--owner-email",
        "b@b.example",
        "--password",
        "short",
        "--json",
    )
    assert weak.returncode == 1
    assert json.loads(weak.stdout)["error"]["code"] == "invalid"
    with committed_database.owner_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM organizations")).scalar_one() == 1


def test_db_status_json(committed_database: Database) -> None:
    result = vectra(committed_database, "db", "status", "--json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["up_to_date"] is True
    assert document["current"] == document["head"]


def test_unreachable_database_is_explained(tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = {**os.environ, "DATABASE_URL": f"postgresql://x:@/none?host={tmp_path}"}
    result = subprocess.run(
        [sys.executable, "-m", "vectra.cli", "db", "upgrade", "--json"],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert json.loads(result.stdout)["error"]["code"] in {"database_unreachable", "database_setup"}
