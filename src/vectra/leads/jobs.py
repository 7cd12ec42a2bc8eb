"""Import jobs: the row the UI polls for an import's status, progress and report.

A large upload is queued: its bytes go into the job row (`payload`, in the database, so any
worker can read it), a Procrastinate job is deferred in the same transaction, and the worker
runs the same importer as a direct upload, writing progress from a second session while the
import's own transaction is open. The report is stored in that transaction, so a job is
`succeeded` exactly when its leads are committed; a re-delivered job sees that and stops.

A run that dies with its process (restart, deploy, SIGKILL) rolls its transaction back but
cannot mark its job: while it lives it refreshes `heartbeat_at` (claim, progress, a ticker
thread), and the worker's periodic recovery puts a job with a stale heartbeat back to
`pending` and queues it again, until `import_max_attempts` runs have been claimed. Each run
holds its attempt number as a fencing token: a run whose job was recovered under it (alive
but silent too long) writes nothing, so the file's leads are committed once.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import threading
import uuid
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from sqlalchemy import and_, or_, select, text, update
from sqlalchemy.orm import Session

from vectra.accounts.actor import Actor, system_actor
from vectra.campaigns import service as campaigns
from vectra.db.base import utcnow
from vectra.db.engine import Database
from vectra.errors import NotFound, VectraError
from vectra.leads import importer
from vectra.leads.importer import ImportReport
from vectra.leads.tables import LeadImportJob
from vectra.settings import get_settings

log = logging.getLogger(__name__)


def record_import_job(
    session: Session,
    actor: Actor,
    campaign_id: uuid.UUID,
    filename: str | None,
    size: int | None,
    report: ImportReport,
) -> LeadImportJob:
    """Keep a finished import's report, for the campaign's import history."""
    now = utcnow()
    job = LeadImportJob(
        organization_id=actor.organization_id,
        campaign_id=campaign_id,
        created_by=actor.user_id,
        filename=(filename or "")[:255] or None,
        status="succeeded",
        bytes_total=size or 0,
        bytes_read=size or 0,
        rows_read=report.rows,
        report=report.as_dict(),
        started_at=now,
        finished_at=now,
    )
    session.add(job)
    session.flush()
    return job


def get_import_job(session: Session, actor: Actor, job_id: uuid.UUID) -> LeadImportJob:
    job = session.scalar(
        select(LeadImportJob).where(
            LeadImportJob.id == job_id, LeadImportJob.organization_id == actor.organization_id
        )
    )
    if job is None:
        raise NotFound("Import job not found.")
    return job


def queue_import_job(
    session: Session,
    actor: Actor,
    campaign_id: uuid.UUID,
    *,
    filename: str | None,
    payload: bytes,
    column_map: dict[str, str] | None = None,
    defer: bool = True,
) -> LeadImportJob:
    """Keep the upload with a pending job and defer its run (both or neither commit).

    `defer=False` leaves the run to the caller (the browser upload runs it in-process).
    """
    from vectra.leads.tasks import import_csv
    from vectra.worker.app import defer_in_session

    campaign = campaigns.get_campaign(session, actor, campaign_id)  # 404 for another tenant's
    job = LeadImportJob(
        organization_id=actor.organization_id,
        campaign_id=campaign.id,
        created_by=actor.user_id,
        filename=(filename or "")[:255] or None,
        status="pending",
        bytes_total=len(payload),
        column_map=column_map or {},
        payload=payload,
    )
    session.add(job)
    session.flush()
    if defer:
        defer_in_session(
            session, import_csv, organization_id=str(actor.organization_id), job_id=str(job.id)
        )
    return job


INTERRUPTED_ERROR = (
    "The import was interrupted {attempts} times (the server stopped while it ran); "
    "nothing was stored. Upload the file again."
)


@dataclass
class ImportRecovery:
    """What one recovery pass did: jobs queued again, and jobs failed after their last run."""

    requeued: list[uuid.UUID] = field(default_factory=list)
    failed: list[uuid.UUID] = field(default_factory=list)


def _held(organization_id: uuid.UUID, job_id: uuid.UUID, attempt: int) -> tuple[Any, ...]:
    """The job as this run claimed it: still running, and under this run's attempt number."""
    return (
        LeadImportJob.id == job_id,
        LeadImportJob.organization_id == organization_id,
        LeadImportJob.status == "running",
        LeadImportJob.attempts == attempt,
    )


