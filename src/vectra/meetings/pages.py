"""The public booking pages: pick a slot, then reschedule or cancel. No login: the signed
link is the authority. Times are shown in the visitor's zone (`tz`, else the lead's)."""

from __future__ import annotations

from collections import OrderedDict
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse
from jinja2 import Environment, select_autoescape

from vectra.errors import Conflict
from vectra.meetings import booking
from vectra.meetings.slots import Slot
from vectra.utc import as_utc
from vectra.web.auth import public
from vectra.web.deps import SessionDep

router = APIRouter(tags=["booking pages"], dependencies=[public()])

_env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
_PAGE = _env.from_string(
    """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>body{font-family:system-ui,sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem}
.day{margin:1rem 0}.slot{margin:.2rem;padding:.4rem .7rem}
.msg{padding:.6rem;background:#fee}</style>
</head><body><h1>{{ title }}</h1>
{% if message %}<p class="msg" role="alert">{{ message }}</p>{% endif %}
{% if meeting_when %}<p>Your meeting: <strong>{{ meeting_when }}</strong> ({{ tz }})</p>{% endif %}
{% if cancel_action %}<form method="post" action="{{ cancel_action }}" id="cancel">
<button type="submit">Cancel this meeting</button></form>{% endif %}
{% if days %}<p>Times are shown in <strong>{{ tz }}</strong>.</p>
{% for day, slots in days.items() %}<div class="day"><h2>{{ day }}</h2>
{% for value, label in slots %}<form method="post" action="{{ action }}" style="display:inline">
<input type="hidden" name="start" value="{{ value }}">
<input type="hidden" name="tz" value="{{ tz }}">
<button class="slot" type="submit" data-start="{{ value }}">{{ label }}</button></form>
{% endfor %}</div>{% endfor %}
{% elif show_empty %}<p>No free times in the next two weeks.</p>{% endif %}
</body></html>"""
)


def _group(slots: list[Slot], tz: str) -> OrderedDict[str, list[tuple[str, str]]]:
    zone = ZoneInfo(tz)
    days: OrderedDict[str, list[tuple[str, str]]] = OrderedDict()
    for slot in slots:
        local = slot.start.astimezone(zone)
        days.setdefault(f"{local:%A %d %B %Y}", []).append(
            (slot.start.isoformat(), f"{local:%H:%M}")
        )
    return days


def _render(status_code: int = 200, **context: object) -> HTMLResponse:
    return HTMLResponse(_PAGE.render(**context), status_code=status_code)


@router.get("/book/{token}", response_class=HTMLResponse, summary="Booking page")
def booking_page(token: str, session: SessionDep, tz: str | None = None) -> HTMLResponse:
    ctx = booking.open_booking_link(session, token)
    zone = booking.visitor_zone(ctx.lead, tz)
    slots = booking.slots_for(session, ctx)
    host = " ".join(p for p in (ctx.host.first_name, ctx.host.last_name) if p) or "us"
    return _render(
        title=f"Book a time with {host}",
        days=_group(slots, zone),
        tz=zone,
        action=f"/book/{token}",
        show_empty=True,
    )


@router.post("/book/{token}", response_class=HTMLResponse, summary="Book a slot")
def book(
    token: str,
    session: SessionDep,
    start: Annotated[str, Form()],
    tz: Annotated[str | None, Form()] = None,
) -> HTMLResponse:
    try:
        meeting = booking.book_slot(session, token, start, tz=tz)
    except Conflict as exc:
        # The visitor lost a race or the time went: show the remaining times, not an error body.
        ctx = booking.open_booking_link(session, token)
        zone = booking.visitor_zone(ctx.lead, tz)
        return _render(
            409,
            title="Pick another time",
            message=exc.message,
            days=_group(booking.slots_for(session, ctx), zone),
            tz=zone,
            action=f"/book/{token}",
            show_empty=True,
        )
    zone = booking.visitor_zone(booking.open_booking_link(session, token).lead, tz)
    when = as_utc(meeting.scheduled_at).astimezone(ZoneInfo(zone))
    return _render(
        201,
        title="You're booked",
        message=None,
        meeting_when=f"{when:%A %d %B %Y, %H:%M}",
        tz=zone,
        days=None,
        cancel_action=f"/book/manage/{booking.make_manage_token(meeting.id)}/cancel",
    )


@router.get("/book/manage/{token}", response_class=HTMLResponse, summary="Reschedule or cancel")
def manage_page(token: str, session: SessionDep, tz: str | None = None) -> HTMLResponse:
    managed = booking.open_manage_link(session, token)
    zone = booking.visitor_zone(managed.context.lead, tz or managed.booking.attendee_timezone)
    when = as_utc(managed.meeting.scheduled_at).astimezone(ZoneInfo(zone))
    active = managed.meeting.status in ("scheduled", "confirmed")
    return _render(
        title="Your meeting" if active else f"This meeting is {managed.meeting.status}",
        meeting_when=f"{when:%A %d %B %Y, %H:%M}",
        tz=zone,
        days=_group(booking.slots_for(session, managed.context, moving=managed.booking), zone)
        if active
        else None,
        action=f"/book/manage/{token}/reschedule",
        cancel_action=f"/book/manage/{token}/cancel" if active else None,
    )


@router.post("/book/manage/{token}/cancel", response_class=HTMLResponse, summary="Cancel")
def cancel(token: str, session: SessionDep) -> HTMLResponse:
    booking.cancel_booking(session, token)
    return _render(title="Your meeting is canceled")


@router.post("/book/manage/{token}/reschedule", response_class=HTMLResponse, summary="Move")
def reschedule(
    token: str,
    session: SessionDep,
    start: Annotated[str, Form()],
    tz: Annotated[str | None, Form()] = None,
) -> HTMLResponse:
    meeting = booking.reschedule_booking(session, token, start)
    managed = booking.open_manage_link(session, token)
    zone = booking.visitor_zone(managed.context.lead, tz or managed.booking.attendee_timezone)
    when = as_utc(meeting.scheduled_at).astimezone(ZoneInfo(zone))
    return _render(title="Your meeting moved", meeting_when=f"{when:%A %d %B %Y, %H:%M}", tz=zone)
