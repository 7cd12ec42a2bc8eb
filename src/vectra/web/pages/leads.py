"""Lead pages: the table (filters, sort, keyset pages), one lead (BANT breakdown, history)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from vectra.accounts.permissions import Permission
from vectra.campaigns import service as campaigns
from vectra.db.pagination import Page, paginate
from vectra.errors import InvalidInput
from vectra.leads import service
from vectra.leads.models import Lead
from vectra.leads.status import LeadStatus, parse_status
from vectra.web.deps import SessionDep
from vectra.web.pages.deps import PageContext, page, render

router = APIRouter(include_in_schema=False)
ReadCtx = Annotated[PageContext, page(Permission.LEADS_READ)]

# Keyset orders the table offers: (column, descending). Only non-null columns (see paginate).
SORTS = {
    "newest": (Lead.created_at, True),
    "oldest": (Lead.created_at, False),
    "email": (Lead.email, False),
}


def _int_or_none(value: str | None, field: str) -> int | None:
    if value is None or value.strip() == "":
        return None
    try:
        number = int(value)
    except ValueError:
        raise InvalidInput(f"{field} must be a whole number 0..100.", field=field) from None
    if not 0 <= number <= 100:
        raise InvalidInput(f"{field} must be between 0 and 100.", field=field)
    return number


def list_page(
    session: SessionDep,
    ctx: PageContext,
    campaign_id: uuid.UUID,
    filters: service.LeadFilters,
    sort: str,
    cursor: str | None,
) -> Page[Lead]:
    """The service's list (newest first), or the same filters in another keyset order."""
    if sort == "newest":
        return service.list_leads(session, ctx.actor, campaign_id, filters, cursor=cursor)
    campaigns.get_campaign(session, ctx.actor, campaign_id)
    column, descending = SORTS[sort]
    return paginate(
        service._filtered(ctx.actor, campaign_id, filters),
        execute=lambda s: session.scalars(s).all(),
        sort=column,
        id_column=Lead.id,
        cursor=cursor,
        limit=50,
        descending=descending,
    )


@router.get("/leads", response_class=HTMLResponse)
def leads_table(
    request: Request,
    session: SessionDep,
    ctx: ReadCtx,
    campaign_id: uuid.UUID | None = None,
    status: Annotated[str | None, Query(max_length=50)] = None,
    min_score: Annotated[str | None, Query(max_length=3)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    sort: Annotated[str, Query(max_length=10)] = "newest",
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    listing = campaigns.list_campaigns(session, ctx.actor, limit=200)
    if campaign_id is None:
        if not listing.items:
            return render(request, "leads/table.html", {"ctx": ctx, "campaigns": [], "page": None})
        return RedirectResponse(f"/leads?campaign_id={listing.items[0].id}", status_code=303)
    if sort not in SORTS:
        raise InvalidInput(f"sort must be one of {', '.join(SORTS)}.", field="sort")
    filters = service.LeadFilters(
        status=parse_status(status) if status else None,
        min_score=_int_or_none(min_score, "min_score"),
        q=q,
    )
    result = list_page(session, ctx, campaign_id, filters, sort, cursor)
    campaign = campaigns.get_campaign(session, ctx.actor, campaign_id)
    query: dict[str, Any] = {"campaign_id": campaign_id, "status": status or "",
                             "min_score": min_score or "", "q": q or "", "sort": sort}  # fmt: skip
    return render(
        request,
        "leads/table.html",
        {
            "ctx": ctx,
            "campaigns": listing.items,
            "campaign": campaign,
            "page": result,
            "query": query,
            "statuses": [s.value for s in LeadStatus],
            "sorts": list(SORTS),
            "total": service.count_leads(session, ctx.actor, campaign_id),
        },
    )


def breakdown_parts(breakdown: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Each BANT sub-score as {name, score, confidence, evidence[]} (vectra.agents.bant's
    shape: evidence items are {source, quote}; plain strings are accepted too)."""
    parts = []
    for name in ("budget", "authority", "need", "timeline", "timing"):
        raw = (breakdown or {}).get(name)
        if raw is None:
            continue
        if not isinstance(raw, dict):
            raw = {"score": raw}
        evidence = raw.get("evidence") or []
        if isinstance(evidence, str):
            evidence = [evidence]
        parts.append(
            {
                "name": name,
                "score": raw.get("score"),
                "confidence": raw.get("confidence"),
                "evidence": evidence,
            }
        )
    return parts


@router.get("/leads/{lead_id}", response_class=HTMLResponse)
def lead_detail(
    request: Request, session: SessionDep, ctx: ReadCtx, lead_id: uuid.UUID
) -> HTMLResponse:
    lead = service.get_lead(session, ctx.actor, lead_id)
    return render(
        request,
        "leads/detail.html",
        {
            "ctx": ctx,
            "lead": lead,
            "breakdown": breakdown_parts(lead.bant_breakdown),
            "history": service.status_history(session, ctx.actor, lead.id),
            "enrichment": lead.enrichment_data or {},
        },
    )
