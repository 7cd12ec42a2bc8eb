"""Queued CSV imports: 202 + job, the worker's task runs the same importer, progress, reruns."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from tests.factories import make_campaign, make_organization, make_user
from vectra.accounts.sessions import issue_session
from vectra.db.engine import Database
from vectra.leads import tasks
from vectra.leads.models import Lead
from vectra.leads.tables import LeadImportJob
from vectra.web.app import create_app
from vectra.worker.database import use_database

ROWS = "".join(f"person{i}@firm{i % 7}.example,Person,{i},Firm {i % 7},CTO\n" for i in range(300))
CSV = ("Email,First Name,Last Name,Company,Title\n" + ROWS + "not-an-email,Bad,Row,X,Y\n").encode()


@pytest.fixture
def world(committed_database: Database) -> Iterator[dict[str, Any]]:
    with committed_database.system_session() as s:
        org = make_organization(s)
        campaign = make_campaign(s, org)
        foreign = make_campaign(s, make_organization(s))
        token = issue_session(s, make_user(s, org, role="operator")).token
        ids = {"org": org.id, "campaign": campaign.id, "foreign": foreign.id}
    use_database(committed_database)
    try:
        with TestClient(create_app(committed_database), raise_server_exceptions=False) as client:
            client.headers["Authorization"] = f"Bearer {token}"
            yield {"client": client, "ids": ids, "db": committed_database}
    finally:
        use_database(None)


def _upload(client: TestClient, campaign: uuid.UUID, body: bytes = CSV, **params: str) -> Any:
    return client.post(
        f"/api/v1/campaigns/{campaign}/leads/import",
        params=params,
        files={"file": ("people.csv", body, "text/csv")},
    )


def _queued(db: Database) -> list[dict[str, Any]]:
    with db.system_session() as s:
        rows = s.execute(
            text(
                "SELECT args FROM procrastinate_jobs WHERE task_name = 'leads.import_csv' "
                "AND status = 'todo' ORDER BY id"
            )
        ).scalars()
        return [dict(r) for r in rows]


def _leads(db: Database, campaign: uuid.UUID) -> int:
    with db.system_session() as s:
        count = select(func.count()).select_from(Lead).where(Lead.campaign_id == campaign)
        return s.scalar(count) or 0


def test_a_queued_import_runs_in_the_worker_task_and_reports(world: dict[str, Any]) -> None:
    client, ids, db = world["client"], world["ids"], world["db"]
    queued = _upload(client, ids["campaign"], background="true")
    assert queued.status_code == 202, queued.text
    job = queued.json()
    assert job["status"] == "pending" and job["bytes_total"] == len(CSV)
    assert queued.headers["location"] == f"/api/v1/lead-imports/{job['id']}"
    assert _leads(db, ids["campaign"]) == 0  # nothing imported until the job runs
    [args] = _queued(db)
    assert args == {"organization_id": str(ids["org"]), "job_id": job["id"]}

    assert tasks.import_csv(**args) == "succeeded"  # what the worker calls
    done = client.get(queued.headers["location"]).json()
    assert done["status"] == "succeeded" and done["rows_read"] == 301
    report = done["report"]
    assert (report["rows"], report["imported"], report["rejected"]) == (301, 300, 1)
    assert report["errors"][0]["row"] == 302 and report["errors"][0]["column"]
    assert done["bytes_read"] == done["bytes_total"] and done["finished_at"]
    assert _leads(db, ids["campaign"]) == 300
    with db.system_session() as s:
        assert s.get(LeadImportJob, uuid.UUID(job["id"])).payload is None  # upload dropped

    # A re-delivered job (worker died after the commit) changes nothing.
    assert tasks.import_csv(**args) == "succeeded"
    assert _leads(db, ids["campaign"]) == 300
    assert client.get(queued.headers["location"]).json()["report"] == report


def test_large_files_are_queued_by_default_and_small_ones_answer_at_once(
    world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, ids, db = world["client"], world["ids"], world["db"]
    small = _upload(client, ids["campaign"], body=CSV[:200])
    assert small.status_code == 201 and "imported" in small.json()
    monkeypatch.setenv("VECTRA_IMPORT_SYNC_MAX_BYTES", "1000")
    monkeypatch.setenv("VECTRA_IMPORT_MAX_BYTES", str(len(CSV) + 10))
    from vectra.settings import get_settings

    get_settings.cache_clear()
    try:
        assert _upload(client, ids["campaign"]).status_code == 202
        too_big = _upload(client, ids["campaign"], body=CSV + b"x" * 20)
        assert too_big.status_code == 413 and too_big.json()["error"]["field"] == "file"
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert len(_queued(db)) == 1


def test_an_unreadable_file_fails_the_job_with_one_clear_error(world: dict[str, Any]) -> None:
    client, ids, db = world["client"], world["ids"], world["db"]
    garbage = b"\x00\x01\x02 not a csv \xff" * 50
    queued = _upload(client, ids["campaign"], body=garbage, background="true")
    assert queued.status_code == 202
    [args] = _queued(db)
    assert tasks.import_csv(**args) == "failed"
    failed = client.get(queued.headers["location"]).json()
    assert failed["status"] == "failed" and failed["error"] and failed["report"] is None
    assert _leads(db, ids["campaign"]) == 0


def test_another_tenants_campaign_or_job_is_a_404(world: dict[str, Any]) -> None:
    client, ids, db = world["client"], world["ids"], world["db"]
    assert _upload(client, ids["foreign"], background="true").status_code == 404
    assert _queued(db) == []
    with db.system_session() as s:
        other = make_organization(s)
        foreign_job = LeadImportJob(
            organization_id=other.id, campaign_id=make_campaign(s, other).id, status="pending"
        )
        s.add(foreign_job)
        s.flush()
        job_id = foreign_job.id
    assert client.get(f"/api/v1/lead-imports/{job_id}").status_code == 404
