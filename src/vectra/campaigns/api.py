"""Campaign routes. Thin: the rules live in `vectra.campaigns.service`."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from vectra.accounts.actor import Actor
from vectra.accounts.permissions import Permission
from vectra.campaigns import service
from vectra.campaigns.schemas import (
    CampaignCreate,
    CampaignPage,
    CampaignRead,
    CampaignStatus,
    CampaignUpdate,
)
from vectra.web.auth import require
from vectra.web.deps import SessionDep

router = APIRouter(prefix="/api/v1/campaigns", tags=["campaigns"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=CampaignRead)
def create_campaign(
    body: CampaignCreate,
    session: SessionDep,
    actor: Annotated[Actor, require(Permission.CAMPAIGNS_WRITE)],
) -> CampaignRead:
    return CampaignRead.model_validate(service.create_campaign(session, actor, body))


@router.get("", response_model=CampaignPage)
def list_campaigns(
    session: SessionDep,
    actor: Annotated[Actor, require(Permission.CAMPAIGNS_READ)],
    status_filter: Annotated[CampaignStatus | None, Query(alias="status")] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> CampaignPage:
    page = service.list_campaigns(
        session, actor, status=status_filter, q=q, cursor=cursor, limit=limit
    )
    return CampaignPage(
        items=[CampaignRead.model_validate(c) for c in page.items], next_cursor=page.next_cursor
    )


@router.get("/{campaign_id}", response_model=CampaignRead)
def get_campaign(
    campaign_id: uuid.UUID,
    session: SessionDep,
    actor: Annotated[Actor, require(Permission.CAMPAIGNS_READ)],
) -> CampaignRead:
    return CampaignRead.model_validate(service.get_campaign(session, actor, campaign_id))


@router.patch("/{campaign_id}", response_model=CampaignRead)
def update_campaign(
    campaign_id: uuid.UUID,
    body: CampaignUpdate,
    session: SessionDep,
    actor: Annotated[Actor, require(Permission.CAMPAIGNS_WRITE)],
) -> CampaignRead:
    return CampaignRead.model_validate(service.update_campaign(session, actor, campaign_id, body))


@router.delete("/{campaign_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_campaign(
    campaign_id: uuid.UUID,
    session: SessionDep,
    actor: Annotated[Actor, require(Permission.CAMPAIGNS_WRITE)],
) -> Response:
    outcome = service.delete_campaign(session, actor, campaign_id)
    return Response(status_code=204, headers={"X-Vectra-Outcome": outcome})
