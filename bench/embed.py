"""Lead embedding throughput: end-to-end (read, build text, encode, store) vs bare encode.

Starts its own embedded PostgreSQL in a temp dir, migrates, inserts N synthetic but varied
leads (COPY), then in the same process:
  1. bare encode (the baseline): `OnnxEmbedder.embed` over all N lead texts in one call, its
     best setting: the whole set sorted by token length, so batches pad least;
  2. end-to-end: `vectra.ai.tasks.embed_leads_now`, the job's code path (keyset-paged chunks
     of `--batch` leads, each read, encoded length-sorted, written by one UPDATE and committed,
     as the app role under RLS).
The model is loaded once, before either timing. `peak_rss_mb` is this whole process's peak
resident set (getrusage: Python, onnxruntime's native memory, driver), i.e. a worker's.
Prints JSON with --json:
{"leads_per_s", "raw_encode_per_s", "ratio_to_raw_encode", "peak_rss_mb", ...}.

    .venv/bin/python bench/embed.py --leads 2000 --json
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

from ai_support import peak_rss_mb, start_database, synthetic_lead
from psycopg.types.json import Jsonb
from sqlalchemy import text

from vectra.ai.embeddings import MAX_TOKENS, local_embedder
from vectra.ai.indexing import DEFAULT_BATCH, profile_text
from vectra.ai.tasks import embed_leads_now
from vectra.leads.vectors import LeadProfile


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--leads", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=DEFAULT_BATCH)
    parser.add_argument("--json", action="store_true", help="print one JSON line")
    args = parser.parse_args()

    rng = random.Random(42)
    with tempfile.TemporaryDirectory(prefix="vectra-bench-embed-") as tmp:
        server, database = start_database(Path(tmp))
        leads = [synthetic_lead(rng, n) for n in range(args.leads)]
        with database.owner_engine.begin() as conn:
            org_id = conn.execute(
                text(
                    "INSERT INTO organizations (name, slug) VALUES ('Bench', 'bench') RETURNING id"
                )
            ).scalar_one()
            campaign_id = conn.execute(
                text("INSERT INTO campaigns (name, organization_id) VALUES ('B', :o) RETURNING id"),
                {"o": org_id},
            ).scalar_one()
        raw = database.owner_engine.raw_connection()
        try:
            with raw.cursor() as cur:  # type: ignore[attr-defined]
                columns = "id, organization_id, campaign_id, email, first_name, last_name, "
                columns += "job_title, company_name, enrichment_data"
                with cur.copy(f"COPY leads ({columns}) FROM STDIN") as copy:
                    for lead in leads:
                        copy.write_row(
                            (
                                lead["id"], org_id, campaign_id, lead["email"],
                                lead["first_name"], lead["last_name"], lead["job_title"],
                                lead["company_name"], Jsonb(lead["enrichment_data"]),
                            )
                        )  # fmt: skip
                cur.execute("ANALYZE leads")
            raw.commit()
        finally:
            raw.close()

        embedder = local_embedder()  # loaded (and sha256-checked) once, outside the timings
        embedder.embed(["warm up the session"] * 8)
        rss_loaded = peak_rss_mb()
        load_start = os.getloadavg()[0]
        texts = [
            profile_text(
                LeadProfile(
                    id=lead["id"],
                    job_title=lead["job_title"],
                    company_name=lead["company_name"],
                    company_size=None,
                    enrichment_data=lead["enrichment_data"],
                )
            )
            for lead in leads
        ]

        started = time.perf_counter()
        embedder.embed(texts)  # length-sorted batches within the embedder's bounds
        raw_s = time.perf_counter() - started

        started = time.perf_counter()
        report = embed_leads_now(
            database, uuid.UUID(str(org_id)), embedder=embedder, batch_size=args.batch
        )
        e2e_s = time.perf_counter() - started
        assert report.embedded == args.leads, report

        with database.owner_engine.connect() as conn:
            stored = conn.execute(
                text("SELECT count(*) FROM leads WHERE embedding IS NOT NULL")
            ).scalar_one()
        database.dispose()
        del server

    result = {
        "leads": args.leads,
        "batch": args.batch,
        "cores": os.cpu_count(),
        "leads_per_s": round(args.leads / e2e_s, 1),
        "raw_encode_per_s": round(args.leads / raw_s, 1),
        "ratio_to_raw_encode": round(raw_s / e2e_s, 3),
        "encode_share_of_e2e": round(report.encode_s / e2e_s, 3),
        "stored": stored,
        "max_tokens": MAX_TOKENS,
        "peak_rss_mb": peak_rss_mb(),
        "peak_rss_before_timings_mb": rss_loaded,
        "load_avg_1m_start": round(load_start, 2),
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>22}: {value}")


if __name__ == "__main__":
    main()
