"""Google Calendar against a local server speaking its documented shapes: OAuth code exchange
and refresh, freeBusy hiding busy slots, event insert with a Meet link, incremental sync."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.factories import make_organization, make_user
from tests.meetings.conftest import World
from tests.meetings.fake_http import FakeApi, Request, fake_api
from vectra.accounts import sessions
from vectra.accounts.actor import system_actor
from vectra.integrations.models import Integration
from vectra.meetings import booking, google
from vectra.meetings.availability import set_availability
from vectra.meetings.config import get_meetings_settings
from vectra.meetings.connections import read_secret, write_secret
from vectra.meetings.models import Booking

NOW = dt.datetime(2027, 3, 26, 6, tzinfo=dt.UTC)


@pytest.fixture
def gapi(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeApi]:
    with fake_api() as api:
        state: dict[str, Any] = {"issued": 0, "items": [], "sync_gone": False}

        def token(request: Request) -> tuple[int, Any]:
            form = request.form()
            if form.get("client_secret") != "shh":
                return 401, {"error": "invalid_client"}
            state["issued"] += 1
            if form["grant_type"] == "authorization_code" and form["code"] == "the-code":
                return 200, {
                    "access_token": "at-1",
                    "expires_in": 3599,
                    "refresh_token": "rt-1",
                    "scope": google.SCOPE,
                    "token_type": "Bearer",
                }
            if form["grant_type"] == "refresh_token" and form["refresh_token"] == "rt-1":
                return 200, {"access_token": "at-2", "expires_in": 3599, "token_type": "Bearer"}
            return 400, {"error": "invalid_grant"}

        def freebusy(request: Request) -> tuple[int, Any]:
            body = request.json()
            return 200, {
                "kind": "calendar#freeBusy",
                "timeMin": body["timeMin"],
                "timeMax": body["timeMax"],
                "calendars": {
                    "primary": {
                        "busy": [{"start": "2027-03-29T07:00:00Z", "end": "2027-03-29T08:00:00Z"}]
                    }
                },
            }

        def insert(request: Request) -> tuple[int, Any]:
            body = request.json()
            event = {"id": "gev1", "status": "confirmed", **body}
            if "conferenceData" in body:
                event["hangoutLink"] = "https://meet.google.com/abc-defg-hij"
                event["conferenceData"] = {
                    "entryPoints": [
                        {"entryPointType": "video", "uri": "https://meet.google.com/abc-defg-hij"}
                    ]
                }
            return 200, event

        def events(request: Request) -> tuple[int, Any]:
            if "syncToken" in request.query and state["sync_gone"]:
                state["sync_gone"] = False
                return 410, {"error": {"code": 410, "message": "Sync token is no longer valid"}}
            items, state["items"] = state["items"], []
            return 200, {"kind": "calendar#events", "items": items, "nextSyncToken": "sync-2"}

        api.route("POST", "/token", token)
        api.route("POST", "/calendar/v3/freeBusy", freebusy)
        api.route("POST", "/calendar/v3/calendars/primary/events", insert)
        api.route("GET", "/calendar/v3/calendars/primary/events", events)
        api.state = state  # type: ignore[attr-defined]
        monkeypatch.setenv("GOOGLE_CLIENT_ID", "cid")
        monkeypatch.setenv("GOOGLE_CLIENT_SECRET", "shh")
        monkeypatch.setenv("GOOGLE_TOKEN_URL", f"{api.url}/token")
        monkeypatch.setenv("GOOGLE_AUTH_URL", f"{api.url}/auth")
        monkeypatch.setenv("GOOGLE_API_URL", api.url)
        get_meetings_settings.cache_clear()
        yield api
        get_meetings_settings.cache_clear()


def _connect(client: TestClient, session: Session, world: World) -> None:
    token = sessions.issue_session(session, world.host).token
    headers = {"Authorization": f"Bearer {token}"}
    response = client.get("/api/v1/meetings/google/authorize", headers=headers)
    assert response.status_code == 200
    url = urlparse(response.json()["url"])
    query = parse_qs(url.query)
    assert query["access_type"] == ["offline"] and query["scope"] == [google.SCOPE]
    assert query["redirect_uri"][0].endswith("/api/v1/meetings/google/callback")
    callback = client.get(
        "/api/v1/meetings/google/callback",
        params={"code": "the-code", "state": query["state"][0]},
        headers=headers,
    )
    assert callback.status_code == 200, callback.text


def _paris(session: Session, world: World) -> None:
    set_availability(
        session, system_actor(world.org.id),
        {"timezone": "Europe/Paris", "working_hours": {"mon": [["09:00", "11:00"]]},
         "minimum_notice_minutes": 0},
        user_id=world.host.id,
    )  # fmt: skip


def test_oauth_stores_tokens_encrypted_and_a_forged_state_is_refused(
    client: TestClient, session: Session, world: World, gapi: FakeApi
) -> None:
    _connect(client, session, world)
    row = session.scalar(select(Integration).where(Integration.organization_id == world.org.id))
    assert row is not None and (row.type, row.status) == ("google_calendar", "connected")
    assert "rt-1" not in json.dumps(row.credentials)
    assert read_secret(row)["users"][str(world.host.id)]["refresh_token"] == "rt-1"
    headers = {"Authorization": f"Bearer {sessions.issue_session(session, world.host).token}"}
    forged = client.get(
        "/api/v1/meetings/google/callback",
        params={"code": "the-code", "state": "made.up"},
        headers=headers,
    )
    assert forged.status_code == 400


def test_a_state_only_completes_for_the_user_who_started(
    client: TestClient, session: Session, world: World, gapi: FakeApi
) -> None:
    # An attacker mints a state in their own organization and sends the victim the consent
    # link: the victim's Google tokens must never land in the attacker's organization.
    attacker_org = make_organization(session)
    attacker = make_user(session, attacker_org, role="admin")
    attacker_headers = {
        "Authorization": f"Bearer {sessions.issue_session(session, attacker).token}"
    }
    url = client.get("/api/v1/meetings/google/authorize", headers=attacker_headers).json()["url"]
    state = parse_qs(urlparse(url).query)["state"][0]
    victim = {"Authorization": f"Bearer {sessions.issue_session(session, world.host).token}"}
    params = {"code": "victims-code", "state": state}
    assert client.get("/api/v1/meetings/google/callback", params=params).status_code == 401
    refused = client.get("/api/v1/meetings/google/callback", params=params, headers=victim)
    assert refused.status_code == 400
    assert "another user" in refused.json()["error"]["message"]
    stored = session.scalars(
        select(Integration).where(Integration.organization_id.in_([attacker_org.id, world.org.id]))
    ).all()
    assert stored == []
    assert not [r for r in gapi.requests if r.path == "/token"]


def test_busy_times_hide_slots_and_expired_tokens_refresh(
    client: TestClient, session: Session, world: World, gapi: FakeApi
) -> None:
    _connect(client, session, world)
    _paris(session, world)
    row = session.scalar(select(Integration).where(Integration.organization_id == world.org.id))
    assert row is not None
    secret = read_secret(row)
    secret["users"][str(world.host.id)]["expires_at"] = "2000-01-01T00:00:00+00:00"
    write_secret(row, secret)
    session.flush()
    ctx = booking.open_booking_link(
        session, booking.make_booking_token(world.lead.id, world.host.id)
    )
    starts = [s.start.isoformat() for s in booking.slots_for(session, ctx, now=NOW, days=4)]
    # Mon 29 March 09:00-11:00 Paris = 07:00-09:00Z; Google says 07:00-08:00Z is busy.
    assert starts == ["2027-03-29T08:00:00+00:00", "2027-03-29T08:30:00+00:00"]
    (call,) = gapi.calls("POST", "/calendar/v3/freeBusy")
    assert call.headers["authorization"] == "Bearer at-2"  # refreshed
    assert call.json()["items"] == [{"id": "primary"}]
    assert read_secret(row)["users"][str(world.host.id)]["refresh_token"] == "rt-1"


def test_a_booking_becomes_a_google_event_with_meet_and_follows_moves(
    client: TestClient, session: Session, world: World, gapi: FakeApi
) -> None:
    _connect(client, session, world)
    _paris(session, world)
    token = booking.make_booking_token(world.lead.id, world.host.id)
    meeting = booking.book_slot(session, token, "2027-03-29T08:00:00+00:00", now=NOW)
    assert google.create_event_for_meeting(session, meeting.id) == "gev1"
    (call,) = gapi.calls("POST", "/calendar/v3/calendars/primary/events")
    body = call.json()
    assert call.query["conferenceDataVersion"] == ["1"]
    assert body["conferenceData"]["createRequest"]["conferenceSolutionKey"] == {
        "type": "hangoutsMeet"
    }
    assert body["attendees"] == [{"email": world.lead.email}]
    assert meeting.meeting_url == "https://meet.google.com/abc-defg-hij"
    # the host drags the event an hour later in Google; then deletes it
    gapi.state["items"] = [  # type: ignore[attr-defined]
        {
            "id": "gev1",
            "status": "confirmed",
            "start": {"dateTime": "2027-03-29T11:00:00+02:00"},
            "end": {"dateTime": "2027-03-29T11:30:00+02:00"},
        }
    ]
    assert google.sync_user_calendar(session, world.org.id, world.host.id) == 1
    row = session.scalar(select(Booking).where(Booking.meeting_id == meeting.id))
    assert row is not None
    assert meeting.scheduled_at == dt.datetime(2027, 3, 29, 9)
    assert (row.starts_at, row.ics_sequence) == (dt.datetime(2027, 3, 29, 9), 1)
    gapi.state["sync_gone"] = True  # type: ignore[attr-defined]
    gapi.state["items"] = [{"id": "gev1", "status": "cancelled"}]  # type: ignore[attr-defined]
    assert google.sync_user_calendar(session, world.org.id, world.host.id) == 1
    assert meeting.status == "canceled" and row.released_at is not None
    lists = gapi.calls("GET", "/calendar/v3/calendars/primary/events")
    assert "syncToken" not in lists[0].query and lists[1].query["syncToken"] == ["sync-2"]
    assert "timeMin" in lists[-1].query  # the 410 restarted a full sync
