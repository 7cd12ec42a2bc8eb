"""A long job does not hold the worker: another job starts while it runs."""

from __future__ import annotations

import asyncio
import threading

from vectra.db.engine import Database
from vectra.worker.app import WORKER_OPTIONS, defer_in_session, running_app
from vectra.worker.app import app as jobs_app

released = threading.Event()
outcome: list[str] = []


@jobs_app.task(name="tests.wait_for_release", queue="tests-concurrency")
def wait_for_release() -> None:
    # With one job slot the releaser could only start after this gave up.
    outcome.append("released" if released.wait(timeout=15) else "timed out")


@jobs_app.task(name="tests.release", queue="tests-concurrency")
def release() -> None:
    released.set()


def test_a_second_job_starts_while_a_long_one_runs(committed_database: Database) -> None:
    released.clear()
    outcome.clear()
    with committed_database.system_session() as session:
        defer_in_session(session, wait_for_release)
        defer_in_session(session, release)
    worker_app = running_app(committed_database.urls)

    async def run() -> None:
        async with worker_app.open_async():
            # The production options (no override but the queue): what `vectra worker` runs.
            await worker_app.run_worker_async(
                queues=["tests-concurrency"], wait=False, install_signal_handlers=False
            )

    asyncio.run(run())
    assert WORKER_OPTIONS["concurrency"] > 1
    assert outcome == ["released"]
