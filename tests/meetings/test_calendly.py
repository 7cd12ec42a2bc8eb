"""Calendly: connect with a PAT (webhook subscription registered), signed deliveries only,
each processed once, mapped onto meetings; tested against a local Calendly-shaped server."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.factories import make_organization, make_user
from tests.meetings.conftest import World
from tests.meetings.fake_http import FakeApi, Request, fake_api
from vectra.accounts import sessions
from vectra.integrations.models import Integration
from vectra.meetings.config import get_meetings_settings
from vectra.meetings.models import CalendlyEventSeen, Meeting

USER_URI = "https://api.calendly.com/users/HOSTUSER"
ORG_URI = "https://api.calendly.com/organizations/ORG1"
EVENT_URI = "https://api.calendly.com/scheduled_events/EVT1"
WEBHOOK = "/api/v1/meetings/calendly/webhook"


@pytest.fixture
def calendly(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeApi]:
    with fake_api() as api:

        def me(request: Request) -> tuple[int, Any]:
            if request.headers.get("authorization") != "Bearer good-pat":
                return 401, {"title": "Unauthenticated", "message": "The access token is invalid"}
            return 200, {
                "resource": {
                    "uri": USER_URI,
                    "email": "grace@vendor.example",
                    "current_organization": ORG_URI,
                    "timezone": "Europe/Paris",
                }
            }

        def subscribe(request: Request) -> tuple[int, Any]:
            body = request.json()
            return 201, {
                "resource": {
                    "uri": "https://api.calendly.com/webhook_subscriptions/SUB1",
                    "callback_url": body["url"],
                    "state": "active",
                    "events": body["events"],
                    "scope": body["scope"],
                    "organization": body["organization"],
                    "user": body["user"],
                }
            }

        api.route("GET", "/users/me", me)
        api.route("POST", "/webhook_subscriptions", subscribe)
        monkeypatch.setenv("CALENDLY_API_URL", api.url)
        monkeypatch.delenv("CALENDLY_WEBHOOK_SIGNING_KEY", raising=False)
        get_meetings_settings.cache_clear()
        yield api
        get_meetings_settings.cache_clear()


def _auth(session: Session, user: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {sessions.issue_session(session, user).token}"}


def _connect(client: TestClient, session: Session, world: World) -> str:
    admin = make_user(session, world.org, role="admin")
    response = client.post(
        "/api/v1/meetings/calendly/connect",
        json={"personal_access_token": "good-pat"},
        headers=_auth(session, admin),
    )
    assert response.status_code == 200, response.text
    row = session.scalar(select(Integration).where(Integration.organization_id == world.org.id))
    assert row is not None
    from vectra.meetings.connections import read_secret

    return str(read_secret(row)["signing_key"])


def _delivery(event: str, email: str, **payload: Any) -> dict[str, Any]:
    return {
        "created_at": "2027-03-20T10:00:00.000000Z",
        "created_by": USER_URI,
        "event": event,
        "payload": {
            "uri": f"{EVENT_URI}/invitees/INV1",
            "email": email,
            "name": "Ada Lovelace",
            "rescheduled": False,
            "event": EVENT_URI,
            "scheduled_event": {
                "uri": EVENT_URI,
                "name": "Intro call",
                "start_time": "2027-03-29T07:00:00.000000Z",
                "end_time": "2027-03-29T07:30:00.000000Z",
                "location": {"type": "zoom", "join_url": "https://zoom.example/j/1"},
                "event_memberships": [{"user": USER_URI, "user_email": "nobody@vendor.example"}],
            },
            **payload,
        },
    }


def _signed(key: str, body: bytes, t: int | None = None) -> dict[str, str]:
    t = int(time.time()) if t is None else t
    v1 = hmac.new(key.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return {"Calendly-Webhook-Signature": f"t={t},v1={v1}", "content-type": "application/json"}


def test_connect_registers_the_documented_subscription(
    client: TestClient, session: Session, world: World, calendly: FakeApi
) -> None:
    key = _connect(client, session, world)
    (call,) = calendly.calls("POST", "/webhook_subscriptions")
    body = call.json()
    assert call.headers["authorization"] == "Bearer good-pat"
    assert body["url"].endswith(WEBHOOK)
    assert set(body["events"]) == {"invitee.created", "invitee.canceled", "invitee_no_show.created"}
    assert body["organization"] == ORG_URI and body["user"] == USER_URI
    assert body["scope"] == "user" and body["signing_key"] == key
    row = session.scalar(select(Integration).where(Integration.organization_id == world.org.id))
    assert row is not None and row.type == "calendly" and row.status == "connected"
    assert "good-pat" not in json.dumps(row.credentials)  # encrypted at rest


def test_a_bad_token_is_422_and_operators_may_not_connect(
    client: TestClient, session: Session, world: World, calendly: FakeApi
) -> None:
    admin = make_user(session, world.org, role="admin")
    bad = client.post(
        "/api/v1/meetings/calendly/connect",
        json={"personal_access_token": "wrong"},
        headers=_auth(session, admin),
    )
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "personal_access_token"
    denied = client.post(
        "/api/v1/meetings/calendly/connect",
        json={"personal_access_token": "good-pat"},
        headers=_auth(session, world.host),
    )
    assert denied.status_code == 403


def test_signed_deliveries_drive_the_meeting_and_replays_change_nothing(
    client: TestClient, session: Session, world: World, calendly: FakeApi
) -> None:
    key = _connect(client, session, world)
    created = json.dumps(_delivery("invitee.created", world.lead.email.upper())).encode()
    first = client.post(WEBHOOK, content=created, headers=_signed(key, created))
    assert first.status_code == 200 and first.json() == {"result": "created"}
    replay = client.post(WEBHOOK, content=created, headers=_signed(key, created))
    assert replay.json() == {"result": "duplicate"}
    meetings = list(session.scalars(select(Meeting).where(Meeting.organization_id == world.org.id)))
    assert len(meetings) == 1
    meeting = meetings[0]
    assert meeting.lead_id == world.lead.id
    assert meeting.calendly_event_id == EVENT_URI
    assert meeting.meeting_url == "https://zoom.example/j/1"
    assert meeting.duration_minutes == 30
    session.refresh(world.lead)
    assert world.lead.status == "meeting_scheduled"

    no_show = _delivery(
        "invitee_no_show.created",
        world.lead.email,
        no_show={"uri": "https://api.calendly.com/invitee_no_shows/NS1", "created_at": "x"},
    )
    body = json.dumps(no_show).encode()
    assert client.post(WEBHOOK, content=body, headers=_signed(key, body)).json() == {
        "result": "no_show"
    }
    session.refresh(meeting)
    assert (meeting.status, meeting.no_show) == ("no_show", True)
    canceled = json.dumps(_delivery("invitee.canceled", world.lead.email)).encode()
    # a late cancel of a meeting already marked no-show does not rewrite history
    assert client.post(WEBHOOK, content=canceled, headers=_signed(key, canceled)).json() == {
        "result": "ignored"
    }
    seen = session.scalar(
        select(func.count())
        .select_from(CalendlyEventSeen)
        .where(CalendlyEventSeen.organization_id == world.org.id)
    )
    assert seen == 3


def test_cancel_maps_to_canceled(
    client: TestClient, session: Session, world: World, calendly: FakeApi
) -> None:
    key = _connect(client, session, world)
    for event in ("invitee.created", "invitee.canceled"):
        body = json.dumps(_delivery(event, world.lead.email)).encode()
        assert client.post(WEBHOOK, content=body, headers=_signed(key, body)).status_code == 200
    meeting = session.scalar(select(Meeting).where(Meeting.organization_id == world.org.id))
    assert meeting is not None and meeting.status == "canceled"


@pytest.mark.parametrize("attack", ["unsigned", "forged", "stale", "tampered", "garbled"])
def test_unsigned_forged_stale_deliveries_are_refused_and_nothing_is_stored(
    client: TestClient, session: Session, world: World, calendly: FakeApi, attack: str
) -> None:
    key = _connect(client, session, world)
    body = json.dumps(_delivery("invitee.created", world.lead.email)).encode()
    headers = {
        "unsigned": {"content-type": "application/json"},
        "forged": _signed("not-the-key", body),
        "stale": _signed(key, body, t=int(time.time()) - 301),
        "tampered": _signed(key, body.replace(b"Ada", b"Eve")),
        "garbled": {"Calendly-Webhook-Signature": "v1=abc"},
    }[attack]
    response = client.post(WEBHOOK, content=body, headers=headers)
    assert response.status_code == 400
    assert session.scalar(select(func.count()).select_from(Meeting)) == 0
    assert session.scalar(select(func.count()).select_from(CalendlyEventSeen)) == 0


def test_the_installation_key_also_verifies(
    client: TestClient, session: Session, world: World, calendly: FakeApi,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    _connect(client, session, world)
    monkeypatch.setenv("CALENDLY_WEBHOOK_SIGNING_KEY", "installation-key")
    get_meetings_settings.cache_clear()
    body = json.dumps(_delivery("invitee.created", world.lead.email)).encode()
    assert client.post(WEBHOOK, content=body, headers=_signed("installation-key", body)).json() == {
        "result": "created"
    }


def test_leads_match_only_within_the_connected_organization(
    client: TestClient, session: Session, world: World, calendly: FakeApi
) -> None:
    from tests.factories import make_campaign, make_lead

    other = make_organization(session)
    stranger = make_lead(session, make_campaign(session, other), email="ada@else.example")
    key = _connect(client, session, world)
    body = json.dumps(_delivery("invitee.created", stranger.email)).encode()
    assert client.post(WEBHOOK, content=body, headers=_signed(key, body)).status_code == 200
    meeting = session.scalar(select(Meeting).where(Meeting.calendly_event_id == EVENT_URI))
    assert meeting is not None
    assert meeting.organization_id == world.org.id and meeting.lead_id is None
    session.refresh(stranger)
    assert stranger.status == "new"
