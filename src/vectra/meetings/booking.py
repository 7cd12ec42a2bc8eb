"""The built-in booking page's rules: signed links, free slots, atomic booking, changes.

A booking link names a lead and a host, signed with `derive_key("booking")` (itsdangerous,
so links expire; `mail/tokens.py` tokens name emails and never expire). Booking inserts the
meeting and its `meeting_bookings` row in a savepoint; the table's exclusion constraint makes
PostgreSQL refuse a second overlapping booking of the host, so of two visitors racing for
one slot exactly one wins and the other gets a 409.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from vectra.accounts.actor import Actor
from vectra.accounts.models import User
from vectra.db.base import utcnow
from vectra.db.tenancy import set_tenant
from vectra.errors import Conflict, InvalidInput, NotFound
from vectra.keys import derive_key
from vectra.leads.models import Lead
from vectra.meetings import availability
from vectra.meetings.config import get_meetings_settings
from vectra.meetings.lead_hooks import set_lead_status_for_meeting, stop_lead_sequence
from vectra.meetings.models import Booking, Meeting
from vectra.meetings.service import ACTIVE, MeetingStatus, transition
from vectra.meetings.slots import Slot, zone_or_none
from vectra.settings import get_settings
from vectra.utc import as_utc, naive_utc

BOOKING_DAYS_AHEAD = 14
_LINK_SALT = "booking-link"
_MANAGE_SALT = "booking-manage"


def _link_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(derive_key("booking"), salt=_LINK_SALT)


def _manage_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(derive_key("booking"), salt=_MANAGE_SALT)


def make_booking_token(lead_id: uuid.UUID, user_id: uuid.UUID) -> str:
    return _link_serializer().dumps({"l": str(lead_id), "u": str(user_id)})


def make_manage_token(meeting_id: uuid.UUID) -> str:
    return _manage_serializer().dumps({"m": str(meeting_id)})


def _base_url() -> str:
    return get_settings().base_url.rstrip("/")


def booking_url(lead_id: uuid.UUID, user_id: uuid.UUID) -> str:
    return f"{_base_url()}/book/{make_booking_token(lead_id, user_id)}"


def manage_urls(meeting_id: uuid.UUID) -> dict[str, str]:
    token = make_manage_token(meeting_id)
    return {
        "reschedule": f"{_base_url()}/book/manage/{token}",
        "cancel": f"{_base_url()}/book/manage/{token}#cancel",
    }


def create_booking_link(
    session: Session, actor: Actor, lead_id: uuid.UUID, *, user_id: uuid.UUID | None = None
) -> str:
    """A booking link for the organization's lead, hosted by `user_id` (default: the caller)."""
    lead = session.scalar(
        select(Lead).where(Lead.id == lead_id, Lead.organization_id == actor.organization_id)
    )
    if lead is None:
        raise NotFound("No such lead.", field="lead_id")
    host = user_id or actor.user_id
    if host is None:
        raise InvalidInput("An API key must name the host user.", field="user_id")
    if (
        session.scalar(
            select(User.id).where(User.id == host, User.organization_id == actor.organization_id)
        )
        is None
    ):
        raise NotFound("No such user.", field="user_id")
    return booking_url(lead.id, host)


@dataclass(frozen=True)
class BookingContext:
    lead: Lead
    host: User
    organization_id: uuid.UUID


def open_booking_link(session: Session, token: str) -> BookingContext:
    """The lead and host a booking link names (404 for a forged, altered or expired link)."""
    max_age = get_meetings_settings().booking_link_max_age_days * 86400
    try:
        data = _link_serializer().loads(token, max_age=max_age)
        lead_id, user_id = uuid.UUID(data["l"]), uuid.UUID(data["u"])
    except (BadSignature, KeyError, ValueError, TypeError) as exc:
        raise NotFound("This booking link is not valid or has expired.") from exc
    return _context(session, lead_id, user_id)


def _context(session: Session, lead_id: uuid.UUID, user_id: uuid.UUID) -> BookingContext:
    # The visitor has no session: the signed token is the authority, read in system context
    # and then narrowed to the lead's organization for everything that follows.
    set_tenant(session, None, system=True)
    lead = session.get(Lead, lead_id)
    host = session.get(User, user_id)
    if lead is None or host is None or lead.organization_id != host.organization_id:
        raise NotFound("This booking link is no longer valid.")
    if host.is_active is False:
        raise NotFound("This booking link is no longer valid.")
    assert lead.organization_id is not None
    set_tenant(session, lead.organization_id)
    return BookingContext(lead=lead, host=host, organization_id=lead.organization_id)


def visitor_zone(lead: Lead, tz: str | None) -> str:
    """The zone to show: the `tz` asked for, else the lead's enrichment timezone, else UTC."""
    if tz:
        if zone_or_none(tz) is None:
            raise InvalidInput("Not an IANA time zone.", field="tz")
        return tz
    guess = (lead.enrichment_data or {}).get("timezone")
    return guess if isinstance(guess, str) and zone_or_none(guess) else "UTC"


def slots_for(
    session: Session,
    ctx: BookingContext,
    *,
    now: dt.datetime | None = None,
    days: int = 14,
    moving: Booking | None = None,
) -> list[Slot]:
    """The host's free slots for the next `days` days (`moving`: the booking being moved)."""
    from vectra.meetings.google import busy_for_user  # calendars are optional

    now = as_utc(now or dt.datetime.now(dt.UTC))
    return availability.find_free_slots(
        session,
        ctx.organization_id,
        ctx.host.id,
        start=now,
        end=now + dt.timedelta(days=days),
        now=now,
        external_busy=busy_for_user,
        ignore=moving,
    )


