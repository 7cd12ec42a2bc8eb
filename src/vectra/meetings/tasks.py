"""Meetings jobs: invitations (.ics), reminders 24 h and 1 h before, the outcome prompt,
pushing bookings to Google Calendar and following its changes.

Jobs carry ids only and re-read the meeting: a reminder whose meeting moved or was canceled
does nothing (it names the start it was scheduled for).
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from vectra.accounts.models import User
from vectra.leads.models import Lead
from vectra.meetings.ics import Invitation, build_ics
from vectra.meetings.models import Booking, Meeting
from vectra.meetings.notify import build_message, send_system_mail
from vectra.meetings.service import ACTIVE
from vectra.meetings.slots import zone_or_none
from vectra.settings import get_settings
from vectra.utc import as_utc
from vectra.worker.app import app, defer_in_session
from vectra.worker.database import job_database as task_database
from vectra.worker.database import use_database as use_database  # re-exported for callers

log = logging.getLogger(__name__)

REMINDERS = {"24h": dt.timedelta(hours=24), "1h": dt.timedelta(hours=1)}


def schedule_after_booking(
    session: Session, meeting: Meeting, *, notify: Literal["request", "cancel"]
) -> None:
    """Queue, in the booking's transaction, its invitation, reminders and outcome prompt."""
    defer_in_session(session, send_meeting_notice, meeting_id=str(meeting.id), method=notify)
    if notify == "cancel":
        return
    start = as_utc(meeting.scheduled_at)
    now = dt.datetime.now(dt.UTC)
    expected = start.isoformat()
    for kind, before in REMINDERS.items():
        if start - before > now:
            defer_in_session(
                session,
                send_meeting_reminder,
                options={"schedule_at": start - before},
                meeting_id=str(meeting.id),
                kind=kind,
                expected_start=expected,
            )
    end = start + dt.timedelta(minutes=meeting.duration_minutes or 30)
    defer_in_session(
        session,
        prompt_meeting_outcome,
        options={"schedule_at": end + dt.timedelta(minutes=5)},
        meeting_id=str(meeting.id),
        expected_start=expected,
    )
    defer_in_session(session, push_booking_to_google, meeting_id=str(meeting.id))


def _people(session: Session, meeting: Meeting) -> tuple[Lead | None, User | None]:
    lead = session.get(Lead, meeting.lead_id) if meeting.lead_id else None
    host = session.get(User, meeting.user_id) if meeting.user_id else None
    return lead, host


def _name(first: str | None, last: str | None, email: str) -> str:
    return " ".join(part for part in (first, last) if part) or email


def invitation_for(session: Session, meeting: Meeting, booking: Booking) -> Invitation:
    from vectra.meetings.booking import manage_urls

    lead, host = _people(session, meeting)
    if lead is None or host is None:
        raise LookupError(f"meeting {meeting.id} has no lead or host")
    links = manage_urls(meeting.id)
    zone = booking.attendee_timezone if zone_or_none(booking.attendee_timezone) else "UTC"
    assert zone is not None
    return Invitation(
        uid=booking.ics_uid,
        sequence=booking.ics_sequence,
        start=as_utc(booking.starts_at),
        end=as_utc(booking.ends_at),
        timezone=zone,
        summary=f"{_name(host.first_name, host.last_name, host.email)} / "
        f"{_name(lead.first_name, lead.last_name, lead.email)}",
        description=f"Reschedule: {links['reschedule']}\nCancel: {links['cancel']}",
        organizer_email=host.email,
        organizer_name=_name(host.first_name, host.last_name, host.email),
        attendee_email=lead.email,
        attendee_name=_name(lead.first_name, lead.last_name, lead.email),
        location=meeting.meeting_url,
    )


