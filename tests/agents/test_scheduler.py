"""The scheduler agent: three slots in the lead's zone from the host's free time, a booking
link, a pending reply for approval, and an `agent_runs` row either way."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.factories import make_campaign, make_lead, make_organization, make_user
from vectra.accounts.actor import system_actor
from vectra.agents.models import AgentRun
from vectra.agents.scheduler import propose_meeting
from vectra.errors import InvalidTransition, NotFound
from vectra.mail.models import Email
from vectra.meetings import booking
from vectra.meetings.availability import set_availability

NOW = dt.datetime(2027, 3, 25, 6, tzinfo=dt.UTC)  # Thursday, before Paris's spring change


@pytest.fixture
def setup(session: Session):  # type: ignore[no-untyped-def]
    org = make_organization(session)
    host = make_user(session, org, role="manager", first_name="Grace")
    campaign = make_campaign(session, org, created_by=host.id)
    lead = make_lead(
        session, campaign, intent="interested", status="contacted",
        enrichment_data={"timezone": "America/New_York"},
    )  # fmt: skip
    set_availability(
        session, system_actor(org.id),
        {"timezone": "Europe/Paris",
         "working_hours": {d: [["14:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
         "minimum_notice_minutes": 120},
        user_id=host.id,
    )  # fmt: skip
    return org, host, lead


def test_proposes_three_days_in_the_leads_zone_and_drafts_for_approval(
    session: Session, setup
) -> None:  # type: ignore[no-untyped-def]
    org, host, lead = setup
    # the host's Friday afternoon is taken
    other = make_lead(session, make_campaign(session, org))
    booking.book_slot(
        session, booking.make_booking_token(other.id, host.id), "2027-03-26T13:00:00+00:00",
        now=NOW,
    )  # fmt: skip
    result = propose_meeting(session, system_actor(org.id), lead.id, now=NOW)
    assert result.status == "succeeded"
    starts = [s.start for s in result.slots]
    # Thu 25 14:00 Paris = 13:00Z; Fri 26 14:00 is booked so 14:30 (13:30Z); Mon 29 is summer time
    assert starts == [
        dt.datetime(2027, 3, 25, 13, tzinfo=dt.UTC),
        dt.datetime(2027, 3, 26, 13, 30, tzinfo=dt.UTC),
        dt.datetime(2027, 3, 29, 12, tzinfo=dt.UTC),
    ]
    email = session.get(Email, result.email_id)
    assert email is not None and email.status == "pending" and email.lead_id == lead.id
    for start in starts:
        local = start.astimezone(ZoneInfo("America/New_York"))
        assert f"{local:%A %d %B, %H:%M} (America/New_York)" in email.body
    assert result.booking_url and result.booking_url in email.body
    token = result.booking_url.rsplit("/", 1)[1]
    assert booking.open_booking_link(session, token).lead.id == lead.id
    run = session.get(AgentRun, result.run_id)
    assert run is not None
    assert (run.agent_type, run.status) == ("scheduler", "succeeded")
    assert run.output_data and run.output_data["email_id"] == str(email.id)
    assert run.duration_ms is not None


def test_no_free_time_is_a_failed_run_without_a_draft(session: Session, setup) -> None:  # type: ignore[no-untyped-def]
    org, host, lead = setup
    set_availability(
        session, system_actor(org.id), {"timezone": "Europe/Paris", "working_hours": {}},
        user_id=host.id,
    )  # fmt: skip
    result = propose_meeting(session, system_actor(org.id), lead.id, now=NOW)
    assert result.status == "failed" and result.email_id is None
    run = session.get(AgentRun, result.run_id)
    assert (
        run is not None and run.status == "failed" and "no free time" in (run.error_message or "")
    )
    assert session.scalars(select(Email).where(Email.lead_id == lead.id)).all() == []


def test_only_for_interested_leads_of_the_organization(session: Session, setup) -> None:  # type: ignore[no-untyped-def]
    org, _host, lead = setup
    lead.intent = "not_interested"
    session.flush()
    with pytest.raises(InvalidTransition):
        propose_meeting(session, system_actor(org.id), lead.id, now=NOW)
    with pytest.raises(NotFound):
        propose_meeting(session, system_actor(make_organization(session).id), lead.id, now=NOW)
