"""Google Calendar: OAuth2 per user, free/busy, event creation (with Meet), incremental sync.

Each user of an organization connects their own Google account; the organization's
`google_calendar` integration keeps every user's tokens encrypted in the vault. Base URLs come
from settings (tests serve Google's documented shapes from a local HTTP server).
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any
from urllib.parse import urlencode

import httpx
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from vectra.accounts.actor import Actor
from vectra.db.base import utcnow
from vectra.db.engine import Database
from vectra.db.tenancy import as_tenant, set_tenant
from vectra.errors import BadRequest, InvalidInput
from vectra.integrations.models import Integration
from vectra.keys import derive_key
from vectra.leads.models import Lead
from vectra.meetings.config import MeetingsSettings, get_meetings_settings
from vectra.meetings.connections import (
    get_integration,
    read_secret,
    upsert_integration,
    write_secret,
)
from vectra.meetings.models import Booking, Meeting
from vectra.settings import get_settings
from vectra.utc import as_utc, naive_utc

log = logging.getLogger(__name__)

KIND = "google_calendar"
SCOPE = "https://www.googleapis.com/auth/calendar"


class GoogleError(Exception):
    """Google answered with an error."""


def _state_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(derive_key("google-oauth"), salt="google-oauth-state")


def redirect_uri() -> str:
    return f"{get_settings().base_url.rstrip('/')}/api/v1/meetings/google/callback"


def authorization_url(actor: Actor, *, settings: MeetingsSettings | None = None) -> str:
    """Where to send the user to grant calendar access (offline: we need a refresh token)."""
    settings = settings or get_meetings_settings()
    if not settings.google_client_id or actor.user_id is None:
        raise InvalidInput("Google OAuth is not configured (GOOGLE_CLIENT_ID).", field="google")
    state = _state_serializer().dumps({"o": str(actor.organization_id), "u": str(actor.user_id)})
    query = urlencode(
        {
            "client_id": settings.google_client_id,
            "redirect_uri": redirect_uri(),
            "response_type": "code",
            "scope": SCOPE,
            "access_type": "offline",
            "prompt": "consent",
            "include_granted_scopes": "true",
            "state": state,
        }
    )
    return f"{settings.google_auth_url}?{query}"


def _client(settings: MeetingsSettings) -> httpx.Client:
    return httpx.Client(timeout=settings.http_timeout_s)


def _token_request(data: dict[str, str], settings: MeetingsSettings) -> dict[str, Any]:
    body = {
        "client_id": settings.google_client_id or "",
        "client_secret": settings.google_client_secret or "",
        **data,
    }
    with _client(settings) as client:
        response = client.post(settings.google_token_url, data=body)
    if response.status_code != 200:
        raise GoogleError(f"token endpoint: {response.status_code} {response.text[:200]}")
    payload: dict[str, Any] = response.json()
    return payload


def _expiry(payload: dict[str, Any]) -> str:
    seconds = int(payload.get("expires_in", 3600))
    return (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds - 60)).isoformat()


def complete_authorization(
    session: Session,
    actor: Actor,
    code: str,
    state: str,
    *,
    settings: MeetingsSettings | None = None,
) -> uuid.UUID:
    """Exchange the callback's code for tokens and store them for the user in `state`.

    Only the signed-in user who started the flow can finish it: otherwise someone could send
    a victim a consent link carrying their own state and collect the victim's calendar.
    """
    settings = settings or get_meetings_settings()
    try:
        data = _state_serializer().loads(state, max_age=900)
        org_id, user_id = uuid.UUID(data["o"]), uuid.UUID(data["u"])
    except (BadSignature, KeyError, ValueError, TypeError) as exc:
        raise BadRequest("The OAuth state is not valid or has expired.") from exc
    if (org_id, user_id) != (actor.organization_id, actor.user_id):
        raise BadRequest(
            "This authorization was started by another user; connect again from your own account."
        )
    tokens = _token_request(
        {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri()},
        settings,
    )
    if not tokens.get("refresh_token"):
        raise BadRequest("Google returned no refresh token; connect again with consent.")
    set_tenant(session, org_id)
    row = upsert_integration(session, org_id, KIND)
    secret = read_secret(row)
    users = secret.setdefault("users", {})
    users[str(user_id)] = {
        "access_token": tokens["access_token"],
        "refresh_token": tokens["refresh_token"],
        "expires_at": _expiry(tokens),
        "calendar_id": "primary",
    }
    write_secret(row, secret)
    row.status = "connected"
    session.flush()
    return org_id


def _user_tokens(
    session: Session, organization_id: uuid.UUID, user_id: uuid.UUID
) -> tuple[Integration, dict[str, Any], dict[str, Any]] | None:
    row = get_integration(session, organization_id, KIND)
    if row is None or row.status != "connected":
        return None
    secret = read_secret(row)
    tokens = secret.get("users", {}).get(str(user_id))
    return (row, secret, tokens) if tokens else None


def access_token(
    session: Session,
    organization_id: uuid.UUID,
    user_id: uuid.UUID,
    *,
    settings: MeetingsSettings | None = None,
) -> str | None:
    """A valid access token for the user, refreshed (and stored) when it expired."""
    settings = settings or get_meetings_settings()
    found = _user_tokens(session, organization_id, user_id)
    if found is None:
        return None
    row, secret, tokens = found
    if dt.datetime.fromisoformat(tokens["expires_at"]) > dt.datetime.now(dt.UTC):
        return str(tokens["access_token"])
    fresh = _token_request(
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}, settings
    )
    tokens["access_token"] = fresh["access_token"]
    tokens["expires_at"] = _expiry(fresh)
    # Google may rotate the refresh token; keep the newest.
    tokens["refresh_token"] = fresh.get("refresh_token", tokens["refresh_token"])
    write_secret(row, secret)
    session.flush()
    return str(tokens["access_token"])


def _api(
    method: str,
    path: str,
    token: str,
    settings: MeetingsSettings,
    *,
    json: dict[str, Any] | None = None,
    params: dict[str, str] | None = None,
) -> httpx.Response:
    with _client(settings) as client:
        return client.request(
            method,
            f"{settings.google_api_url.rstrip('/')}{path}",
            headers={"Authorization": f"Bearer {token}"},
            json=json,
            params=params,
        )


def busy_for_user(
    session: Session,
    organization_id: uuid.UUID,
    user_id: uuid.UUID,
    start: dt.datetime,
    end: dt.datetime,
    *,
    settings: MeetingsSettings | None = None,
) -> list[tuple[dt.datetime, dt.datetime]]:
    """The user's busy intervals from Google (POST /calendar/v3/freeBusy); [] if not connected."""
    settings = settings or get_meetings_settings()
    token = access_token(session, organization_id, user_id, settings=settings)
    if token is None:
        return []
    body = {
        "timeMin": as_utc(start).isoformat().replace("+00:00", "Z"),
        "timeMax": as_utc(end).isoformat().replace("+00:00", "Z"),
        "items": [{"id": "primary"}],
    }
    response = _api("POST", "/calendar/v3/freeBusy", token, settings, json=body)
    if response.status_code != 200:
        raise GoogleError(f"freeBusy: {response.status_code}")
    calendars = response.json().get("calendars", {})
    busy = calendars.get("primary", {}).get("busy", [])
    return [
        (
            as_utc(dt.datetime.fromisoformat(item["start"].replace("Z", "+00:00"))),
            as_utc(dt.datetime.fromisoformat(item["end"].replace("Z", "+00:00"))),
        )
        for item in busy
    ]


