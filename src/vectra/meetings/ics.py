"""iCalendar invitations (RFC 5545 / iTIP RFC 5546): REQUEST to invite or move, CANCEL to drop.

DTSTART/DTEND carry a TZID and the calendar embeds a VTIMEZONE generated from zoneinfo for
the span of the meeting, so clients without that zone's rules still place it at the right
instant on both sides of a DST change. SEQUENCE grows with every change of the same UID.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vCalAddress, vText


@dataclass(frozen=True)
class Invitation:
    uid: str
    sequence: int
    start: dt.datetime  # aware
    end: dt.datetime
    timezone: str
    summary: str
    description: str
    organizer_email: str
    organizer_name: str
    attendee_email: str
    attendee_name: str
    location: str | None = None


def _address(email: str, name: str, **params: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    address.params["CN"] = vText(name or email)
    for key, value in params.items():
        address.params[key] = vText(value)
    return address


def build_ics(invite: Invitation, *, method: str = "REQUEST") -> bytes:
    """The .ics bytes for `invite`: METHOD REQUEST (new or moved) or CANCEL."""
    if method not in ("REQUEST", "CANCEL"):
        raise ValueError(f"unsupported iTIP method {method}")
    zone = ZoneInfo(invite.timezone)
    calendar = Calendar()
    calendar.add("prodid", "-//Vectra//Meetings//EN")
    calendar.add("version", "2.0")
    calendar.add("method", method)
    event = Event()
    event.add("uid", invite.uid)
    event.add("sequence", invite.sequence)
    event.add("dtstamp", dt.datetime.now(dt.UTC))
    event.add("dtstart", invite.start.astimezone(zone))
    event.add("dtend", invite.end.astimezone(zone))
    event.add("summary", invite.summary)
    event.add("description", invite.description)
    if invite.location:
        event.add("location", invite.location)
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    event["organizer"] = _address(invite.organizer_email, invite.organizer_name)
    event.add(
        "attendee",
        _address(
            invite.attendee_email,
            invite.attendee_name,
            ROLE="REQ-PARTICIPANT",
            PARTSTAT="NEEDS-ACTION",
            RSVP="TRUE",
        ),
    )
    calendar.add_component(event)
    # One VTIMEZONE with the transitions around the meeting (a year each side is plenty).
    calendar.add_missing_timezones(
        first_date=(invite.start - dt.timedelta(days=366)).date(),
        last_date=(invite.end + dt.timedelta(days=366)).date(),
    )
    return bytes(calendar.to_ical())
