"""Import jobs: the row the UI polls for an import's status, progress and report."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from vectra.accounts.actor import Actor
from vectra.db.base import utcnow
from vectra.errors import NotFound
from vectra.leads.importer import ImportReport
from vectra.leads.tables import LeadImportJob


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