def deliver_meeting_notice(session: Session, meeting_id: uuid.UUID, method: str) -> bool:
    """Mail the attendee and host the invitation (REQUEST) or its cancellation (CANCEL)."""
    meeting = session.get(Meeting, meeting_id)
    booking = session.scalar(select(Booking).where(Booking.meeting_id == meeting_id))
    if meeting is None or booking is None:
        return False
    invite = invitation_for(session, meeting, booking)
    ics_method = "CANCEL" if method == "cancel" else "REQUEST"
    local = invite.start.astimezone(zone_or_none(invite.timezone))
    when = f"{local:%A %d %B %Y, %H:%M} ({invite.timezone})"
    if ics_method == "CANCEL":
        subject, text = f"Canceled: {invite.summary}", f"This meeting on {when} is canceled."
    else:
        subject = f"Invitation: {invite.summary} on {when}"
        text = f"{invite.summary}\nWhen: {when}\n\n{invite.description}\n"
    message = build_message(
        to=[invite.attendee_email, invite.organizer_email],
        subject=subject,
        text=text,
        sender=get_settings_sender(),
        calendar=build_ics(invite, method=ics_method),
        method=ics_method,
    )
    send_system_mail(message)
    return True


def get_settings_sender() -> str:
    from vectra.meetings.config import get_meetings_settings

    return get_meetings_settings().system_mail_from


def _still_due(meeting: Meeting | None, expected_start: str) -> bool:
    return (
        meeting is not None
        and meeting.status in ACTIVE
        and as_utc(meeting.scheduled_at).isoformat() == expected_start
    )


def deliver_reminder(
    session: Session, meeting_id: uuid.UUID, kind: str, expected_start: str
) -> bool:
    """Remind attendee and host, unless the meeting moved or ended since the job was queued."""
    meeting = session.get(Meeting, meeting_id)
    if not _still_due(meeting, expected_start):
        return False
    assert meeting is not None
    lead, host = _people(session, meeting)
    recipients = [p.email for p in (lead, host) if p is not None]
    if not recipients:
        return False
    start = as_utc(meeting.scheduled_at)
    message = build_message(
        to=recipients,
        subject=f"Reminder: meeting in {'24 hours' if kind == '24h' else '1 hour'}",
        text=f"Your meeting starts at {start:%Y-%m-%d %H:%M} UTC."
        + (f"\nJoin: {meeting.meeting_url}" if meeting.meeting_url else ""),
        sender=get_settings_sender(),
    )
    send_system_mail(message)
    return True


def deliver_outcome_prompt(session: Session, meeting_id: uuid.UUID, expected_start: str) -> bool:
    """Ask the host, once the meeting is over, to record its outcome and notes."""
    meeting = session.get(Meeting, meeting_id)
    if not _still_due(meeting, expected_start) or meeting is None or meeting.outcome:
        return False
    _lead, host = _people(session, meeting)
    if host is None:
        return False
    url = f"{get_settings().base_url.rstrip('/')}/meetings/{meeting.id}"
    message = build_message(
        to=[host.email],
        subject="How did the meeting go?",
        text=(
            "Record the outcome (qualified opportunity, not a fit, follow-up...) and notes, "
            f"or mark a no-show: {url}\n"
            f"API: PATCH /api/v1/meetings/{meeting.id}"
        ),
        sender=get_settings_sender(),
    )
    send_system_mail(message)
    return True


@app.task(name="meetings.send_meeting_notice", retry=5)
def send_meeting_notice(meeting_id: str, method: str) -> None:
    with task_database().system_session() as session:
        deliver_meeting_notice(session, uuid.UUID(meeting_id), method)


@app.task(name="meetings.send_meeting_reminder", retry=3)
def send_meeting_reminder(meeting_id: str, kind: str, expected_start: str) -> None:
    with task_database().system_session() as session:
        deliver_reminder(session, uuid.UUID(meeting_id), kind, expected_start)


@app.task(name="meetings.prompt_meeting_outcome", retry=3)
def prompt_meeting_outcome(meeting_id: str, expected_start: str) -> None:
    with task_database().system_session() as session:
        deliver_outcome_prompt(session, uuid.UUID(meeting_id), expected_start)


@app.task(name="meetings.push_booking_to_google", retry=5)
def push_booking_to_google(meeting_id: str) -> None:
    from vectra.meetings.google import create_event_for_meeting

    with task_database().system_session() as session:
        create_event_for_meeting(session, uuid.UUID(meeting_id))


@app.periodic(cron="*/10 * * * *")
@app.task(name="meetings.sync_google_calendars", queueing_lock="meetings.sync_google")
def sync_google_calendars(timestamp: int) -> None:
    from vectra.meetings.google import sync_all_calendars

    sync_all_calendars(task_database())
