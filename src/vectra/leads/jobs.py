"""Import jobs: the row the UI polls for an import's status, progress and report.

A large upload is queued: its bytes go into the job row (`payload`, in the database, so any
worker can read it), a Procrastinate job is deferred in the same transaction, and the worker
runs the same importer as a direct upload, writing progress from a second session while the
import's own transaction is open. The report is stored in that transaction, so a job is
`succeeded` exactly when its leads are committed; a re-delivered job sees that and stops.
"""

from __future__ import annotations

import io
import logging
import uuid
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from vectra.accounts.actor import Actor, system_actor
from vectra.campaigns import service as campaigns
from vectra.db.base import utcnow
from vectra.db.engine import Database
from vectra.errors import NotFound, VectraError
from vectra.leads import importer
from vectra.leads.importer import ImportReport
from vectra.leads.tables import LeadImportJob

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


def _set_job(
    database: Database, organization_id: uuid.UUID, job_id: uuid.UUID, **values: Any
) -> None:
    # Its own committed transaction: the page polling the job sees progress during the import.
    with database.tenant_session(organization_id) as session:
        session.execute(
            update(LeadImportJob)
            .where(LeadImportJob.id == job_id, LeadImportJob.organization_id == organization_id)
            .values(**values)
        )


def run_import_job(database: Database, organization_id: uuid.UUID, job_id: uuid.UUID) -> str:
    """Run a queued import; the job's final status ('succeeded' or 'failed')."""
    with database.tenant_session(organization_id) as session:
        # Claim it: only a pending job runs, so a re-delivered or doubled run changes nothing.
        claimed = session.execute(
            update(LeadImportJob)
            .where(
                LeadImportJob.id == job_id,
                LeadImportJob.organization_id == organization_id,
                LeadImportJob.status == "pending",
            )
            .values(status="running", started_at=utcnow())
            .returning(LeadImportJob.payload, LeadImportJob.campaign_id, LeadImportJob.column_map)
        ).one_or_none()
        if claimed is None:
            job = session.get(LeadImportJob, job_id)
            if job is None:
                raise NotFound("Import job not found.")
            return job.status
        payload, campaign_id = claimed.payload or b"", claimed.campaign_id
        column_map = dict(claimed.column_map or {}) or None
    actor = system_actor(organization_id)
    try:
        with database.tenant_session(organization_id) as session:
            report = importer.import_leads(
                session,
                actor,
                campaign_id,
                io.BytesIO(payload),
                column_map=column_map,
                source="csv",
                progress=lambda read, rows: _set_job(
                    database, organization_id, job_id, bytes_read=read, rows_read=rows
                ),
            )
            session.execute(
                update(LeadImportJob)
                .where(LeadImportJob.id == job_id)
                .values(
                    status="succeeded",
                    rows_read=report.rows,
                    bytes_read=LeadImportJob.bytes_total,
                    report=report.as_dict(),
                    payload=None,
                    finished_at=utcnow(),
                )
            )
        return "succeeded"
    except VectraError as exc:
        error = exc.message  # the file cannot be read at all: one clear error, nothing stored
    except Exception:
        log.exception("lead import %s failed", job_id)
        error = "The import stopped on an internal error; nothing was stored. Try again."
    _set_job(
        database, organization_id, job_id,
        status="failed", error=error, payload=None, finished_at=utcnow(),
    )  # fmt: skip
    return "failed"
