"""Integrations API: connect, list, test, disconnect, sync now, run log. Thin."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Response
from fastapi.responses import RedirectResponse

from vectra.accounts.actor import Actor
from vectra.accounts.permissions import Permission
from vectra.errors import BadRequest, InvalidInput
from vectra.integrations import oauth, service
from vectra.integrations.schemas import (
    IntegrationList,
    IntegrationPut,
    IntegrationRead,
    OAuthStart,
    SyncQueued,
    SyncRunPage,
    SyncRunRead,
)
from vectra.web.auth import require
from vectra.web.deps import SessionDep

router = APIRouter(prefix="/api/v1/integrations", tags=["integrations"])

Reader = Annotated[Actor, require(Permission.INTEGRATIONS_READ)]
Manager = Annotated[Actor, require(Permission.INTEGRATIONS_MANAGE)]


@router.get("", response_model=IntegrationList, summary="The organization's integrations")
def list_integrations(session: SessionDep, actor: Reader) -> IntegrationList:
    rows = service.list_integrations(session, actor)
    return IntegrationList(items=[service.to_read(row) for row in rows])


@router.get("/{kind}", response_model=IntegrationRead, summary="One integration")
def get_integration(kind: str, session: SessionDep, actor: Reader) -> IntegrationRead:
    return service.to_read(service.get_integration(session, actor, kind))


@router.put("/{kind}", response_model=IntegrationRead, summary="Connect or change an integration")
def put_integration(
    kind: str, body: IntegrationPut, session: SessionDep, actor: Manager
) -> IntegrationRead:
    return service.to_read(service.put_integration(session, actor, kind, body))


@router.delete("/{kind}", status_code=204, summary="Disconnect an integration")
def delete_integration(kind: str, session: SessionDep, actor: Manager) -> Response:
    service.delete_integration(session, actor, kind)
    return Response(status_code=204)


@router.post("/{kind}/test", response_model=IntegrationRead, summary="Test the connection")
def test_integration(kind: str, session: SessionDep, actor: Manager) -> IntegrationRead:
    return service.to_read(service.test_integration(session, actor, kind))


@router.post("/{kind}/sync", response_model=SyncQueued, summary="Queue a sync now")
def sync_now(kind: str, session: SessionDep, actor: Manager) -> SyncQueued:
    from vectra.integrations.tasks import enqueue_sync

    row = service.get_integration(session, actor, kind)
    service.require_crm(row)
    job_id = enqueue_sync(session, actor.organization_id, "manual")
    return SyncQueued(queued=job_id is not None, job_id=job_id)


@router.get("/{kind}/runs", response_model=SyncRunPage, summary="The sync log, newest first")
def list_runs(
    kind: str,
    session: SessionDep,
    actor: Reader,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> SyncRunPage:
    runs = service.list_runs(session, actor, kind, limit=limit)
    return SyncRunPage(items=[SyncRunRead.model_validate(run) for run in runs])


@router.get(
    "/{kind}/oauth/authorize",
    response_model=OAuthStart,
    summary="Start the OAuth2 connect (HubSpot, Salesforce): the URL to open in the browser",
)
def oauth_authorize(kind: str, session: SessionDep, actor: Manager) -> OAuthStart:
    return OAuthStart(url=oauth.authorization_url(session, actor, kind))


@router.get(
    "/{kind}/oauth/callback",
    response_class=RedirectResponse,
    status_code=303,
    summary="OAuth2 redirect target: completes only for the signed-in admin who started it, then "
    "redirects to the settings page with a notice or the error",
)
def oauth_callback(
    kind: str,
    session: SessionDep,
    actor: Manager,
    code: str | None = None,
    state: str | None = None,
    error: str | None = None,
    error_description: str | None = None,
) -> RedirectResponse:
    # The browser lands here from the provider: answer with the settings page and a message.
    try:
        with session.begin_nested():
            row = oauth.complete_authorization(
                session, actor, kind, code=code, state=state, error=error_description or error
            )
    except (BadRequest, InvalidInput) as exc:
        query = urlencode({"error": exc.message})
    else:
        query = urlencode({"notice": f"{row.type} connected."})
    return RedirectResponse(f"/settings?{query}#integrations", status_code=303)
