"""The funnel: how many leads reached each stage, per campaign and day by day.

Stages, in order: imported -> enriched -> qualified -> contacted -> replied -> meeting -> won.
A lead counts at a stage if it is there now or ever was (its status history, a sent email,
a reply, a meeting), so a lead rejected after enrichment still counts as enriched, and the
numbers only ever shrink from one stage to the next. Every query is scoped by the actor's
organization (RLS is only the second wall).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from vectra.accounts.actor import Actor
from vectra.campaigns import service as campaigns
from vectra.db.base import utcnow
from vectra.errors import InvalidInput

STAGES = ("imported", "enriched", "qualified", "contacted", "replied", "meeting", "won")
MAX_DAYS = 366

_REACHED = """
WITH per_lead AS (
  SELECT l.campaign_id,
    TRUE AS imported,
    l.status IN ('enriched','scoring','qualified','contacted','meeting_scheduled','completed')
      OR EXISTS (SELECT 1 FROM lead_status_history h WHERE h.lead_id = l.id
                 AND h.organization_id = :org AND h.to_status = 'enriched') AS enriched,
    l.status IN ('qualified','contacted','meeting_scheduled','completed')
      OR EXISTS (SELECT 1 FROM lead_status_history h WHERE h.lead_id = l.id
                 AND h.organization_id = :org AND h.to_status = 'qualified') AS qualified,
    l.status IN ('contacted','meeting_scheduled','completed')
      OR EXISTS (SELECT 1 FROM emails e WHERE e.lead_id = l.id AND e.organization_id = :org
                 AND e.sent_at IS NOT NULL) AS contacted,
    EXISTS (SELECT 1 FROM emails e WHERE e.lead_id = l.id AND e.organization_id = :org
            AND e.replied_at IS NOT NULL) AS replied,
    l.status = 'meeting_scheduled'
      OR EXISTS (SELECT 1 FROM meetings m WHERE m.lead_id = l.id
                 AND m.organization_id = :org) AS meeting,
    EXISTS (SELECT 1 FROM meetings m WHERE m.lead_id = l.id AND m.organization_id = :org
            AND m.outcome = 'closed_won') AS won
  FROM leads l
  WHERE l.organization_id = :org AND (CAST(:campaign AS uuid) IS NULL OR l.campaign_id = :campaign)
)
SELECT c.id, c.name,
  count(p.campaign_id) AS imported,
  count(*) FILTER (WHERE p.enriched) AS enriched,
  count(*) FILTER (WHERE p.qualified) AS qualified,
  count(*) FILTER (WHERE p.contacted) AS contacted,
  count(*) FILTER (WHERE p.replied) AS replied,
  count(*) FILTER (WHERE p.meeting) AS meeting,
  count(*) FILTER (WHERE p.won) AS won
FROM campaigns c LEFT JOIN per_lead p ON p.campaign_id = c.id
WHERE c.organization_id = :org AND (CAST(:campaign AS uuid) IS NULL OR c.id = :campaign)
GROUP BY c.id, c.name, c.created_at
ORDER BY c.created_at DESC, c.id
"""

# Each stage's day: when a lead first got there. Leads filtered by organization (and campaign).
_DAILY = """
WITH scope AS (
  SELECT id, created_at FROM leads
  WHERE organization_id = :org AND (CAST(:campaign AS uuid) IS NULL OR campaign_id = :campaign)
), events AS (
  SELECT 'imported' AS stage, s.created_at AS at FROM scope s
  UNION ALL
  SELECT h.to_status, min(h.created_at) FROM lead_status_history h JOIN scope s ON s.id = h.lead_id
  WHERE h.organization_id = :org AND h.to_status IN ('enriched', 'qualified')
  GROUP BY h.lead_id, h.to_status
  UNION ALL
  SELECT 'contacted', min(e.sent_at) FROM emails e JOIN scope s ON s.id = e.lead_id
  WHERE e.organization_id = :org AND e.sent_at IS NOT NULL GROUP BY e.lead_id
  UNION ALL
  SELECT 'replied', min(e.replied_at) FROM emails e JOIN scope s ON s.id = e.lead_id
  WHERE e.organization_id = :org AND e.replied_at IS NOT NULL GROUP BY e.lead_id
  UNION ALL
  SELECT 'meeting', min(m.created_at) FROM meetings m JOIN scope s ON s.id = m.lead_id
  WHERE m.organization_id = :org GROUP BY m.lead_id
  UNION ALL
  SELECT 'won', min(coalesce(m.completed_at, m.updated_at)) FROM meetings m
  JOIN scope s ON s.id = m.lead_id
  WHERE m.organization_id = :org AND m.outcome = 'closed_won' GROUP BY m.lead_id
)
SELECT stage, CAST(at AS date) AS day, count(*) AS n FROM events
WHERE at >= :since GROUP BY stage, CAST(at AS date)
"""


@dataclass(frozen=True)
class CampaignFunnel:
    campaign_id: uuid.UUID
    name: str
    counts: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        return {"campaign_id": str(self.campaign_id), "name": self.name, "counts": self.counts}


def funnel(
    session: Session, actor: Actor, *, campaign_id: uuid.UUID | None = None
) -> list[CampaignFunnel]:
    """Per campaign (newest first), how many leads reached each stage."""
    if campaign_id is not None:
        campaigns.get_campaign(session, actor, campaign_id)  # 404 for another tenant's
    rows = session.execute(
        text(_REACHED), {"org": actor.organization_id, "campaign": campaign_id}
    ).mappings()
    return [
        CampaignFunnel(row["id"], row["name"], {stage: int(row[stage]) for stage in STAGES})
        for row in rows
    ]


def totals(funnels: list[CampaignFunnel]) -> dict[str, int]:
    return {stage: sum(f.counts[stage] for f in funnels) for stage in STAGES}


def daily(
    session: Session,
    actor: Actor,
    *,
    days: int = 30,
    campaign_id: uuid.UUID | None = None,
    today: dt.date | None = None,
) -> dict[str, Any]:
    """Leads reaching each stage per day over the last `days` days (oldest day first)."""
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput(f"days must be between 1 and {MAX_DAYS}.", field="days")
    if campaign_id is not None:
        campaigns.get_campaign(session, actor, campaign_id)
    today = today or utcnow().date()
    first = today - dt.timedelta(days=days - 1)
    labels = [first + dt.timedelta(days=i) for i in range(days)]
    series = {stage: [0] * days for stage in STAGES}
    rows = session.execute(
        text(_DAILY),
        {
            "org": actor.organization_id,
            "campaign": campaign_id,
            "since": dt.datetime.combine(first, dt.time()),
        },
    )
    for stage, day, count in rows:
        index = (day - first).days
        if 0 <= index < days:
            series[stage][index] = int(count)
    return {"days": [d.isoformat() for d in labels], "series": series}
