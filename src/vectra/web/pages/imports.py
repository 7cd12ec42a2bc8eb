"""CSV import from the browser: the upload runs in the background, the page polls its job.

The job is `vectra.leads.jobs` (the API's queued imports run the same code): one import
transaction, progress written from a second, committed session so the page (htmx polling
`/leads/imports/{id}/progress`) sees the rows climb while it runs.
"""

from __future__ import annotations

import logging
import uuid
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from vectra.accounts.permissions import Permission
from vectra.campaigns import service as campaigns
from vectra.db.engine import Database
from vectra.leads.jobs import get_import_job, queue_import_job, run_import_job
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
    # The upload is kept with the job (the request's file closes when the response is sent);
    # the same job runner as a queued API import runs it right after the response. Should this
    # process stop first or mid-run, the worker's recovery queues the job (`leads.jobs`).
    database: Database = request.app.state.database
    with database.tenant_session(ctx.actor.organization_id) as own:
        job = queue_import_job(
            own, ctx.actor, campaign.id,
            filename=file.filename, payload=file.file.read(), defer=False,
        )  # fmt: skip
        job_id = job.id
    background.add_task(run_import_job, database, ctx.actor.organization_id, job_id)
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
