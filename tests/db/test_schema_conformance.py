"""The migrations create the seed's schema exactly: additions allowed, deviations not."""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.conftest import TEMPLATE
from vectra.db.embedded import EmbeddedServer, drop_database
from vectra.db.urls import with_database

SEED = Path(__file__).with_name("vectra-database-schema.md")
SHARED_SEED = Path(__file__).resolve().parents[3] / "shared" / "seed" / "vectra-database-schema.md"
# sha256 of the seed document as it was given to the project (shared/seed/, 2026-11-26).
GIVEN_SEED_SHA256 = "e104d9e53c8d5e8060183c1ac79924c62e7b94fc2559339bcfe8ebd01e6b6eb1"


def seed_sql() -> str:
    text = SEED.read_text()
    blocks = re.findall(r"```sql\n(.*?)```", text, re.S)
    return "\n".join(blocks)


def catalog(uri: str) -> dict[str, Any]:
    """What the conformance compares, keyed so that a seed item finds its counterpart."""
    with psycopg.connect(uri) as conn:
        columns = {
            (r[0], r[1]): r[2:]
            for r in conn.execute(
                """SELECT table_name, column_name, data_type, character_maximum_length,
                          column_default, is_nullable
                   FROM information_schema.columns WHERE table_schema = 'public'"""
            )
        }
        constraints = {
            (r[0], r[1]): r[2:]
            for r in conn.execute(
                """SELECT c.conrelid::regclass::text, c.conname, c.contype,
                          pg_get_constraintdef(c.oid)
                   FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
                   WHERE n.nspname = 'public' AND c.conrelid <> 0"""
            )
        }
        indexes = {
            r[0]: r[1]
            for r in conn.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'"
            )
        }
        triggers = {
            r[0]: r[1]
            for r in conn.execute(
                "SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal"
            )
        }
        enums = {
            r[0]: r[1]
            for r in conn.execute(
                """SELECT t.typname, array_agg(e.enumlabel ORDER BY e.enumsortorder)
                   FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
                   JOIN pg_namespace n ON n.oid = t.typnamespace
                   WHERE n.nspname = 'public' GROUP BY t.typname"""
            )
        }
        functions = {
            r[0]: r[1]
            for r in conn.execute(
                """SELECT p.proname, p.prosrc FROM pg_proc p
                   JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'"""
            )
        }
    return {
        "columns": columns,
        "constraints": constraints,
        "indexes": indexes,
        "triggers": triggers,
        "enums": enums,
        "functions": functions,
    }


@pytest.fixture(scope="module")
def seed_database(pg_server: EmbeddedServer) -> Iterator[str]:
    name = f"vectra_seed_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_server.superuser_uri, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    uri = with_database(pg_server.superuser_uri, name)
    with psycopg.connect(uri, autocommit=True) as conn:
        conn.execute(seed_sql())
    yield uri
    drop_database(pg_server, name)


@pytest.fixture(scope="module")
def seed(seed_database: str) -> dict[str, Any]:
    return catalog(seed_database)


@pytest.fixture(scope="module")
def migrated(pg_server: EmbeddedServer) -> dict[str, Any]:
    return catalog(with_database(pg_server.superuser_uri, TEMPLATE))


@pytest.mark.parametrize(
    "document",
    [SEED, *([SHARED_SEED] if SHARED_SEED.exists() else [])],
    ids=lambda path: "shared" if path == SHARED_SEED else "vendored",
)
def test_seed_document_is_the_given_one(document: Path) -> None:
    # The vendored copy must not drift from the given seed; when shared/ is beside this
    # checkout, the given seed is checked too (it changing would need a new migration).
    assert hashlib.sha256(document.read_bytes()).hexdigest() == GIVEN_SEED_SHA256


def test_seed_defines_the_ten_tables(seed: dict[str, Any]) -> None:
    tables = {table for table, _column in seed["columns"]}
    assert tables == {
        "organizations", "users", "campaigns", "leads", "emails", "meetings",
        "subscriptions", "usage_records", "agent_runs", "integrations",
    }  # fmt: skip


@pytest.mark.parametrize(
    "kind", ["columns", "constraints", "indexes", "triggers", "enums", "functions"]
)
def test_every_seed_object_exists_unchanged(
    kind: str, seed: dict[str, Any], migrated: dict[str, Any]
) -> None:
    missing = sorted(str(key) for key in seed[kind] if key not in migrated[kind])
    changed = {
        str(key): {"seed": value, "migrated": migrated[kind][key]}
        for key, value in seed[kind].items()
        if key in migrated[kind] and migrated[kind][key] != value
    }
    assert not missing, f"{kind} missing from the migrations: {missing}"
    assert not changed, f"{kind} that deviate from the seed: {changed}"


def test_additions_are_the_documented_ones(seed: dict[str, Any], migrated: dict[str, Any]) -> None:
    seed_tables = {table for table, _ in seed["columns"]}
    added_columns = {
        key for key in migrated["columns"] if key[0] in seed_tables and key not in seed["columns"]
    }
    assert ("emails", "organization_id") in added_columns
    assert ("agent_runs", "organization_id") in added_columns
    assert migrated["columns"][("emails", "organization_id")][3] == "NO"
    assert "idx_emails_org" in migrated["indexes"]
    assert "idx_agent_runs_org" in migrated["indexes"]
