"""Meetings API: list/get/update, availability, booking links, Calendly and Google. Thin."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from vectra.accounts.actor import Actor
from vectra.accounts.permissions import Permission
from vectra.errors import InvalidInput
from vectra.meetings import availability, booking, calendly, google, service
from vectra.meetings.schemas import (
    AuthorizationUrl,
    AvailabilityBody,
    AvailabilityRead,
    BookingLinkCreate,
    BookingLinkRead,
    CalendlyConnect,
    IntegrationStatus,
    MeetingPage,
    MeetingRead,
    MeetingUpdate,
    SyncResult,
    WebhookResult,
)
from vectra.meetings.slots import Rules
from vectra.utc import UtcDateTime
from vectra.web.auth import public, require
from vectra.web.deps import SessionDep

router = APIRouter(prefix="/api/v1/meetings", tags=["meetings"])


def _availability_read(rules: Rules, user_id: uuid.UUID) -> AvailabilityRead:
    return AvailabilityRead(
        user_id=user_id,
        timezone=rules.timezone,
        working_hours={k: [list(r) for r in v] for k, v in rules.working_hours.items()},
        buffer_minutes=rules.buffer_minutes,
        minimum_notice_minutes=rules.minimum_notice_minutes,
        slot_minutes=rules.slot_minutes,
        max_per_day=rules.max_per_day,
    )


@router.get("", response_model=MeetingPage, summary="List meetings (newest first, keyset pages)")
def list_meetings(
    session: SessionDep,
    actor: Annotated[Actor, require(Permission.MEETINGS_READ)],
    status: str | None = None,
    lead_id: uuid.UUID | None = None,
    campaign_id: uuid.UUID | None = None,
    user_id: uuid.UUID | None = None,
    scheduled_from: UtcDateTime | None = None,
    scheduled_to: UtcDateTime | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> MeetingPage:
    filters = service.MeetingFilter(
        status=status,
        lead_id=lead_id,
        campaign_id=campaign_id,
        user_id=user_id,
        scheduled_from=scheduled_from,
        scheduled_to=scheduled_to,
    )
    items, next_cursor = service.list_meetings(session, actor, filters, limit=limit, cursor=cursor)
    return MeetingPage(
        items=[MeetingRead.model_validate(m) for m in items], next_cursor=next_cursor
    )


@router.get("/availability", response_model=AvailabilityRead, summary="A user's availability")
def get_availability(
    session: SessionDep,
    actor: Annotated[Actor, require(Permission.MEETINGS_READ)],
    user_id: uuid.UUID | None = None,
) -> AvailabilityRead:
    rules = availability.get_availability(session, actor, user_id)
    target = user_id or actor.user_id
    assert target is not None
    return _availability_read(rules, target)


@router.put("/availability", response_model=AvailabilityRead, summary="Set availability")
def put_availability(
    body: AvailabilityBody,
    session: SessionDep,
    actor: Annotated[Actor, require(Permission.MEETINGS_WRITE)],
    user_id: uuid.UUID | None = None,
) -> AvailabilityRead:
    rules = availability.set_availability(session, actor, body.model_dump(), user_id=user_id)
    target = user_id or actor.user_id
    assert target is not None
    return _availability_read(rules, target)


@router.post("/booking-links", response_model=BookingLinkRead, summary="A lead's booking link")
def create_booking_link(
    body: BookingLinkCreate,
    session: SessionDep,
    actor: Annotated[Actor, require(Permission.MEETINGS_WRITE)],
) -> BookingLinkRead:
    url = booking.create_booking_link(session, actor, body.lead_id, user_id=body.user_id)
    return BookingLinkRead(url=url)


@router.post(
    "/calendly/connect", response_model=IntegrationStatus, summary="Connect Calendly (PAT)"
)
def connect_calendly(
    body: CalendlyConnect,
    session: SessionDep,
    actor: Annotated[Actor, require(Permission.INTEGRATIONS_MANAGE)],
) -> IntegrationStatus:
    row = calendly.connect_calendly(session, actor, body.personal_access_token)
    return IntegrationStatus(type=row.type, status=row.status)


@router.post(
    "/calendly/webhook",
    response_model=WebhookResult,
    dependencies=[public()],
    summary="Calendly webhook (signed)",
)
async def calendly_webhook(request: Request, session: SessionDep) -> WebhookResult:
    body = await request.body()
    result = calendly.handle_delivery(
        session, body, request.headers.get("calendly-webhook-signature")
    )
    return WebhookResult(result=result)


@router.get(
    "/google/authorize", response_model=AuthorizationUrl, summary="Start Google Calendar OAuth"
)
def google_authorize(
    actor: Annotated[Actor, require(Permission.MEETINGS_WRITE)],
) -> AuthorizationUrl:
    return AuthorizationUrl(url=google.authorization_url(actor))


@router.get(
    "/google/callback",
    response_class=HTMLResponse,
    summary="Google OAuth redirect target (completes only for the user who started it)",
)
def google_callback(
    session: SessionDep,
    actor: Annotated[Actor, require(Permission.MEETINGS_WRITE)],
    code: str | None = None,
    state: str | None = None,
) -> HTMLResponse:
    if not code:
        raise InvalidInput("Google sent no authorization code.", field="code")
    if not state:
        raise InvalidInput("Google sent no state.", field="state")
    google.complete_authorization(session, actor, code, state)
    return HTMLResponse("<p>Google Calendar connected. You can close this tab.</p>")


@router.post("/google/sync", response_model=SyncResult, summary="Sync my Google Calendar now")
def google_sync(
    session: SessionDep, actor: Annotated[Actor, require(Permission.MEETINGS_WRITE)]
) -> SyncResult:
    if actor.user_id is None:
        raise InvalidInput("An API key has no calendar.", field="user_id")
    changed = google.sync_user_calendar(session, actor.organization_id, actor.user_id)
    return SyncResult(changed=changed)


@router.get("/{meeting_id}", response_model=MeetingRead, summary="One meeting")
def get_meeting(
    meeting_id: uuid.UUID,
    session: SessionDep,
    actor: Annotated[Actor, require(Permission.MEETINGS_READ)],
) -> MeetingRead:
    return MeetingRead.model_validate(service.get_meeting(session, actor, meeting_id))


@router.patch("/{meeting_id}", response_model=MeetingRead, summary="Status, outcome, notes")
def update_meeting(
    meeting_id: uuid.UUID,
    body: MeetingUpdate,
    session: SessionDep,
    actor: Annotated[Actor, require(Permission.MEETINGS_WRITE)],
) -> MeetingRead:
    meeting = service.update_meeting(
        session,
        actor,
        meeting_id,
        status=body.status,
        outcome=body.outcome,
        notes=body.notes,
        no_show=body.no_show,
    )
    return MeetingRead.model_validate(meeting)
