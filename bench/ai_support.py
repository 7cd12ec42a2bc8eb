"""Shared by bench/embed.py and bench/icp_search.py: an embedded PostgreSQL in a temp dir,
migrated, and synthetic but varied B2B leads (titles, industries, sizes, countries, stacks)."""

from __future__ import annotations

import os
import random
import resource
import sys
import uuid
from pathlib import Path
from typing import Any

os.environ.setdefault("VECTRA_LOG_LEVEL", "WARNING")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vectra.db import migrate
from vectra.db.embedded import (
    OWNER_ROLE,
    EmbeddedServer,
    ensure_database,
    ensure_roles,
    start_embedded_server,
)
from vectra.db.engine import Database, DatabaseUrls

APP_ROLE = "vectra_app"

SENIORITY_TITLES = {
    "c_level": ["CEO", "CTO", "CFO", "COO", "Chief Revenue Officer", "Chief Marketing Officer"],
    "vp": ["VP Sales", "VP Engineering", "VP Marketing", "VP Operations", "VP Customer Success"],
    "director": ["Director of Sales", "Director of IT", "Head of Growth", "Head of Data"],
    "manager": ["Sales Manager", "Engineering Manager", "Marketing Manager", "HR Manager"],
    "senior": ["Senior Account Executive", "Senior Data Engineer", "Senior DevOps Engineer"],
    "entry": ["Sales Development Representative", "Junior Analyst", "Marketing Associate"],
}
INDUSTRIES = [
    "SaaS", "Fintech", "Healthcare", "Logistics", "Retail", "Manufacturing", "Cybersecurity",
    "E-commerce", "Insurance", "Education", "Real Estate", "Media", "Telecommunications",
]  # fmt: skip
COUNTRIES = ["US", "GB", "DE", "FR", "ES", "NL", "SE", "CA", "AU", "IT", "PL", "IE"]
EMPLOYEES = [5, 30, 120, 350, 800, 2500, 12000]
KEYWORDS = [
    "outbound", "pipeline", "lead generation", "cloud migration", "data platform", "compliance",
    "customer retention", "payments", "supply chain", "zero trust", "analytics", "automation",
    "ABM", "churn", "onboarding", "hiring", "expansion", "procurement", "ERP", "AI adoption",
]  # fmt: skip
TECHNOLOGIES = [
    "Salesforce", "HubSpot", "Snowflake", "AWS", "Azure", "GCP", "Kubernetes", "Terraform",
    "Outreach", "Gong", "Segment", "Stripe", "Shopify", "SAP", "Workday", "Zendesk", "dbt",
]  # fmt: skip
SIGNALS = [
    "opened a new office", "launched a new product", "expanding to Europe", "new CFO hired",
    "migrating to the cloud", "acquired a competitor", "doubled the sales team",
]  # fmt: skip
FUNDING = ["Seed", "Series A", "Series B", "Series C", "Series D"]


def start_database(root: Path) -> tuple[EmbeddedServer, Database]:
    server = start_embedded_server(root / "pg")
    ensure_roles(server, app_role=APP_ROLE)
    ensure_database(server, "bench", app_role=APP_ROLE)
    urls = DatabaseUrls(
        owner=server.uri(user=OWNER_ROLE, database="bench"),
        app=server.uri(user=APP_ROLE, database="bench"),
        app_role=APP_ROLE,
    )
    database = Database(urls, pool_size=4)
    migrate.upgrade(database)
    return server, database


def synthetic_lead(rng: random.Random, n: int) -> dict[str, Any]:
    """One lead: a row of `leads` (enrichment per the shared convention)."""
    seniority = rng.choice(list(SENIORITY_TITLES))
    enrichment: dict[str, Any] = {
        "seniority": seniority,
        "industry": rng.choice(INDUSTRIES),
        "country": rng.choice(COUNTRIES),
        "employees": rng.choice(EMPLOYEES) + rng.randint(0, 9),
        "keywords": rng.sample(KEYWORDS, rng.randint(1, 4)),
        "technologies": rng.sample(TECHNOLOGIES, rng.randint(0, 4)),
    }
    if rng.random() < 0.4:
        enrichment["signals"] = rng.sample(SIGNALS, rng.randint(1, 2))
    if rng.random() < 0.3:
        enrichment["funding"] = {"stage": rng.choice(FUNDING)}
    if rng.random() < 0.2:
        enrichment["hiring"] = rng.sample(["SDR", "Account Executive", "Data Engineer"], 1)
    return {
        "id": uuid.uuid4(),
        "email": f"lead{n}@company{n % 9973}.example",
        "first_name": "Lead",
        "last_name": f"N{n}",
        "job_title": rng.choice(SENIORITY_TITLES[seniority]),
        "company_name": f"{rng.choice(['Acme', 'Globex', 'Initech', 'Umbrella', 'Stark'])} "
        f"{rng.choice(['Labs', 'Systems', 'Group', 'Cloud', 'Works'])} {n % 997}",
        "enrichment_data": enrichment,
    }


def peak_rss_mb() -> float:
    """This process's peak resident set size (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
