"""Inbound tests: a tenant with sent emails, the real aiosmtpd server, and the job runner."""

from __future__ import annotations

import datetime as dt
import smtplib
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.factories import make_campaign, make_lead, make_organization
from vectra.accounts.actor import system_actor
from vectra.db.engine import Database
from vectra.mail import mailboxes
from vectra.mail.inbound import tasks as inbound_tasks
from vectra.mail.inbound.smtp_server import InboundHandler, start_inbound_server
from vectra.mail.mailbox_schemas import MailboxCreate
from vectra.worker.database import use_database

BOUNCE_DOMAIN = "bounce.vectra.test"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class World:
    org_id: uuid.UUID
    campaign_id: uuid.UUID
    mailbox_id: uuid.UUID
    leads: list[Any]  # (lead_id, email)
    emails: list[uuid.UUID]  # one sent email per lead
    message_ids: list[str]
    queued: list[uuid.UUID]  # one approved, unsent follow-up per lead


def make_world(
    session: Session, *, leads: int = 1, addresses: list[str] | None = None, **mailbox: Any
) -> World:
    """An active campaign whose contacted leads each got one sent email and have one queued."""
    org = make_organization(session)
    campaign = make_campaign(session, org, status="active")
    box = mailboxes.create_mailbox(
        session,
        system_actor(org.id),
        MailboxCreate(
            name="box",
            from_address="ann@acme-sender.com",
            smtp_host="127.0.0.1",
            smtp_port=25,
            **mailbox,
        ),
    )
    world = World(org.id, campaign.id, box.id, [], [], [], [])
    sent_at = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(days=1)
    for i in range(leads):
        address = (addresses or [])[i] if addresses and i < len(addresses) else None
        lead = make_lead(
            session,
            campaign,
            status="contacted",
            email=address or f"lead{i}-{uuid.uuid4().hex[:6]}@prospect-mail.com",
            company_name="Prospect Co",
        )
        message_id = f"<{uuid.uuid4().hex}@acme-sender.com>"
        sent = _email(session, org.id, campaign.id, lead.id, box.id, message_id, sent_at)
        queued = _email(session, org.id, campaign.id, lead.id, None, None, None)
        world.leads.append((lead.id, lead.email))
        world.emails.append(sent)
        world.message_ids.append(message_id)
        world.queued.append(queued)
    session.flush()
    return world


def _email(
    session: Session,
    org_id: uuid.UUID,
    campaign_id: uuid.UUID,
    lead_id: uuid.UUID,
    mailbox_id: uuid.UUID | None,
    message_id: str | None,
    sent_at: dt.datetime | None,
) -> uuid.UUID:
    sent = sent_at is not None
    return uuid.UUID(
        str(
            session.execute(
                text(
                    "INSERT INTO emails (organization_id, campaign_id, lead_id, subject, body, "
                    "status, send_state, mailbox_id, message_id, sent_at, sequence_step, "
                    "scheduled_for) VALUES (:o, :c, :l, 'Quick question', 'Hi there', :st, "
                    ":ss, :m, :mid, :sent, :step, :sched) RETURNING id"
                ),
                {
                    "o": org_id,
                    "c": campaign_id,
                    "l": lead_id,
                    "st": "sent" if sent else "approved",
                    "ss": "sent" if sent else None,
                    "m": mailbox_id,
                    "mid": message_id,
                    "sent": sent_at,
                    "step": 1 if sent else 2,
                    "sched": None if sent else dt.datetime(2026, 1, 5, 9, 0),
                },
            ).scalar_one()
        )
    )


@contextmanager
def inbound_server(database: Database) -> Iterator[tuple[int, InboundHandler]]:
    """The real inbound SMTP server on a free port, jobs bound to `database`."""
    port = free_port()
    use_database(database)
    controller, handler = start_inbound_server(database, port=port, domains=[BOUNCE_DOMAIN])
    try:
        yield port, handler
    finally:
        controller.stop()
        use_database(None)


def deliver(port: int, raw: bytes, *, to: str, mail_from: str = "MAILER-DAEMON@mx.example") -> str:
    """Hand `raw` to the server like an MTA; the server's reply text (queued as <id>)."""
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.ehlo("mx.example")
        code, reply = client.mail(mail_from)
        assert code == 250, reply
        code, reply = client.rcpt(to)
        assert code == 250, reply
        code, reply = client.data(raw)
        assert code == 250, reply
        return reply.decode()


def run_jobs(database: Database, task_name: str = "process_inbound_message") -> list[Any]:
    """Run every queued job of `task_name` once, as the worker would, and mark it done."""
    results = []
    with database.system_session() as session:
        jobs = session.execute(
            text(
                "SELECT id, args FROM procrastinate_jobs WHERE task_name = :t AND status = 'todo' "
                "ORDER BY id"
            ),
            {"t": task_name},
        ).all()
    task = {
        "process_inbound_message": inbound_tasks.process_inbound_message,
        "propose_meeting_for_reply": inbound_tasks.propose_meeting_for_reply,
    }[task_name]
    use_database(database)
    try:
        for job in jobs:
            key = (database.describe(), job.id)
            if key in _RAN:
                continue
            _RAN.add(key)
            results.append(task(**job.args))
    finally:
        use_database(None)
    return results


_RAN: set[tuple[str, int]] = set()


def reply_message(
    *,
    sender: str,
    body: str,
    in_reply_to: str | None,
    message_id: str | None = None,
    subject: str = "Re: Quick question",
    extra_headers: str = "",
    date: str = "Mon, 12 Jan 2026 10:00:00 +0000",
) -> bytes:
    headers = [
        f"From: {sender}",
        "To: Ann Seller <ann@acme-sender.com>",
        f"Subject: {subject}",
        f"Date: {date}",
        f"Message-ID: {message_id or f'<{uuid.uuid4().hex}@prospect-mail.com>'}",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: 8bit",
    ]
    if in_reply_to:
        headers += [f"In-Reply-To: {in_reply_to}", f"References: {in_reply_to}"]
    head = "\r\n".join(headers) + ("\r\n" + extra_headers.strip() if extra_headers else "")
    return (head + "\r\n\r\n" + body.replace("\n", "\r\n")).encode("utf-8")
