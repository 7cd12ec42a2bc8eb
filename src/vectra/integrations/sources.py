"""What the sync reads from Vectra: qualified leads, sent emails, meetings, by cursor or id.

Seam: the leads, mail and meetings services have no "changed since" query yet, so these
read their ORM models directly, always scoped by organization (RLS underneath). When those
services grow such queries, only this module changes.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, select, tuple_
from sqlalchemy.orm import Session

from vectra.integrations.records import EmailRecord, LeadRecord, MeetingRecord
from vectra.leads.models import Lead
from vectra.mail.models import Email
from vectra.meetings.models import Meeting

# A lead goes to the CRM once it is qualified, and stays there through what follows.
PUSHED_LEAD_STATUSES = ("qualified", "contacted", "meeting_scheduled", "completed")

Record = LeadRecord | EmailRecord | MeetingRecord


def lead_record(lead: Lead) -> LeadRecord:
    enrichment = lead.enrichment_data or {}
    domain = enrichment.get("company_domain")
    return LeadRecord(
        id=str(lead.id),
        email=lead.email.strip().lower(),
        first_name=lead.first_name,
        last_name=lead.last_name,
        job_title=lead.job_title,
        company_name=lead.company_name,
        company_domain=str(domain).lower() if domain else None,
        phone=lead.phone,
        bant_score=lead.bant_score,
        intent=lead.intent,
        status=lead.status,
    )


def email_record(email: Email) -> EmailRecord:
    assert email.sent_at is not None
    return EmailRecord(
        id=str(email.id),
        lead_id=str(email.lead_id),
        subject=email.subject,
        body=email.body,
        sent_at=email.sent_at,
    )


def meeting_record(meeting: Meeting) -> MeetingRecord:
    return MeetingRecord(
        id=str(meeting.id),
        lead_id=str(meeting.lead_id),
        scheduled_at=meeting.scheduled_at,
        duration_minutes=meeting.duration_minutes or 30,
        status=meeting.status or "scheduled",
        meeting_url=meeting.meeting_url,
        outcome=meeting.outcome,
        notes=meeting.notes,
    )


@dataclass(frozen=True)
class Source:
    """One object type the sync pushes: its table, which rows qualify, how to read one."""

    object_type: str
    model: Any
    eligible: Callable[[uuid.UUID], Sequence[ColumnElement[bool]]]
    to_record: Callable[[Any], Record]

    def _base(self, organization_id: uuid.UUID) -> Any:
        return select(self.model).where(
            self.model.organization_id == organization_id, *self.eligible(organization_id)
        )

    def after(
        self,
        session: Session,
        organization_id: uuid.UUID,
        position: tuple[dt.datetime, uuid.UUID],
        limit: int,
    ) -> list[Any]:
        """The next rows past `position` in (updated_at, id) order."""
        query = (
            self._base(organization_id)
            .where(tuple_(self.model.updated_at, self.model.id) > tuple_(*position))
            .order_by(self.model.updated_at, self.model.id)
            .limit(limit)
        )
        return list(session.scalars(query))

    def by_ids(self, session: Session, organization_id: uuid.UUID, ids: list[str]) -> list[Any]:
        if not ids:
            return []
        query = self._base(organization_id).where(self.model.id.in_([uuid.UUID(i) for i in ids]))
        return list(session.scalars(query))


SOURCES: dict[str, Source] = {
    "lead": Source(
        "lead", Lead, lambda _org: [Lead.status.in_(PUSHED_LEAD_STATUSES)], lead_record
    ),
    "email": Source(
        "email", Email, lambda _org: [Email.sent_at.is_not(None), Email.lead_id.is_not(None)],
        email_record,
    ),
    "meeting": Source("meeting", Meeting, lambda _org: [Meeting.lead_id.is_not(None)],
                      meeting_record),
}  # fmt: skip


def existing_lead_emails(
    session: Session, organization_id: uuid.UUID, campaign_id: uuid.UUID, emails: list[str]
) -> dict[str, uuid.UUID]:
    """Email -> lead id for the addresses the campaign already holds (seam: leads service)."""
    rows = session.execute(
        select(Lead.email, Lead.id).where(
            Lead.organization_id == organization_id,
            Lead.campaign_id == campaign_id,
            Lead.email.in_(emails),
        )
    )
    return {email.lower(): lead_id for email, lead_id in rows}
