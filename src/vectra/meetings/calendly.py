"""Calendly: connect with a personal access token, register the webhook subscription, and
turn signed deliveries (invitee.created / invitee.canceled / invitee_no_show.created) into
meetings, each delivery processed once.

Signature (Calendly-Webhook-Signature: `t=<unix>,v1=<hex>`): HMAC-SHA256 of `t + "." + body`
under the signing key given when the subscription was created (or the installation-wide
CALENDLY_WEBHOOK_SIGNING_KEY). Anything unsigned, forged or older than the tolerance is
refused before a single row is touched.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets
import time
import uuid
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from vectra.accounts.actor import Actor
from vectra.accounts.models import User
from vectra.db.tenancy import set_tenant
from vectra.errors import BadRequest, InvalidInput
from vectra.integrations.models import Integration
from vectra.leads.models import Lead
from vectra.meetings.config import MeetingsSettings, get_meetings_settings
from vectra.meetings.connections import read_secret, upsert_integration, write_secret
from vectra.meetings.lead_hooks import set_lead_status_for_meeting, stop_lead_sequence
from vectra.meetings.models import CalendlyEventSeen, Meeting
from vectra.meetings.service import ACTIVE, MeetingStatus, transition
from vectra.settings import get_settings
from vectra.utc import naive_utc

KIND = "calendly"
EVENTS = ["invitee.created", "invitee.canceled", "invitee_no_show.created"]


def webhook_url() -> str:
    return f"{get_settings().base_url.rstrip('/')}/api/v1/meetings/calendly/webhook"


def connect_calendly(
    session: Session,
    actor: Actor,
    personal_access_token: str,
    *,
    settings: MeetingsSettings | None = None,
) -> Integration:
    """Check the token (GET /users/me), register our webhook subscription, store both."""
    settings = settings or get_meetings_settings()
    token = personal_access_token.strip()
    if not token:
        raise InvalidInput("A personal access token is required.", field="personal_access_token")
    api = settings.calendly_api_url.rstrip("/")
    headers = {"Authorization": f"Bearer {token}"}
    signing_key = settings.calendly_webhook_signing_key or secrets.token_urlsafe(32)
    with httpx.Client(timeout=settings.http_timeout_s) as client:
        me = client.get(f"{api}/users/me", headers=headers)
        if me.status_code in (401, 403):
            raise InvalidInput("Calendly refused this token.", field="personal_access_token")
        if me.status_code != 200:
            raise BadRequest(f"Calendly answered {me.status_code} to /users/me.")
        user = me.json()["resource"]
        body = {
            "url": webhook_url(),
            "events": EVENTS,
            "organization": user["current_organization"],
            "user": user["uri"],
            "scope": "user",
            "signing_key": signing_key,
        }
        created = client.post(f"{api}/webhook_subscriptions", headers=headers, json=body)
        if created.status_code not in (200, 201):
            raise BadRequest(f"Calendly refused the webhook subscription ({created.status_code}).")
        subscription = created.json()["resource"]
    row = upsert_integration(session, actor.organization_id, KIND)
    write_secret(row, {"personal_access_token": token, "signing_key": signing_key})
    row.settings = {
        "user_uri": user["uri"],
        "organization_uri": user["current_organization"],
        "user_email": user.get("email"),
        "webhook_subscription_uri": subscription["uri"],
    }
    row.status = "connected"
    session.flush()
    return row


def parse_signature(header: str | None) -> tuple[int, str]:
    """(t, v1) from the header; BadRequest when it is missing or malformed."""
    if not header:
        raise BadRequest("Missing Calendly-Webhook-Signature.")
    parts = dict(p.strip().split("=", 1) for p in header.split(",") if "=" in p)
    try:
        return int(parts["t"]), parts["v1"]
    except (KeyError, ValueError) as exc:
        raise BadRequest("Malformed Calendly-Webhook-Signature.") from exc


def _sign(key: str, t: int, body: bytes) -> str:
    return hmac.new(key.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()


def _integration_for(session: Session, payload: dict[str, Any]) -> Integration | None:
    """The connected integration this delivery is about (by Calendly user / organization)."""
    data = payload.get("payload") or {}
    event = data.get("scheduled_event") or {}
    candidates = {payload.get("created_by")} | {
        m.get("user") for m in event.get("event_memberships", []) if isinstance(m, dict)
    }
    candidates.discard(None)
    rows = session.scalars(
        select(Integration).where(Integration.type == KIND, Integration.status == "connected")
    )
    for row in rows:
        if (row.settings or {}).get("user_uri") in candidates:
            return row
    return None


def verify_and_route(
    session: Session,
    body: bytes,
    signature_header: str | None,
    *,
    now: float | None = None,
    settings: MeetingsSettings | None = None,
) -> tuple[dict[str, Any], Integration]:
    """The verified delivery and its integration; BadRequest (400) for anything else."""
    settings = settings or get_meetings_settings()
    t, given = parse_signature(signature_header)
    if abs((now or time.time()) - t) > settings.calendly_webhook_tolerance_s:
        raise BadRequest("Stale Calendly delivery (timestamp outside the tolerance).")
    try:
        payload = json.loads(body)
    except ValueError as exc:
        raise BadRequest("The body is not JSON.") from exc
    if not isinstance(payload, dict):
        raise BadRequest("The body is not a JSON object.")
    set_tenant(session, None, system=True)
    row = _integration_for(session, payload)
    keys = [settings.calendly_webhook_signing_key] if settings.calendly_webhook_signing_key else []
    if row is not None:
        keys.append(str(read_secret(row).get("signing_key") or ""))
    if not any(k and hmac.compare_digest(_sign(k, t, body), given) for k in keys):
        raise BadRequest("Calendly signature does not match.")
    if row is None or row.organization_id is None:
        raise BadRequest("No connected Calendly account matches this delivery.")
    set_tenant(session, row.organization_id)
    return payload, row


def _event_key(payload: dict[str, Any]) -> str:
    data = payload.get("payload") or {}
    no_show = data.get("no_show") or {}
    parts = [str(payload.get("event")), str(data.get("uri"))]
    if payload.get("event") == "invitee_no_show.created":
        parts.append(str(no_show.get("uri") or ""))
    return ":".join(parts)


def _parse_time(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def handle_delivery(
    session: Session,
    body: bytes,
    signature_header: str | None,
    *,
    now: float | None = None,
    settings: MeetingsSettings | None = None,
) -> str:
    """Verify, deduplicate and apply one delivery; returns what happened."""
    payload, row = verify_and_route(session, body, signature_header, now=now, settings=settings)
    assert row.organization_id is not None
    org_id = row.organization_id
    key = _event_key(payload)
    try:
        with session.begin_nested():
            session.add(
                CalendlyEventSeen(
                    organization_id=org_id, event_key=key, event_type=str(payload.get("event"))
                )
            )
            session.flush()
    except IntegrityError:
        return "duplicate"
    event = payload.get("event")
    data = payload.get("payload") or {}
    if event == "invitee.created":
        return _invitee_created(session, org_id, row, data)
    if event == "invitee.canceled":
        return _set_status(session, org_id, data, MeetingStatus.CANCELED)
    if event == "invitee_no_show.created":
        return _set_status(session, org_id, data, MeetingStatus.NO_SHOW)
    return "ignored"


def _scheduled_event_uri(data: dict[str, Any]) -> str | None:
    event = data.get("scheduled_event")
    if isinstance(event, dict):
        return event.get("uri")
    return data.get("event") if isinstance(data.get("event"), str) else None


def _invitee_created(
    session: Session, org_id: uuid.UUID, row: Integration, data: dict[str, Any]
) -> str:
    event = data.get("scheduled_event") or {}
    uri = event.get("uri")
    email = str(data.get("email") or "").strip().lower()
    if not uri or not event.get("start_time") or not event.get("end_time"):
        return "ignored"
    if session.scalar(
        select(Meeting.id).where(
            Meeting.organization_id == org_id, Meeting.calendly_event_id == uri
        )
    ):
        return "duplicate"
    lead = session.scalar(
        select(Lead)
        .where(Lead.organization_id == org_id, func.lower(Lead.email) == email)
        .order_by(Lead.updated_at.desc().nulls_last())
        .limit(1)
    )
    start, end = _parse_time(event["start_time"]), _parse_time(event["end_time"])
    host_email = next(
        (m.get("user_email") for m in event.get("event_memberships", []) if m.get("user_email")),
        (row.settings or {}).get("user_email"),
    )
    host = (
        session.scalar(
            select(User).where(
                User.organization_id == org_id, func.lower(User.email) == str(host_email).lower()
            )
        )
        if host_email
        else None
    )
    location = event.get("location") or {}
    meeting = Meeting(
        organization_id=org_id,
        lead_id=lead.id if lead else None,
        campaign_id=lead.campaign_id if lead else None,
        user_id=host.id if host else None,
        scheduled_at=naive_utc(start),
        duration_minutes=int((end - start).total_seconds() // 60),
        meeting_url=location.get("join_url") if isinstance(location, dict) else None,
        calendly_event_id=uri,
        status=MeetingStatus.SCHEDULED.value,
    )
    session.add(meeting)
    session.flush()
    if lead is not None:
        set_lead_status_for_meeting(session, lead, "meeting_scheduled")
        stop_lead_sequence(session, lead.id, "meeting")
    return "created"


def _set_status(
    session: Session, org_id: uuid.UUID, data: dict[str, Any], status: MeetingStatus
) -> str:
    uri = _scheduled_event_uri(data)
    meeting = session.scalar(
        select(Meeting).where(Meeting.organization_id == org_id, Meeting.calendly_event_id == uri)
    )
    if meeting is None:
        return "unknown_meeting"
    if status == MeetingStatus.CANCELED and meeting.status not in ACTIVE:
        return "ignored"
    transition(session, meeting, status)
    return status.value
