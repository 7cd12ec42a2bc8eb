"""Privacy jobs: the daily retention sweep."""

from __future__ import annotations

import logging

from vectra.worker.app import app

log = logging.getLogger(__name__)


@app.periodic(cron="17 3 * * *")
@app.task(name="privacy.retention_sweep", queueing_lock="privacy.retention")
def retention_sweep(timestamp: int) -> None:
    from vectra.meetings.tasks import task_database
    from vectra.privacy.retention import run_retention

    done = run_retention(task_database())
    log.info("retention sweep anonymised leads in %d organizations", len(done))
