"""Shared setup for sending tests: a local SMTP sink, mailboxes and approved emails."""

from __future__ import annotations

import email
import email.policy
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.factories import make_campaign, make_lead, make_organization
from vectra.accounts.actor import system_actor
from vectra.db.tenancy import as_system
from vectra.mail import dkim, mailboxes
from vectra.mail.mailbox_schemas import MailboxCreate
from vectra.mail.models import Email
from vectra.mail.sink import SinkHandler, start_sink


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_sink(folder: Path, **kwargs: Any) -> Iterator[tuple[int, SinkHandler]]:
    port = free_port()
    controller, handler = start_sink(folder, port=port, **kwargs)
    try:
        yield port, handler
    finally:
        controller.stop()


def received(folder: Path) -> list[email.message.Message]:
    return [
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
        for p in sorted(folder.glob("*.eml"))
    ]


def setup_campaign(
    session: Session,
    port: int,
    *,
    daily_limit: int = 1000,
    mailbox_cap: int = 1000,
    mailboxes_count: int = 1,
    leads: int = 1,
    security: str = "none",
    with_dkim: bool = True,
    **mailbox_fields: Any,
) -> dict[str, Any]:
    """An active campaign, its mailbox(es) on the local sink, qualified leads, approved emails."""
    with as_system(session):
        org = make_organization(session, settings={"postal_address": "1 Main St"})
        actor = system_actor(org.id)
        campaign = make_campaign(session, org, status="active", daily_limit=daily_limit)
        boxes = []
        for i in range(mailboxes_count):
            fields: dict[str, Any] = {
                "name": f"box{i}",
                "from_name": "Ann Seller",
                "from_address": f"ann{i}@acme-sender.com",
                "smtp_host": "127.0.0.1",
                "smtp_port": port,
                "smtp_security": security,
                "daily_cap": mailbox_cap,
                "min_interval_seconds": 0,
                "jitter_seconds": 0,
            } | mailbox_fields
            boxes.append(mailboxes.create_mailbox(session, actor, MailboxCreate(**fields)))
        mailboxes.set_campaign_mailboxes(session, actor, campaign.id, [b.id for b in boxes])
        key = dkim.ensure_domain_key(session, actor, "acme-sender.com") if with_dkim else None
        emails = []
        for i in range(leads):
            lead = make_lead(
                session,
                campaign,
                status="qualified",
                enrichment_data={"timezone": "UTC"},
                email=f"lead{i}-{uuid.uuid4().hex[:6]}@prospect-mail.com",
            )
            row = Email(
                organization_id=org.id,
                campaign_id=campaign.id,
                lead_id=lead.id,
                subject=f"Hello {i}",
                body=f"Plain body {i}",
                body_html=f"<p>HTML body {i}</p>",
                status="approved",
                sequence_step=0,  # the first email of the sequence
            )
            session.add(row)
            emails.append(row)
        # A sending window always open: the tests run at any hour.
        campaign.target_criteria = {
            **campaign.target_criteria,
            "sending": {
                "window": {"weekdays": list(range(7)), "start": "00:00", "end": "23:59:59"}
            },
        }
        session.flush()
    return {
        "org": org,
        "actor": actor,
        "campaign": campaign,
        "mailboxes": boxes,
        "emails": emails,
        "dkim": key,
    }


def email_state(session: Session, email_id: uuid.UUID) -> Any:
    return session.execute(
        text(
            "SELECT status, send_state, message_id, mailbox_id, possible_duplicate, send_error "
            "FROM emails WHERE id = :i"
        ),
        {"i": email_id},
    ).one()
