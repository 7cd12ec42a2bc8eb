"""Jobs are deferred in the caller's transaction and run once it commits."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from vectra.db.engine import Database
from vectra.worker.app import app as jobs_app
from vectra.worker.app import defer_in_session, running_app

ran: list[str] = []


@jobs_app.task(name="tests.record_ran", queue="tests")
def record_ran(marker: str) -> None:
    ran.append(marker)


def _jobs(database: Database) -> int:
    with database.owner_engine.connect() as conn:
        return conn.execute(
            text("SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'tests.record_ran'")
        ).scalar_one()


def _drain(database: Database) -> None:
    worker_app = running_app(database.urls)

    async def run() -> None:
        async with worker_app.open_async():
            # Only this test's queue: other domains' periodic jobs are not this test's business.
            await worker_app.run_worker_async(
                queues=["tests"], wait=False, install_signal_handlers=False
            )

    asyncio.run(run())


def test_job_exists_only_when_its_transaction_commits(committed_database: Database) -> None:
    ran.clear()
    with committed_database.sessions() as session:
        session.begin()
        defer_in_session(session, record_ran, marker="rolled back")
        assert _jobs(committed_database) == 0  # not visible before commit
        session.rollback()
    with committed_database.system_session() as session:
        defer_in_session(session, record_ran, marker="committed")
    assert _jobs(committed_database) == 1
    _drain(committed_database)
    assert ran == ["committed"]
    with committed_database.owner_engine.connect() as conn:
        status = conn.execute(
            text("SELECT status FROM procrastinate_jobs WHERE task_name = 'tests.record_ran'")
        ).scalar_one()
    assert status == "succeeded"
