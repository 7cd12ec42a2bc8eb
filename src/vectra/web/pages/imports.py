"""CSV import from the browser: the upload runs in the background, the page polls its job.

The import itself is `vectra.leads.importer.import_leads` (the API's code path), one
transaction; its progress callback writes the job row from a second, committed session so
the page (htmx polling `/leads/imports/{id}/progress`) sees the rows climb while it runs.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import uuid
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import update

from vectra.accounts.actor import Actor
from vectra.accounts.permissions import Permission
from vectra.campaigns import service as campaigns
from vectra.db.base import utcnow
from vectra.db.engine import Database
from vectra.errors import VectraError
from vectra.leads import importer
from vectra.leads.jobs import get_import_job
from vectra.leads.tables import LeadImportJob
from vectra.web.deps import SessionDep
from vectra.web.pages.deps import PageContext, check_csrf, page, render

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)
ReadCtx = Annotated[PageContext, page(Permission.LEADS_READ)]
WriteCtx = Annotated[PageContext, page(Permission.LEADS_WRITE)]


@router.get("/leads/import", response_class=HTMLResponse)
def import_form(
    request: Request,
    session: SessionDep,
    ctx: WriteCtx,
    campaign_id: uuid.UUID | None = None,
    error: str | None = None,
) -> HTMLResponse:
    listing = campaigns.list_campaigns(session, ctx.actor, limit=200)
    return render(
        request,
        "leads/import.html",
        {"ctx": ctx, "campaigns": listing.items, "selected": campaign_id, "error": error},
        status_code=422 if error else 200,
    )


def _set_job(database: Database, actor: Actor, job_id: uuid.UUID, **values: object) -> None:
    with database.tenant_session(actor.organization_id) as session:
        session.execute(
            update(LeadImportJob)
            .where(
                LeadImportJob.id == job_id,
                LeadImportJob.organization_id == actor.organization_id,
            )
            .values(**values)
        )


def run_import(
    database: Database, actor: Actor, job_id: uuid.UUID, campaign_id: uuid.UUID, path: str
) -> None:
    """Import the saved upload; the job ends 'succeeded' with its report or 'failed'."""
    try:
        _set_job(database, actor, job_id, status="running", started_at=utcnow())
        with open(path, "rb") as binary, database.tenant_session(actor.organization_id) as s:
            report = importer.import_leads(
                s,
                actor,
                campaign_id,
                binary,
                source="csv",
                progress=lambda read, rows: _set_job(
                    database, actor, job_id, bytes_read=read, rows_read=rows
                ),
            )
            # In the import's own transaction: the report is stored only if the leads are.
            s.execute(
                update(LeadImportJob)
                .where(LeadImportJob.id == job_id)
                .values(
                    status="succeeded",
                    rows_read=report.rows,
                    bytes_read=LeadImportJob.bytes_total,
                    report=report.as_dict(),
                    finished_at=utcnow(),
                )
            )
    except VectraError as exc:
        _set_job(database, actor, job_id, status="failed", error=exc.message, finished_at=utcnow())
    except Exception:
        log.exception("lead import %s failed", job_id)
        _set_job(
            database, actor, job_id, status="failed",
            error="The import stopped on an internal error; nothing was stored.",
            finished_at=utcnow(),
        )  # fmt: skip
    finally:
        os.unlink(path)


@router.post("/leads/import")
def import_submit(
    request: Request,
    session: SessionDep,
    ctx: WriteCtx,
    background: BackgroundTasks,
    file: Annotated[UploadFile | None, File()] = None,
    campaign_id: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(ctx.csrf_token, csrf_token)
    try:
        target = uuid.UUID(campaign_id)
    except ValueError:
        return import_form(request, session, ctx, None, "Choose the campaign to import into.")
    campaign = campaigns.get_campaign(session, ctx.actor, target)  # 404 for another tenant's
    if file is None or not file.filename:
        return import_form(request, session, ctx, target, "Choose a CSV file to import.")
    # Saved to disk: the upload is closed when the response is sent, the import runs after.
    with tempfile.NamedTemporaryFile(prefix="vectra-import-", suffix=".csv", delete=False) as out:
        shutil.copyfileobj(file.file, out)
        size = out.tell()
    database: Database = request.app.state.database
    with database.tenant_session(ctx.actor.organization_id) as own:
        job = LeadImportJob(
            organization_id=ctx.actor.organization_id,
            campaign_id=campaign.id,
            created_by=ctx.actor.user_id,
            filename=file.filename[:255],
            status="pending",
            bytes_total=size,
        )
        own.add(job)
        own.flush()
        job_id = job.id
    background.add_task(run_import, database, ctx.actor, job_id, campaign.id, out.name)
    return RedirectResponse(f"/leads/imports/{job_id}", status_code=303)


def _job_context(session: SessionDep, ctx: PageContext, job_id: uuid.UUID) -> dict[str, object]:
    job = get_import_job(session, ctx.actor, job_id)
    percent = int(100 * job.bytes_read / job.bytes_total) if job.bytes_total else 0
    done = job.status in ("succeeded", "failed")
    return {"ctx": ctx, "job": job, "percent": 100 if done else percent, "done": done,
            "report": job.report or {}}  # fmt: skip


@router.get("/leads/imports/{job_id}", response_class=HTMLResponse)
def import_status(
    request: Request, session: SessionDep, ctx: ReadCtx, job_id: uuid.UUID
) -> HTMLResponse:
    return render(request, "leads/import_job.html", _job_context(session, ctx, job_id))


@router.get("/leads/imports/{job_id}/progress", response_class=HTMLResponse)
def import_progress(
    request: Request, session: SessionDep, ctx: ReadCtx, job_id: uuid.UUID
) -> HTMLResponse:
    return render(request, "leads/_import_progress.html", _job_context(session, ctx, job_id))
