"""What the sync engine hands a CRM adapter, and what the adapter answers per record."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any, Literal, Protocol

Action = Literal["created", "updated", "skipped", "failed"]


@dataclass(frozen=True)
class LeadRecord:
    id: str
    email: str
    first_name: str | None
    last_name: str | None
    job_title: str | None
    company_name: str | None
    company_domain: str | None
    phone: str | None
    bant_score: int | None
    intent: str | None
    status: str | None

    def fingerprint(self) -> str:
        return fingerprint(asdict(self))


@dataclass(frozen=True)
class EmailRecord:
    id: str
    lead_id: str
    subject: str
    body: str
    sent_at: dt.datetime

    def fingerprint(self) -> str:
        # Sent mail does not change: later opens or clicks are not re-pushed.
        return fingerprint({"subject": self.subject, "sent_at": self.sent_at})


@dataclass(frozen=True)
class MeetingRecord:
    id: str
    lead_id: str
    scheduled_at: dt.datetime
    duration_minutes: int
    status: str
    meeting_url: str | None
    outcome: str | None
    notes: str | None

    @property
    def ends_at(self) -> dt.datetime:
        return self.scheduled_at + dt.timedelta(minutes=self.duration_minutes)

    def fingerprint(self) -> str:
        return fingerprint(asdict(self))


@dataclass
class Outcome:
    """One record's fate: its CRM object and id, or why the CRM refused it."""

    key: str
    action: Action
    crm_object: str | None = None
    crm_id: str | None = None
    error: str | None = None


def fingerprint(value: dict[str, Any]) -> str:
    """A stable hash of what was pushed: an unchanged record is skipped on the next run."""
    data = json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(data.encode()).hexdigest()


def utc_iso(value: dt.datetime) -> str:
    """ISO-8601 in UTC with a Z: our timestamps are naive UTC (the seed's columns)."""
    aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return aware.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


class CrmAdapter(Protocol):
    """A CRM seen by the sync engine; `links` maps a Vectra key to its known CRM id."""

    name: str
    # Company links for the batch being pushed (filled by the engine) and the companies the
    # adapter created or found during it (recorded by the engine); unused by Salesforce.
    companies: dict[str, str]
    company_outcomes: list[Outcome]

    def test(self) -> str: ...

    def prepare(self) -> None: ...

    def push_leads(self, leads: list[LeadRecord], known: dict[str, str]) -> list[Outcome]: ...

    def push_email(self, email: EmailRecord, contact: tuple[str, str]) -> Outcome: ...

    def push_meeting(
        self, meeting: MeetingRecord, contact: tuple[str, str], existing: str | None
    ) -> Outcome: ...

    def close(self) -> None: ...
