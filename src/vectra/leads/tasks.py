"""Lead jobs: queued CSV imports."""

from __future__ import annotations

import uuid

from vectra.worker.app import app
from vectra.worker.database import job_database


@app.task(name="leads.import_csv", pass_context=False)
def import_csv(organization_id: str, job_id: str) -> str:
    """Run a queued CSV import (a re-delivered job finds it finished and changes nothing)."""
    from vectra.leads.jobs import run_import_job

    return run_import_job(job_database(), uuid.UUID(organization_id), uuid.UUID(job_id))