def create_event_for_meeting(
    session: Session, meeting_id: uuid.UUID, *, settings: MeetingsSettings | None = None
) -> str | None:
    """Put a booked meeting on the host's Google Calendar (with a Meet link when the
    integration asks for one); the event id is kept to follow later moves."""
    settings = settings or get_meetings_settings()
    meeting = session.get(Meeting, meeting_id)
    booking = session.scalar(select(Booking).where(Booking.meeting_id == meeting_id))
    if meeting is None or booking is None or meeting.organization_id is None:
        return None
    if booking.google_event_id or booking.released_at is not None:
        return booking.google_event_id
    token = access_token(session, meeting.organization_id, booking.user_id, settings=settings)
    if token is None:
        return None
    row = get_integration(session, meeting.organization_id, KIND)
    want_meet = bool(row and (row.settings or {}).get("create_meet_link", True))
    lead = session.get(Lead, meeting.lead_id) if meeting.lead_id else None
    body: dict[str, Any] = {
        "summary": f"Meeting with {lead.email if lead else 'prospect'}",
        "start": {"dateTime": as_utc(booking.starts_at).isoformat(), "timeZone": "UTC"},
        "end": {"dateTime": as_utc(booking.ends_at).isoformat(), "timeZone": "UTC"},
        "attendees": [{"email": lead.email}] if lead else [],
        "iCalUID": booking.ics_uid,
    }
    params = {"sendUpdates": "none"}
    if want_meet:
        body["conferenceData"] = {
            "createRequest": {
                "requestId": str(booking.id),
                "conferenceSolutionKey": {"type": "hangoutsMeet"},
            }
        }
        params["conferenceDataVersion"] = "1"
    response = _api(
        "POST", "/calendar/v3/calendars/primary/events", token, settings, json=body, params=params
    )
    if response.status_code not in (200, 201):
        raise GoogleError(f"events.insert: {response.status_code} {response.text[:200]}")
    event = response.json()
    booking.google_event_id = event["id"]
    link = event.get("hangoutLink") or next(
        (
            p.get("uri")
            for p in event.get("conferenceData", {}).get("entryPoints", [])
            if p.get("entryPointType") == "video"
        ),
        None,
    )
    if link:
        meeting.meeting_url = link
    session.flush()
    return str(event["id"])


