"""Retention: leads nobody has touched for `data_retention_months` are anonymised.

"Touched" means the lead row changed, or an email to it or a reply from it happened, within
the period. The job runs daily per organization in bounded batches; each lead is
anonymised with the erasure machinery limited to its own rows (no suppression entry: an
expired record is not an objection).
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid

from sqlalchemy import text
from sqlalchemy.orm import Session

from vectra.accounts import audit
from vectra.accounts.actor import Actor, system_actor
from vectra.accounts.models import Organization
from vectra.accounts.organization import settings_of
from vectra.db.base import utcnow
from vectra.db.engine import Database
from vectra.db.tenancy import as_tenant
from vectra.privacy.service import ERASED_DOMAIN, Person, anonymise_leads
from vectra.utc import utc_iso

log = logging.getLogger(__name__)
BATCH = 500


def cutoff(now: dt.datetime, months: int) -> dt.datetime:
    """`months` calendar months before `now` (day clamped to the target month's length)."""
    year, month = divmod(now.year * 12 + now.month - 1 - months, 12)
    month += 1
    for day in (now.day, 30, 29, 28):
        try:
            return now.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def stale_leads(
    session: Session, organization_id: uuid.UUID, before: dt.datetime, limit: int = BATCH
) -> list[uuid.UUID]:
    # A reply counts as a touch; the inbound table may not exist in every installation.
    inbound_time = session.execute(
        text(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = "
            "current_schema() AND table_name = 'inbound_messages' "
            "AND column_name IN ('received_at', 'created_at') ORDER BY column_name DESC LIMIT 1"
        )
    ).scalar()
    inbound = (
        "AND NOT EXISTS (SELECT 1 FROM inbound_messages i WHERE i.lead_id = l.id "
        f"AND i.{inbound_time} >= :before) "
        if inbound_time
        else ""
    )
    return list(
        session.execute(
            text(
                "SELECT l.id FROM leads l WHERE l.organization_id = :org "
                "AND COALESCE(l.updated_at, l.created_at) < :before "
                "AND l.email NOT LIKE :erased "
                "AND NOT EXISTS (SELECT 1 FROM emails e WHERE e.lead_id = l.id AND "
                "GREATEST(e.created_at, e.sent_at) >= :before) "
                f"{inbound}ORDER BY l.updated_at LIMIT :limit"
            ),
            {
                "org": organization_id,
                "before": before,
                "erased": f"%@{ERASED_DOMAIN}",
                "limit": limit,
            },
        ).scalars()
    )


def anonymise_stale(
    session: Session, actor: Actor, months: int, now: dt.datetime | None = None
) -> int:
    """Anonymise one batch of the organization's expired leads; returns how many."""
    before = cutoff(now or utcnow(), months)
    lead_ids = stale_leads(session, actor.organization_id, before)
    for lead_id in lead_ids:
        row = session.execute(
            text("SELECT lower(email) AS email, first_name, last_name FROM leads WHERE id = :i"),
            {"i": lead_id},
        ).one()
        parts = [p for p in (row.first_name, row.last_name) if p and len(p.strip()) >= 2]
        names = set(parts) | ({" ".join(parts)} if len(parts) == 2 else set())
        anonymise_leads(session, actor, Person(row.email, [lead_id], names), org_wide=False)
    if lead_ids:
        audit.record(
            session,
            actor,
            "privacy.retention_anonymised",
            object_type="organization",
            object_id=actor.organization_id,
            details={"leads": len(lead_ids), "months": months, "before": utc_iso(before)},
        )
    return len(lead_ids)


def run_retention(database: Database, now: dt.datetime | None = None) -> dict[str, int]:
    """Every organization, one transaction each (a failure in one does not stop the rest)."""
    with database.system_session() as session:
        organizations = [(o.id, settings_of(o).data_retention_months) for o in
                         session.query(Organization).all()]  # fmt: skip
    done: dict[str, int] = {}
    for organization_id, months in organizations:
        try:
            with database.system_session() as session, as_tenant(session, organization_id):
                count = anonymise_stale(session, system_actor(organization_id), months, now)
                session.commit()
        except Exception:
            log.exception("retention failed for organization %s", organization_id)
            continue
        if count:
            done[str(organization_id)] = count
    return done
