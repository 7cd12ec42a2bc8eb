"""Shared by bench/import_leads.py and bench/lead_list.py: a migrated bench database with one
organization on the Scale plan, its owner actor and a campaign."""

from __future__ import annotations

import dataclasses
import uuid
from pathlib import Path

from ai_support import start_database  # type: ignore[import-not-found]
from sqlalchemy import text

from vectra.accounts.actor import Actor
from vectra.accounts.roles import Role
from vectra.db.embedded import EmbeddedServer
from vectra.db.engine import Database


def lift_lead_quota(per_month: int) -> None:
    """Raise the Scale plan's monthly lead quota in this process only: the benches measure
    the import path (quota check included), not the plan."""
    from vectra.billing import plans

    scale = plans.PLANS[plans.PlanName.SCALE]
    plans.PLANS[plans.PlanName.SCALE] = dataclasses.replace(
        scale, limits=dataclasses.replace(scale.limits, leads_per_month=per_month)
    )


def organization_with_campaign(root: Path) -> tuple[EmbeddedServer, Database, Actor, uuid.UUID]:
    server, database = start_database(root)
    org_id, user_id, campaign_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    with database.owner_engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO organizations (id, name, slug, plan) VALUES (:o, 'Bench', :s, 'scale')"
            ),
            {"o": org_id, "s": f"bench-{org_id.hex[:8]}"},
        )
        conn.execute(
            text(
                "INSERT INTO users (id, organization_id, email, password_hash, role) "
                "VALUES (:u, :o, :e, 'x', 'owner')"
            ),
            {"u": user_id, "o": org_id, "e": f"owner-{org_id.hex[:8]}@bench.example"},
        )
        conn.execute(
            text(
                "INSERT INTO subscriptions (organization_id, plan, status, current_period_start, "
                "current_period_end) VALUES (:o, 'scale', 'active', now() - interval '1 day', "
                "now() + interval '29 days')"
            ),
            {"o": org_id},
        )
        conn.execute(
            text(
                "INSERT INTO campaigns (id, organization_id, created_by, name) "
                "VALUES (:c, :o, :u, 'Bench campaign')"
            ),
            {"c": campaign_id, "o": org_id, "u": user_id},
        )
    actor = Actor(organization_id=org_id, role=Role.OWNER, user_id=user_id)
    return server, database, actor, campaign_id
