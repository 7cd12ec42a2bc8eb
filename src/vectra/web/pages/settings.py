"""Settings: organization (postal address), team, invitations, API keys, integrations, usage.

Each section shows only to roles that may read it; each form posts to the accounts, billing
or integrations service the API uses, which refuses a role that may not act.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from vectra.accounts import api_keys, invitations, organization, users
from vectra.accounts import service as accounts
from vectra.accounts.permissions import Permission
from vectra.accounts.roles import Role
from vectra.billing import service as billing
from vectra.errors import InvalidInput, VectraError
from vectra.integrations import oauth
from vectra.integrations import service as integrations
from vectra.web.deps import SessionDep
from vectra.web.pages.deps import PageContext, check_csrf, page, render

router = APIRouter(include_in_schema=False)
ADDRESS_FIELDS = ("street", "street2", "city", "postal_code", "region", "country")


def _back(notice: str | None = None, error: str | None = None) -> RedirectResponse:
    query = urlencode({k: v for k, v in (("notice", notice), ("error", error)) if v})
    return RedirectResponse("/settings" + (f"?{query}" if query else ""), status_code=303)


@router.get("/settings", response_class=HTMLResponse)
def settings_page(
    request: Request,
    session: SessionDep,
    ctx: Annotated[PageContext, page(Permission.ORG_READ)],
    notice: Annotated[str | None, Query(max_length=500)] = None,
    error: Annotated[str | None, Query(max_length=500)] = None,
) -> HTMLResponse:
    org = accounts.get_organization(session, ctx.actor)
    context: dict[str, Any] = {
        "ctx": ctx, "organization": org, "settings": organization.settings_of(org),
        "notice": notice, "error": error, "roles": [r.value for r in Role],
        "new_key": request.cookies.get("vectra_new_key"),
    }  # fmt: skip
    if ctx.can(Permission.USERS_READ):
        context["users"] = users.list_users(session, ctx.actor)
    if ctx.can(Permission.USERS_MANAGE):
        context["invitations"] = [
            (i, invitations.status_of(i)) for i in invitations.list_invitations(session, ctx.actor)
        ]
    if ctx.can(Permission.API_KEYS_MANAGE):
        context["api_keys"] = api_keys.list_api_keys(session, ctx.actor)
    if ctx.can(Permission.INTEGRATIONS_READ):
        context["integrations"] = integrations.list_integrations(session, ctx.actor)
    if ctx.can(Permission.INTEGRATIONS_MANAGE):
        context["oauth_types"] = oauth.configured_types()
    if ctx.can(Permission.BILLING_READ):
        context["usage"] = billing.usage_summary(session, ctx.actor)
    response = render(request, "settings.html", context)
    response.delete_cookie("vectra_new_key", path="/settings")  # a new key's secret shows once
    return response


def _act(session: SessionDep, action: Any, notice: str) -> RedirectResponse:
    try:
        with session.begin_nested():
            action()
    except VectraError as exc:
        if exc.status_code == 404:
            raise  # another organization's object: the same 404 as the API
        return _back(error=exc.message)
    return _back(notice=notice)


@router.post("/settings/organization")
async def save_organization(
    request: Request,
    session: SessionDep,
    ctx: Annotated[PageContext, page(Permission.ORG_MANAGE)],
) -> Response:
    form = await request.form()
    check_csrf(ctx.csrf_token, str(form.get("csrf_token") or ""))
    address = {k: str(form.get(k) or "").strip() or None for k in ADDRESS_FIELDS}
    changes: dict[str, Any] = {"timezone": str(form.get("timezone") or "UTC").strip()}
    if any(address.values()):
        changes["postal_address"] = address
    name = str(form.get("name") or "")
    return _act(
        session,
        lambda: organization.update_organization(session, ctx.actor, name=name, changes=changes),
        "Organization saved.",
    )


@router.post("/settings/invitations")
def invite(
    session: SessionDep,
    ctx: Annotated[PageContext, page(Permission.USERS_MANAGE)],
    csrf_token: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "operator",
) -> Response:
    check_csrf(ctx.csrf_token, csrf_token)
    try:
        wanted = users.parse_role(role)
    except InvalidInput as exc:
        return _back(error=exc.message)
    return _act(
        session,
        lambda: invitations.invite(session, ctx.actor, email=email, role=wanted),
        f"Invitation sent to {email}.",
    )


@router.post("/settings/integrations/{kind}/connect")
def connect_integration(
    kind: str,
    session: SessionDep,
    ctx: Annotated[PageContext, page(Permission.INTEGRATIONS_MANAGE)],
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Send the admin's browser to the CRM's consent page (OAuth2 authorization code)."""
    check_csrf(ctx.csrf_token, csrf_token)
    try:
        url = oauth.authorization_url(session, ctx.actor, kind)
    except VectraError as exc:
        return _back(error=exc.message)
    return RedirectResponse(url, status_code=303)


@router.post("/settings/api-keys")
def create_key(
    session: SessionDep,
    ctx: Annotated[PageContext, page(Permission.API_KEYS_MANAGE)],
    csrf_token: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    scopes: Annotated[list[str] | None, Form()] = None,
) -> Response:
    check_csrf(ctx.csrf_token, csrf_token)
    try:
        with session.begin_nested():
            created = api_keys.create_api_key(session, ctx.actor, name=name, scopes=scopes or [])
    except VectraError as exc:
        return _back(error=exc.message)
    response = _back(
        notice=f"Key '{created.api_key.name}' created: copy it now, it is not shown again."
    )
    # The secret rides in a short-lived, HttpOnly cookie (never in a URL or a log line).
    response.set_cookie("vectra_new_key", created.secret, max_age=60, httponly=True,
                        samesite="strict", path="/settings")  # fmt: skip
    return response


@router.post("/settings/api-keys/{key_id}/revoke")
def revoke_key(
    session: SessionDep,
    ctx: Annotated[PageContext, page(Permission.API_KEYS_MANAGE)],
    key_id: uuid.UUID,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(ctx.csrf_token, csrf_token)
    return _act(
        session, lambda: api_keys.revoke_api_key(session, ctx.actor, key_id), "Key revoked."
    )
