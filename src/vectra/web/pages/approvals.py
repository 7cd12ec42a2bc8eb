"""The approval queue: approve, reject with a reason, edit, bulk approve (vectra.mail.approval)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from vectra.accounts.permissions import Permission
from vectra.campaigns.models import Campaign
from vectra.errors import VectraError
from vectra.leads.models import Lead
from vectra.mail import approval
from vectra.web.deps import SessionDep
from vectra.web.pages.deps import PageContext, check_csrf, page, render

router = APIRouter(include_in_schema=False)
ReadCtx = Annotated[PageContext, page(Permission.EMAILS_READ)]
ApproveCtx = Annotated[PageContext, page(Permission.EMAILS_APPROVE)]
DraftCtx = Annotated[PageContext, page(Permission.EMAILS_DRAFT)]


def _back(notice: str | None = None, error: str | None = None) -> RedirectResponse:
    query = urlencode({k: v for k, v in (("notice", notice), ("error", error)) if v})
    return RedirectResponse("/approvals" + (f"?{query}" if query else ""), status_code=303)


@router.get("/approvals", response_class=HTMLResponse)
def queue(
    request: Request,
    session: SessionDep,
    ctx: ReadCtx,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    notice: Annotated[str | None, Query(max_length=500)] = None,
    error: Annotated[str | None, Query(max_length=500)] = None,
) -> HTMLResponse:
    listing = approval.list_emails(session, ctx.actor, status="pending", cursor=cursor, limit=50)
    lead_ids = {e.lead_id for e in listing.items if e.lead_id}
    campaign_ids = {e.campaign_id for e in listing.items if e.campaign_id}
    org = ctx.actor.organization_id
    leads: dict[uuid.UUID, Lead] = {
        lead.id: lead
        for lead in session.scalars(
            select(Lead).where(Lead.organization_id == org, Lead.id.in_(lead_ids))
        )
    }
    campaigns: dict[uuid.UUID, str] = dict(
        session.execute(
            select(Campaign.id, Campaign.name).where(
                Campaign.organization_id == org, Campaign.id.in_(campaign_ids)
            )
        ).all()
    )
    return render(
        request,
        "approvals/queue.html",
        {"ctx": ctx, "page": listing, "leads": leads, "campaigns": campaigns,
         "notice": notice, "error": error},
    )  # fmt: skip


def _decide(session: SessionDep, action: Any, notice: str) -> RedirectResponse:
    try:
        with session.begin_nested():
            action()
    except VectraError as exc:
        return _back(error=exc.message)
    return _back(notice=notice)


@router.post("/approvals/{email_id}/approve")
def approve(
    session: SessionDep, ctx: ApproveCtx, email_id: uuid.UUID,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:  # fmt: skip
    check_csrf(ctx.csrf_token, csrf_token)
    approval.get_email(session, ctx.actor, email_id)  # 404 for another tenant's
    return _decide(
        session, lambda: approval.approve_email(session, ctx.actor, email_id), "Approved."
    )


@router.post("/approvals/{email_id}/reject")
def reject(
    session: SessionDep, ctx: ApproveCtx, email_id: uuid.UUID,
    csrf_token: Annotated[str, Form()] = "", reason: Annotated[str, Form()] = "",
) -> Response:  # fmt: skip
    check_csrf(ctx.csrf_token, csrf_token)
    approval.get_email(session, ctx.actor, email_id)
    return _decide(
        session,
        lambda: approval.reject_email(session, ctx.actor, email_id, reason=reason),
        "Rejected.",
    )


@router.post("/approvals/bulk")
def bulk(
    session: SessionDep, ctx: ApproveCtx,
    csrf_token: Annotated[str, Form()] = "",
    email_ids: Annotated[list[str] | None, Form()] = None,
) -> Response:  # fmt: skip
    check_csrf(ctx.csrf_token, csrf_token)
    try:
        ids = [uuid.UUID(i) for i in email_ids or []]
    except ValueError:
        return _back(error="The selection is not valid; reload and retry.")
    if not ids:
        return _back(error="Select the drafts to approve first.")
    try:
        with session.begin_nested():
            result = approval.bulk_approve(session, ctx.actor, ids)
    except VectraError as exc:
        return _back(error=exc.message)
    notice = f"Approved {len(result.approved)}."
    if result.skipped:
        reasons = sorted(set(result.skipped.values()))
        notice += f" Skipped {len(result.skipped)}: " + "; ".join(reasons)
    return _back(notice=notice)


@router.get("/approvals/{email_id}/edit", response_class=HTMLResponse)
def edit_form(
    request: Request, session: SessionDep, ctx: DraftCtx, email_id: uuid.UUID,
    error: str | None = None, values: dict[str, str] | None = None,
) -> HTMLResponse:  # fmt: skip
    email = approval.get_email(session, ctx.actor, email_id)
    values = values or {"subject": email.subject, "body": email.body}
    return render(
        request, "approvals/edit.html",
        {"ctx": ctx, "email": email, "error": error, "values": values},
        status_code=422 if error else 200,
    )  # fmt: skip


@router.post("/approvals/{email_id}/edit")
def edit_submit(
    request: Request, session: SessionDep, ctx: DraftCtx, email_id: uuid.UUID,
    csrf_token: Annotated[str, Form()] = "",
    subject: Annotated[str, Form()] = "", body: Annotated[str, Form()] = "",
) -> Response:  # fmt: skip
    check_csrf(ctx.csrf_token, csrf_token)
    try:
        with session.begin_nested():
            approval.edit_email(session, ctx.actor, email_id, subject=subject, body=body)
    except VectraError as exc:
        if exc.status_code == 404:
            raise
        session.expire_all()
        values = {"subject": subject, "body": body}
        return edit_form(request, session, ctx, email_id, exc.message, values)
    return _back(notice="Saved; the draft is back in the queue.")
