"""The queue's own upkeep: jobs whose worker died are run again.

A worker killed mid-job (SIGKILL, OOM, a lost container) leaves its job `doing` for ever:
nothing else would ever pick it up. Workers send Procrastinate heartbeats; a job held by a
worker silent for longer than `STALLED_AFTER_S` (or by one already pruned) is put back to
`todo`. Every Vectra task is written to be run again safely (sends are claimed exactly once
in our own tables, imports and agent runs claim their rows), so a retry repeats no effect.
A job that has already been retried `MAX_STALLED_RETRIES` times is failed instead: a job
that kills its worker every time (memory, a native crash) must not do so every minute.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import procrastinate
from procrastinate.jobs import Status
from procrastinate.manager import JobManager

from vectra.worker.app import app

log = logging.getLogger(__name__)

# Procrastinate's workers beat every 10 s and call a peer stalled after 30 s of silence.
STALLED_AFTER_S = 60.0
MAX_STALLED_RETRIES = 5


@dataclass
class StalledReport:
    retried: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


async def retry_stalled_jobs(
    manager: JobManager,
    *,
    stalled_after_s: float = STALLED_AFTER_S,
    max_retries: int = MAX_STALLED_RETRIES,
) -> StalledReport:
    """Put the jobs of dead workers back in the queue (or fail them once out of retries)."""
    report = StalledReport()
    for job in await manager.get_stalled_jobs(seconds_since_heartbeat=stalled_after_s):
        assert job.id is not None
        if job.attempts >= max_retries:
            await manager.finish_job(job, status=Status.FAILED, delete_job=False)
            log.error(
                "job %s (%s) failed: its worker died %d times while running it; "
                "look for a crash or an out-of-memory kill in the worker's logs",
                job.id, job.task_name, job.attempts + 1,
            )  # fmt: skip
            report.failed.append(job.id)
            continue
        await manager.retry_job(job)
        log.warning(
            "job %s (%s) was running on a worker that stopped answering; queued again",
            job.id, job.task_name,
        )  # fmt: skip
        report.retried.append(job.id)
    return report


@app.periodic(cron="* * * * *", periodic_id="worker.retry_stalled_jobs")
@app.task(
    name="worker.retry_stalled_jobs",
    pass_context=True,
    queueing_lock="worker.retry_stalled_jobs",
)
async def retry_stalled(context: procrastinate.JobContext, timestamp: int) -> int:
    """Periodic job: the queue's jobs held by dead workers run again."""
    report = await retry_stalled_jobs(context.app.job_manager)
    return len(report.retried) + len(report.failed)
