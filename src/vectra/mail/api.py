"""Drafts and the approval queue. Thin: the rules live in `drafts` and `approval`."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from vectra.accounts.actor import Actor
from vectra.accounts.permissions import Permission
from vectra.mail import approval, drafts
from vectra.mail.approval_schemas import (
    BulkApproveRequest,
    BulkApproveResult,
    DraftRequest,
    EmailPageRead,
    EmailRead,
    EmailUpdate,
    RejectRequest,
    VariantStats,
)
from vectra.web.auth import require
from vectra.web.deps import SessionDep

router = APIRouter(prefix="/api/v1/emails", tags=["emails"])


@router.get("", response_model=EmailPageRead, summary="The approval queue (filters, keyset pages)")
def list_emails(
    session: SessionDep,
    actor: Annotated[Actor, require(Permission.EMAILS_READ)],
    status_: Annotated[str | None, Query(alias="status")] = "pending",
    campaign_id: uuid.UUID | None = None,
    lead_id: uuid.UUID | None = None,
    flagged: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> EmailPageRead:
    page = approval.list_emails(
        session,
        actor,
        status=status_ or None,
        campaign_id=campaign_id,
        lead_id=lead_id,
        flagged=flagged,
        limit=limit,
        cursor=cursor,
    )
    return EmailPageRead(
        items=[EmailRead.model_validate(e) for e in page.items], next_cursor=page.next_cursor
    )


@router.post(
    "/drafts",
    response_model=list[EmailRead],
    status_code=status.HTTP_201_CREATED,
    summary="Draft every step of the campaign's sequence for a qualified lead",
)
def draft_for_lead(
    body: DraftRequest,
    session: SessionDep,
    actor: Annotated[Actor, require(Permission.EMAILS_DRAFT)],
) -> list[EmailRead]:
    created = drafts.draft_sequence_for_lead(session, actor, body.lead_id)
    return [EmailRead.model_validate(e) for e in created]


@router.post(
    "/bulk-approve", response_model=BulkApproveResult, summary="Approve many pending drafts"
)
def bulk_approve(
    body: BulkApproveRequest,
    session: SessionDep,
    actor: Annotated[Actor, require(Permission.EMAILS_APPROVE)],
) -> BulkApproveResult:
    result = approval.bulk_approve(session, actor, body.email_ids)
    return BulkApproveResult(approved=result.approved, skipped=result.skipped)


@router.get(
    "/variant-stats",
    response_model=list[VariantStats],
    summary="Sent, opened, clicked and replied per step and A/B variant of a campaign",
)
def variant_stats(
    campaign_id: uuid.UUID,
    session: SessionDep,
    actor: Annotated[Actor, require(Permission.EMAILS_READ)],
) -> list[VariantStats]:
    return [VariantStats(**row) for row in approval.variant_stats(session, actor, campaign_id)]


@router.get("/{email_id}", response_model=EmailRead, summary="One email")
def get_email(
    email_id: uuid.UUID,
    session: SessionDep,
    actor: Annotated[Actor, require(Permission.EMAILS_READ)],
) -> EmailRead:
    return EmailRead.model_validate(approval.get_email(session, actor, email_id))


@router.patch("/{email_id}", response_model=EmailRead, summary="Edit a draft (back to pending)")
def edit_email(
    email_id: uuid.UUID,
    body: EmailUpdate,
    session: SessionDep,
    actor: Annotated[Actor, require(Permission.EMAILS_DRAFT)],
) -> EmailRead:
    email = approval.edit_email(session, actor, email_id, subject=body.subject, body=body.body)
    return EmailRead.model_validate(email)


@router.post("/{email_id}/approve", response_model=EmailRead, summary="Approve a draft")
def approve_email(
    email_id: uuid.UUID,
    session: SessionDep,
    actor: Annotated[Actor, require(Permission.EMAILS_APPROVE)],
) -> EmailRead:
    return EmailRead.model_validate(approval.approve_email(session, actor, email_id))


@router.post("/{email_id}/reject", response_model=EmailRead, summary="Reject a draft, saying why")
def reject_email(
    email_id: uuid.UUID,
    body: RejectRequest,
    session: SessionDep,
    actor: Annotated[Actor, require(Permission.EMAILS_APPROVE)],
) -> EmailRead:
    return EmailRead.model_validate(
        approval.reject_email(session, actor, email_id, reason=body.reason)
    )
