"""The sync engine: push qualified leads, sent emails and meetings to a CRM; pull a list.

Idempotent by construction: every pushed object has a `crm_links` row (Vectra key -> CRM
id + hash of what was pushed), so a re-run skips what did not change and never creates a
record twice. Each object type is read from its cursor (rows' `updated_at`, then id), with
an overlap so a transaction that committed late is not missed (the hashes make the overlap
free). A record the CRM refuses is logged in the run and retried by later runs (up to
MAX_ATTEMPTS); it never stops the others. An auth failure (after one refresh) stops the run
and turns the integration `error` with the provider's message.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from vectra.accounts.actor import system_actor
from vectra.db.base import utcnow
from vectra.errors import Conflict, InvalidInput, NotFound, QuotaExceeded
from vectra.integrations import service, vault
from vectra.integrations.config import IntegrationSettings, get_integration_settings
from vectra.integrations.http import CrmAuthError, CrmError
from vectra.integrations.models import CrmLink, CrmSyncCursor, CrmSyncRun, Integration
from vectra.integrations.records import (
    CrmAdapter,
    EmailRecord,
    LeadRecord,
    MeetingRecord,
    Outcome,
)
from vectra.integrations.schemas import IntegrationStatus
from vectra.integrations.sources import SOURCES, existing_lead_emails

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
MAX_LOGGED_ERRORS = 200
OVERLAP = dt.timedelta(minutes=2)
EPOCH = (dt.datetime(1970, 1, 1), uuid.UUID(int=0))
Checkpoint = Callable[[], None]


@dataclass
class Tally:
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    errors: list[dict[str, str]] = field(default_factory=list)

    def add(self, object_type: str, action: str, key: str = "", error: str | None = None) -> None:
        bucket = self.counts.setdefault(
            object_type, {"created": 0, "updated": 0, "skipped": 0, "failed": 0}
        )
        bucket[action] += 1
        if error and len(self.errors) < MAX_LOGGED_ERRORS:
            self.errors.append({"object": object_type, "id": key, "message": error[:500]})

    def total(self, action: str) -> int:
        return sum(b[action] for b in self.counts.values())


@dataclass
class SyncContext:
    session: Session
    row: Integration
    adapter: CrmAdapter
    settings: IntegrationSettings
    tally: Tally
    checkpoint: Checkpoint

    @property
    def organization_id(self) -> uuid.UUID:
        assert self.row.organization_id is not None
        return self.row.organization_id

    def links(self, object_type: str, keys: list[str]) -> dict[str, CrmLink]:
        if not keys:
            return {}
        rows = self.session.scalars(
            select(CrmLink).where(
                CrmLink.organization_id == self.organization_id,
                CrmLink.integration_id == self.row.id,
                CrmLink.object_type == object_type,
                CrmLink.vectra_key.in_(keys),
            )
        )
        return {link.vectra_key: link for link in rows}

    def record(
        self, object_type: str, outcome: Outcome, link: CrmLink | None, payload_hash: str | None
    ) -> CrmLink:
        """Store the outcome on the object's link (created on first sight) and count it."""
        if link is None:
            link = CrmLink(
                organization_id=self.organization_id, integration_id=self.row.id,
                object_type=object_type, vectra_key=outcome.key, attempts=0,
            )  # fmt: skip
            self.session.add(link)
        if outcome.action == "failed" or outcome.error:
            link.attempts = (link.attempts or 0) + 1
            link.error = outcome.error or "refused"
        else:
            link.crm_object = outcome.crm_object or link.crm_object
            link.crm_id = outcome.crm_id or link.crm_id
            link.payload_hash = payload_hash
            link.attempts, link.error, link.synced_at = 0, None, utcnow()
        logged = outcome.error if outcome.action == "failed" else None
        self.tally.add(object_type, outcome.action, outcome.key, logged)
        return link


def _retry_keys(ctx: SyncContext, object_type: str) -> list[str]:
    return list(
        ctx.session.scalars(
            select(CrmLink.vectra_key).where(
                CrmLink.organization_id == ctx.organization_id,
                CrmLink.integration_id == ctx.row.id,
                CrmLink.object_type == object_type,
                or_(CrmLink.crm_id.is_(None), CrmLink.error.is_not(None)),
                CrmLink.attempts < MAX_ATTEMPTS,
            )
        )
    )


def _cursor(ctx: SyncContext, object_type: str) -> CrmSyncCursor:
    cursor = ctx.session.scalar(
        select(CrmSyncCursor).where(
            CrmSyncCursor.organization_id == ctx.organization_id,
            CrmSyncCursor.integration_id == ctx.row.id,
            CrmSyncCursor.object_type == object_type,
        )
    )
    if cursor is None:
        cursor = CrmSyncCursor(
            organization_id=ctx.organization_id, integration_id=ctx.row.id,
            object_type=object_type,
        )  # fmt: skip
        ctx.session.add(cursor)
    return cursor


