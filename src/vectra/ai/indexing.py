"""Batch embedding of leads: build texts, encode a batch, write it back in one statement.

Resumable by construction: it only ever picks leads without a vector of the current model,
so a run that stopped (crash, deploy, timeout) is continued by running it again.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from vectra.ai.embeddings import Embedder, default_embedder
from vectra.ai.texts import lead_text
from vectra.leads import vectors
from vectra.leads.vectors import LeadProfile

# Leads read, encoded and written per committed chunk: the encoder sorts a chunk by length,
# so a larger chunk pads less; a killed worker loses one chunk at most.
DEFAULT_BATCH = 256
MIN_BATCH = 64


@dataclass
class EmbedReport:
    """What a run did: leads embedded, batches written, time spent encoding vs in total."""

    model: str
    embedded: int = 0
    batches: int = 0
    encode_s: float = 0.0
    total_s: float = 0.0
    done: bool = False  # True when no lead of the scope is left without a current vector
    last_id: uuid.UUID | None = None  # keyset cursor: resume after this lead

    def as_dict(self) -> dict[str, object]:
        return {
            "model": self.model,
            "embedded": self.embedded,
            "batches": self.batches,
            "encode_s": round(self.encode_s, 3),
            "total_s": round(self.total_s, 3),
            "done": self.done,
        }


def profile_text(profile: LeadProfile) -> str:
    """The embedded text of one lead."""
    return lead_text(
        job_title=profile.job_title,
        company_name=profile.company_name,
        company_size=profile.company_size,
        enrichment=profile.enrichment_data,
    )


def embed_pending_leads(
    session: Session,
    organization_id: uuid.UUID,
    *,
    campaign_id: uuid.UUID | None = None,
    embedder: Embedder | None = None,
    batch_size: int = DEFAULT_BATCH,
    max_batches: int | None = None,
    after: uuid.UUID | None = None,
    on_batch: Callable[[EmbedReport], None] | None = None,
) -> EmbedReport:
    """Embed the organization's (or one campaign's) leads that lack a current-model vector.

    Flushes, never commits: the caller owns the transaction (the job commits per batch).
    """
    embedder = embedder or default_embedder()
    batch_size = max(batch_size, MIN_BATCH)
    report = EmbedReport(model=embedder.model)
    started = time.perf_counter()
    while max_batches is None or report.batches < max_batches:
        batch = vectors.leads_needing_vectors(
            session,
            organization_id,
            model=embedder.model,
            campaign_id=campaign_id,
            after=after,
            limit=batch_size,
        )
        if not batch:
            report.done = True
            break
        texts = [profile_text(p) for p in batch]
        encode_started = time.perf_counter()
        encoded = embedder.embed(texts)
        report.encode_s += time.perf_counter() - encode_started
        report.embedded += vectors.store_lead_vectors(
            session, organization_id, [p.id for p in batch], encoded, model=embedder.model
        )
        report.batches += 1
        after = report.last_id = batch[-1].id  # keyset: each lead is visited once per run
        if on_batch is not None:
            on_batch(report)
        if len(batch) < batch_size:
            report.done = True
            break
    session.flush()
    report.total_s = time.perf_counter() - started
    return report
