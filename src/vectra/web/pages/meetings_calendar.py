"""The meetings calendar (week or month grid) and one meeting's page with its outcome form.

Server-rendered and navigable by query parameters (`view`, `date`, `tz`), so a link or the
back button shows the same grid. Times are shown in the viewer's zone: `tz` when given,
else the user's meeting availability zone, else the organization's (both through the
meetings service), never the server's.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from vectra.accounts.permissions import Permission
from vectra.errors import InvalidInput
from vectra.leads.models import Lead
from vectra.meetings import availability
from vectra.meetings import service as meetings
from vectra.meetings.models import Meeting
from vectra.meetings.slots import zone_or_none
from vectra.utc import as_utc, naive_utc
from vectra.web.deps import SessionDep
from vectra.web.pages.deps import PageContext, page, render

router = APIRouter(include_in_schema=False)
ReadCtx = Annotated[PageContext, page(Permission.MEETINGS_READ)]

VIEWS = ("week", "month")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MAX_MEETINGS = 2000  # per grid; a month of a very busy team still fits


@dataclass
class Entry:
    meeting: Meeting
    local: dt.datetime
    lead: Lead | None


@dataclass
class Day:
    date: dt.date
    in_range: bool
    today: bool
    entries: list[Entry] = field(default_factory=list)


def viewer_zone(session: Session, ctx: PageContext, tz: str | None) -> ZoneInfo:
    """The zone to show times in: `tz`, else the viewer's availability, else the organization's."""
    if tz:
        zone = zone_or_none(tz)
        if zone is None:
            raise InvalidInput(f"'{tz}' is not an IANA time zone (e.g. Europe/Paris).", field="tz")
        return zone
    if ctx.actor.user_id is not None:
        rules = availability.rules_for(session, ctx.actor.organization_id, ctx.actor.user_id)
        if (zone := zone_or_none(rules.timezone)) is not None:
            return zone
    name = availability.organization_timezone(session, ctx.actor.organization_id)
    return zone_or_none(name) or ZoneInfo("UTC")


def leads_by_id(session: Session, ctx: PageContext, meetings_: list[Meeting]) -> dict[Any, Lead]:
    ids = [m.lead_id for m in meetings_ if m.lead_id]
    if not ids:
        return {}
    rows = session.scalars(
        select(Lead).where(Lead.organization_id == ctx.actor.organization_id, Lead.id.in_(ids))
    )
    return {lead.id: lead for lead in rows}


def grid_range(view: str, anchor: dt.date) -> tuple[dt.date, dt.date, dt.date, dt.date]:
    """(first shown day, day after the last shown, period start, period end exclusive)."""
    if view == "week":
        start = anchor - dt.timedelta(days=anchor.weekday())
        end = start + dt.timedelta(days=7)
        return start, end, start, end
    first = anchor.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    start = first - dt.timedelta(days=first.weekday())
    last = following - dt.timedelta(days=1)
    end = last + dt.timedelta(days=7 - last.weekday())
    return start, end, first, following


def _midnight_utc(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    return naive_utc(dt.datetime.combine(day, dt.time(0), tzinfo=zone))


def _shift(view: str, anchor: dt.date, steps: int) -> dt.date:
    if view == "week":
        return anchor + dt.timedelta(weeks=steps)
    month = anchor.month - 1 + steps
    return dt.date(anchor.year + month // 12, month % 12 + 1, 1)


def meetings_between(
    session: Session, ctx: PageContext, start: dt.datetime, end: dt.datetime
) -> list[Meeting]:
    """Every meeting in [start, end) through the meetings service, page after page."""
    found: list[Meeting] = []
    cursor = None
    window = meetings.MeetingFilter(scheduled_from=start, scheduled_to=end)
    while len(found) < MAX_MEETINGS:
        items, cursor = meetings.list_meetings(session, ctx.actor, window, limit=200, cursor=cursor)
        found.extend(items)
        if cursor is None:
            break
    return found


@router.get("/meetings/calendar", response_class=HTMLResponse)
def meetings_calendar(
    request: Request,
    session: SessionDep,
    ctx: ReadCtx,
    view: Annotated[str, Query(max_length=10)] = "week",
    date: Annotated[str | None, Query(max_length=10)] = None,
    tz: Annotated[str | None, Query(max_length=64)] = None,
) -> HTMLResponse:
    # Bad parameters show the default grid with the problem named, not a bare error body.
    problem: InvalidInput | None = None
    if view not in VIEWS:
        problem, view = InvalidInput("view must be 'week' or 'month'.", field="view"), "week"
    try:
        zone = viewer_zone(session, ctx, tz)
    except InvalidInput as exc:
        problem, tz, zone = exc, None, viewer_zone(session, ctx, None)
    today = dt.datetime.now(zone).date()
    try:
        anchor = dt.date.fromisoformat(date) if date else today
    except ValueError:
        problem = InvalidInput("date must be a day as YYYY-MM-DD.", field="date")
        anchor = today
    start, end, period_start, period_end = grid_range(view, anchor)
    found = meetings_between(session, ctx, _midnight_utc(start, zone), _midnight_utc(end, zone))
    leads = leads_by_id(session, ctx, found)
    days = {
        start + dt.timedelta(days=n): Day(
            date=start + dt.timedelta(days=n),
            in_range=period_start <= start + dt.timedelta(days=n) < period_end,
            today=start + dt.timedelta(days=n) == today,
        )
        for n in range((end - start).days)
    }
    for item in sorted(found, key=lambda m: m.scheduled_at):
        local = as_utc(item.scheduled_at).astimezone(zone)
        if local.date() in days:
            days[local.date()].entries.append(Entry(item, local, leads.get(item.lead_id)))
    ordered = [days[d] for d in sorted(days)]
    weeks = [ordered[i : i + 7] for i in range(0, len(ordered), 7)]

    def link(**changes: str) -> str:
        params = {"view": view, "date": anchor.isoformat(), **({"tz": tz} if tz else {})}
        return "/meetings/calendar?" + urlencode({**params, **changes})

    title = f"Week of {start:%d %b %Y}" if view == "week" else f"{period_start:%B %Y}"
    return render(
        request,
        "operations/calendar.html",
        {
            "ctx": ctx, "view": view, "weeks": weeks, "weekdays": WEEKDAYS, "title": title,
            "zone": str(zone), "count": len(found),
            "previous": link(date=_shift(view, anchor, -1).isoformat()),
            "next": link(date=_shift(view, anchor, 1).isoformat()),
            "today_link": link(date=today.isoformat()),
            "other_view": link(view="month" if view == "week" else "week"),
            "error": problem.message if problem else None,
            "error_field": problem.field if problem else None,
        },
        status_code=422 if problem else 200,
    )  # fmt: skip


@router.get("/meetings/{meeting_id}", response_class=HTMLResponse)
def meeting_detail(
    request: Request,
    session: SessionDep,
    ctx: ReadCtx,
    meeting_id: uuid.UUID,
    error: Annotated[str | None, Query(max_length=500)] = None,
    tz: Annotated[str | None, Query(max_length=64)] = None,
) -> HTMLResponse:
    """One meeting, in the viewer's zone, with its outcome form (for those who may record it)."""
    item = meetings.get_meeting(session, ctx.actor, meeting_id)
    zone = viewer_zone(session, ctx, tz)
    return render(
        request,
        "operations/meeting.html",
        {
            "ctx": ctx, "m": item, "lead": leads_by_id(session, ctx, [item]).get(item.lead_id),
            "local": as_utc(item.scheduled_at).astimezone(zone), "zone": str(zone),
            "outcomes": sorted(meetings.OUTCOMES), "error": error,
        },
    )  # fmt: skip
