"""The Procrastinate app: tasks register on `app`; `running_app` binds it to a database.

Jobs are deferred inside the caller's own transaction (`defer_in_session`), so a job
exists exactly when the data it acts on is committed, and carries only ids.
"""

from __future__ import annotations

from typing import Any

import procrastinate
from procrastinate.manager import JobManager
from procrastinate.sync_psycopg_connector import SyncPsycopgConnector
from sqlalchemy.orm import Session

from vectra.db.engine import Database, DatabaseUrls
from vectra.worker.database import use_database

# Modules whose tasks the worker loads; each domain's `tasks.py` joins this list.
TASK_MODULES: list[str] = [
    "vectra.ai.tasks",
    "vectra.agents.runner",
    "vectra.billing.tasks",
    "vectra.meetings.tasks",
    "vectra.mail.tasks",
    "vectra.mail.inbound.tasks",
    "vectra.integrations.tasks",
    "vectra.leads.tasks",
    "vectra.privacy.tasks",
    "vectra.worker.tasks",
]

# How a worker runs. Procrastinate's default concurrency is 1: one long job (a sending run,
# an embedding batch, a CRM sync) would hold every other job back however idle the machine.
# Sync jobs run in threads and async ones yield on I/O, so 4 slots per process keep short
# jobs starting within milliseconds; LISTEN/NOTIFY wakes the worker at once, and polling
# every 5 s is only the fallback for a lost notification.
WORKER_CONCURRENCY = 4
WORKER_OPTIONS: dict[str, Any] = {
    "concurrency": WORKER_CONCURRENCY,
    "listen_notify": True,
    "fetch_job_polling_interval": 5.0,
}

app = procrastinate.App(
    connector=procrastinate.PsycopgConnector(),
    import_paths=TASK_MODULES,
    worker_defaults=WORKER_OPTIONS,  # type: ignore[arg-type]
)

# Never opened: it only runs the defer query on a connection the caller passes, whatever
# state the app's own (async) connector is in.
_defer_manager = JobManager(connector=SyncPsycopgConnector())


def running_app(urls: DatabaseUrls) -> procrastinate.App:
    """The app bound to the application role's connection, for a worker to run."""
    conninfo = urls.app or urls.owner
    options = "-c timezone=UTC"
    if urls.uses_set_role:
        options += f" -c role={urls.app_role}"
    # One pooled connection per job slot plus two for fetching and finishing jobs (the
    # LISTEN connection is separate).
    connector = procrastinate.PsycopgConnector(
        conninfo=conninfo,
        kwargs={"options": options},
        min_size=2,
        max_size=WORKER_CONCURRENCY + 2,
    )
    # Jobs open their sessions on the same database the worker polls.
    use_database(Database(urls, pool_size=4))
    app.connector = connector
    app.job_manager.connector = connector
    return app


def defer_in_session(
    session: Session,
    task: procrastinate.tasks.Task[Any, Any, Any],
    *,
    options: dict[str, Any] | None = None,
    **task_kwargs: Any,
) -> int:
    """Queue `task` in `session`'s transaction: the job exists only if the transaction commits.

    `options` are Procrastinate's job options (lock, queueing_lock, schedule_in, priority...).
    """
    raw = session.connection().connection.driver_connection
    job = task.configure(**(options or {})).make_new_job(**task_kwargs)
    deferred = _defer_manager.defer_job(job=job, connection=raw)
    assert deferred.id is not None
    return deferred.id
