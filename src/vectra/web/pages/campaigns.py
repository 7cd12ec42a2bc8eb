"""Campaign pages: the list, the create form, one campaign with its status buttons and stats."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import func, select

from vectra.accounts.permissions import Permission
from vectra.campaigns import service
from vectra.campaigns.schemas import CampaignCreate, CampaignStatus
from vectra.campaigns.sequence import step_count
from vectra.errors import VectraError
from vectra.leads.models import Lead
from vectra.mail.approval import variant_stats
from vectra.web.deps import SessionDep
from vectra.web.pages.deps import PageContext, check_csrf, page, render
from vectra.web.pages.sequence import router as sequence_router

router = APIRouter(include_in_schema=False)
router.include_router(sequence_router)  # the sequence editor: /campaigns/{id}/sequence
ReadCtx = Annotated[PageContext, page(Permission.CAMPAIGNS_READ)]
WriteCtx = Annotated[PageContext, page(Permission.CAMPAIGNS_WRITE)]

# The label of the button that moves a campaign to each status.
STATUS_ACTIONS = {
    CampaignStatus.ACTIVE: "Start",
    CampaignStatus.PAUSED: "Pause",
    CampaignStatus.COMPLETED: "Complete",
    CampaignStatus.ARCHIVED: "Archive",
}
SENIORITIES = ("c_level", "vp", "director", "manager", "senior", "entry")
COMPANY_SIZES = ("1-10", "11-50", "51-200", "201-500", "501-1000", "1001-5000", "5001+")


def split_list(value: str) -> list[str]:
    """A comma- or newline-separated form field as a list of non-empty items."""
    return [item.strip() for item in value.replace("\n", ",").split(",") if item.strip()]


def validation_message(exc: ValidationError) -> tuple[str, str]:
    """The first problem of a form as (field, message), in words a person can act on."""
    error = exc.errors()[0]
    field = ".".join(str(part) for part in error["loc"]) or "form"
    return field, f"{field}: {error['msg']}"


@router.get("/campaigns", response_class=HTMLResponse)
def campaigns_list(
    request: Request, session: SessionDep, ctx: ReadCtx, cursor: str | None = None
) -> HTMLResponse:
    listing = service.list_campaigns(session, ctx.actor, cursor=cursor, limit=50)
    counts = dict(
        session.execute(
            select(Lead.campaign_id, func.count())
            .where(
                Lead.organization_id == ctx.actor.organization_id,
                Lead.campaign_id.in_([c.id for c in listing.items]),
            )
            .group_by(Lead.campaign_id)
        ).all()
    )
    return render(
        request,
        "campaigns/list.html",
        {"ctx": ctx, "page": listing, "lead_counts": counts},
    )


def _form(request: Request, ctx: PageContext, values: dict[str, Any], error: str | None = None,
          field: str | None = None) -> HTMLResponse:  # fmt: skip
    return render(
        request,
        "campaigns/new.html",
        {
            "ctx": ctx,
            "values": values,
            "error": error,
            "error_field": field,
            "seniorities": SENIORITIES,
            "company_sizes": COMPANY_SIZES,
        },
        status_code=422 if error else 200,
    )


@router.get("/campaigns/new", response_class=HTMLResponse)
def campaign_new(request: Request, ctx: WriteCtx) -> HTMLResponse:
    return _form(request, ctx, {"bant_threshold": 60, "daily_limit": 50, "delay_days": 0})


@router.post("/campaigns/new")
def campaign_create(
    request: Request,
    session: SessionDep,
    ctx: WriteCtx,
    csrf_token: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    icp: Annotated[str, Form()] = "",
    industries: Annotated[str, Form()] = "",
    job_titles: Annotated[str, Form()] = "",
    seniorities: Annotated[list[str] | None, Form()] = None,
    company_sizes: Annotated[list[str] | None, Form()] = None,
    countries: Annotated[str, Form()] = "",
    keywords: Annotated[str, Form()] = "",
    exclude_domains: Annotated[str, Form()] = "",
    bant_threshold: Annotated[str, Form()] = "60",
    daily_limit: Annotated[str, Form()] = "50",
    subject: Annotated[str, Form()] = "",
    body: Annotated[str, Form()] = "",
    delay_days: Annotated[str, Form()] = "0",
) -> Response:
    check_csrf(ctx.csrf_token, csrf_token)
    values: dict[str, Any] = {
        "name": name, "description": description, "icp": icp, "industries": industries,
        "job_titles": job_titles, "seniorities": seniorities or [],
        "company_sizes": company_sizes or [], "countries": countries, "keywords": keywords,
        "exclude_domains": exclude_domains, "bant_threshold": bant_threshold,
        "daily_limit": daily_limit, "subject": subject, "body": body, "delay_days": delay_days,
    }  # fmt: skip
    sequence = None
    if subject.strip() or body.strip():
        sequence = {"steps": [{"delay_days": delay_days or 0, "subject": subject, "body": body}]}
    try:
        data = CampaignCreate.model_validate(
            {
                "name": name,
                "description": description or None,
                "target_criteria": {
                    "description": icp,
                    "industries": split_list(industries),
                    "job_titles": split_list(job_titles),
                    "seniorities": seniorities or [],
                    "company_sizes": company_sizes or [],
                    "countries": [c.upper() for c in split_list(countries)],
                    "keywords": split_list(keywords),
                    "exclude": {"domains": split_list(exclude_domains)},
                },
                "email_template": sequence,
                "bant_threshold": bant_threshold or 60,
                "daily_limit": daily_limit or 50,
            }
        )
    except ValidationError as exc:
        field, message = validation_message(exc)
        return _form(request, ctx, values, message, field)
    try:
        with session.begin_nested():
            campaign = service.create_campaign(session, ctx.actor, data)
    except VectraError as exc:
        return _form(request, ctx, values, exc.message, exc.field)
    return RedirectResponse(f"/campaigns/{campaign.id}", status_code=303)


def _status_counts(session: SessionDep, ctx: PageContext, campaign_id: uuid.UUID) -> dict[str, int]:
    rows = session.execute(
        select(Lead.status, func.count())
        .where(Lead.organization_id == ctx.actor.organization_id, Lead.campaign_id == campaign_id)
        .group_by(Lead.status)
    ).all()
    return {str(status or "new"): int(count) for status, count in rows}


def _detail(request: Request, session: SessionDep, ctx: PageContext, campaign_id: uuid.UUID,
            error: str | None = None) -> HTMLResponse:  # fmt: skip
    campaign = service.get_campaign(session, ctx.actor, campaign_id)
    current = CampaignStatus(campaign.status or "draft")
    actions = [(s.value, STATUS_ACTIONS[s]) for s in sorted(service.TRANSITIONS[current])]
    steps = (campaign.email_template or {}).get("steps", [])
    return render(
        request,
        "campaigns/detail.html",
        {
            "ctx": ctx,
            "campaign": campaign,
            "criteria": campaign.target_criteria or {},
            "steps": steps,
            "step_count": step_count(campaign.email_template),
            "actions": actions,
            "missing": service.missing_for_activation(session, ctx.actor, campaign)
            if current in (CampaignStatus.DRAFT, CampaignStatus.PAUSED)
            else [],
            "status_counts": _status_counts(session, ctx, campaign.id),
            "variant_stats": variant_stats(session, ctx.actor, campaign.id),
            "error": error,
        },
        status_code=409 if error else 200,
    )


@router.get("/campaigns/{campaign_id}", response_class=HTMLResponse)
def campaign_detail(
    request: Request, session: SessionDep, ctx: ReadCtx, campaign_id: uuid.UUID
) -> HTMLResponse:
    return _detail(request, session, ctx, campaign_id)


@router.post("/campaigns/{campaign_id}/status")
def campaign_status(
    request: Request,
    session: SessionDep,
    ctx: WriteCtx,
    campaign_id: uuid.UUID,
    csrf_token: Annotated[str, Form()] = "",
    status: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(ctx.csrf_token, csrf_token)
    try:
        target = CampaignStatus(status)
    except ValueError:
        return _detail(request, session, ctx, campaign_id, f"Unknown status '{status}'.")
    campaign = service.get_campaign(session, ctx.actor, campaign_id, for_update=True)
    try:
        with session.begin_nested():
            service.change_status(session, ctx.actor, campaign, target)
    except VectraError as exc:
        session.expire(campaign)
        return _detail(request, session, ctx, campaign_id, exc.message)
    return RedirectResponse(f"/campaigns/{campaign_id}", status_code=303)
