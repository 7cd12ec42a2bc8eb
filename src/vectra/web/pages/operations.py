"""Day-to-day pages: meetings (list, outcome capture), mailbox health, the audit log."""

from __future__ import annotations

import uuid
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from vectra.accounts import audit
from vectra.accounts.permissions import Permission
from vectra.errors import VectraError
from vectra.leads.models import Lead
from vectra.mail import guardrails, mailboxes
from vectra.meetings import service as meetings
from vectra.utc import as_utc
from vectra.web.deps import SessionDep
from vectra.web.pages.deps import PageContext, check_csrf, page, render
from vectra.web.pages.mailbox_setup import router as mailbox_setup_router
from vectra.web.pages.meetings_calendar import router as calendar_router
from vectra.web.pages.meetings_calendar import viewer_zone

router = APIRouter(include_in_schema=False)
# The calendar (/meetings/calendar) and one meeting's page; the mailbox connect form, DNS checks.
router.include_router(calendar_router)
router.include_router(mailbox_setup_router)


@router.get("/meetings", response_class=HTMLResponse)
def meetings_list(
    request: Request,
    session: SessionDep,
    ctx: Annotated[PageContext, page(Permission.MEETINGS_READ)],
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    error: Annotated[str | None, Query(max_length=500)] = None,
) -> HTMLResponse:
    items, next_cursor = meetings.list_meetings(
        session, ctx.actor, meetings.MeetingFilter(), cursor=cursor
    )
    lead_ids = [m.lead_id for m in items if m.lead_id]
    leads = {
        lead.id: lead
        for lead in session.scalars(
            select(Lead).where(
                Lead.organization_id == ctx.actor.organization_id, Lead.id.in_(lead_ids)
            )
        )
    }
    zone = viewer_zone(session, ctx, None)
    local = {m.id: as_utc(m.scheduled_at).astimezone(zone) for m in items}
    return render(
        request,
        "operations/meetings.html",
        {"ctx": ctx, "meetings": items, "next_cursor": next_cursor, "leads": leads,
         "outcomes": sorted(meetings.OUTCOMES), "error": error, "local": local,
         "zone": str(zone)},
    )  # fmt: skip


@router.post("/meetings/{meeting_id}/outcome")
def meeting_outcome(
    session: SessionDep,
    ctx: Annotated[PageContext, page(Permission.MEETINGS_WRITE)],
    meeting_id: uuid.UUID,
    csrf_token: Annotated[str, Form()] = "",
    outcome: Annotated[str, Form()] = "",
    notes: Annotated[str, Form()] = "",
    no_show: Annotated[str, Form()] = "",
    back_to: Annotated[str, Form(alias="next")] = "",
) -> Response:
    check_csrf(ctx.csrf_token, csrf_token)
    meetings.get_meeting(session, ctx.actor, meeting_id)  # 404 for another tenant's
    # Back to the meeting's own page when the form came from there; never an arbitrary URL.
    back = back_to if back_to == f"/meetings/{meeting_id}" else "/meetings"
    try:
        with session.begin_nested():
            meetings.update_meeting(
                session, ctx.actor, meeting_id,
                outcome=outcome or None, notes=notes or None, no_show=True if no_show else None,
            )  # fmt: skip
    except VectraError as exc:
        return RedirectResponse(f"{back}?" + urlencode({"error": exc.message}), status_code=303)
    return RedirectResponse(back, status_code=303)


@router.get("/mailboxes", response_class=HTMLResponse)
def mailbox_health(
    request: Request,
    session: SessionDep,
    ctx: Annotated[PageContext, page(Permission.MAILBOXES_READ)],
    connected: Annotated[str | None, Query(max_length=64)] = None,
) -> HTMLResponse:
    rows = []
    for box in mailboxes.list_mailboxes(session, ctx.actor):
        view = mailboxes.read_model(session, box)
        rates = guardrails.recent_rates(session, "mailbox_id", box.id)
        warm = view.warmup_days > 0 and view.effective_daily_cap < view.daily_cap
        rows.append({"box": view, "rates": rates, "warming": warm,
                     "warm_percent": round(100 * view.effective_daily_cap / view.daily_cap)
                     if view.daily_cap else 100})  # fmt: skip
    return render(
        request,
        "operations/mailboxes.html",
        {"ctx": ctx, "rows": rows, "max_bounce": guardrails.MAX_HARD_BOUNCE_RATE,
         "max_complaint": guardrails.MAX_COMPLAINT_RATE, "connected": connected,
         "domains": mailboxes.sending_domains(session, ctx.actor)},
    )  # fmt: skip


@router.get("/audit", response_class=HTMLResponse)
def audit_log(
    request: Request,
    session: SessionDep,
    ctx: Annotated[PageContext, page(Permission.AUDIT_READ)],
    action: Annotated[str | None, Query(max_length=100)] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> HTMLResponse:
    events = audit.list_events(
        session, ctx.actor, filters=audit.AuditFilter(action=action or None), cursor=cursor
    )
    return render(
        request, "operations/audit.html", {"ctx": ctx, "events": events, "action": action or ""}
    )
