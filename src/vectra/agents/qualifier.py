"""The BANT qualifier agent: a campaign's `enriched` leads -> scored, then qualified or rejected.

The rules (`vectra.agents.bant`) give four sub-scores with quoted evidence; when a chat
model is configured it may refine each sub-score, but only with evidence whose quote is
really in the lead's data (anything else is dropped, and a sub-score without valid
evidence keeps the rules' value). The total is the campaign's weighted mean times four;
at or above `bant_threshold` the lead is qualified, else rejected with the reason. The
weights are the campaign's (`campaigns.bant_weights`), refitted from meeting outcomes
once the organization has enough of them (`vectra.agents.calibration`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from vectra.accounts.actor import Actor
from vectra.agents import bant, calibration
from vectra.agents.runner import RunContext
from vectra.ai.llm import ChatClient, Usage, ask_json, client_from_settings
from vectra.campaigns.models import Campaign
from vectra.db.base import utcnow
from vectra.errors import InvalidInput, NotFound
from vectra.leads.models import Lead
from vectra.leads.status import LeadStatus, transition

AGENT = "bant_qualifier"
MAX_LEADS = 5000
DEFAULT_THRESHOLD = 60

# Tests and embedded callers inject a client; None here means "read the settings".
_client: ChatClient | None = None
_client_set = False


def configure(client: ChatClient | None) -> None:
    global _client, _client_set
    _client, _client_set = client, True


def chat_client() -> ChatClient | None:
    if _client_set:
        return _client
    from vectra.settings import get_settings

    return client_from_settings(get_settings())


# ---- weights -------------------------------------------------------------------------


def campaign_weights(campaign: Campaign) -> dict[str, float]:
    stored = campaign.bant_weights or {}
    return {p: float(stored.get(p, 1.0)) for p in bant.PARTS}


def check_weights(weights: Mapping[str, Any]) -> dict[str, float]:
    clean: dict[str, float] = {}
    for part in bant.PARTS:
        value = weights.get(part)
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 10:
            raise InvalidInput(f"{part} must be a number from 0 to 10.", field=part)
        clean[part] = float(value)
    if not any(clean.values()):
        raise InvalidInput("At least one weight must be above 0.", field="budget")
    return clean


def _campaign(session: Session, actor: Actor, campaign_id: uuid.UUID) -> Campaign:
    campaign = session.scalar(
        select(Campaign).where(
            Campaign.id == campaign_id, Campaign.organization_id == actor.organization_id
        )
    )
    if campaign is None:
        raise NotFound("Campaign not found.", field="campaign_id")
    return campaign


def set_weights(
    session: Session, actor: Actor, campaign_id: uuid.UUID, weights: Mapping[str, Any]
) -> dict[str, Any]:
    """A manager's weights for the campaign (kept until outcomes refit them)."""
    campaign = _campaign(session, actor, campaign_id)
    campaign.bant_weights = {**check_weights(weights), "source": "manual"}
    session.flush()
    return dict(campaign.bant_weights)


def refit_weights(
    session: Session, actor: Actor, campaign: Campaign, *, min_meetings: int
) -> dict[str, Any] | None:
    """Refit from the organization's outcomes; the new weights and calibration, or None."""
    fit = calibration.recalibrate(session, actor, min_meetings=min_meetings)
    if fit is None:
        return None
    report = fit.as_dict()
    campaign.bant_weights = {**fit.weights, "source": "fitted", "calibration": report}
    session.flush()
    return report


# ---- LLM refinement ------------------------------------------------------------------


class EvidenceOut(BaseModel):
    source: str = Field(max_length=200)
    quote: str = Field(min_length=1, max_length=500)


class PartOut(BaseModel):
    score: int = Field(ge=0, le=25)
    confidence: float = Field(ge=0, le=1)
    evidence: list[EvidenceOut] = Field(default_factory=list, max_length=8)


class BantOut(BaseModel):
    budget: PartOut
    authority: PartOut
    need: PartOut
    timeline: PartOut


INSTRUCTIONS = (
    "You score a B2B sales lead on BANT: budget, authority, need, timeline, each 0..25 with "
    "a confidence 0..1. The campaign's target and a rules-based first estimate are given. "
    "Every evidence item must quote text copied exactly from the lead's fields (source = "
    "the field path, quote = the exact substring); evidence you cannot quote is not evidence."
)


