"""CRM sync jobs: one per organization, on a schedule and on events (lead qualified, meeting
booked). Bursts collapse: at most one sync per organization waits in the queue
(`queueing_lock`) and one runs at a time (`lock`); the run reads everything changed since
its cursors, so a collapsed event is never lost.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any

from procrastinate.exceptions import AlreadyEnqueued
from sqlalchemy import select
from sqlalchemy.orm import Session

from vectra.db.base import utcnow
from vectra.db.engine import Database
from vectra.db.tenancy import set_tenant
from vectra.integrations.models import Integration
from vectra.integrations.service import CRM_TYPES
from vectra.worker.app import app, defer_in_session
from vectra.worker.database import job_database
from vectra.worker.database import use_database as use_database  # re-exported for callers

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_MINUTES = 60


def sync_lock(organization_id: uuid.UUID | str) -> str:
    return f"integrations.sync:{organization_id}"


def _connected_crms(session: Session, organization_id: uuid.UUID) -> list[Integration]:
    return list(
        session.scalars(
            select(Integration).where(
                Integration.organization_id == organization_id,
                Integration.type.in_(CRM_TYPES),
                Integration.status == "connected",
            )
        )
    )


def _defer(session: Session, organization_id: uuid.UUID, reason: str) -> int | None:
    lock = sync_lock(organization_id)
    try:
        # A savepoint: a collapsed duplicate must not abort the caller's transaction.
        with session.begin_nested():
            return defer_in_session(
                session, sync_organization,
                options={"queueing_lock": lock, "lock": lock},
                organization_id=str(organization_id), reason=reason[:100],
            )  # fmt: skip
    except AlreadyEnqueued:
        return None


def enqueue_sync(session: Session, organization_id: uuid.UUID, reason: str) -> int | None:
    """Queue a CRM sync in the caller's transaction (lead qualified, meeting booked...).

    Returns the job id, or None when the organization has no connected CRM or a sync is
    already waiting (it will pick this change up too).
    """
    if not _connected_crms(session, organization_id):
        return None
    return _defer(session, organization_id, reason)


def run_organization_sync(
    database: Database, organization_id: uuid.UUID, reason: str
) -> list[dict[str, Any]]:
    """Run every connected CRM's sync for one organization, committing batch by batch."""
    from vectra.integrations.sync import run_sync

    results = []
    with database.sessions() as session:
        set_tenant(session, organization_id)
        kinds = [row.type for row in _connected_crms(session, organization_id)]
        session.commit()
        for kind in kinds:
            try:
                run = run_sync(session, organization_id, kind, reason=reason,
                               checkpoint=session.commit)  # fmt: skip
                session.commit()
            except BaseException:
                session.rollback()
                raise
            results.append({"integration": kind, "run_id": str(run.id), "status": run.status})
    return results


@app.task(name="integrations.sync_organization", pass_context=False)
def sync_organization(organization_id: str, reason: str) -> list[dict[str, Any]]:
    """Job: push (and pull) every connected CRM of one organization."""
    return run_organization_sync(job_database(), uuid.UUID(organization_id), reason)


def schedule_due_syncs(session: Session, now: dt.datetime | None = None) -> int:
    """Queue a sync for each connected CRM whose interval has passed (system context)."""
    now = now or utcnow()
    due: set[uuid.UUID] = set()
    for row in session.scalars(
        select(Integration).where(
            Integration.type.in_(CRM_TYPES), Integration.status == "connected"
        )
    ):
        minutes = int((row.settings or {}).get("sync_interval_minutes") or DEFAULT_INTERVAL_MINUTES)
        if row.organization_id and (
            row.last_sync_at is None or row.last_sync_at <= now - dt.timedelta(minutes=minutes)
        ):
            due.add(row.organization_id)
    return sum(1 for org in sorted(due) if _defer(session, org, "schedule") is not None)


@app.periodic(cron="*/5 * * * *", periodic_id="integrations.schedule_syncs")
@app.task(
    name="integrations.schedule_syncs",
    pass_context=False,
    queueing_lock="integrations.schedule_syncs",
)
def schedule_syncs(timestamp: int) -> int:
    """Periodic job: queue the organizations whose CRM sync is due."""
    with job_database().system_session() as session:
        queued = schedule_due_syncs(session)
    if queued:
        log.info("crm syncs queued", extra={"count": queued})
    return queued
