"""Agent routes: the run log, enqueueing a run, BANT weights, and the campaign's ICP ranking.

Thin: the rules live in `vectra.agents.runner`, `vectra.agents.qualifier`, `vectra.ai.icp`.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, ConfigDict

from vectra.accounts.actor import Actor
from vectra.accounts.permissions import Permission
from vectra.agents import qualifier, runner
from vectra.agents.models import AgentRun
from vectra.utc import UtcDateTime
from vectra.web.auth import require
from vectra.web.deps import SessionDep

router = APIRouter(prefix="/api/v1", tags=["agents"])


class AgentRunRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    campaign_id: uuid.UUID | None
    agent_type: str
    status: str | None
    input_data: dict[str, Any] | None
    output_data: dict[str, Any] | None
    error_message: str | None
    started_at: UtcDateTime | None
    completed_at: UtcDateTime | None
    duration_ms: int | None
    tokens_used: int | None
    created_at: UtcDateTime | None


class AgentRunPage(BaseModel):
    items: list[AgentRunRead]
    next_cursor: str | None


class RunRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit: int | None = None
    min_meetings: int | None = None


class BantWeights(BaseModel):
    model_config = ConfigDict(extra="forbid")

    budget: float
    authority: float
    need: float
    timeline: float


class RankingItem(BaseModel):
    lead_id: uuid.UUID
    email: str
    fit: float
    reasons: list[str]


def _read(run: AgentRun) -> AgentRunRead:
    return AgentRunRead.model_validate(run)


@router.get("/agent-runs", response_model=AgentRunPage)
def list_agent_runs(
    session: SessionDep,
    actor: Annotated[Actor, require(Permission.AGENTS_READ)],
    agent: Annotated[str | None, Query(max_length=50)] = None,
    status_filter: Annotated[str | None, Query(alias="status", max_length=50)] = None,
    campaign_id: uuid.UUID | None = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> AgentRunPage:
    page = runner.list_runs(
        session, actor, agent=agent, status=status_filter, campaign_id=campaign_id,
        cursor=cursor, limit=limit,
    )  # fmt: skip
    return AgentRunPage(items=[_read(r) for r in page.items], next_cursor=page.next_cursor)


@router.get("/agent-runs/{run_id}", response_model=AgentRunRead)
def get_agent_run(
    run_id: uuid.UUID, session: SessionDep, actor: Annotated[Actor, require(Permission.AGENTS_READ)]
) -> AgentRunRead:
    return _read(runner.get_run(session, actor, run_id))


@router.post(
    "/campaigns/{campaign_id}/agents/{agent}",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=AgentRunRead,
)
def enqueue_agent_run(
    campaign_id: uuid.UUID,
    agent: str,
    session: SessionDep,
    actor: Annotated[Actor, require(Permission.AGENTS_RUN)],
    body: RunRequest | None = None,
) -> AgentRunRead:
    data = body.model_dump(exclude_none=True) if body else {}
    return _read(runner.enqueue(session, actor, agent, campaign_id, data))


@router.put("/campaigns/{campaign_id}/bant-weights")
def put_bant_weights(
    campaign_id: uuid.UUID,
    body: BantWeights,
    session: SessionDep,
    actor: Annotated[Actor, require(Permission.CAMPAIGNS_WRITE)],
) -> dict[str, Any]:
    return qualifier.set_weights(session, actor, campaign_id, body.model_dump())


@router.get("/campaigns/{campaign_id}/ranking", response_model=list[RankingItem])
def campaign_ranking(
    campaign_id: uuid.UUID,
    session: SessionDep,
    actor: Annotated[Actor, require(Permission.CAMPAIGNS_READ)],
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> list[RankingItem]:
    from vectra.ai.icp import rank_campaign_leads

    ranked = rank_campaign_leads(session, actor.organization_id, campaign_id, limit=limit)
    return [RankingItem.model_validate(r.as_dict()) for r in ranked]
