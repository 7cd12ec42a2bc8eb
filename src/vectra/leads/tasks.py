"""Lead jobs: queued CSV imports, and the periodic recovery of imports whose process died."""

from __future__ import annotations

import datetime as dt
import uuid

from vectra.settings import get_settings
from vectra.worker.app import app
from vectra.worker.database import job_database


@app.task(name="leads.import_csv", pass_context=False)
def import_csv(organization_id: str, job_id: str) -> str:
    """Run a queued CSV import (a re-delivered job finds it finished and changes nothing)."""
    from vectra.leads.jobs import run_import_job

    return run_import_job(job_database(), uuid.UUID(organization_id), uuid.UUID(job_id))


@app.periodic(cron="* * * * *", periodic_id="leads.recover_import_jobs")
@app.task(
    name="leads.recover_import_jobs",
    pass_context=False,
    queueing_lock="leads.recover_import_jobs",
)
def recover_import_jobs(timestamp: int) -> int:
    """Periodic job: queue again the imports whose run died, fail those out of attempts."""
    from vectra.leads.jobs import recover_stalled_imports

    settings = get_settings()
    with job_database().system_session() as session:
        recovery = recover_stalled_imports(
            session,
            stale_after=dt.timedelta(seconds=settings.import_stale_after_s),
            max_attempts=settings.import_max_attempts,
        )
    return len(recovery.requeued) + len(recovery.failed)
