"""Lead, import and suppression routes. Thin: the rules live in the services."""

from __future__ import annotations

import json
import uuid
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Response, UploadFile, status
from fastapi.responses import JSONResponse

from vectra.accounts.actor import Actor
from vectra.accounts.permissions import Permission
from vectra.errors import InvalidInput, TooLarge
from vectra.leads import importer, service, suppression
from vectra.leads.jobs import get_import_job, queue_import_job, record_import_job
from vectra.leads.schemas import (
    ImportJobRead,
    ImportReportRead,
    LeadCreate,
    LeadDetail,
    LeadPage,
    LeadRead,
    LeadUpdate,
    StatusChangeRead,
    SuppressionCreate,
    SuppressionPage,
    SuppressionRead,
)
from vectra.leads.status import LeadStatus
from vectra.settings import get_settings
from vectra.web.auth import require
from vectra.web.deps import SessionDep

router = APIRouter(prefix="/api/v1", tags=["leads"])
ReadLeads = Annotated[Actor, require(Permission.LEADS_READ)]
WriteLeads = Annotated[Actor, require(Permission.LEADS_WRITE)]


@router.post(
    "/campaigns/{campaign_id}/leads", status_code=status.HTTP_201_CREATED, response_model=LeadRead
)
def create_lead(
    campaign_id: uuid.UUID, body: LeadCreate, session: SessionDep, actor: WriteLeads
) -> LeadRead:
    return LeadRead.model_validate(service.create_lead(session, actor, campaign_id, body))


@router.get("/campaigns/{campaign_id}/leads", response_model=LeadPage)
def list_leads(
    campaign_id: uuid.UUID,
    session: SessionDep,
    actor: ReadLeads,
    status_filter: Annotated[LeadStatus | None, Query(alias="status")] = None,
    min_score: Annotated[int | None, Query(ge=0, le=100)] = None,
    max_score: Annotated[int | None, Query(ge=0, le=100)] = None,
    intent: Annotated[str | None, Query(max_length=50)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> LeadPage:
    filters = service.LeadFilters(
        status=status_filter, min_score=min_score, max_score=max_score, intent=intent, q=q
    )
    page = service.list_leads(session, actor, campaign_id, filters, cursor=cursor, limit=limit)
    return LeadPage(
        items=[LeadRead.model_validate(lead) for lead in page.items], next_cursor=page.next_cursor
    )


@router.post(
    "/campaigns/{campaign_id}/leads/import",
    status_code=status.HTTP_201_CREATED,
    response_model=ImportReportRead,
    responses={
        202: {
            "model": ImportJobRead,
            "description": "Queued (a large file, or `background=true`): poll "
            "`GET /api/v1/lead-imports/{id}` (the Location header) for progress and the report.",
        },
        413: {"description": "Larger than VECTRA_IMPORT_MAX_BYTES."},
    },
)
def import_leads(
    campaign_id: uuid.UUID,
    session: SessionDep,
    actor: WriteLeads,
    file: Annotated[UploadFile, File(description="A CSV export.")],
    column_map: Annotated[
        str | None, Form(description='JSON object {"CSV column": "lead field"}.')
    ] = None,
    background: Annotated[
        bool | None,
        Query(
            description="Queue the import as a job (202). Default: only files larger than "
            "VECTRA_IMPORT_SYNC_MAX_BYTES are queued; smaller ones answer with the report."
        ),
    ] = None,
) -> ImportReportRead | JSONResponse:
    mapping = _column_map(column_map)
    settings = get_settings()
    size = _upload_size(file)
    if size > settings.import_max_bytes:
        raise TooLarge(
            f"The file is {size} bytes; this server imports at most "
            f"{settings.import_max_bytes} bytes per file (VECTRA_IMPORT_MAX_BYTES): split it.",
            field="file",
        )
    if background or (background is None and size > settings.import_sync_max_bytes):
        job = queue_import_job(
            session, actor, campaign_id,
            filename=file.filename, payload=file.file.read(), column_map=mapping,
        )  # fmt: skip
        body = ImportJobRead.model_validate(job).model_dump(mode="json")
        location = f"/api/v1/lead-imports/{job.id}"
        return JSONResponse(body, status_code=202, headers={"Location": location})
    report = importer.import_leads(
        session, actor, campaign_id, file.file, column_map=mapping, source="csv"
    )
    job = record_import_job(session, actor, campaign_id, file.filename, file.size, report)
    return ImportReportRead.model_validate({**report.as_dict(), "job_id": job.id})


def _column_map(value: str | None) -> dict[str, str] | None:
    if not value:
        return None
    try:
        mapping = json.loads(value)
    except json.JSONDecodeError:
        mapping = None
    if not isinstance(mapping, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()
    ):
        raise InvalidInput("column_map must be a JSON object of strings.", field="column_map")
    return mapping


def _upload_size(file: UploadFile) -> int:
    if file.size is not None:
        return file.size
    file.file.seek(0, 2)
    size = file.file.tell()
    file.file.seek(0)
    return size


@router.get("/campaigns/{campaign_id}/leads/export", response_class=Response)
def export_leads(campaign_id: uuid.UUID, session: SessionDep, actor: ReadLeads) -> Response:
    lines = list(service.export_csv(session, actor, campaign_id))
    return Response(
        "".join(lines),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="leads-{campaign_id}.csv"'},
    )


@router.get("/lead-imports/{job_id}", response_model=ImportJobRead)
def get_import(job_id: uuid.UUID, session: SessionDep, actor: ReadLeads) -> ImportJobRead:
    return ImportJobRead.model_validate(get_import_job(session, actor, job_id))


@router.get("/leads/{lead_id}", response_model=LeadDetail)
def get_lead(lead_id: uuid.UUID, session: SessionDep, actor: ReadLeads) -> LeadDetail:
    lead = service.get_lead(session, actor, lead_id)
    detail = LeadDetail.model_validate(lead)
    detail.status_history = [
        StatusChangeRead.model_validate(h) for h in service.status_history(session, actor, lead_id)
    ]
    return detail


@router.patch("/leads/{lead_id}", response_model=LeadRead)
def update_lead(
    lead_id: uuid.UUID, body: LeadUpdate, session: SessionDep, actor: WriteLeads
) -> LeadRead:
    return LeadRead.model_validate(service.update_lead(session, actor, lead_id, body))


@router.delete("/leads/{lead_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_lead(lead_id: uuid.UUID, session: SessionDep, actor: WriteLeads) -> None:
    service.delete_lead(session, actor, lead_id)


@router.get("/suppressions", response_model=SuppressionPage)
def list_suppressions(
    session: SessionDep,
    actor: ReadLeads,
    q: Annotated[str | None, Query(max_length=255)] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> SuppressionPage:
    page = suppression.list_suppressions(session, actor, q=q, cursor=cursor, limit=limit)
    return SuppressionPage(
        items=[SuppressionRead.model_validate(s) for s in page.items], next_cursor=page.next_cursor
    )


@router.post("/suppressions", status_code=status.HTTP_201_CREATED, response_model=SuppressionRead)
def add_suppression(
    body: SuppressionCreate, session: SessionDep, actor: WriteLeads
) -> SuppressionRead:
    entry = suppression.suppress(session, actor, body.value, body.reason, body.source or "api")
    return SuppressionRead.model_validate(entry)


@router.delete("/suppressions/{suppression_id}", status_code=status.HTTP_204_NO_CONTENT)
def remove_suppression(suppression_id: uuid.UUID, session: SessionDep, actor: WriteLeads) -> None:
    suppression.unsuppress(session, actor, suppression_id)