def _parse_start(value: str) -> dt.datetime:
    try:
        start = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput("Not an ISO 8601 instant.", field="start") from exc
    if start.tzinfo is None:
        raise InvalidInput("The start must carry its UTC offset.", field="start")
    return as_utc(start)


def _chosen_slot(
    session: Session,
    ctx: BookingContext,
    start_iso: str,
    now: dt.datetime | None,
    moving: Booking | None = None,
) -> Slot:
    start = _parse_start(start_iso)
    for slot in slots_for(session, ctx, now=now, days=BOOKING_DAYS_AHEAD + 1, moving=moving):
        if slot.start == start:
            return slot
    raise Conflict("That time is no longer available; please pick another.", field="start")


def _insert_booking(session: Session, meeting: Meeting, booking: Booking) -> None:
    try:
        with session.begin_nested():
            session.add(meeting)
            session.flush()
            booking.meeting_id = meeting.id
            session.add(booking)
            session.flush()
    except IntegrityError as exc:
        if "meeting_bookings_no_overlap" in str(exc.orig):
            raise Conflict(
                "Someone just booked that time; please pick another.", field="start"
            ) from exc
        raise


def book_slot(
    session: Session,
    token: str,
    start_iso: str,
    *,
    tz: str | None = None,
    now: dt.datetime | None = None,
) -> Meeting:
    """Book the slot starting at `start_iso` for the link's lead; 409 if it was taken."""
    from vectra.meetings.tasks import schedule_after_booking

    ctx = open_booking_link(session, token)
    zone = visitor_zone(ctx.lead, tz)
    existing = session.scalar(
        select(Meeting).where(
            Meeting.organization_id == ctx.organization_id,
            Meeting.lead_id == ctx.lead.id,
            Meeting.status.in_(ACTIVE),
            Meeting.scheduled_at > utcnow(),
        )
    )
    if existing is not None:
        raise Conflict("A meeting is already booked; use its reschedule link.", field="start")
    slot = _chosen_slot(session, ctx, start_iso, now)
    minutes = int((slot.end - slot.start).total_seconds() // 60)
    meeting = Meeting(
        organization_id=ctx.organization_id,
        lead_id=ctx.lead.id,
        campaign_id=ctx.lead.campaign_id,
        user_id=ctx.host.id,
        scheduled_at=naive_utc(slot.start),
        duration_minutes=minutes,
        status=MeetingStatus.SCHEDULED.value,
    )
    booking = Booking(
        organization_id=ctx.organization_id,
        user_id=ctx.host.id,
        lead_id=ctx.lead.id,
        starts_at=naive_utc(slot.start),
        ends_at=naive_utc(slot.end),
        attendee_timezone=zone,
        source="booking_page",
        ics_uid=f"{uuid.uuid4()}@vectra",
    )
    _insert_booking(session, meeting, booking)
    set_lead_status_for_meeting(session, ctx.lead, "meeting_scheduled")
    stop_lead_sequence(session, ctx.lead.id, "meeting")
    schedule_after_booking(session, meeting, notify="request")
    return meeting


@dataclass(frozen=True)
class ManagedMeeting:
    meeting: Meeting
    booking: Booking
    context: BookingContext


def open_manage_link(session: Session, token: str) -> ManagedMeeting:
    """The meeting a reschedule/cancel link names (404 when forged or gone)."""
    try:
        meeting_id = uuid.UUID(_manage_serializer().loads(token)["m"])
    except (BadSignature, KeyError, ValueError, TypeError) as exc:
        raise NotFound("This link is not valid.") from exc
    set_tenant(session, None, system=True)
    meeting = session.get(Meeting, meeting_id)
    booking = session.scalar(select(Booking).where(Booking.meeting_id == meeting_id))
    if meeting is None or booking is None or meeting.lead_id is None:
        raise NotFound("This meeting no longer exists.")
    ctx = _context(session, meeting.lead_id, booking.user_id)
    return ManagedMeeting(meeting=meeting, booking=booking, context=ctx)


def cancel_booking(session: Session, token: str) -> Meeting:
    """The attendee cancels: the meeting is canceled, the time freed, a CANCEL sent."""
    from vectra.meetings.tasks import schedule_after_booking

    managed = open_manage_link(session, token)
    if managed.meeting.status not in ACTIVE:
        raise Conflict(f"This meeting is already {managed.meeting.status}.")
    transition(session, managed.meeting, MeetingStatus.CANCELED)
    managed.booking.ics_sequence += 1
    session.flush()
    schedule_after_booking(session, managed.meeting, notify="cancel")
    return managed.meeting


def reschedule_booking(
    session: Session, token: str, start_iso: str, *, now: dt.datetime | None = None
) -> Meeting:
    """The attendee moves the meeting to another free slot (same UID, next SEQUENCE)."""
    from vectra.meetings.tasks import schedule_after_booking

    managed = open_manage_link(session, token)
    meeting, booking = managed.meeting, managed.booking
    if meeting.status not in ACTIVE:
        raise Conflict(f"This meeting is already {meeting.status}.")
    slot = _chosen_slot(session, managed.context, start_iso, now, moving=booking)
    try:
        with session.begin_nested():
            booking.starts_at = naive_utc(slot.start)
            booking.ends_at = naive_utc(slot.end)
            booking.ics_sequence += 1
            session.flush()
    except IntegrityError as exc:
        raise Conflict(
            "Someone just booked that time; please pick another.", field="start"
        ) from exc
    meeting.scheduled_at = booking.starts_at
    meeting.duration_minutes = int((slot.end - slot.start).total_seconds() // 60)
    meeting.status = MeetingStatus.SCHEDULED.value
    session.flush()
    schedule_after_booking(session, meeting, notify="request")
    return meeting
