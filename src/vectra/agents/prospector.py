"""The prospector agent: a campaign's `new` leads -> normalised, verified, enriched, embedded,
ranked, and moved to `enriched` (or `rejected`, with the reason, when the address is dead).

Each lead's findings go to its `enrichment_data` (shared keys: company_domain, seniority,
department, industry; agent keys: `email_verification`, `icp_fit`, `icp_reasons`), never
overwriting what an import or a person already set.
"""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vectra.accounts.actor import Actor
from vectra.agents import enrich
from vectra.agents.email_check import DomainVerifier, verify_email
from vectra.agents.runner import RunContext
from vectra.ai.embeddings import Embedder, default_embedder
from vectra.ai.icp import rank_campaign_leads
from vectra.ai.indexing import embed_pending_leads
from vectra.errors import InvalidInput
from vectra.leads.models import Lead
from vectra.leads.normalize import BadEmail, email_domain, normalize_email
from vectra.leads.status import LeadStatus, transition

AGENT = "prospector"
MAX_LEADS = 5000

# Injected by tests and embedded callers (a resolver pointed at a local DNS server, a shared
# embedder); the defaults are the system resolver and the configured embedder.
_verifier: DomainVerifier | None = None
_embedder: Embedder | None = None


def configure(verifier: DomainVerifier | None = None, embedder: Embedder | None = None) -> None:
    global _verifier, _embedder
    _verifier, _embedder = verifier, embedder


def _verifier_or_default() -> DomainVerifier:
    global _verifier
    if _verifier is None:
        _verifier = DomainVerifier()
    return _verifier


def _normalise(session: Session, lead: Lead) -> str | None:
    """The lead's normalised address, or why it cannot be mailed."""
    try:
        email = normalize_email(lead.email)
    except BadEmail as exc:
        return f"invalid address: {exc}"
    if email != lead.email:
        clash = session.scalar(
            select(Lead.id).where(
                Lead.campaign_id == lead.campaign_id, Lead.email == email, Lead.id != lead.id
            )
        )
        if clash is not None:
            return f"duplicate of lead {clash} once normalised"
        lead.email = email
    return None


def prospect_lead(session: Session, actor: Actor, lead: Lead, verifier: DomainVerifier) -> str:
    """Verify and enrich one lead; returns its new status (enriched or rejected)."""
    problem = _normalise(session, lead)
    data: dict[str, Any] = dict(lead.enrichment_data or {})
    if problem is None:
        check = verify_email(lead.email, verifier)
        data["email_verification"] = check.as_dict()
        if check.status == "invalid":
            problem = f"undeliverable address: {check.reason}"
        else:
            added, band = enrich.enrich(
                job_title=lead.job_title,
                company_name=lead.company_name,
                company_size=lead.company_size,
                email_domain=email_domain(lead.email),
                free_mail=check.free_mail,
                enrichment=data,
            )
            data.update(added)
            if band:
                lead.company_size = band
    lead.enrichment_data = data
    if problem is not None:
        transition(session, actor, lead, LeadStatus.REJECTED, reason=problem, agent=AGENT)
        return LeadStatus.REJECTED.value
    transition(
        session, actor, lead, LeadStatus.ENRICHED,
        reason=f"email {data['email_verification']['status']}; enriched", agent=AGENT,
    )  # fmt: skip
    return LeadStatus.ENRICHED.value


def run_prospector(
    session: Session,
    actor: Actor,
    campaign_id: uuid.UUID | None,
    input_data: dict[str, Any],
    ctx: RunContext,
) -> dict[str, Any]:
    """Agent entry point: all of the campaign's `new` leads (at most `limit`)."""
    if campaign_id is None:
        raise InvalidInput("The prospector works on a campaign.", field="campaign_id")
    limit = int(input_data.get("limit") or MAX_LEADS)
    leads = list(
        session.scalars(
            select(Lead)
            .where(
                Lead.organization_id == actor.organization_id,
                Lead.campaign_id == campaign_id,
                Lead.status == LeadStatus.NEW.value,
            )
            .order_by(Lead.created_at, Lead.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    verifier = _verifier_or_default()
    outcomes: Counter[str] = Counter()
    flags: Counter[str] = Counter()
    for i, lead in enumerate(leads, 1):
        outcomes[prospect_lead(session, actor, lead, verifier)] += 1
        check = (lead.enrichment_data or {}).get("email_verification") or {}
        flags[f"email_{check.get('status', 'invalid')}"] += 1
        for flag in ("role", "disposable", "free_mail"):
            flags[flag] += bool(check.get(flag))
        ctx.advance(i, len(leads))
    session.flush()

    embedder = _embedder or default_embedder()
    report = embed_pending_leads(session, actor.organization_id, campaign_id=campaign_id,
                                 embedder=embedder)  # fmt: skip
    ranked_count = 0
    enriched_ids = {lead.id for lead in leads if lead.status == LeadStatus.ENRICHED.value}
    if enriched_ids:
        ranking = rank_campaign_leads(
            session, actor.organization_id, campaign_id, limit=1000, embedder=embedder
        )
        by_id = {lead.id: lead for lead in leads}
        for item in ranking:
            ranked_lead = by_id.get(item.lead_id)
            if ranked_lead is None:
                continue
            data = dict(ranked_lead.enrichment_data or {})
            data["icp_fit"] = item.fit
            data["icp_similarity"] = round(item.similarity, 3)
            data["icp_reasons"] = item.reasons
            ranked_lead.enrichment_data = data
            ranked_count += 1
    session.flush()
    return {
        "leads": len(leads),
        "enriched": outcomes[LeadStatus.ENRICHED.value],
        "rejected": outcomes[LeadStatus.REJECTED.value],
        "email": {k: flags[k] for k in sorted(flags)},
        "embedded": report.embedded,
        "ranked": ranked_count,
        "dns_lookups": verifier.lookups,
    }