def refine(
    client: ChatClient,
    lead: Lead,
    criteria: Mapping[str, Any],
    rules: dict[str, Any],
    usage: Usage,
) -> dict[str, Any]:
    texts = bant.lead_texts(lead)
    answer = ask_json(
        client,
        instructions=INSTRUCTIONS,
        data={"lead": texts, "campaign_target": dict(criteria), "rules_estimate": rules},
        schema=BantOut,
        usage=usage,
    )
    refined: dict[str, Any] = {"model": f"{bant.MODEL}+{client.provider}:{client.model}"}
    for part in bant.PARTS:
        out: PartOut = getattr(answer, part)
        evidence = [
            {"source": e.source, "quote": e.quote}
            for e in out.evidence
            if bant.quote_is_in(e.quote, texts)
        ]
        if evidence:
            refined[part] = {
                "score": out.score,
                "confidence": round(out.confidence, 2),
                "evidence": evidence,
            }
        else:
            refined[part] = rules[part]  # unverifiable: the rules' checked estimate stands
    return refined


# ---- the agent -----------------------------------------------------------------------


def qualify_lead(
    session: Session,
    actor: Actor,
    lead: Lead,
    *,
    criteria: Mapping[str, Any],
    weights: Mapping[str, float],
    threshold: int,
    today: dt.date,
    client: ChatClient | None,
    usage: Usage,
) -> bool:
    breakdown = bant.breakdown(lead, criteria, today)
    if client is not None:
        breakdown = refine(client, lead, criteria, breakdown, usage)
    score = bant.total(breakdown, weights)
    lead.bant_breakdown = breakdown
    lead.bant_score = score
    transition(session, actor, lead, LeadStatus.SCORING, reason="BANT scoring", agent=AGENT)
    parts = ", ".join(f"{p} {breakdown[p]['score']}" for p in bant.PARTS)
    if score >= threshold:
        transition(
            session, actor, lead, LeadStatus.QUALIFIED,
            reason=f"BANT {score} >= threshold {threshold} ({parts})", agent=AGENT,
        )  # fmt: skip
        return True
    weakest = min(bant.PARTS, key=lambda p: breakdown[p]["score"])
    transition(
        session, actor, lead, LeadStatus.REJECTED,
        reason=f"BANT {score} < threshold {threshold} ({parts}; weakest: {weakest})",
        agent=AGENT,
    )  # fmt: skip
    return False


def run_qualifier(
    session: Session,
    actor: Actor,
    campaign_id: uuid.UUID | None,
    input_data: dict[str, Any],
    ctx: RunContext,
) -> dict[str, Any]:
    """Agent entry point: refit the weights if outcomes allow, then score enriched leads."""
    if campaign_id is None:
        raise InvalidInput("The qualifier works on a campaign.", field="campaign_id")
    campaign = _campaign(session, actor, campaign_id)
    min_meetings = int(input_data.get("min_meetings") or calibration.MIN_MEETINGS)
    calibrated = refit_weights(session, actor, campaign, min_meetings=min_meetings)
    weights = campaign_weights(campaign)
    threshold = (
        campaign.bant_threshold if campaign.bant_threshold is not None else DEFAULT_THRESHOLD
    )
    leads = list(
        session.scalars(
            select(Lead)
            .where(
                Lead.organization_id == actor.organization_id,
                Lead.campaign_id == campaign_id,
                Lead.status == LeadStatus.ENRICHED.value,
            )
            .order_by(Lead.created_at, Lead.id)
            .limit(int(input_data.get("limit") or MAX_LEADS))
            .with_for_update(skip_locked=True)
        )
    )
    client = chat_client()
    usage = Usage()
    today = utcnow().date()
    qualified = 0
    scores: list[int] = []
    try:
        for i, lead in enumerate(leads, 1):
            qualified += qualify_lead(
                session, actor, lead, criteria=campaign.target_criteria or {},
                weights=weights, threshold=threshold, today=today, client=client, usage=usage,
            )  # fmt: skip
            scores.append(lead.bant_score or 0)
            ctx.advance(i, len(leads))
    finally:
        # Tokens spent before a failure are still spent: the run row records them either way.
        ctx.add_usage(usage.tokens, usage.cost_usd)
    return {
        "leads": len(leads),
        "qualified": qualified,
        "rejected": len(leads) - qualified,
        "threshold": threshold,
        "weights": weights,
        "mean_score": round(sum(scores) / len(scores), 1) if scores else None,
        "model": f"{bant.MODEL}+{client.provider}:{client.model}" if client else bant.MODEL,
        "llm_priced": usage.priced,
        "calibration": calibrated,
    }
