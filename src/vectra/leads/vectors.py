"""Lead vectors: the only code that reads or writes `leads.embedding` (migration 018).

Every function is scoped by `organization_id` (RLS is the second wall) and by the model
tag: a vector is only ever compared with vectors of the same `embedding_model`.
Vectors cross the wire as `float4[]` (binary-dumped by psycopg, cast to `vector` in SQL),
so no type registration is needed on pooled connections.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import text
from sqlalchemy.orm import Session

DIMENSIONS = 384
# Leads whose outcome says "this is who buys": the seeds of lookalike search.
SUCCESS_STATUSES = ("meeting_scheduled", "completed")
DEFAULT_EF_SEARCH = 100

# The company size band of a lead, as `vectra.ai.texts.lead_size_band` computes it.
SIZE_BAND_SQL = """COALESCE(NULLIF(btrim(l.company_size), ''),
    CASE WHEN jsonb_typeof(l.enrichment_data -> 'employees') = 'number'
              AND (l.enrichment_data ->> 'employees')::numeric >= 1 THEN
        CASE WHEN (l.enrichment_data ->> 'employees')::numeric <= 10 THEN '1-10'
             WHEN (l.enrichment_data ->> 'employees')::numeric <= 50 THEN '11-50'
             WHEN (l.enrichment_data ->> 'employees')::numeric <= 200 THEN '51-200'
             WHEN (l.enrichment_data ->> 'employees')::numeric <= 500 THEN '201-500'
             WHEN (l.enrichment_data ->> 'employees')::numeric <= 1000 THEN '501-1000'
             WHEN (l.enrichment_data ->> 'employees')::numeric <= 5000 THEN '1001-5000'
             ELSE '5001+' END END)"""


@dataclass(frozen=True)
class LeadProfile:
    """What the embedded text of a lead is built from."""

    id: uuid.UUID
    job_title: str | None
    company_name: str | None
    company_size: str | None
    enrichment_data: dict[str, Any]


@dataclass(frozen=True)
class VectorFilter:
    """Hard filters of a vector search; an unknown country or size passes (it is not a miss)."""

    campaign_id: uuid.UUID | None = None
    countries: Sequence[str] = ()
    company_sizes: Sequence[str] = ()
    exclude_domains: Sequence[str] = ()
    exclude_industries: Sequence[str] = ()
    exclude_title_terms: Sequence[str] = ()
    exclude_lead_ids: Sequence[uuid.UUID] = ()


@dataclass(frozen=True)
class VectorMatch:
    """A lead found by vector search, with the fields a fit explanation reads."""

    lead_id: uuid.UUID
    email: str
    job_title: str | None
    company_name: str | None
    company_size: str | None
    enrichment_data: dict[str, Any] = field(default_factory=dict)
    similarity: float = 0.0


def _flat(vectors: npt.NDArray[Any]) -> list[float]:
    array = np.asarray(vectors, dtype=np.float32)
    if array.ndim != 2 or array.shape[1] != DIMENSIONS:
        raise ValueError(f"expected (n, {DIMENSIONS}) vectors, got {array.shape}")
    flat: list[float] = array.ravel().tolist()
    return flat


def leads_needing_vectors(
    session: Session,
    organization_id: uuid.UUID,
    *,
    model: str,
    campaign_id: uuid.UUID | None = None,
    after: uuid.UUID | None = None,
    limit: int = 64,
) -> list[LeadProfile]:
    """Leads with no vector of `model` (none yet, or another model's), in id order."""
    where = [
        "l.organization_id = :org",
        "(l.embedding IS NULL OR l.embedding_model IS DISTINCT FROM :model)",
    ]
    params: dict[str, Any] = {"org": organization_id, "model": model, "limit": limit}
    if campaign_id is not None:
        where.append("l.campaign_id = :campaign")
        params["campaign"] = campaign_id
    if after is not None:
        where.append("l.id > :after")
        params["after"] = after
    rows = session.execute(
        text(
            "SELECT l.id, l.job_title, l.company_name, l.company_size, l.enrichment_data "
            f"FROM leads l WHERE {' AND '.join(where)} ORDER BY l.id LIMIT :limit"
        ),
        params,
    ).all()
    return [
        LeadProfile(
            id=r.id,
            job_title=r.job_title,
            company_name=r.company_name,
            company_size=r.company_size,
            enrichment_data=r.enrichment_data or {},
        )
        for r in rows
    ]


def store_lead_vectors(
    session: Session,
    organization_id: uuid.UUID,
    lead_ids: Sequence[uuid.UUID],
    vectors: npt.NDArray[Any],
    *,
    model: str,
) -> int:
    """Write a batch of vectors in ONE statement; returns the number of leads updated."""
    if len(lead_ids) != len(vectors):
        raise ValueError("one vector per lead id")
    if not lead_ids:
        return 0
    # Row i's vector is slice [i*384+1 : (i+1)*384] of one flat float4[] parameter.
    result = session.execute(
        text(
            """
            UPDATE leads AS l
               SET embedding = v.embedding, embedding_model = :model
              FROM (SELECT u.id,
                           (CAST(:flat AS float4[]))[(u.n - 1) * 384 + 1 : u.n * 384]::vector(384)
                               AS embedding
                      FROM unnest(CAST(:ids AS uuid[])) WITH ORDINALITY AS u(id, n)) AS v
             WHERE l.id = v.id AND l.organization_id = :org
            """
        ),
        {"flat": _flat(vectors), "ids": list(lead_ids), "model": model, "org": organization_id},
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def clear_lead_vectors(
    session: Session, organization_id: uuid.UUID, lead_ids: Sequence[uuid.UUID]
) -> int:
    """Forget the vectors of leads whose profile changed, so the next job re-embeds them."""
    result = session.execute(
        text(
            "UPDATE leads SET embedding = NULL, embedding_model = NULL "
            "WHERE organization_id = :org AND id = ANY(CAST(:ids AS uuid[])) "
            "AND embedding IS NOT NULL"
        ),
        {"org": organization_id, "ids": list(lead_ids)},
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def lead_vectors(
    session: Session, organization_id: uuid.UUID, lead_ids: Sequence[uuid.UUID], *, model: str
) -> dict[uuid.UUID, npt.NDArray[np.float32]]:
    """The `model` vectors of these leads (leads without one are absent)."""
    rows = session.execute(
        text(
            "SELECT id, CAST(embedding AS float4[]) AS v FROM leads "
            "WHERE organization_id = :org AND id = ANY(CAST(:ids AS uuid[])) "
            "AND embedding_model = :model AND embedding IS NOT NULL"
        ),
        {"org": organization_id, "ids": list(lead_ids), "model": model},
    ).all()
    return {r.id: np.asarray(r.v, dtype=np.float32) for r in rows}


def successful_lead_ids(
    session: Session,
    organization_id: uuid.UUID,
    *,
    campaign_id: uuid.UUID | None = None,
    limit: int = 500,
) -> list[uuid.UUID]:
    """Leads that booked a meeting or were won: the examples lookalike search starts from."""
    where = "organization_id = :org AND status = ANY(CAST(:statuses AS text[]))"
    params: dict[str, Any] = {"org": organization_id, "statuses": list(SUCCESS_STATUSES)}
    if campaign_id is not None:
        where += " AND campaign_id = :campaign"
        params["campaign"] = campaign_id
    rows = session.execute(
        text(f"SELECT id FROM leads WHERE {where} ORDER BY updated_at DESC NULLS LAST LIMIT :n"),
        {**params, "n": limit},
    ).all()
    return [r.id for r in rows]


def _filter_sql(flt: VectorFilter, params: dict[str, Any]) -> list[str]:
    where: list[str] = []
    if flt.campaign_id is not None:
        where.append("l.campaign_id = :campaign")
        params["campaign"] = flt.campaign_id
    if flt.countries:
        where.append(
            "(l.enrichment_data ->> 'country' IS NULL "
            "OR upper(l.enrichment_data ->> 'country') = ANY(CAST(:countries AS text[])))"
        )
        params["countries"] = [c.strip().upper() for c in flt.countries]
    if flt.company_sizes:
        where.append(f"({SIZE_BAND_SQL} IS NULL OR {SIZE_BAND_SQL} = ANY(CAST(:sizes AS text[])))")
        params["sizes"] = [s.strip() for s in flt.company_sizes]
    if flt.exclude_domains:
        # The email's domain or the enriched company domain, the domain itself or a subdomain.
        where.append(
            "NOT EXISTS (SELECT 1 FROM unnest(CAST(:domains AS text[])) AS x(d) "
            "WHERE lower(split_part(l.email, '@', 2)) IN (x.d) "
            "OR lower(split_part(l.email, '@', 2)) LIKE '%.' || x.d "
            "OR lower(l.enrichment_data ->> 'company_domain') = x.d)"
        )
        params["domains"] = [d.strip().lower().lstrip("@") for d in flt.exclude_domains]
    if flt.exclude_industries:
        where.append(
            "lower(coalesce(l.enrichment_data ->> 'industry', '')) "
            "<> ALL(CAST(:industries AS text[]))"
        )
        params["industries"] = [i.strip().lower() for i in flt.exclude_industries]
    if flt.exclude_title_terms:
        where.append("NOT (coalesce(l.job_title, '') ILIKE ANY(CAST(:titles AS text[])))")
        params["titles"] = [
            "%" + t.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            for t in flt.exclude_title_terms
        ]
    if flt.exclude_lead_ids:
        where.append("l.id <> ALL(CAST(:exclude_ids AS uuid[]))")
        params["exclude_ids"] = list(flt.exclude_lead_ids)
    return where


def nearest_leads(
    session: Session,
    organization_id: uuid.UUID,
    query: npt.NDArray[Any],
    *,
    model: str,
    limit: int,
    where: VectorFilter | None = None,
    iterative: bool = True,
    ef_search: int = DEFAULT_EF_SEARCH,
) -> list[VectorMatch]:
    """The `limit` leads closest (cosine) to `query` that pass the filters, closest first.

    With `iterative`, pgvector 0.8 keeps scanning the HNSW graph until `limit` rows pass
    the tenant/campaign/hard filters (`relaxed_order`; re-sorted by exact distance here);
    without it, a selective filter leaves plain HNSW with fewer rows than asked for.
    """
    params: dict[str, Any] = {
        "org": organization_id,
        "model": model,
        "q": _flat(np.asarray(query, dtype=np.float32).reshape(1, -1)),
        "limit": limit,
    }
    conditions = [
        "l.organization_id = :org",
        "l.embedding_model = :model",
        *_filter_sql(where or VectorFilter(), params),
    ]
    # Transaction-local, like the tenant settings: a pooled connection keeps nothing.
    # Custom plans: the driver prepares a statement it has run five times, and PostgreSQL's
    # generic plan for it cannot see which tenant is asked, so it picked a sequential scan
    # over every tenant's vectors (50 ms at 50k leads, against 8 ms for the tenant's own).
    session.execute(
        text(
            "SELECT set_config('hnsw.iterative_scan', :mode, true), "
            "set_config('hnsw.ef_search', :ef, true), "
            "set_config('plan_cache_mode', 'force_custom_plan', true)"
        ),
        {"mode": "relaxed_order" if iterative else "off", "ef": str(max(ef_search, limit))},
    )
    rows = session.execute(
        text(
            f"""
            WITH nearest AS MATERIALIZED (
                SELECT l.id, l.embedding <=> CAST(CAST(:q AS float4[]) AS vector(384)) AS distance
                  FROM leads l
                 WHERE {" AND ".join(conditions)}
                 ORDER BY l.embedding <=> CAST(CAST(:q AS float4[]) AS vector(384))
                 LIMIT :limit)
            SELECT l.id, l.email, l.job_title, l.company_name, l.company_size,
                   l.enrichment_data, n.distance
              FROM nearest n JOIN leads l ON l.id = n.id
             ORDER BY n.distance, l.id
            """
        ),
        params,
    ).all()
    return [
        VectorMatch(
            lead_id=r.id,
            email=r.email,
            job_title=r.job_title,
            company_name=r.company_name,
            company_size=r.company_size,
            enrichment_data=r.enrichment_data or {},
            similarity=1.0 - float(r.distance),
        )
        for r in rows
    ]


def existing_lead_ids(
    session: Session, organization_id: uuid.UUID, lead_ids: Sequence[uuid.UUID]
) -> set[uuid.UUID]:
    """Which of these ids are leads of the organization (a foreign id is simply absent)."""
    rows = session.execute(
        text(
            "SELECT id FROM leads WHERE organization_id = :org AND id = ANY(CAST(:ids AS uuid[]))"
        ),
        {"org": organization_id, "ids": list(lead_ids)},
    ).all()
    return {r.id for r in rows}
