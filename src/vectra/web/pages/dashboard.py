"""The home of a signed-in user: the funnel per campaign and over time."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from vectra.accounts import service as accounts
from vectra.accounts.permissions import Permission
from vectra.campaigns import reporting
from vectra.web.auth import SESSION_COOKIE
from vectra.web.deps import SessionDep
from vectra.web.pages.deps import PageContext, page, render

router = APIRouter(include_in_schema=False)


@router.get("/")
def root(request: Request) -> RedirectResponse:
    target = "/dashboard" if request.cookies.get(SESSION_COOKIE) else "/login"
    return RedirectResponse(target, status_code=303)


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(
    request: Request, session: SessionDep, ctx: Annotated[PageContext, page(Permission.ORG_READ)]
) -> HTMLResponse:
    organization = accounts.get_organization(session, ctx.actor)
    funnels = reporting.funnel(session, ctx.actor) if ctx.can(Permission.LEADS_READ) else []
    return render(
        request,
        "dashboard.html",
        {
            "ctx": ctx,
            "organization": organization,
            "funnels": funnels,
            "totals": reporting.totals(funnels),
            "stages": reporting.STAGES,
        },
    )


@router.get("/dashboard/funnel.json")
def funnel_json(
    session: SessionDep,
    ctx: Annotated[PageContext, page(Permission.LEADS_READ)],
    campaign_id: uuid.UUID | None = None,
    days: Annotated[int, Query(ge=1, le=reporting.MAX_DAYS)] = 30,
) -> JSONResponse:
    """The numbers behind the dashboard's charts (the signed-in user's organization only)."""
    funnels = reporting.funnel(session, ctx.actor, campaign_id=campaign_id)
    return JSONResponse(
        {
            "stages": list(reporting.STAGES),
            "totals": reporting.totals(funnels),
            "campaigns": [f.as_dict() for f in funnels],
            "daily": reporting.daily(session, ctx.actor, days=days, campaign_id=campaign_id),
        }
    )
