"""Queued CSV imports: 202 + job, the worker's task runs the same importer, progress, reruns,
and the recovery of runs whose process died."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text, update

from tests.factories import make_campaign, make_organization, make_user
from vectra.accounts.actor import system_actor
from vectra.accounts.sessions import issue_session
from vectra.db.base import utcnow
from vectra.db.engine import Database
from vectra.leads import importer, tasks
from vectra.leads.jobs import (
    ImportRecovery,
    queue_import_job,
    recover_stalled_imports,
    run_import_job,
)
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


# --- Runs that die with their process -------------------------------------------------------

STALE_AFTER = dt.timedelta(minutes=5)


def _recover(db: Database, *, max_attempts: int = 3) -> ImportRecovery:
    with db.system_session() as s:  # what the periodic task does
        return recover_stalled_imports(s, stale_after=STALE_AFTER, max_attempts=max_attempts)


def _job(db: Database, job_id: uuid.UUID) -> LeadImportJob:
    with db.system_session() as s:
        job = s.get(LeadImportJob, job_id)
        assert job is not None
        return job


def _silence(db: Database, job_id: uuid.UUID, for_: dt.timedelta = STALE_AFTER * 2) -> None:
    """Age the job's heartbeat: its run has shown no sign of life for `for_`."""
    with db.system_session() as s:
        s.execute(
            update(LeadImportJob)
            .where(LeadImportJob.id == job_id)
            .values(heartbeat_at=LeadImportJob.heartbeat_at - for_)
        )


def _lead_usage(db: Database, org: uuid.UUID) -> int:
    with db.system_session() as s:
        used = s.execute(
            text(
                "SELECT COALESCE(sum(leads_used), 0) FROM usage_records WHERE organization_id = :o"
            ),
            {"o": org},
        ).scalar_one()
        return int(used)


OnProgress = Callable[[int, int], None]


def _on_progress(monkeypatch: pytest.MonkeyPatch, hook: OnProgress) -> None:
    """Call `hook(bytes, rows)` after each progress write of the runs that follow."""
    monkeypatch.setattr(importer, "PROGRESS_EVERY", 100)
    real = importer.import_leads

    def import_leads(*args: Any, progress: OnProgress, **kwargs: Any) -> importer.ImportReport:
        def progress_then_hook(read: int, rows: int) -> None:
            progress(read, rows)
            hook(read, rows)

        return real(*args, progress=progress_then_hook, **kwargs)

    monkeypatch.setattr(importer, "import_leads", import_leads)


def _die(read: int, rows: int) -> None:
    raise SystemExit("killed")  # like SIGKILL mid-file: nothing in the run handles it


