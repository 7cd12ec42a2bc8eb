"""ICP search latency and recall: top-10 by a campaign's ICP vector under the tenant filter.

Starts its own embedded PostgreSQL in a temp dir, migrates, loads N leads spread over
`--orgs` organizations (COPY, binary vectors), builds the HNSW index, then times
`vectra.leads.vectors.nearest_leads` (the ranking's query: tenant filter, iterative scan,
re-sorted) inside a tenant transaction, and compares each answer with the exact top-10
computed in numpy over the same vectors.

The table is VACUUMed after the load (hint bits, visibility map: a live table's state) and
every organization is queried twice before the timings (its pages cached).

Vectors: embedding 200k texts would take minutes, so `--bases` (default 3000) varied lead
texts are embedded with the real model, and each lead's vector is made from them (then
re-normalised). `--vectors noise` (default): one base plus isotropic Gaussian noise (cosine
~0.9 to its base), a hard case for any graph index (the noise spreads points over all 384
dimensions). `--vectors mix`: a weighted mix of two bases plus slight noise, points that stay
near the surface the model's embeddings lie on, as real lead vectors do. Query vectors are
real embeddings of generated ICP texts. `--ef-search` is passed to the query.
Prints JSON with --json:
{"p50_ms", "p95_ms", "recall_at_10", ...}.

    .venv/bin/python bench/icp_search.py --leads 50000 --orgs 20 --json
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
from ai_support import (
    COUNTRIES,
    INDUSTRIES,
    KEYWORDS,
    SENIORITY_TITLES,
    peak_rss_mb,
    start_database,
    synthetic_lead,
)
from pgvector.psycopg import register_vector
from sqlalchemy import text

from vectra.ai.embeddings import LOCAL_MODEL, local_embedder
from vectra.ai.texts import SIZE_BANDS, icp_text, lead_text
from vectra.leads.vectors import DEFAULT_EF_SEARCH, nearest_leads


def _icp(rng: random.Random) -> str:
    titles = rng.sample([t for ts in SENIORITY_TITLES.values() for t in ts], 2)
    return icp_text(
        {
            "description": f"{rng.choice(INDUSTRIES)} companies growing their "
            f"{rng.choice(['sales', 'engineering', 'marketing', 'finance'])} teams",
            "job_titles": titles,
            "industries": rng.sample(INDUSTRIES, 2),
            "company_sizes": rng.sample(list(SIZE_BANDS), 2),
            "countries": rng.sample(COUNTRIES, 2),
            "keywords": rng.sample(KEYWORDS, 2),
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--leads", type=int, default=50_000)
    parser.add_argument("--orgs", type=int, default=20)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--bases", type=int, default=3000)
    parser.add_argument("--noise", type=float, default=0.022, help="per-dimension sigma")
    parser.add_argument("--vectors", choices=("noise", "mix"), default="noise")
    parser.add_argument("--ef-search", type=int, default=DEFAULT_EF_SEARCH)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--json", action="store_true", help="print one JSON line")
    args = parser.parse_args()

    rng = random.Random(7)
    nrng = np.random.default_rng(7)
    embedder = local_embedder()
    started = time.perf_counter()
    base_leads = [synthetic_lead(rng, n) for n in range(args.bases)]
    bases = embedder.embed(
        [
            lead_text(
                job_title=b["job_title"],
                company_name=b["company_name"],
                company_size=None,
                enrichment=b["enrichment_data"],
            )
            for b in base_leads
        ]
    )
    icp_vectors = embedder.embed([_icp(rng) for _ in range(50)])
    embed_s = time.perf_counter() - started

    pick = nrng.integers(0, args.bases, size=args.leads)
    if args.vectors == "mix":
        other = bases[nrng.integers(0, args.bases, size=args.leads)]
        weight = nrng.uniform(0.55, 1.0, size=(args.leads, 1)).astype(np.float32)
        vectors = weight * bases[pick] + (1 - weight) * other
        vectors += nrng.normal(scale=0.004, size=(args.leads, 384)).astype(np.float32)
    else:
        noise = nrng.normal(scale=args.noise, size=(args.leads, 384)).astype(np.float32)
        vectors = bases[pick] + noise
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    org_of = nrng.integers(0, args.orgs, size=args.leads)

    with tempfile.TemporaryDirectory(prefix="vectra-bench-icp-") as tmp:
        server, database = start_database(Path(tmp))
        orgs: list[uuid.UUID] = []
        campaigns: list[uuid.UUID] = []
        with database.owner_engine.begin() as conn:
            for i in range(args.orgs):
                org = conn.execute(
                    text("INSERT INTO organizations (name, slug) VALUES (:n, :n) RETURNING id"),
                    {"n": f"org-{i}"},
                ).scalar_one()
                orgs.append(org)
                campaigns.append(
                    conn.execute(
                        text(
                            "INSERT INTO campaigns (name, organization_id) "
                            "VALUES ('C', :o) RETURNING id"
                        ),
                        {"o": org},
                    ).scalar_one()
                )
        started = time.perf_counter()
        raw = database.owner_engine.raw_connection()
        try:
            driver = raw.driver_connection  # type: ignore[attr-defined]
            register_vector(driver)  # bench only: binary COPY of numpy vectors
            with driver.cursor() as cur:
                cur.execute("DROP INDEX idx_leads_embedding_hnsw")  # built once after the load
                with cur.copy(
                    "COPY leads (id, organization_id, campaign_id, email, embedding, "
                    "embedding_model) FROM STDIN WITH (FORMAT BINARY)"
                ) as copy:
                    copy.set_types(["uuid", "uuid", "uuid", "varchar", "vector", "varchar"])
                    ids = [uuid.uuid4() for _ in range(args.leads)]
                    for i in range(args.leads):
                        o = int(org_of[i])
                        copy.write_row(
                            (ids[i], orgs[o], campaigns[o], f"l{i}@x.example", vectors[i],
                             LOCAL_MODEL)
                        )  # fmt: skip
            driver.commit()
            load_s = time.perf_counter() - started
            started = time.perf_counter()
            with driver.cursor() as cur:
                cur.execute("SET maintenance_work_mem = '1GB'")
                cur.execute(
                    "CREATE INDEX idx_leads_embedding_hnsw ON leads USING hnsw "
                    "(embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64)"
                )
            driver.commit()
            index_s = time.perf_counter() - started
            # A live table has been vacuumed: without this, the first reads after the bulk
            # load set hint bits and write pages back, and that is what the timings measured.
            driver.autocommit = True
            with driver.cursor() as cur:
                cur.execute("VACUUM (ANALYZE) leads")
            driver.autocommit = False
        finally:
            raw.close()

        ids_arr = np.array(ids)
        timings: list[float] = []
        recalls: list[float] = []
        plans: dict[str, int] = {}
        warmup = 2 * args.orgs
        for q in range(args.queries + warmup):
            # Warm-up: each organization twice (its pages in the buffer cache, plans prepared).
            o = q % args.orgs if q < warmup else rng.randrange(args.orgs)
            query = icp_vectors[rng.randrange(len(icp_vectors))]
            with database.tenant_session(orgs[o]) as session:
                if q == 0:
                    session.execute(text("SET LOCAL hnsw.iterative_scan = relaxed_order"))
                    plan = session.execute(
                        text(
                            "EXPLAIN SELECT id FROM leads WHERE organization_id = :o "
                            "AND embedding_model = :m ORDER BY embedding <=> "
                            "CAST(CAST(:q AS float4[]) AS vector(384)) LIMIT :k"
                        ),
                        {"o": orgs[o], "m": LOCAL_MODEL, "q": query.tolist(), "k": args.k},
                    ).scalars()
                    kind = "hnsw" if any("hnsw" in line for line in plan) else "exact"
                    plans[kind] = plans.get(kind, 0) + 1
                started = time.perf_counter()
                found = nearest_leads(
                    session, orgs[o], query, model=LOCAL_MODEL, limit=args.k,
                    ef_search=args.ef_search,
                )  # fmt: skip
                elapsed = time.perf_counter() - started
            if q < warmup:
                continue
            timings.append(elapsed * 1000)
            mask = org_of == o
            exact = set(ids_arr[mask][np.argsort(-(vectors[mask] @ query))[: args.k]])
            recalls.append(len(exact & {m.lead_id for m in found}) / args.k)
        database.dispose()
        del server

    result = {
        "leads": args.leads,
        "orgs": args.orgs,
        "vectors": args.vectors,
        "ef_search": args.ef_search,
        "queries": args.queries,
        "p50_ms": round(float(np.percentile(timings, 50)), 2),
        "p95_ms": round(float(np.percentile(timings, 95)), 2),
        "recall_at_10": round(float(np.mean(recalls)), 4),
        "min_recall": round(float(np.min(recalls)), 2),
        "plan": max(plans, key=lambda k: plans[k]),
        "embed_bases_s": round(embed_s, 1),
        "load_s": round(load_s, 1),
        "index_build_s": round(index_s, 1),
        "peak_rss_mb": peak_rss_mb(),
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>15}: {value}")


if __name__ == "__main__":
    main()
