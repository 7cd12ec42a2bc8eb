"""The home of a signed-in user."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from vectra.accounts import service as accounts
from vectra.accounts.permissions import Permission
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
    return render(request, "dashboard.html", {"ctx": ctx, "organization": organization})