def _parse_event_time(value: dict[str, Any]) -> dt.datetime | None:
    raw = value.get("dateTime")
    return as_utc(dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))) if raw else None


def sync_user_calendar(
    session: Session,
    organization_id: uuid.UUID,
    user_id: uuid.UUID,
    *,
    settings: MeetingsSettings | None = None,
) -> int:
    """Follow moves and cancellations of our events on the user's calendar (events.list
    with syncToken; a 410 means the token expired, so start a full sync again)."""
    from vectra.meetings.service import ACTIVE, MeetingStatus, transition
    from vectra.meetings.tasks import schedule_after_booking

    settings = settings or get_meetings_settings()
    token = access_token(session, organization_id, user_id, settings=settings)
    found = _user_tokens(session, organization_id, user_id)
    if token is None or found is None:
        return 0
    row, secret, tokens = found
    params: dict[str, str] = {"singleEvents": "true"}
    if tokens.get("sync_token"):
        params["syncToken"] = tokens["sync_token"]
    else:
        params["timeMin"] = (dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).isoformat()
    changed = 0
    while True:
        response = _api(
            "GET", "/calendar/v3/calendars/primary/events", token, settings, params=params
        )
        if response.status_code == 410:
            tokens.pop("sync_token", None)
            params = {
                "singleEvents": "true",
                "timeMin": (dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).isoformat(),
            }
            continue
        if response.status_code != 200:
            raise GoogleError(f"events.list: {response.status_code}")
        page = response.json()
        for item in page.get("items", []):
            booking = session.scalar(
                select(Booking).where(
                    Booking.organization_id == organization_id,
                    Booking.google_event_id == item.get("id"),
                )
            )
            if booking is None:
                continue
            meeting = session.get(Meeting, booking.meeting_id)
            if meeting is None or meeting.status not in ACTIVE:
                continue
            if item.get("status") == "cancelled":
                transition(session, meeting, MeetingStatus.CANCELED)
                changed += 1
                continue
            start, end = (
                _parse_event_time(item.get("start", {})),
                _parse_event_time(item.get("end", {})),
            )
            if start and end and naive_utc(start) != booking.starts_at:
                booking.starts_at, booking.ends_at = naive_utc(start), naive_utc(end)
                meeting.scheduled_at = booking.starts_at
                meeting.duration_minutes = int((end - start).total_seconds() // 60)
                booking.ics_sequence += 1
                session.flush()
                # The attendee gets the moved invitation; reminders follow the new time.
                schedule_after_booking(session, meeting, notify="request")
                changed += 1
        if page.get("nextPageToken"):
            params = {**params, "pageToken": page["nextPageToken"]}
            continue
        tokens["sync_token"] = page.get("nextSyncToken")
        break
    write_secret(row, secret)
    row.last_sync_at = utcnow()
    session.flush()
    return changed


def sync_all_calendars(database: Database) -> None:
    """Sync every connected user of every organization (the periodic job)."""
    with database.system_session() as session:
        rows = session.execute(
            select(Integration.organization_id).where(
                Integration.type == KIND, Integration.status == "connected"
            )
        ).all()
    for (org_id,) in rows:
        if org_id is None:
            continue
        with database.tenant_session(org_id) as session:
            row = get_integration(session, org_id, KIND)
            users = read_secret(row).get("users", {}) if row else {}
        for user_id in users:
            try:
                with database.tenant_session(org_id) as session, as_tenant(session, org_id):
                    sync_user_calendar(session, org_id, uuid.UUID(user_id))
            except (GoogleError, httpx.HTTPError):
                log.exception("google sync failed for user %s", user_id)