def test_a_run_that_died_is_queued_again_and_imports_every_row_once(
    world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, ids, db = world["client"], world["ids"], world["db"]
    queued = _upload(client, ids["campaign"], background="true")
    job_id, location = uuid.UUID(queued.json()["id"]), queued.headers["location"]
    [args] = _queued(db)
    _on_progress(monkeypatch, _die)
    with pytest.raises(SystemExit):
        tasks.import_csv(**args)
    died = client.get(location).json()
    assert died["status"] == "running" and died["rows_read"] == 100  # progress was committed
    assert _leads(db, ids["campaign"]) == 0  # the import's transaction rolled back
    assert tasks.import_csv(**args) == "running"  # a re-delivered job alone cannot help

    # A heartbeat younger than the threshold is a live run: left alone.
    assert _recover(db) == ImportRecovery()
    assert client.get(location).json()["status"] == "running" and _queued(db) == [args]

    _silence(db, job_id)
    assert _recover(db) == ImportRecovery(requeued=[job_id])
    again = client.get(location).json()
    assert (again["status"], again["rows_read"], again["bytes_read"]) == ("pending", 0, 0)
    assert _queued(db) == [args, args]  # queued again for the worker
    assert _recover(db) == ImportRecovery()  # the fresh queue job is enough

    monkeypatch.undo()
    assert tasks.import_csv(**args) == "succeeded"
    assert tasks.import_csv(**args) == "succeeded"  # the first queue job, re-delivered
    done = client.get(location).json()
    assert done["status"] == "succeeded" and done["error"] is None
    report = done["report"]
    assert (report["rows"], report["imported"], report["duplicates"]) == (301, 300, 0)
    assert _leads(db, ids["campaign"]) == 300
    assert _lead_usage(db, ids["org"]) == 300  # the dead run's quota went with its rollback
    assert _job(db, job_id).attempts == 2
    assert _recover(db) == ImportRecovery()  # finished jobs are never touched


def test_a_run_recovered_while_still_alive_stores_nothing(
    world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run silent past the threshold but not dead: its job is queued again, and the stale
    run's commit must not land too (the report would count the rows twice)."""
    client, ids, db = world["client"], world["ids"], world["db"]
    queued = _upload(client, ids["campaign"], background="true")
    job_id, location = uuid.UUID(queued.json()["id"]), queued.headers["location"]
    [args] = _queued(db)

    def recover_at_the_end(read: int, rows: int) -> None:
        if rows == 301:  # the last progress write: the next statement marks the job succeeded
            _silence(db, job_id)
            assert _recover(db) == ImportRecovery(requeued=[job_id])

    _on_progress(monkeypatch, recover_at_the_end)
    assert tasks.import_csv(**args) == "pending"  # superseded: rolled back
    assert _leads(db, ids["campaign"]) == 0 and _lead_usage(db, ids["org"]) == 0
    assert client.get(location).json()["status"] == "pending"

    monkeypatch.undo()
    assert tasks.import_csv(**args) == "succeeded"
    report = client.get(location).json()["report"]
    assert (report["imported"], report["duplicates"]) == (300, 0)
    assert _leads(db, ids["campaign"]) == 300 and _lead_usage(db, ids["org"]) == 300


def test_after_the_last_attempt_the_job_fails_and_asks_for_the_file_again(
    world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, ids, db = world["client"], world["ids"], world["db"]
    queued = _upload(client, ids["campaign"], background="true")
    job_id, location = uuid.UUID(queued.json()["id"]), queued.headers["location"]
    [args] = _queued(db)
    _on_progress(monkeypatch, _die)
    for attempt in (1, 2, 3):
        with pytest.raises(SystemExit):
            tasks.import_csv(**args)
        assert _job(db, job_id).attempts == attempt
        _silence(db, job_id)
        recovery = _recover(db, max_attempts=3)
        if attempt < 3:
            assert recovery == ImportRecovery(requeued=[job_id])
    assert recovery == ImportRecovery(failed=[job_id])
    failed = client.get(location).json()
    assert failed["status"] == "failed" and failed["finished_at"]
    assert "interrupted 3 times" in failed["error"] and "Upload the file again" in failed["error"]
    with db.system_session() as s:  # the upload is dropped with the job
        assert s.scalar(select(LeadImportJob.payload).where(LeadImportJob.id == job_id)) is None
    assert len(_queued(db)) == 3  # the first and two requeues; none after the last
    monkeypatch.undo()
    assert tasks.import_csv(**args) == "failed"  # a late queue job changes nothing
    assert _leads(db, ids["campaign"]) == 0
    assert _recover(db) == ImportRecovery()


def test_a_pending_job_nobody_will_run_is_queued(world: dict[str, Any]) -> None:
    """The page runs its imports in-process: a restart before the run leaves no queue job."""
    ids, db = world["ids"], world["db"]
    with db.tenant_session(ids["org"]) as s:
        job = queue_import_job(
            s, system_actor(ids["org"]), ids["campaign"],
            filename="people.csv", payload=CSV, defer=False,
        )  # fmt: skip
        job_id = job.id
    assert _queued(db) == []
    assert _recover(db) == ImportRecovery()  # still young: its process may be about to run it
    _silence(db, job_id)
    assert _recover(db) == ImportRecovery(requeued=[job_id])
    [args] = _queued(db)
    assert args == {"organization_id": str(ids["org"]), "job_id": str(job_id)}
    assert tasks.import_csv(**args) == "succeeded"
    assert _leads(db, ids["campaign"]) == 300
    assert _job(db, job_id).attempts == 1  # waiting is not an attempt


def test_a_queued_pending_job_waits_for_its_queue_job(world: dict[str, Any]) -> None:
    client, ids, db = world["client"], world["ids"], world["db"]
    job_id = uuid.UUID(_upload(client, ids["campaign"], background="true").json()["id"])
    _silence(db, job_id)  # a long queue: the worker has not reached it yet
    assert _recover(db) == ImportRecovery()
    assert len(_queued(db)) == 1


def test_a_live_run_keeps_its_heartbeat_fresh_between_progress_writes(
    world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, ids, db = world["client"], world["ids"], world["db"]
    job_id = uuid.UUID(_upload(client, ids["campaign"], background="true").json()["id"])
    beaten: list[bool] = []

    def long_statement(read: int, rows: int) -> None:
        if rows != 100:
            return
        _silence(db, job_id)  # the run sits in one statement, no progress write for minutes
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if _job(db, job_id).heartbeat_at > utcnow() - STALE_AFTER:
                beaten.append(True)  # the ticker wrote while the import's statement ran
                break
            time.sleep(0.02)
        assert _recover(db) == ImportRecovery()  # alive: left alone

    _on_progress(monkeypatch, long_statement)
    assert run_import_job(db, ids["org"], job_id, heartbeat_every=0.05) == "succeeded"
    assert beaten == [True]
    assert _leads(db, ids["campaign"]) == 300 and _job(db, job_id).attempts == 1
