"""Each user's availability (hours, buffer, notice, slot length, daily cap) and free slots."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vectra.accounts.actor import Actor
from vectra.accounts.models import Organization, User
from vectra.accounts.roles import Role
from vectra.errors import InvalidInput, NotFound, PermissionDenied
from vectra.meetings.models import Availability, Booking
from vectra.meetings.slots import (
    Rules,
    Slot,
    free_slots,
    validate_working_hours,
    zone_or_none,
)
from vectra.utc import as_utc, naive_utc

log = logging.getLogger(__name__)

DEFAULT_HOURS = {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")} | {
    "sat": [],
    "sun": [],
}
# Busy intervals from an external calendar (Google), injected so this module stays pure.
BusyProvider = Callable[[Session, uuid.UUID, uuid.UUID, dt.datetime, dt.datetime], list[Any]]


def organization_timezone(session: Session, organization_id: uuid.UUID) -> str:
    """The organization's IANA zone from its settings (accounts), UTC when unset."""
    org = session.get(Organization, organization_id)
    name = (org.settings or {}).get("timezone") if org else None
    return name if isinstance(name, str) and zone_or_none(name) else "UTC"


def _org_user(session: Session, organization_id: uuid.UUID, user_id: uuid.UUID) -> User:
    user = session.scalar(
        select(User).where(User.id == user_id, User.organization_id == organization_id)
    )
    if user is None:
        raise NotFound("No such user.", field="user_id")
    return user


def rules_for(session: Session, organization_id: uuid.UUID, user_id: uuid.UUID) -> Rules:
    """The user's stored availability, or weekdays 9-17 in the organization's zone."""
    row = session.scalar(
        select(Availability).where(
            Availability.organization_id == organization_id, Availability.user_id == user_id
        )
    )
    if row is None:
        return Rules(
            timezone=organization_timezone(session, organization_id), working_hours=DEFAULT_HOURS
        )
    return Rules(
        timezone=row.timezone,
        working_hours=row.working_hours,
        slot_minutes=row.slot_minutes,
        buffer_minutes=row.buffer_minutes,
        minimum_notice_minutes=row.minimum_notice_minutes,
        max_per_day=row.max_per_day,
    )


def _target_user(actor: Actor, user_id: uuid.UUID | None) -> uuid.UUID:
    if user_id is None or user_id == actor.user_id:
        if actor.user_id is None:
            raise InvalidInput("An API key must name the user.", field="user_id")
        return actor.user_id
    if actor.role not in (Role.OWNER, Role.ADMIN):
        raise PermissionDenied("Only admins set another user's availability.")
    return user_id


def get_availability(session: Session, actor: Actor, user_id: uuid.UUID | None = None) -> Rules:
    """The caller's availability (or, for admins, another user's)."""
    target = user_id or actor.user_id
    if target is None:
        raise InvalidInput("An API key must name the user.", field="user_id")
    _org_user(session, actor.organization_id, target)
    return rules_for(session, actor.organization_id, target)


def set_availability(
    session: Session, actor: Actor, data: dict[str, Any], *, user_id: uuid.UUID | None = None
) -> Rules:
    """Replace a user's availability; only admins may set someone else's."""
    target = _target_user(actor, user_id)
    _org_user(session, actor.organization_id, target)
    if zone_or_none(data.get("timezone")) is None:
        raise InvalidInput("Not an IANA time zone (e.g. Europe/Paris).", field="timezone")
    try:
        hours = validate_working_hours(data.get("working_hours") or {})
    except ValueError as exc:
        raise InvalidInput(str(exc), field="working_hours") from exc
    row = session.scalar(
        select(Availability).where(
            Availability.organization_id == actor.organization_id, Availability.user_id == target
        )
    )
    if row is None:
        row = Availability(organization_id=actor.organization_id, user_id=target)
        session.add(row)
    row.timezone = data["timezone"]
    row.working_hours = hours
    row.buffer_minutes = data.get("buffer_minutes", 0)
    row.minimum_notice_minutes = data.get("minimum_notice_minutes", 240)
    row.slot_minutes = data.get("slot_minutes", 30)
    row.max_per_day = data.get("max_per_day")
    session.flush()
    return rules_for(session, actor.organization_id, target)


def booked_intervals(
    session: Session,
    organization_id: uuid.UUID,
    user_id: uuid.UUID,
    start: dt.datetime,
    end: dt.datetime,
    *,
    ignore: Booking | None = None,
) -> list[tuple[dt.datetime, dt.datetime]]:
    """The user's taken time (live bookings) overlapping [start, end), as aware UTC.

    `ignore` leaves out the booking being moved: its own time is not busy for it.
    """
    query = select(Booking.starts_at, Booking.ends_at).where(
        Booking.organization_id == organization_id,
        Booking.user_id == user_id,
        Booking.released_at.is_(None),
        Booking.starts_at < naive_utc(end),
        Booking.ends_at > naive_utc(start),
    )
    if ignore is not None:
        query = query.where(Booking.id != ignore.id)
    return [(as_utc(s), as_utc(e)) for s, e in session.execute(query).all()]


def find_free_slots(
    session: Session,
    organization_id: uuid.UUID,
    user_id: uuid.UUID,
    *,
    start: dt.datetime,
    end: dt.datetime,
    now: dt.datetime | None = None,
    external_busy: BusyProvider | None = None,
    ignore: Booking | None = None,
) -> list[Slot]:
    """Free slots of `user_id` in [start, end): availability minus bookings and calendar busy.

    `ignore` is the booking being rescheduled: neither its own time (in our bookings or as
    the calendar event we created for it) nor its place in the daily cap blocks the move.
    """
    rules = rules_for(session, organization_id, user_id)
    # Look a day further each side: the buffer and the daily cap reach across the window.
    margin = dt.timedelta(days=1)
    busy = booked_intervals(
        session, organization_id, user_id, start - margin, end + margin, ignore=ignore
    )
    per_day: dict[dt.date, int] = {}
    zone = zone_or_none(rules.timezone)
    for b_start, _b_end in busy:
        day = b_start.astimezone(zone).date()
        per_day[day] = per_day.get(day, 0) + 1
    if external_busy is not None:
        try:
            external = external_busy(
                session, organization_id, user_id, start - margin, end + margin
            )
        except Exception:  # a calendar outage must not take the booking page down
            log.exception("external busy times unavailable for user %s", user_id)
        else:
            own = (as_utc(ignore.starts_at), as_utc(ignore.ends_at)) if ignore else None
            busy += [interval for interval in external if interval != own]
    return free_slots(
        rules,
        window_start=as_utc(start),
        window_end=as_utc(end),
        busy=busy,
        now=as_utc(now or dt.datetime.now(dt.UTC)),
        booked_per_day=per_day,
    )
