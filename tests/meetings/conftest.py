"""Meetings fixtures: an org with a host and a lead, and a local SMTP sink."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy.orm import Session

from tests.factories import make_campaign, make_lead, make_organization, make_user
from vectra.accounts.models import Organization, User
from vectra.leads.models import Lead
from vectra.meetings.config import get_meetings_settings


@dataclass
class World:
    org: Organization
    host: User
    lead: Lead


@pytest.fixture
def world(session: Session) -> World:
    org = make_organization(session)
    host = make_user(session, org, role="operator", first_name="Grace", last_name="Host")
    campaign = make_campaign(session, org)
    lead = make_lead(
        session, campaign, status="contacted", enrichment_data={"timezone": "America/New_York"}
    )
    return World(org=org, host=host, lead=lead)


class _Sink:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp_sink(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Sink]:
    sink = _Sink()
    port = _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("VECTRA_SYSTEM_SMTP_PORT", str(port))
    get_meetings_settings.cache_clear()
    try:
        yield sink
    finally:
        controller.stop()
        get_meetings_settings.cache_clear()
