"""Fixtures for the integrations tests: fake CRMs on 127.0.0.1 and a small sales pipeline."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests.factories import make_campaign, make_lead, make_organization
from tests.integrations.fake_crm import FakeHubSpot, FakeSalesforce, serve
from vectra.accounts.actor import system_actor
from vectra.accounts.models import Organization
from vectra.campaigns.models import Campaign
from vectra.db.tenancy import as_system
from vectra.integrations import service
from vectra.integrations.config import IntegrationSettings
from vectra.integrations.models import Integration
from vectra.integrations.schemas import IntegrationPut
from vectra.leads.models import Lead
from vectra.mail.models import Email
from vectra.meetings.models import Meeting

HUBSPOT_TOKEN = "pat-na1-11111111-2222-3333-4444-555555555555"


@pytest.fixture
def hubspot() -> Iterator[FakeHubSpot]:
    with serve(FakeHubSpot(HUBSPOT_TOKEN)) as fake:
        yield fake  # type: ignore[misc]


@pytest.fixture
def salesforce() -> Iterator[FakeSalesforce]:
    with serve(FakeSalesforce()) as fake:
        yield fake  # type: ignore[misc]


@dataclass
class Sleeps:
    """Stands in for time.sleep: records each wait (the delay logic is what is tested)."""

    waits: list[float] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def crm_settings(hubspot: Any = None, salesforce: Any = None) -> IntegrationSettings:
    values: dict[str, Any] = {"max_retries": 3, "batch_size": 2}
    if hubspot is not None:
        values["hubspot_api_url"] = hubspot.url
    if salesforce is not None:
        values["salesforce_login_url"] = salesforce.url
    return IntegrationSettings(**values)


@dataclass
class Pipeline:
    organization: Organization
    campaign: Campaign
    qualified: list[Lead]
    fresh: Lead
    email: Email
    meeting: Meeting


def make_pipeline(session: Session) -> Pipeline:
    """Two qualified leads (one with a sent email and a meeting) and one not yet qualified."""
    org = make_organization(session)
    campaign = make_campaign(session, org)
    first = make_lead(
        session, campaign, email="ada@analytical.example", first_name="Ada", last_name="Byron",
        company_name="Analytical Engines", status="contacted", bant_score=82,
        intent="interested", enrichment_data={"company_domain": "analytical.example"},
    )  # fmt: skip
    second = make_lead(
        session, campaign, email="grace@cobol.example", first_name="Grace",
        last_name="Hopper", company_name="Cobol Inc", status="qualified", bant_score=71,
    )  # fmt: skip
    fresh = make_lead(session, campaign, email="new@later.example", status="new")
    with as_system(session):
        email = Email(
            organization_id=org.id, lead_id=first.id, campaign_id=campaign.id,
            subject="Quick question", body="Hi Ada", status="sent",
            sent_at=dt.datetime(2025, 3, 1, 9, 30),
        )  # fmt: skip
        meeting = Meeting(
            organization_id=org.id, lead_id=first.id, campaign_id=campaign.id,
            scheduled_at=dt.datetime(2025, 3, 5, 15, 0), duration_minutes=30,
            meeting_url="https://meet.example/abc", status="scheduled",
        )  # fmt: skip
        session.add_all([email, meeting])
        session.flush()
    return Pipeline(org, campaign, [first, second], fresh, email, meeting)


def connect(
    session: Session, org: Organization, kind: str, credentials: dict[str, str],
    settings: dict[str, Any] | None = None,
) -> Integration:  # fmt: skip
    with as_system(session):
        row = service.put_integration(
            session, system_actor(org.id), kind,
            IntegrationPut(credentials=credentials, settings=settings),
        )  # fmt: skip
        row.status = "connected"
        session.flush()
    return row