def _set_job(
    database: Database, organization_id: uuid.UUID, job_id: uuid.UUID, attempt: int, **values: Any
) -> bool:
    """Write to a job this run still holds (running, same attempt); False once it is not."""
    # Its own committed transaction: the page polling the job sees progress during the import.
    with database.tenant_session(organization_id) as session:
        result = session.execute(
            update(LeadImportJob)
            .where(*_held(organization_id, job_id, attempt))
            .values(heartbeat_at=utcnow(), **values)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


class _Heartbeat:
    """Refresh a run's heartbeat from a thread, so a long statement does not look like death."""

    def __init__(
        self,
        database: Database,
        organization_id: uuid.UUID,
        job_id: uuid.UUID,
        attempt: int,
        *,
        every: float,
    ) -> None:
        self._beat = lambda: _set_job(database, organization_id, job_id, attempt)
        self._every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"import-heartbeat-{job_id}", daemon=True
        )

    def _run(self) -> None:
        while not self._stop.wait(self._every):
            try:
                if not self._beat():
                    return  # finished, or recovered under this run: nothing left to keep alive
            except Exception:  # a missed beat is retried; only a long silence recovers the job
                log.warning("lead import heartbeat failed", exc_info=True)

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Exited after the import's transaction ends: a beat waiting on the job row's lock
        # (the final update) is released by that commit or rollback, so this join returns.
        self._stop.set()
        self._thread.join()


class _Superseded(Exception):
    """The job was recovered while this run was silent: another run owns it now."""


def run_import_job(
    database: Database,
    organization_id: uuid.UUID,
    job_id: uuid.UUID,
    *,
    heartbeat_every: float | None = None,
) -> str:
    """Run a queued import; the job's status afterwards ('succeeded' or 'failed' when it ran)."""
    if heartbeat_every is None:
        heartbeat_every = max(1.0, get_settings().import_stale_after_s / 5)
    with database.tenant_session(organization_id) as session:
        # Claim it: only a pending job runs, so a re-delivered or doubled run changes nothing.
        claimed = session.execute(
            update(LeadImportJob)
            .where(
                LeadImportJob.id == job_id,
                LeadImportJob.organization_id == organization_id,
                LeadImportJob.status == "pending",
            )
            .values(
                status="running",
                started_at=utcnow(),
                heartbeat_at=utcnow(),
                attempts=LeadImportJob.attempts + 1,
            )
            .returning(
                LeadImportJob.payload,
                LeadImportJob.campaign_id,
                LeadImportJob.column_map,
                LeadImportJob.attempts,
            )
        ).one_or_none()
        if claimed is None:
            job = session.get(LeadImportJob, job_id)
            if job is None:
                raise NotFound("Import job not found.")
            return job.status
        payload, campaign_id = claimed.payload or b"", claimed.campaign_id
        attempt: int = claimed.attempts
        column_map = dict(claimed.column_map or {}) or None
    actor = system_actor(organization_id)

    def progress(read: int, rows: int) -> None:
        held = _set_job(database, organization_id, job_id, attempt, bytes_read=read, rows_read=rows)
        if not held:
            raise _Superseded  # recovered under this run: stop early, the new run imports

    try:
        # The session (its transaction) ends before the heartbeat stops: see `_Heartbeat`.
        with (
            _Heartbeat(database, organization_id, job_id, attempt, every=heartbeat_every),
            database.tenant_session(organization_id) as session,
        ):
            report = importer.import_leads(
                session,
                actor,
                campaign_id,
                io.BytesIO(payload),
                column_map=column_map,
                source="csv",
                progress=progress,
            )
            finished = session.execute(
                update(LeadImportJob)
                .where(*_held(organization_id, job_id, attempt))
                .values(
                    status="succeeded",
                    rows_read=report.rows,
                    bytes_read=LeadImportJob.bytes_total,
                    report=report.as_dict(),
                    payload=None,
                    finished_at=utcnow(),
                )
            )
            if not finished.rowcount:  # type: ignore[attr-defined]
                raise _Superseded  # roll the leads back: the run that owns the job imports
        return "succeeded"
    except _Superseded:
        log.warning("lead import %s attempt %s was superseded; nothing stored", job_id, attempt)
        with database.tenant_session(organization_id) as session:
            return (
                session.scalar(select(LeadImportJob.status).where(LeadImportJob.id == job_id))
                or "failed"
            )
    except VectraError as exc:
        error = exc.message  # the file cannot be read at all: one clear error, nothing stored
    except Exception:
        log.exception("lead import %s failed", job_id)
        error = "The import stopped on an internal error; nothing was stored. Try again."
    _set_job(
        database, organization_id, job_id, attempt,
        status="failed", error=error, payload=None, finished_at=utcnow(),
    )  # fmt: skip
    return "failed"


