"""Jobs of the AI core: batch lead embedding, on its own `embeddings` queue.

The queue can be given to workers on machines with more cores (or a GPU) without moving
anything else. The job commits after every batch, so a killed worker loses one batch at
most and the next run continues where this one stopped.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from sqlalchemy.orm import Session

from vectra.ai.embeddings import Embedder, default_embedder
from vectra.ai.indexing import DEFAULT_BATCH, EmbedReport, embed_pending_leads
from vectra.db.engine import Database
from vectra.worker.app import app, defer_in_session
from vectra.worker.database import job_database
from vectra.worker.database import use_database as use_database  # re-exported for callers

log = logging.getLogger(__name__)

QUEUE = "embeddings"


def embed_leads_now(
    database: Database,
    organization_id: uuid.UUID,
    *,
    campaign_id: uuid.UUID | None = None,
    embedder: Embedder | None = None,
    batch_size: int = DEFAULT_BATCH,
) -> EmbedReport:
    """Embed the scope's pending leads synchronously, one committed transaction per batch."""
    embedder = embedder or default_embedder()
    total = EmbedReport(model=embedder.model)
    after: uuid.UUID | None = None
    while True:
        with database.tenant_session(organization_id) as session:
            report = embed_pending_leads(
                session,
                organization_id,
                campaign_id=campaign_id,
                embedder=embedder,
                batch_size=batch_size,
                max_batches=1,
                after=after,
            )
        total.embedded += report.embedded
        total.batches += report.batches
        total.encode_s += report.encode_s
        total.total_s += report.total_s
        after = report.last_id or after
        if report.done or report.batches == 0:
            total.done = True
            return total


@app.task(name="ai.embed_leads", queue=QUEUE, retry=3, pass_context=False)
def embed_leads(organization_id: str, campaign_id: str | None = None) -> dict[str, Any]:
    """Job: embed an organization's (or one campaign's) leads lacking a current vector."""
    report = embed_leads_now(
        job_database(),
        uuid.UUID(organization_id),
        campaign_id=uuid.UUID(campaign_id) if campaign_id else None,
    )
    log.info(
        "embedded leads",
        extra={"organization_id": organization_id, "campaign_id": campaign_id, **report.as_dict()},
    )
    return report.as_dict()


def defer_lead_embedding(
    session: Session, organization_id: uuid.UUID, *, campaign_id: uuid.UUID | None = None
) -> int:
    """Queue the embedding job in `session`'s transaction (after an import, an enrichment)."""
    return defer_in_session(
        session,
        embed_leads,
        # One embedding run per organization at a time: two would encode the same leads.
        options={"lock": f"ai.embed_leads:{organization_id}"},
        organization_id=str(organization_id),
        campaign_id=str(campaign_id) if campaign_id else None,
    )
