"""A job whose worker died is queued again; a live worker's job is left alone."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from vectra.db.engine import Database
from vectra.worker.app import app as jobs_app
from vectra.worker.app import defer_in_session, running_app
from vectra.worker.tasks import retry_stalled_jobs

ran: list[str] = []


@jobs_app.task(name="tests.stalled_record", queue="tests-stalled")
def stalled_record(marker: str) -> None:
    ran.append(marker)


def _hold(database: Database, job_id: int, *, heartbeat_age_s: int, attempts: int = 0) -> int:
    """What a worker does when it takes a job, with its last heartbeat `heartbeat_age_s` ago."""
    with database.owner_engine.begin() as conn:
        worker_id = conn.execute(
            text(
                "INSERT INTO procrastinate_workers (last_heartbeat) "
                "VALUES (now() - make_interval(secs => :age)) RETURNING id"
            ),
            {"age": heartbeat_age_s},
        ).scalar_one()
        conn.execute(
            text(
                "UPDATE procrastinate_jobs SET status = 'doing', worker_id = :w, "
                "attempts = :a WHERE id = :id"
            ),
            {"w": worker_id, "a": attempts, "id": job_id},
        )
    return int(worker_id)


def _status(database: Database, job_id: int) -> str:
    with database.owner_engine.connect() as conn:
        return str(
            conn.execute(
                text("SELECT status FROM procrastinate_jobs WHERE id = :id"), {"id": job_id}
            ).scalar_one()
        )


def test_dead_workers_job_runs_again_and_a_live_ones_does_not(
    committed_database: Database,
) -> None:
    ran.clear()
    with committed_database.system_session() as session:
        dead = defer_in_session(session, stalled_record, marker="dead worker's")
        alive = defer_in_session(session, stalled_record, marker="live worker's")
        doomed = defer_in_session(session, stalled_record, marker="kills its worker")
    _hold(committed_database, dead, heartbeat_age_s=600)
    _hold(committed_database, alive, heartbeat_age_s=1)
    _hold(committed_database, doomed, heartbeat_age_s=600, attempts=5)
    worker_app = running_app(committed_database.urls)

    async def run() -> None:
        async with worker_app.open_async():
            report = await retry_stalled_jobs(worker_app.job_manager, max_retries=5)
            # Only this test's jobs: other tests may leave their own in the shared database.
            mine = {dead, alive, doomed}
            assert mine & set(report.retried) == {dead}
            assert mine & set(report.failed) == {doomed}
            await worker_app.run_worker_async(
                queues=["tests-stalled"], wait=False, install_signal_handlers=False
            )

    asyncio.run(run())
    assert ran == ["dead worker's"]
    assert _status(committed_database, dead) == "succeeded"
    assert _status(committed_database, alive) == "doing"
    assert _status(committed_database, doomed) == "failed"
    with committed_database.owner_engine.begin() as conn:  # leave no held job behind
        conn.execute(text("DELETE FROM procrastinate_jobs WHERE id = :id"), {"id": alive})
