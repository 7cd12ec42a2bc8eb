"""ICP search: rank a campaign's leads by fit to its ideal customer profile, with reasons.

`fit` (0..1) combines the semantic similarity of the lead's profile to the campaign's ICP
with the explicit target criteria it meets; hard filters (a known country or company size
outside the target, excluded domains, industries and titles) drop a lead before ranking.
Every reason is something a sales manager can check against the lead's own data.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from vectra.ai.embeddings import Embedder, default_embedder
from vectra.ai.texts import icp_text, lead_size_band
from vectra.campaigns.models import Campaign
from vectra.errors import InvalidInput, NotFound
from vectra.leads import vectors
from vectra.leads.vectors import VectorFilter, VectorMatch

# MiniLM cosine between a lead and an ICP: ~0.15 says unrelated, ~0.75 says the same profile.
SIMILARITY_FLOOR = 0.15
SIMILARITY_CEILING = 0.75
SIMILARITY_WEIGHT = 0.5
# Rank more candidates than asked for: the fit can reorder what similarity alone found.
CANDIDATE_FACTOR = 4
MIN_CANDIDATES = 100
MAX_CANDIDATES = 1000


@dataclass(frozen=True)
class RankedLead:
    """One lead's fit to the campaign, best first in a ranking."""

    lead_id: uuid.UUID
    email: str
    fit: float
    reasons: list[str] = field(default_factory=list)
    similarity: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "lead_id": str(self.lead_id),
            "email": self.email,
            "fit": self.fit,
            "reasons": self.reasons,
        }


def _strings(criteria: Mapping[str, Any], key: str) -> list[str]:
    value = criteria.get(key)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple):
        return []
    return [str(v).strip() for v in value if str(v).strip()]


def criteria_filter(criteria: Mapping[str, Any], campaign_id: uuid.UUID | None) -> VectorFilter:
    """The hard filters a campaign's `target_criteria` imply."""
    exclude = criteria.get("exclude")
    exclude = exclude if isinstance(exclude, Mapping) else {}
    return VectorFilter(
        campaign_id=campaign_id,
        countries=_strings(criteria, "countries"),
        company_sizes=_strings(criteria, "company_sizes"),
        exclude_domains=_strings(exclude, "domains"),
        exclude_industries=_strings(exclude, "industries"),
        exclude_title_terms=_strings(exclude, "job_titles"),
    )


def _similarity_score(similarity: float) -> float:
    span = SIMILARITY_CEILING - SIMILARITY_FLOOR
    return float(min(max((similarity - SIMILARITY_FLOOR) / span, 0.0), 1.0))


def _title_match(title: str, targets: Sequence[str]) -> str | None:
    words = set(title.lower().replace(",", " ").replace("/", " ").split())
    for target in targets:
        wanted = target.lower().split()
        if target.lower() in title.lower() or (wanted and all(w in words for w in wanted)):
            return target
    return None


def explain_fit(match: VectorMatch, criteria: Mapping[str, Any]) -> tuple[float, list[str]]:
    """The fit (0..1) of a lead found by vector search, and the reasons for it."""
    data = match.enrichment_data
    reasons = [f"similarity {match.similarity:.2f} to the campaign's ideal customer profile"]
    checks: list[float] = []  # 1 met, 0 missed, 0.5 unknown, per criterion the campaign sets

    titles = _strings(criteria, "job_titles")
    if titles:
        hit = _title_match(match.job_title or "", titles) if match.job_title else None
        checks.append(1.0 if hit else (0.0 if match.job_title else 0.5))
        if hit:
            reasons.append(f"title '{match.job_title}' matches '{hit}'")
        elif not match.job_title:
            reasons.append("job title unknown")
    for key, label, value in (
        ("seniorities", "seniority", data.get("seniority")),
        ("industries", "industry", data.get("industry")),
        ("company_sizes", "company size", lead_size_band(match.company_size, data)),
        ("countries", "country", data.get("country")),
    ):
        targets = _strings(criteria, key)
        if not targets:
            continue
        shown = str(value).strip() if value else ""
        if not shown:
            checks.append(0.5)
            reasons.append(f"{label} unknown")
        elif shown.lower() in {t.lower() for t in targets}:
            checks.append(1.0)
            reasons.append(f"{label} {shown} in target")
        else:
            checks.append(0.0)
            reasons.append(f"{label} {shown} not in target")

    keywords = _strings(criteria, "keywords")
    if keywords:
        have: list[str] = []
        for key in ("keywords", "technologies", "signals"):
            value = data.get(key)
            if isinstance(value, list):
                have.extend(str(v).lower() for v in value)
        haystack = " | ".join([*have, (match.job_title or "").lower()])
        shared = [k for k in keywords if k.lower() in haystack]
        checks.append(min(1.0, len(shared) / min(len(keywords), 3)))
        if shared:
            reasons.append(f"keywords {', '.join(shared)}")

    score = _similarity_score(match.similarity)
    if checks:
        score = SIMILARITY_WEIGHT * score + (1 - SIMILARITY_WEIGHT) * (sum(checks) / len(checks))
    return round(score, 3), reasons


