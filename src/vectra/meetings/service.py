"""Meetings: list, read, update, and the seed's `meeting_status` machine.

scheduled -> confirmed -> completed | canceled | no_show (a scheduled meeting may also end
directly). Every query is scoped by the actor's organization; a foreign id is a 404.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import uuid
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Select, select, tuple_
from sqlalchemy.orm import Session

from vectra.accounts.actor import Actor
from vectra.db.base import utcnow
from vectra.errors import InvalidInput, InvalidTransition, NotFound
from vectra.leads.models import Lead
from vectra.meetings.lead_hooks import set_lead_status_for_meeting
from vectra.meetings.models import Booking, Meeting


class MeetingStatus(StrEnum):
    SCHEDULED = "scheduled"
    CONFIRMED = "confirmed"
    COMPLETED = "completed"
    CANCELED = "canceled"
    NO_SHOW = "no_show"


TRANSITIONS: dict[str, frozenset[str]] = {
    MeetingStatus.SCHEDULED: frozenset({"confirmed", "completed", "canceled", "no_show"}),
    MeetingStatus.CONFIRMED: frozenset({"completed", "canceled", "no_show"}),
    MeetingStatus.COMPLETED: frozenset(),
    MeetingStatus.CANCELED: frozenset(),
    # A host who marked a no-show by mistake may correct it once the call did happen.
    MeetingStatus.NO_SHOW: frozenset({"completed"}),
}
ACTIVE = frozenset({MeetingStatus.SCHEDULED.value, MeetingStatus.CONFIRMED.value})
OUTCOMES = frozenset(
    {"qualified_opportunity", "not_a_fit", "follow_up", "closed_won", "closed_lost", "other"}
)


def can_transition(current: str | None, target: str) -> bool:
    return target in TRANSITIONS.get(current or "scheduled", frozenset())


def transition(session: Session, meeting: Meeting, target: str) -> None:
    """Move `meeting` to `target` if the machine allows it (409 otherwise); side effects here."""
    if meeting.status == target:
        return
    if not can_transition(meeting.status, target):
        raise InvalidTransition(
            f"A {meeting.status} meeting cannot become {target}.", field="status"
        )
    meeting.status = target
    if target == MeetingStatus.COMPLETED:
        meeting.completed_at = meeting.completed_at or utcnow()
        meeting.no_show = False
    if target == MeetingStatus.NO_SHOW:
        meeting.no_show = True
    if target in (MeetingStatus.CANCELED, MeetingStatus.NO_SHOW):
        _release_booking(session, meeting)
    if target == MeetingStatus.COMPLETED and meeting.lead_id is not None:
        lead = session.get(Lead, meeting.lead_id)
        if lead is not None:
            set_lead_status_for_meeting(session, lead, "completed")
    session.flush()


def _release_booking(session: Session, meeting: Meeting) -> None:
    booking = session.scalar(select(Booking).where(Booking.meeting_id == meeting.id))
    if booking is not None and booking.released_at is None:
        booking.released_at = utcnow()


def _scoped(actor: Actor) -> Select[Meeting]:
    return select(Meeting).where(Meeting.organization_id == actor.organization_id)


def get_meeting(session: Session, actor: Actor, meeting_id: uuid.UUID) -> Meeting:
    """The actor's organization's meeting (404 for any other)."""
    meeting = session.scalar(_scoped(actor).where(Meeting.id == meeting_id))
    if meeting is None:
        raise NotFound("No such meeting.", field="meeting_id")
    return meeting


@dataclass(frozen=True)
class MeetingFilter:
    status: str | None = None
    lead_id: uuid.UUID | None = None
    campaign_id: uuid.UUID | None = None
    user_id: uuid.UUID | None = None
    scheduled_from: dt.datetime | None = None
    scheduled_to: dt.datetime | None = None


def _encode_cursor(meeting: Meeting) -> str:
    raw = json.dumps([meeting.scheduled_at.isoformat(), str(meeting.id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[dt.datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        when, ident = json.loads(raw)
        return dt.datetime.fromisoformat(when), uuid.UUID(ident)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise InvalidInput("Not a cursor this API returned.", field="cursor") from exc


def list_meetings(
    session: Session,
    actor: Actor,
    filters: MeetingFilter,
    *,
    limit: int = 50,
    cursor: str | None = None,
) -> tuple[list[Meeting], str | None]:
    """A page of the organization's meetings, newest first, keyset-paginated."""
    if filters.status is not None and filters.status not in TRANSITIONS:
        raise InvalidInput(f"Unknown status '{filters.status}'.", field="status")
    query = _scoped(actor)
    if filters.status:
        query = query.where(Meeting.status == filters.status)
    if filters.lead_id:
        query = query.where(Meeting.lead_id == filters.lead_id)
    if filters.campaign_id:
        query = query.where(Meeting.campaign_id == filters.campaign_id)
    if filters.user_id:
        query = query.where(Meeting.user_id == filters.user_id)
    if filters.scheduled_from:
        query = query.where(Meeting.scheduled_at >= filters.scheduled_from)
    if filters.scheduled_to:
        query = query.where(Meeting.scheduled_at < filters.scheduled_to)
    if cursor:
        when, ident = _decode_cursor(cursor)
        query = query.where(tuple_(Meeting.scheduled_at, Meeting.id) < tuple_(when, ident))
    rows = list(
        session.scalars(
            query.order_by(Meeting.scheduled_at.desc(), Meeting.id.desc()).limit(limit + 1)
        )
    )
    next_cursor = _encode_cursor(rows[limit - 1]) if len(rows) > limit else None
    return rows[:limit], next_cursor


def update_meeting(
    session: Session,
    actor: Actor,
    meeting_id: uuid.UUID,
    *,
    status: str | None = None,
    outcome: str | None = None,
    notes: str | None = None,
    no_show: bool | None = None,
) -> Meeting:
    """Record status, outcome, notes or a no-show; the status machine decides what may change."""
    meeting = get_meeting(session, actor, meeting_id)
    if status is not None:
        if status not in TRANSITIONS:
            raise InvalidInput(f"Unknown status '{status}'.", field="status")
        transition(session, meeting, status)
    if no_show is True:
        transition(session, meeting, MeetingStatus.NO_SHOW)
    elif no_show is False and meeting.status == MeetingStatus.NO_SHOW:
        transition(session, meeting, MeetingStatus.COMPLETED)
    if outcome is not None:
        if outcome not in OUTCOMES:
            raise InvalidInput(
                f"Outcome must be one of: {', '.join(sorted(OUTCOMES))}.", field="outcome"
            )
        if meeting.status in ACTIVE and meeting.scheduled_at > utcnow():
            raise InvalidTransition("A meeting's outcome is recorded after it.", field="outcome")
        meeting.outcome = outcome
    if notes is not None:
        meeting.notes = notes
    session.flush()
    return meeting
