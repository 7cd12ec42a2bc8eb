"""The agent runner: every run of every agent is one `agent_runs` row, applied at most once.

A run goes pending -> running -> succeeded | failed, with its input, output (the agent's
summary, plus `llm_cost_usd` when a model was called), error, timing and tokens. The
idempotency key hashes (agent, campaign, input): asking again for the same work finds the
existing row: a succeeded run is returned as is (nothing is applied twice), a pending,
failed or interrupted one is run again in place. The queue job (`agents.run`) retries on
failure; each attempt records its own outcome first.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from vectra.accounts.actor import Actor, system_actor
from vectra.agents.models import AgentRun
from vectra.campaigns.models import Campaign
from vectra.db.base import utcnow
from vectra.db.pagination import Page, paginate
from vectra.errors import InvalidInput, NotFound, VectraError
from vectra.worker.app import app, defer_in_session

log = logging.getLogger(__name__)

AGENT_TYPES = ("prospector", "bant_qualifier", "scheduler")
STATUSES = ("pending", "running", "succeeded", "failed")
QUEUE = "agents"


@dataclass
class RunContext:
    """What an agent reports while it runs: model usage and progress."""

    run: AgentRun
    tokens: int = 0
    cost_usd: float = 0.0
    progress: Callable[[int, int], None] | None = None
    notes: list[str] = field(default_factory=list)

    def add_usage(self, tokens: int, cost_usd: float = 0.0) -> None:
        self.tokens += tokens
        self.cost_usd += cost_usd

    def advance(self, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(done, total)


AgentFn = Callable[[Session, Actor, uuid.UUID | None, dict[str, Any], RunContext], dict[str, Any]]


def agent_function(agent: str) -> AgentFn:
    """The campaign-level entry point of `agent` (imported late: agents import the runner)."""
    if agent == "prospector":
        from vectra.agents.prospector import run_prospector

        return run_prospector
    if agent == "bant_qualifier":
        from vectra.agents.qualifier import run_qualifier

        return run_qualifier
    if agent == "scheduler":
        from vectra.agents.scheduler import run_scheduler

        return run_scheduler
    raise InvalidInput(f"Unknown agent '{agent}'; one of: {', '.join(AGENT_TYPES)}.", field="agent")


def idempotency_key(agent: str, campaign_id: uuid.UUID | None, input_data: dict[str, Any]) -> str:
    canonical = json.dumps(input_data, sort_keys=True, separators=(",", ":"), default=str)
    raw = f"{agent}|{campaign_id or ''}|{canonical}"
    return hashlib.sha256(raw.encode()).hexdigest()


def _campaign(session: Session, actor: Actor, campaign_id: uuid.UUID) -> Campaign:
    campaign = session.scalar(
        select(Campaign).where(
            Campaign.id == campaign_id, Campaign.organization_id == actor.organization_id
        )
    )
    if campaign is None:
        raise NotFound("Campaign not found.", field="campaign_id")
    return campaign


def open_run(
    session: Session,
    actor: Actor,
    agent: str,
    campaign_id: uuid.UUID | None,
    input_data: dict[str, Any],
    *,
    key: str | None = None,
) -> AgentRun:
    """The run for this work: the existing one with the same key, else a new pending row."""
    if agent not in AGENT_TYPES:
        raise InvalidInput(
            f"Unknown agent '{agent}'; one of: {', '.join(AGENT_TYPES)}.", field="agent"
        )
    if campaign_id is not None:
        _campaign(session, actor, campaign_id)
    key = key or idempotency_key(agent, campaign_id, input_data)
    existing = session.scalar(
        select(AgentRun)
        .where(AgentRun.organization_id == actor.organization_id, AgentRun.idempotency_key == key)
        .with_for_update()
    )
    if existing is not None:
        return existing
    run = AgentRun(
        organization_id=actor.organization_id,
        campaign_id=campaign_id,
        agent_type=agent,
        status="pending",
        input_data=input_data,
        idempotency_key=key,
    )
    session.add(run)
    session.flush()
    return run


def start(session: Session, run: AgentRun) -> None:
    run.status = "running"
    run.started_at = utcnow()
    run.completed_at = None
    run.error_message = None
    session.flush()


def _elapsed_ms(run: AgentRun) -> int:
    started = run.started_at or utcnow()
    return max(0, int((utcnow() - started).total_seconds() * 1000))


def succeed(session: Session, run: AgentRun, output: dict[str, Any], ctx: RunContext) -> None:
    output = dict(output)
    if ctx.tokens or ctx.cost_usd:
        output["llm_cost_usd"] = round(ctx.cost_usd, 6)
    run.status = "succeeded"
    run.output_data = output
    run.tokens_used = ctx.tokens
    run.completed_at = utcnow()
    run.duration_ms = _elapsed_ms(run)
    session.flush()


def fail(session: Session, run: AgentRun, message: str, ctx: RunContext | None = None) -> None:
    run.status = "failed"
    run.error_message = message
    run.completed_at = utcnow()
    run.duration_ms = _elapsed_ms(run)
    if ctx is not None:
        run.tokens_used = ctx.tokens
        if ctx.cost_usd:
            run.output_data = {"llm_cost_usd": round(ctx.cost_usd, 6)}
    session.flush()


def execute(
    session: Session,
    actor: Actor,
    run: AgentRun,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> AgentRun:
    """Run `run`'s agent in a savepoint: its effects and a `succeeded` row, or a `failed` row.

    A run that already succeeded is returned untouched: its effects are already applied.
    Only a VectraError (the agent explaining why it cannot proceed) becomes a failed row
    here; anything else propagates so the queue's retry sees it (the job records it).
    """
    if run.status == "succeeded":
        return run
    fn = agent_function(run.agent_type)
    start(session, run)
    ctx = RunContext(run=run, progress=progress)
    try:
        with session.begin_nested():
            output = fn(session, actor, run.campaign_id, dict(run.input_data or {}), ctx)
    except VectraError as exc:
        fail(session, run, exc.message, ctx)
        return run
    succeed(session, run, output, ctx)
    return run


# The leads each campaign-level agent works on: part of its idempotency key (below).
WORK_SQL = {
    "prospector": "status = 'new'",
    "bant_qualifier": "status = 'enriched'",
    "scheduler": "status = 'contacted' AND intent IN ('interested', 'meeting_request')",
}


def with_work(
    session: Session, actor: Actor, agent: str, campaign_id: uuid.UUID, input_data: dict[str, Any]
) -> dict[str, Any]:
    """`input_data` plus a digest of the leads waiting for `agent` in the campaign.

    The key then means "this agent, on these leads": a retried or double-clicked request
    finds the same run, while a request after new leads arrived is new work, not a no-op.
    """
    where = WORK_SQL.get(agent)
    if where is None:
        return input_data
    count, digest = session.execute(
        text(
            "SELECT count(*), md5(coalesce(string_agg(id::text, ',' ORDER BY id), '')) "
            f"FROM leads WHERE organization_id = :org AND campaign_id = :c AND {where}"
        ),
        {"org": actor.organization_id, "c": campaign_id},
    ).one()
    return {**input_data, "work": {"leads": int(count), "digest": str(digest)[:16]}}


def run_agent(
    session: Session,
    actor: Actor,
    agent: str,
    campaign_id: uuid.UUID | None,
    input_data: dict[str, Any] | None = None,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> AgentRun:
    """Synchronously run `agent` for a campaign (CLI, tests): open or find the run, execute."""
    data = input_data or {}
    if campaign_id is not None and agent in AGENT_TYPES:
        _campaign(session, actor, campaign_id)
        data = with_work(session, actor, agent, campaign_id, data)
    run = open_run(session, actor, agent, campaign_id, data)
    return execute(session, actor, run, progress=progress)


def enqueue(
    session: Session,
    actor: Actor,
    agent: str,
    campaign_id: uuid.UUID,
    input_data: dict[str, Any] | None = None,
) -> AgentRun:
    """A pending run and its job, deferred in the caller's transaction (none if it succeeded)."""
    data = input_data or {}
    if agent in AGENT_TYPES:
        _campaign(session, actor, campaign_id)
        data = with_work(session, actor, agent, campaign_id, data)
    run = open_run(session, actor, agent, campaign_id, data)
    if run.status in ("pending", "failed"):
        defer_in_session(
            session,
            run_job,
            # One attempt at a time per run: a retry never overlaps a still-running attempt.
            options={"lock": f"agents.run:{run.id}"},
            organization_id=str(actor.organization_id),
            run_id=str(run.id),
        )
    return run