def _campaign(session: Session, organization_id: uuid.UUID, campaign_id: uuid.UUID) -> Campaign:
    campaign = session.scalars(
        select(Campaign).where(
            Campaign.id == campaign_id, Campaign.organization_id == organization_id
        )
    ).one_or_none()
    if campaign is None:
        raise NotFound("Campaign not found.", field="campaign_id")
    return campaign


def campaign_icp_vector(
    session: Session,
    organization_id: uuid.UUID,
    campaign_id: uuid.UUID,
    *,
    embedder: Embedder | None = None,
) -> tuple[Campaign, npt.NDArray[np.float32]]:
    """The campaign's ICP vector from its current `target_criteria` (stored when it changed)."""
    embedder = embedder or default_embedder()
    campaign = _campaign(session, organization_id, campaign_id)
    vector = embedder.embed([icp_text(campaign.target_criteria)])[0]
    stored = session.execute(
        text(
            "SELECT CAST(icp_embedding AS float4[]) AS v, icp_embedding_model AS m "
            "FROM campaigns WHERE id = :id AND organization_id = :org"
        ),
        {"id": campaign_id, "org": organization_id},
    ).one()
    # Recomputed from the criteria each time (one short encode), so an edit is never missed;
    # written back only when it changed, so a ranking does not churn `updated_at`.
    unchanged = (
        stored.v is not None
        and stored.m == embedder.model
        and float(np.dot(np.asarray(stored.v, dtype=np.float32), vector)) > 0.9999
    )
    if not unchanged:
        session.execute(
            text(
                "UPDATE campaigns SET icp_embedding = CAST(CAST(:v AS float4[]) AS vector(384)), "
                "icp_embedding_model = :m WHERE id = :id AND organization_id = :org"
            ),
            {"v": vector.tolist(), "m": embedder.model, "id": campaign_id, "org": organization_id},
        )
    return campaign, vector


def rank_campaign_leads(
    session: Session,
    organization_id: uuid.UUID,
    campaign_id: uuid.UUID,
    *,
    limit: int = 50,
    embedder: Embedder | None = None,
) -> list[RankedLead]:
    """The campaign's embedded leads that pass its hard filters, best fit first."""
    if not 1 <= limit <= MAX_CANDIDATES:
        raise InvalidInput(f"limit must be between 1 and {MAX_CANDIDATES}.", field="limit")
    embedder = embedder or default_embedder()
    campaign, query = campaign_icp_vector(session, organization_id, campaign_id, embedder=embedder)
    criteria: Mapping[str, Any] = campaign.target_criteria or {}
    candidates = vectors.nearest_leads(
        session,
        organization_id,
        query,
        model=embedder.model,
        limit=min(max(limit * CANDIDATE_FACTOR, MIN_CANDIDATES), MAX_CANDIDATES),
        where=criteria_filter(criteria, campaign_id),
    )
    ranked = []
    for match in candidates:
        fit, reasons = explain_fit(match, criteria)
        ranked.append(RankedLead(match.lead_id, match.email, fit, reasons, match.similarity))
    ranked.sort(key=lambda r: (-r.fit, -r.similarity, str(r.lead_id)))
    return ranked[:limit]


def find_lookalikes(
    session: Session,
    organization_id: uuid.UUID,
    *,
    lead_ids: Sequence[uuid.UUID] | None = None,
    campaign_id: uuid.UUID | None = None,
    limit: int = 20,
    embedder: Embedder | None = None,
) -> list[RankedLead]:
    """ "Find more like these": leads closest to the centroid of the given (or won) leads.

    Without `lead_ids`, the seeds are the organization's leads that booked a meeting or
    were won; `campaign_id` restricts where the lookalikes are searched.
    """
    if not 1 <= limit <= MAX_CANDIDATES:
        raise InvalidInput(f"limit must be between 1 and {MAX_CANDIDATES}.", field="limit")
    model = (embedder or default_embedder()).model
    if lead_ids:
        missing = set(lead_ids) - vectors.existing_lead_ids(session, organization_id, lead_ids)
        if missing:
            raise NotFound(f"Lead {sorted(map(str, missing))[0]} not found.", field="lead_ids")
        seeds = list(dict.fromkeys(lead_ids))
        origin = f"{len(seeds)} chosen lead(s)"
    else:
        seeds = vectors.successful_lead_ids(session, organization_id)
        origin = f"{len(seeds)} lead(s) that booked a meeting or were won"
    seed_vectors = vectors.lead_vectors(session, organization_id, seeds, model=model)
    if not seed_vectors:
        raise InvalidInput(
            "None of the example leads has an embedding yet: run the embedding job first.",
            field="lead_ids",
        )
    centroid = np.mean(np.stack(list(seed_vectors.values())), axis=0)
    centroid /= max(float(np.linalg.norm(centroid)), 1e-12)
    matches = vectors.nearest_leads(
        session,
        organization_id,
        centroid,
        model=model,
        limit=limit,
        where=VectorFilter(campaign_id=campaign_id, exclude_lead_ids=seeds),
    )
    return [
        RankedLead(
            m.lead_id,
            m.email,
            round(_similarity_score(m.similarity), 3),
            [f"similarity {m.similarity:.2f} to the centroid of {origin}"],
            m.similarity,
        )
        for m in matches
    ]
