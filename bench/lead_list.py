"""A filtered, paginated lead-list page at scale.

    python bench/lead_list.py --leads 1000000 --json  ->  {"p95_ms", "p50_ms", ...}
    (goal p95 < 50 ms)

Leads are generated in SQL (generate_series) inside one campaign of one organization among
others, then the real service (`vectra.leads.service.list_leads`, under RLS as the app role)
is timed on: the first page, deep keyset pages, a status filter, a score range and a
name/company search served by the pg_trgm index.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("VECTRA_LOG_LEVEL", "WARNING")
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from leads_support import organization_with_campaign
from sqlalchemy import text

from vectra.db.tenancy import set_tenant
from vectra.leads.service import LeadFilters, list_leads
from vectra.leads.status import LeadStatus

GENERATE = """
INSERT INTO leads (campaign_id, organization_id, email, first_name, last_name, job_title,
                   company_name, status, bant_score, created_at)
SELECT :campaign, :org,
       'lead' || g || '@company' || (g % 50000) || '.example',
       (ARRAY['Camille','Hugo','Jürgen','María','Noah','Inès','Sven','Ada'])[1 + g % 8],
       'Name' || (g % 7919),
       (ARRAY['CTO','Head of Sales','VP Marketing','Directeur commercial',
              'Account Executive'])[1 + g % 5],
       'Company ' || (g % 50000),
       (ARRAY['new','enriched','qualified','rejected','contacted'])[1 + g % 5],
       g % 101,
       now() - (g || ' seconds')::interval
FROM generate_series(1, :n) AS g
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="vectra-bench-list-") as tmp:
        _server, database, actor, campaign_id = organization_with_campaign(Path(tmp))
        started = time.perf_counter()
        with database.owner_engine.begin() as conn:
            conn.execute(
                text(GENERATE),
                {"campaign": campaign_id, "org": actor.organization_id, "n": args.leads},
            )
            conn.execute(text("ANALYZE leads"))
        load_seconds = time.perf_counter() - started

        scenarios = [
            ("first_page", LeadFilters(), 0),
            ("deep_pages", LeadFilters(), 20),
            ("status", LeadFilters(status=LeadStatus.QUALIFIED), 0),
            ("score_range", LeadFilters(min_score=60, max_score=80), 0),
            ("search", LeadFilters(q="Company 4242"), 0),
        ]
        timings: dict[str, list[float]] = {name: [] for name, _, _ in scenarios}
        per_scenario = max(1, args.requests // len(scenarios))
        with database.sessions() as session:
            set_tenant(session, actor.organization_id)
            for name, filters, depth in scenarios:
                for _ in range(per_scenario):
                    cursor = None
                    for _page in range(depth):  # walk down first: keyset pages stay cheap
                        cursor = list_leads(
                            session, actor, campaign_id, filters, cursor=cursor
                        ).next_cursor
                    began = time.perf_counter()
                    list_leads(session, actor, campaign_id, filters, cursor=cursor, limit=50)
                    timings[name].append((time.perf_counter() - began) * 1000)
                    session.rollback()

    every = sorted(t for values in timings.values() for t in values)
    result = {
        "leads": args.leads,
        "p50_ms": round(statistics.median(every), 2),
        "p95_ms": round(every[int(len(every) * 0.95) - 1], 2),
        "by_scenario_p95_ms": {
            name: round(sorted(values)[int(len(values) * 0.95) - 1], 2)
            for name, values in timings.items()
        },
        "load_seconds": round(load_seconds, 1),
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(result) if args.json else result)


if __name__ == "__main__":
    main()
