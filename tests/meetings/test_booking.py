"""The public booking page: slots in the visitor's zone, atomic booking, .ics, changes."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tests.factories import make_campaign, make_lead
from tests.meetings.conftest import World
from vectra.accounts.actor import system_actor
from vectra.errors import Conflict, NotFound
from vectra.meetings import booking
from vectra.meetings.availability import set_availability
from vectra.meetings.models import Booking, Meeting
from vectra.meetings.tasks import deliver_meeting_notice


def _paris_hours(session: Session, world: World, **extra: object) -> None:
    actor = system_actor(world.org.id)
    set_availability(
        session,
        actor,
        {
            "timezone": "Europe/Paris",
            "working_hours": {d: [["09:00", "12:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
            "slot_minutes": 30,
            "minimum_notice_minutes": 0,
            **extra,
        },
        user_id=world.host.id,
    )


def _jobs(session: Session) -> list[str]:
    return list(session.execute(text("SELECT task_name FROM procrastinate_jobs")).scalars())


def test_page_lists_slots_in_the_visitors_zone(
    client: TestClient, session: Session, world: World
) -> None:
    _paris_hours(session, world)
    token = booking.make_booking_token(world.lead.id, world.host.id)
    page = client.get(f"/book/{token}", params={"tz": "America/New_York"})
    assert page.status_code == 200
    assert "America/New_York" in page.text
    starts = re.findall(r'data-start="([^"]+)"', page.text)
    assert starts
    for iso in starts:
        start = dt.datetime.fromisoformat(iso)
        paris = start.astimezone(ZoneInfo("Europe/Paris"))
        assert paris.weekday() < 5 and 9 <= paris.hour < 12
    # the first label is that instant's New York wall clock
    first = dt.datetime.fromisoformat(starts[0]).astimezone(ZoneInfo("America/New_York"))
    assert f">{first:%H:%M}</button>" in page.text
    assert client.get(f"/book/{token}", params={"tz": "Mars/Base"}).status_code == 422


def test_forged_or_altered_links_are_404(client: TestClient, world: World) -> None:
    token = booking.make_booking_token(world.lead.id, world.host.id)
    assert client.get(f"/book/{token[:-2]}xx").status_code == 404
    assert client.get("/book/not-a-token").status_code == 404


@pytest.mark.parametrize(
    ("now", "start", "zone", "local"),
    [
        # Paris goes to summer time on Sun 28 March 2027: Fri 09:00 is 08:00Z, Mon 09:00 07:00Z.
        (
            dt.datetime(2027, 3, 26, 6, tzinfo=dt.UTC),
            dt.datetime(2027, 3, 29, 7, tzinfo=dt.UTC),
            "Europe/Paris",
            9,
        ),
        # and back on Sun 31 October 2027: Mon 1 Nov 09:00 is 08:00Z.
        (
            dt.datetime(2027, 10, 29, 6, tzinfo=dt.UTC),
            dt.datetime(2027, 11, 1, 8, tzinfo=dt.UTC),
            "Europe/Paris",
            9,
        ),
        # a New York visitor books Paris 10:00 on Mon 15 March 2027 (NY already on EDT).
        (
            dt.datetime(2027, 3, 12, 6, tzinfo=dt.UTC),
            dt.datetime(2027, 3, 15, 9, tzinfo=dt.UTC),
            "America/New_York",
            5,
        ),
    ],
)
def test_dst_crossing_bookings_land_on_the_right_instant(
    session: Session,
    world: World,
    smtp_sink,
    now: dt.datetime,
    start: dt.datetime,
    zone: str,
    local: int,  # type: ignore[no-untyped-def]
) -> None:
    _paris_hours(session, world)
    token = booking.make_booking_token(world.lead.id, world.host.id)
    meeting = booking.book_slot(session, token, start.isoformat(), tz=zone, now=now)
    assert meeting.scheduled_at == start.replace(tzinfo=None)
    assert meeting.status == "scheduled"
    assert world.lead.status == "meeting_scheduled"
    row = session.scalar(select(Booking).where(Booking.meeting_id == meeting.id))
    assert row is not None and row.attendee_timezone == zone
    names = _jobs(session)
    assert "meetings.send_meeting_notice" in names
    assert names.count("meetings.send_meeting_reminder") == 2
    assert "meetings.prompt_meeting_outcome" in names
    # the confirmation carries a REQUEST whose wall clock is the visitor's
    assert deliver_meeting_notice(session, meeting.id, "request")
    (message,) = smtp_sink.messages
    calendars = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert calendars and calendars[0].get_param("method") == "REQUEST"
    ics = calendars[0].get_payload(decode=True).decode()
    assert f"DTSTART;TZID={zone}:" in ics
    wall = start.astimezone(ZoneInfo(zone))
    assert wall.hour == local
    assert f"{wall:%Y%m%dT%H%M%S}" in ics
    assert "BEGIN:VTIMEZONE" in ics and "/book/manage/" in ics.replace("\r\n ", "")


def test_a_slot_outside_availability_or_taken_is_409(session: Session, world: World) -> None:
    _paris_hours(session, world)
    now = dt.datetime(2027, 3, 26, 6, tzinfo=dt.UTC)
    token = booking.make_booking_token(world.lead.id, world.host.id)
    with pytest.raises(Conflict):  # 07:00 Paris is before working hours
        booking.book_slot(session, token, "2027-03-29T05:00:00+00:00", now=now)
    booking.book_slot(session, token, "2027-03-29T07:00:00+00:00", now=now)
    other = make_lead(session, make_campaign(session, world.org))
    with pytest.raises(Conflict):
        booking.book_slot(
            session, booking.make_booking_token(other.id, world.host.id),
            "2027-03-29T07:00:00+00:00", now=now,
        )  # fmt: skip


def test_the_database_refuses_overlapping_bookings(session: Session, world: World) -> None:
    start = dt.datetime(2027, 5, 3, 9)
    for minutes in (0, 15):
        meeting = Meeting(organization_id=world.org.id, lead_id=world.lead.id, scheduled_at=start)
        session.add(meeting)
        session.flush()
        row = Booking(
            organization_id=world.org.id, meeting_id=meeting.id, user_id=world.host.id,
            starts_at=start + dt.timedelta(minutes=minutes),
            ends_at=start + dt.timedelta(minutes=minutes + 30), source="api", ics_uid=f"u{minutes}",
        )  # fmt: skip
        if minutes:
            with (
                pytest.raises(IntegrityError, match="meeting_bookings_no_overlap"),
                session.begin_nested(),
            ):
                session.add(row)
                session.flush()
        else:
            session.add(row)
            session.flush()


def test_reschedule_and_cancel_through_the_manage_link(
    client: TestClient,
    session: Session,
    world: World,
    smtp_sink,  # type: ignore[no-untyped-def]
) -> None:
    _paris_hours(session, world)
    now = dt.datetime(2027, 3, 26, 6, tzinfo=dt.UTC)
    token = booking.make_booking_token(world.lead.id, world.host.id)
    meeting = booking.book_slot(session, token, "2027-03-29T07:00:00+00:00", now=now)
    manage = booking.make_manage_token(meeting.id)
    moved = booking.reschedule_booking(session, manage, "2027-03-30T08:00:00+00:00", now=now)
    row = session.scalar(select(Booking).where(Booking.meeting_id == meeting.id))
    assert row is not None
    assert moved.scheduled_at == dt.datetime(2027, 3, 30, 8)
    assert (row.starts_at, row.ics_sequence) == (dt.datetime(2027, 3, 30, 8), 1)
    response = client.post(f"/book/manage/{manage}/cancel")
    assert response.status_code == 200
    session.refresh(meeting)
    session.refresh(row)
    assert meeting.status == "canceled"
    assert row.released_at is not None
    assert client.post(f"/book/manage/{manage}/cancel").status_code == 409
    assert deliver_meeting_notice(session, meeting.id, "cancel")
    ics = smtp_sink.messages[-1].as_string()
    assert "METHOD:CANCEL" in ics and "SEQUENCE:2" in ics
    # the freed time can be booked by someone else
    other = make_lead(session, make_campaign(session, world.org))
    again = booking.book_slot(
        session, booking.make_booking_token(other.id, world.host.id),
        "2027-03-30T08:00:00+00:00", now=now,
    )  # fmt: skip
    assert again.status == "scheduled"
    with pytest.raises(NotFound):
        booking.open_manage_link(session, manage + "x")


def test_a_meeting_moves_next_to_its_own_time(session: Session, world: World) -> None:
    # With one meeting a day and a 30-minute buffer, the meeting's own booking must not make
    # the slot right after it (same day, inside its buffer) look taken.
    _paris_hours(session, world, max_per_day=1, buffer_minutes=30)
    now = dt.datetime(2027, 3, 26, 6, tzinfo=dt.UTC)
    token = booking.make_booking_token(world.lead.id, world.host.id)
    meeting = booking.book_slot(session, token, "2027-03-29T07:00:00+00:00", now=now)
    manage = booking.make_manage_token(meeting.id)
    managed = booking.open_manage_link(session, manage)
    starts = {s.start for s in booking.slots_for(session, managed.context, now=now, days=7)}
    assert dt.datetime(2027, 3, 29, 7, 30, tzinfo=dt.UTC) not in starts  # for anyone else
    moved = booking.reschedule_booking(session, manage, "2027-03-29T07:30:00+00:00", now=now)
    assert moved.scheduled_at == dt.datetime(2027, 3, 29, 7, 30)
    # ... and a second lead still cannot take that day.
    other = make_lead(session, make_campaign(session, world.org))
    with pytest.raises(Conflict):
        booking.book_slot(
            session, booking.make_booking_token(other.id, world.host.id),
            "2027-03-29T09:30:00+00:00", now=now,
        )  # fmt: skip


def test_booking_through_the_page(client: TestClient, session: Session, world: World) -> None:
    _paris_hours(session, world)
    token = booking.make_booking_token(world.lead.id, world.host.id)
    page = client.get(f"/book/{token}")
    first = re.findall(r'data-start="([^"]+)"', page.text)[0]
    booked = client.post(f"/book/{token}", data={"start": first, "tz": "Europe/Paris"})
    assert booked.status_code == 201, booked.text
    assert "booked" in booked.text
    again = client.post(f"/book/{token}", data={"start": first})
    assert again.status_code == 409