def _push_leads(ctx: SyncContext, records: list[LeadRecord]) -> None:
    links = ctx.links("lead", [r.id for r in records])
    to_push = []
    for record in records:
        link = links.get(record.id)
        unchanged = link is not None and link.crm_id and link.error is None
        if unchanged and link is not None and link.payload_hash == record.fingerprint():
            ctx.tally.add("lead", "skipped")
        else:
            to_push.append(record)
    if not to_push:
        return
    from vectra.integrations.hubspot import company_key

    keys = [k for k in (company_key(r) for r in to_push) if k]
    companies = ctx.links("company", keys)
    ctx.adapter.companies = {k: v.crm_id for k, v in companies.items() if v.crm_id}
    ctx.adapter.company_outcomes = []
    known = {r.id: links[r.id].crm_id or "" for r in to_push if r.id in links}
    fingerprints = {r.id: r.fingerprint() for r in to_push}
    for outcome in ctx.adapter.push_leads(to_push, known):
        ctx.record("lead", outcome, links.get(outcome.key), fingerprints.get(outcome.key))
    for outcome in ctx.adapter.company_outcomes:
        link = companies.get(outcome.key)
        companies[outcome.key] = ctx.record("company", outcome, link, None)


def _contact_of(ctx: SyncContext, lead_ids: list[str]) -> dict[str, tuple[str, str]]:
    return {
        key: (link.crm_object or "", link.crm_id)
        for key, link in ctx.links("lead", lead_ids).items()
        if link.crm_id
    }


def _push_activities(
    ctx: SyncContext, object_type: str, records: list[EmailRecord] | list[MeetingRecord]
) -> None:
    links = ctx.links(object_type, [r.id for r in records])
    contacts = _contact_of(ctx, [r.lead_id for r in records])
    for record in records:
        link = links.get(record.id)
        fingerprint = record.fingerprint()
        done = link is not None and link.crm_id and link.error is None
        # Sent mail never changes in the CRM; a meeting is re-pushed when it changed.
        if done and (isinstance(record, EmailRecord) or link.payload_hash == fingerprint):  # type: ignore[union-attr]
            ctx.tally.add(object_type, "skipped")
            continue
        contact = contacts.get(record.lead_id)
        if contact is None:
            # Its lead is not in the CRM (yet): keep it pending, a later run retries it.
            pending = Outcome(record.id, "skipped", error="its lead is not in the CRM yet")
            links[record.id] = ctx.record(object_type, pending, link, None)
            continue
        if isinstance(record, EmailRecord):
            outcome = ctx.adapter.push_email(record, contact)
        else:
            existing = link.crm_id if link is not None else None
            outcome = ctx.adapter.push_meeting(record, contact, existing)
        links[record.id] = ctx.record(object_type, outcome, link, fingerprint)


def _push(ctx: SyncContext, object_type: str, rows: list[Any]) -> None:
    source = SOURCES[object_type]
    records: list[Any] = [source.to_record(row) for row in rows]
    if not records:
        return
    if object_type == "lead":
        _push_leads(ctx, records)
    else:
        _push_activities(ctx, object_type, records)
    ctx.session.flush()


def push_object_type(ctx: SyncContext, object_type: str) -> None:
    """Retry what failed before, then read on from the cursor in batches."""
    source = SOURCES[object_type]
    retry = source.by_ids(ctx.session, ctx.organization_id, _retry_keys(ctx, object_type))
    _push(ctx, object_type, retry)
    done = {str(row.id) for row in retry}
    cursor = _cursor(ctx, object_type)
    position = EPOCH
    if cursor.position_at is not None:
        position = (cursor.position_at - OVERLAP, EPOCH[1])
    while True:
        rows = source.after(ctx.session, ctx.organization_id, position, ctx.settings.batch_size)
        if not rows:
            return
        _push(ctx, object_type, [row for row in rows if str(row.id) not in done])
        last = rows[-1]
        position = (last.updated_at, last.id)
        if cursor.position_at is None or last.updated_at >= cursor.position_at:
            cursor.position_at, cursor.position_id = last.updated_at, last.id
        ctx.session.flush()
        ctx.checkpoint()


