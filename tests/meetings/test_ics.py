"""The .ics invitation: iTIP fields, and a VTIMEZONE that places the meeting right across DST."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from vectra.meetings.ics import Invitation, build_ics


def _invite(start: dt.datetime, zone: str) -> Invitation:
    return Invitation(
        uid="abc-123@vectra",
        sequence=2,
        start=start,
        end=start + dt.timedelta(minutes=30),
        timezone=zone,
        summary="Intro call",
        description="Reschedule: https://x/book/manage/t",
        organizer_email="host@vendor.example",
        organizer_name="Grace Host",
        attendee_email="ada@prospect.example",
        attendee_name="Ada Lovelace",
    )


@pytest.mark.parametrize(
    ("zone", "start_utc", "local_hour"),
    [
        ("Europe/Paris", dt.datetime(2027, 3, 26, 8, tzinfo=dt.UTC), 9),  # CET, before the change
        ("Europe/Paris", dt.datetime(2027, 3, 29, 7, tzinfo=dt.UTC), 9),  # CEST, after
        ("Europe/Paris", dt.datetime(2027, 11, 2, 8, tzinfo=dt.UTC), 9),  # back to CET
        ("America/New_York", dt.datetime(2027, 3, 15, 13, tzinfo=dt.UTC), 9),  # EDT
        ("America/New_York", dt.datetime(2027, 11, 8, 14, tzinfo=dt.UTC), 9),  # EST
    ],
)
def test_request_places_the_meeting_through_its_own_vtimezone(
    zone: str, start_utc: dt.datetime, local_hour: int
) -> None:
    raw = build_ics(_invite(start_utc, zone))
    text = raw.decode()
    assert "METHOD:REQUEST" in text
    assert f"DTSTART;TZID={zone}:" in text
    assert "UID:abc-123@vectra" in text
    assert "SEQUENCE:2" in text
    assert "ORGANIZER;CN=" in text and "mailto:host@vendor.example" in text
    assert "ATTENDEE;" in text and "mailto:ada@prospect.example" in text
    calendar = Calendar.from_ical(raw)
    (vtimezone,) = calendar.walk("VTIMEZONE")
    assert str(vtimezone["TZID"]) == zone
    kinds = {c.name for c in vtimezone.subcomponents}
    assert kinds == {"STANDARD", "DAYLIGHT"}
    # Resolve the wall-clock DTSTART with the embedded rules only (not the system's zoneinfo).
    embedded = vtimezone.to_tz()
    (event,) = calendar.walk("VEVENT")
    wall = event["DTSTART"].dt.replace(tzinfo=None)
    assert wall.hour == local_hour
    assert wall.replace(tzinfo=embedded).astimezone(dt.UTC) == start_utc
    assert start_utc.astimezone(ZoneInfo(zone)).replace(tzinfo=None) == wall


def test_cancel_is_an_itip_cancel() -> None:
    raw = build_ics(
        _invite(dt.datetime(2027, 3, 29, 7, tzinfo=dt.UTC), "Europe/Paris"), method="CANCEL"
    )
    text = raw.decode()
    assert "METHOD:CANCEL" in text
    assert "STATUS:CANCELLED" in text
    with pytest.raises(ValueError):
        build_ics(_invite(dt.datetime(2027, 3, 29, 7, tzinfo=dt.UTC), "UTC"), method="PUBLISH")
