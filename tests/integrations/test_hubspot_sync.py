"""HubSpot push and pull against a local server speaking HubSpot's API shapes."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.factories import make_lead
from tests.integrations.conftest import (
    HUBSPOT_TOKEN,
    Sleeps,
    connect,
    crm_settings,
    make_pipeline,
)
from tests.integrations.fake_crm import RATE_HEADERS, FakeHubSpot, hubspot_error
from vectra.integrations import service
from vectra.integrations.models import CrmLink
from vectra.integrations.sync import run_sync
from vectra.leads.models import Lead


def test_push_creates_contacts_company_email_meeting_then_nothing_twice(
    session: Session, hubspot: FakeHubSpot, sleeps: Sleeps
) -> None:
    p = make_pipeline(session)
    row = connect(session, p.organization, "hubspot", {"access_token": HUBSPOT_TOKEN})
    settings = crm_settings(hubspot=hubspot)

    run = run_sync(session, p.organization.id, "hubspot", reason="test", settings=settings,
                   sleep=sleeps)  # fmt: skip

    assert run.status == "succeeded", run.errors
    assert {"vectra_bant_score", "vectra_intent", "vectra_status", "vectra_lead_id"} <= (
        hubspot.properties
    )
    by_email = {c["email"]: c for c in hubspot.contacts.values()}
    assert set(by_email) == {"ada@analytical.example", "grace@cobol.example"}  # not the new one
    ada = by_email["ada@analytical.example"]
    assert ada["firstname"] == "Ada" and ada["vectra_bant_score"] == "82"
    assert ada["vectra_intent"] == "interested" and ada["vectra_status"] == "contacted"
    names = sorted(
        (c["properties"]["name"], c["properties"].get("domain")) for c in hubspot.companies.values()
    )
    assert names == [("Analytical Engines", "analytical.example"), ("Cobol Inc", None)]
    ada_id = hubspot.by_email("ada@analytical.example")
    assert any(contact == ada_id for contact, _ in hubspot.associations)
    (email,) = hubspot.emails.values()
    assert email["properties"]["hs_email_subject"] == "Quick question"
    assert email["associations"][0]["to"]["id"] == ada_id
    assert email["associations"][0]["types"][0]["associationTypeId"] == 198
    (meeting,) = hubspot.meetings.values()
    assert meeting["properties"]["hs_meeting_start_time"] == "2025-03-05T15:00:00.000Z"
    assert meeting["properties"]["hs_meeting_end_time"] == "2025-03-05T15:30:00.000Z"
    assert run.counts["lead"]["created"] == 2 and run.counts["email"]["created"] == 1
    assert run.counts["meeting"]["created"] == 1 and run.counts["company"]["created"] == 2
    assert row.last_sync_at is not None and row.status == "connected"

    again = run_sync(session, p.organization.id, "hubspot", reason="again", settings=settings,
                     sleep=sleeps)  # fmt: skip

    assert again.status == "succeeded"
    assert (again.created, again.updated, again.failed) == (0, 0, 0)
    assert again.skipped >= 4
    assert len(hubspot.contacts) == 2 and len(hubspot.emails) == 1
    assert len(hubspot.meetings) == 1 and len(hubspot.companies) == 2
    assert len(hubspot.calls("POST", "/crm/v3/objects/contacts/batch/upsert")) == 1


def test_changed_lead_and_meeting_are_updated_in_place(
    session: Session, hubspot: FakeHubSpot, sleeps: Sleeps
) -> None:
    p = make_pipeline(session)
    connect(session, p.organization, "hubspot", {"access_token": HUBSPOT_TOKEN})
    settings = crm_settings(hubspot=hubspot)
    run_sync(session, p.organization.id, "hubspot", reason="t", settings=settings, sleep=sleeps)
    p.qualified[0].bant_score = 95
    p.meeting.status = "completed"
    session.flush()

    run = run_sync(session, p.organization.id, "hubspot", reason="t", settings=settings,
                   sleep=sleeps)  # fmt: skip

    assert run.counts["lead"]["updated"] == 1 and run.counts["meeting"]["updated"] == 1
    ada = hubspot.contacts[hubspot.by_email("ada@analytical.example") or ""]
    assert ada["vectra_bant_score"] == "95"
    (meeting,) = hubspot.meetings.values()
    assert meeting["properties"]["hs_meeting_outcome"] == "COMPLETED"
    assert len(hubspot.contacts) == 2 and len(hubspot.meetings) == 1


def test_existing_crm_contact_keeps_its_fields_and_gets_only_vectra_ones(
    session: Session, hubspot: FakeHubSpot, sleeps: Sleeps
) -> None:
    p = make_pipeline(session)
    existing = hubspot.add_contact(
        email="grace@cobol.example", firstname="Amazing Grace", hubspot_owner_id="77"
    )
    connect(session, p.organization, "hubspot", {"access_token": HUBSPOT_TOKEN})

    run = run_sync(session, p.organization.id, "hubspot", reason="t",
                   settings=crm_settings(hubspot=hubspot), sleep=sleeps)  # fmt: skip

    grace = hubspot.contacts[existing]
    assert grace["firstname"] == "Amazing Grace" and grace["hubspot_owner_id"] == "77"
    assert grace["vectra_bant_score"] == "71" and "lastname" not in grace
    assert run.counts["lead"] == {"created": 1, "updated": 1, "skipped": 0, "failed": 0}
    assert len(hubspot.contacts) == 2


def test_one_invalid_contact_is_logged_and_the_rest_still_sync(
    session: Session, hubspot: FakeHubSpot, sleeps: Sleeps
) -> None:
    p = make_pipeline(session)
    bad = make_lead(session, p.campaign, email="x@broken.invalid", status="qualified")
    connect(session, p.organization, "hubspot", {"access_token": HUBSPOT_TOKEN})

    run = run_sync(session, p.organization.id, "hubspot", reason="t",
                   settings=crm_settings(hubspot=hubspot), sleep=sleeps)  # fmt: skip

    assert run.status == "partial"
    assert run.failed == 1 and run.counts["lead"]["created"] == 2
    (error,) = run.errors
    assert error["id"] == str(bad.id) and "Property values were not valid" in error["message"]
    link = session.scalar(select(CrmLink).where(CrmLink.vectra_key == str(bad.id)))
    assert link is not None and link.crm_id is None and link.attempts == 1
    assert len(hubspot.emails) == 1  # the failure did not stop the engagements

    retry = run_sync(session, p.organization.id, "hubspot", reason="t",
                     settings=crm_settings(hubspot=hubspot), sleep=sleeps)  # fmt: skip
    assert retry.failed == 1  # retried (still invalid), nothing else re-pushed
    assert link.attempts == 2 and len(hubspot.contacts) == 2


def test_429_waits_for_retry_after_and_ten_second_window(
    session: Session, hubspot: FakeHubSpot, sleeps: Sleeps
) -> None:
    p = make_pipeline(session)
    connect(session, p.organization, "hubspot", {"access_token": HUBSPOT_TOKEN})
    limited = hubspot_error("You have reached your ten_secondly_rolling limit.", "RATE_LIMITS")
    limited["policyName"] = "TEN_SECONDLY_ROLLING"
    hubspot.fail("POST", r"/crm/v3/objects/contacts/batch/upsert", 429, limited,
                 {"Retry-After": "3"})  # fmt: skip
    window = {**RATE_HEADERS, "X-HubSpot-RateLimit-Remaining": "0"}
    hubspot.fail("POST", r"/crm/v3/objects/emails", 429, limited, window)

    run = run_sync(session, p.organization.id, "hubspot", reason="t",
                   settings=crm_settings(hubspot=hubspot), sleep=sleeps)  # fmt: skip

    assert run.status == "succeeded"
    assert len(hubspot.contacts) == 2 and len(hubspot.emails) == 1
    assert any(3.0 <= w <= 3.6 for w in sleeps.waits)  # Retry-After, plus jitter, never less
    assert any(10.0 <= w <= 11.3 for w in sleeps.waits)  # the 10-second window


def test_rate_limit_past_the_retry_budget_fails_the_run_not_the_integration(
    session: Session, hubspot: FakeHubSpot, sleeps: Sleeps
) -> None:
    p = make_pipeline(session)
    row = connect(session, p.organization, "hubspot", {"access_token": HUBSPOT_TOKEN})
    hubspot.fail(
        "POST",
        r"/crm/v3/objects/contacts/batch/.*",
        429,
        hubspot_error("Rate limited", "RATE_LIMITS"),
        {"Retry-After": "1"},
        times=50,
    )

    run = run_sync(session, p.organization.id, "hubspot", reason="t",
                   settings=crm_settings(hubspot=hubspot), sleep=sleeps)  # fmt: skip

    assert run.status == "failed" and "Rate limited" in (run.message or "")
    assert len(sleeps.waits) == 3  # bounded: max_retries
    assert row.status == "connected"


def test_expired_oauth_token_is_refreshed_once_and_stored(
    session: Session, hubspot: FakeHubSpot, sleeps: Sleeps
) -> None:
    p = make_pipeline(session)
    hubspot.oauth["refresh-abc"] = "fresh-access-token"
    row = connect(session, p.organization, "hubspot", {
        "access_token": "expired-token", "refresh_token": "refresh-abc",
        "client_id": "cid", "client_secret": "csecret",
    })  # fmt: skip

    run = run_sync(session, p.organization.id, "hubspot", reason="t",
                   settings=crm_settings(hubspot=hubspot), sleep=sleeps)  # fmt: skip

    assert run.status == "succeeded"
    assert len(hubspot.calls("POST", "/oauth/v1/token")) == 1
    assert service.read_credentials(row)["access_token"] == "fresh-access-token"
    assert "fresh-access-token" not in str(row.credentials)


def test_expired_private_app_token_turns_the_integration_error(
    session: Session, hubspot: FakeHubSpot, sleeps: Sleeps
) -> None:
    p = make_pipeline(session)
    row = connect(session, p.organization, "hubspot", {"access_token": "revoked"})

    run = run_sync(session, p.organization.id, "hubspot", reason="t",
                   settings=crm_settings(hubspot=hubspot), sleep=sleeps)  # fmt: skip

    assert run.status == "failed"
    assert row.status == "error" and "expired" in (row.status_message or "")
    assert hubspot.contacts == {}


def test_pull_list_into_campaign_dedupes_through_leads(
    session: Session, hubspot: FakeHubSpot, sleeps: Sleeps
) -> None:
    p = make_pipeline(session)
    ids = [
        hubspot.add_contact(email="ada@analytical.example", firstname="Ada"),  # already a lead
        hubspot.add_contact(email="linus@kernel.example", firstname="Linus",
                            lastname="T", website="https://kernel.example/about"),
        hubspot.add_contact(email="margaret@apollo.example", firstname="Margaret"),
        hubspot.add_contact(firstname="No email"),
    ]  # fmt: skip
    hubspot.lists["42"] = ids
    connect(session, p.organization, "hubspot", {"access_token": HUBSPOT_TOKEN},
            {"push_enabled": False, "pull_list_id": 42,
             "pull_campaign_id": str(p.campaign.id)})  # fmt: skip
    settings = crm_settings(hubspot=hubspot)

    run = run_sync(session, p.organization.id, "hubspot", reason="t", settings=settings,
                   sleep=sleeps)  # fmt: skip

    assert run.counts["pull"] == {"created": 2, "updated": 0, "skipped": 1, "failed": 1}
    linus = session.scalar(select(Lead).where(Lead.email == "linus@kernel.example"))
    assert linus is not None and linus.source == "hubspot"
    assert linus.campaign_id == p.campaign.id
    assert (linus.enrichment_data or {})["company_domain"] == "kernel.example"
    links = session.scalar(select(func.count()).select_from(CrmLink))
    assert links == 3
    assert hubspot.calls("POST", "/crm/v3/objects/contacts/batch/upsert") == []  # push off

    again = run_sync(session, p.organization.id, "hubspot", reason="t", settings=settings,
                     sleep=sleeps)  # fmt: skip
    assert again.counts["pull"]["created"] == 0 and again.counts["pull"]["skipped"] == 3
    count = session.scalar(
        select(func.count()).select_from(Lead).where(Lead.campaign_id == p.campaign.id)
    )
    assert count == 5