def pull_list(ctx: SyncContext) -> None:
    """HubSpot list -> campaign: new addresses become leads (deduplicated by the leads service)."""
    from vectra.leads import service as leads
    from vectra.leads.schemas import LeadCreate

    settings = ctx.row.settings or {}
    list_id, campaign_id = settings.get("pull_list_id"), settings.get("pull_campaign_id")
    if not (list_id and campaign_id) or not hasattr(ctx.adapter, "list_contacts"):
        return
    actor = system_actor(ctx.organization_id)
    campaign = uuid.UUID(str(campaign_id))
    for page in ctx.adapter.list_contacts(str(list_id)):
        emails = [str(c.get("email") or "").strip().lower() for c in page]
        present = existing_lead_emails(ctx.session, ctx.organization_id, campaign, emails)
        for contact, email in zip(page, emails, strict=True):
            if not email:
                ctx.tally.add("pull", "failed", contact["id"], "the contact has no email")
                continue
            lead_id = present.get(email)
            action = "skipped"
            if lead_id is None:
                website = str(contact.get("website") or "").lower()
                domain = website.removeprefix("https://").removeprefix("http://").split("/")[0]
                data = LeadCreate(
                    email=email, first_name=contact.get("firstname"),
                    last_name=contact.get("lastname"), job_title=contact.get("jobtitle"),
                    company_name=contact.get("company"), phone=contact.get("phone"),
                    enrichment_data={"company_domain": domain} if domain else {},
                    source="hubspot",
                )  # fmt: skip
                try:
                    with ctx.session.begin_nested():  # a refusal undoes its quota use too
                        lead_id = leads.create_lead(ctx.session, actor, campaign, data).id
                    action = "created"
                except Conflict as exc:  # suppressed (or added meanwhile): not an error
                    ctx.tally.add("pull", "skipped", contact["id"], None)
                    log.info("pull skipped a contact", extra={"reason": exc.message})
                    continue
                except InvalidInput as exc:
                    ctx.tally.add("pull", "failed", contact["id"], exc.message)
                    continue
                except QuotaExceeded as exc:
                    ctx.tally.add("pull", "failed", contact["id"], exc.message)
                    return
            ctx.tally.add("pull", action)
            link = ctx.links("lead", [str(lead_id)]).get(str(lead_id))
            if link is None:
                ctx.session.add(
                    CrmLink(
                        organization_id=ctx.organization_id, integration_id=ctx.row.id,
                        object_type="lead", vectra_key=str(lead_id), crm_object="contact",
                        crm_id=contact["id"], attempts=0, synced_at=utcnow(),
                    )
                )  # fmt: skip
        ctx.session.flush()
        ctx.checkpoint()


def run_sync(
    session: Session,
    organization_id: uuid.UUID,
    kind: str,
    *,
    reason: str,
    settings: IntegrationSettings | None = None,
    sleep: Callable[[float], None] = time.sleep,
    checkpoint: Checkpoint | None = None,
) -> CrmSyncRun:
    """One sync run for one organization's CRM; the run row says what happened."""
    settings = settings or get_integration_settings()
    row = service.find_integration(session, organization_id, kind)
    if row is None or row.type not in service.CRM_TYPES:
        raise NotFound("This CRM is not connected.")
    run = CrmSyncRun(organization_id=organization_id, integration_id=row.id, reason=reason[:100])
    session.add(run)
    session.flush()
    tally = Tally()
    adapter: CrmAdapter | None = None
    try:
        adapter = service.crm_adapter(row, settings=settings, sleep=sleep)
        ctx = SyncContext(session, row, adapter, settings, tally, checkpoint or session.flush)
        adapter.prepare()
        if (row.settings or {}).get("push_enabled", True):
            for object_type in ("lead", "email", "meeting"):
                push_object_type(ctx, object_type)
        pull_list(ctx)
    except (CrmAuthError, vault.VaultError) as exc:
        service.mark_status(row, IntegrationStatus.ERROR, str(exc))
        run.status, run.message = "failed", str(exc)[:1000]
    except CrmError as exc:
        run.status, run.message = "failed", str(exc)[:1000]
    else:
        run.status = "partial" if tally.total("failed") else "succeeded"
        service.mark_status(row, IntegrationStatus.CONNECTED)
        row.last_sync_at = utcnow()
    finally:
        if adapter is not None:
            adapter.close()
    run.counts, run.errors = tally.counts, tally.errors
    run.created, run.updated = tally.total("created"), tally.total("updated")
    run.skipped, run.failed = tally.total("skipped"), tally.total("failed")
    run.finished_at = utcnow()
    session.flush()
    # LogRecord reserves `created`: the counts go under crm_* names.
    log.info(
        "crm sync finished",
        extra={"organization_id": str(organization_id), "integration": kind, "run_id": str(run.id),
               "status": run.status, "crm_created": run.created, "crm_updated": run.updated,
               "crm_skipped": run.skipped, "crm_failed": run.failed},
    )  # fmt: skip
    return run