@app.task(name="agents.run", queue=QUEUE, retry=3, pass_context=False)
def run_job(organization_id: str, run_id: str) -> dict[str, Any]:
    """Job: execute one agent run; a crash is recorded as failed, then re-raised for a retry."""
    from vectra.ai.tasks import job_database

    database = job_database()
    org = uuid.UUID(organization_id)
    actor = system_actor(org)
    try:
        with database.tenant_session(org) as session:
            run = get_run(session, actor, uuid.UUID(run_id))
            execute(session, actor, run)
            return {"run_id": run_id, "status": run.status}
    except Exception as exc:
        # The work rolled back with its transaction; say so on the row before the retry.
        with database.tenant_session(org) as session:
            run = get_run(session, actor, uuid.UUID(run_id))
            if run.status != "succeeded":
                fail(session, run, f"{type(exc).__name__}: {exc}")
        log.exception("agent run failed", extra={"run_id": run_id})
        raise


def get_run(session: Session, actor: Actor, run_id: uuid.UUID) -> AgentRun:
    run = session.scalar(
        select(AgentRun).where(
            AgentRun.id == run_id, AgentRun.organization_id == actor.organization_id
        )
    )
    if run is None:
        raise NotFound("Agent run not found.", field="run_id")
    return run


def list_runs(
    session: Session,
    actor: Actor,
    *,
    agent: str | None = None,
    status: str | None = None,
    campaign_id: uuid.UUID | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[AgentRun]:
    """The organization's runs, newest first, optionally by agent, status and campaign."""
    statement = select(AgentRun).where(AgentRun.organization_id == actor.organization_id)
    if agent is not None:
        if agent not in AGENT_TYPES:
            raise InvalidInput(f"Unknown agent '{agent}'.", field="agent")
        statement = statement.where(AgentRun.agent_type == agent)
    if status is not None:
        if status not in STATUSES:
            raise InvalidInput(f"Unknown status '{status}'.", field="status")
        statement = statement.where(AgentRun.status == status)
    if campaign_id is not None:
        statement = statement.where(AgentRun.campaign_id == campaign_id)
    return paginate(
        statement,
        execute=lambda s: session.scalars(s).all(),
        sort=AgentRun.created_at,
        id_column=AgentRun.id,
        cursor=cursor,
        limit=limit,
    )