# A pending job that a queued job will still run. The page's in-process runs have none, and
# a queue job already taken ('doing') may have died with its worker: both are queued again
# (a second run of a claimed job only finds it taken).
_NOT_QUEUED = text(
    "NOT EXISTS (SELECT 1 FROM procrastinate_jobs p WHERE p.task_name = 'leads.import_csv' "
    "AND p.status = 'todo' AND p.args ->> 'job_id' = CAST(lead_import_jobs.id AS text))"
)


def recover_stalled_imports(
    session: Session,
    *,
    stale_after: dt.timedelta,
    max_attempts: int,
    now: dt.datetime | None = None,
) -> ImportRecovery:
    """Queue again the jobs whose run died (no heartbeat for `stale_after`), or fail them after
    `max_attempts` runs; also queue pending jobs left with no queue job (system context)."""
    from vectra.leads.tasks import import_csv
    from vectra.worker.app import defer_in_session

    now = now or utcnow()
    cutoff = now - stale_after
    recovery = ImportRecovery()
    stalled = session.execute(
        select(LeadImportJob.id, LeadImportJob.organization_id, LeadImportJob.attempts)
        .where(
            LeadImportJob.heartbeat_at < cutoff,
            or_(
                LeadImportJob.status == "running",
                and_(LeadImportJob.status == "pending", _NOT_QUEUED),
            ),
        )
        .order_by(LeadImportJob.heartbeat_at)
        # A run that is finishing holds the row (its final update): it is alive, skip it.
        .with_for_update(skip_locked=True)
    ).all()
    for job_id, organization_id, attempts in stalled:
        if attempts >= max_attempts:
            values: dict[str, Any] = {
                "status": "failed",
                "error": INTERRUPTED_ERROR.format(attempts=attempts),
                "payload": None,
                "finished_at": now,
            }
            recovery.failed.append(job_id)
        else:
            values = {"status": "pending", "bytes_read": 0, "rows_read": 0}
            defer_in_session(
                session, import_csv, organization_id=str(organization_id), job_id=str(job_id)
            )
            recovery.requeued.append(job_id)
        session.execute(
            update(LeadImportJob)
            .where(LeadImportJob.id == job_id)
            .values(heartbeat_at=now, **values)
        )
    if recovery.requeued or recovery.failed:
        log.warning(
            "lead imports recovered",
            extra={"requeued": len(recovery.requeued), "failed": len(recovery.failed)},
        )
    return recovery
