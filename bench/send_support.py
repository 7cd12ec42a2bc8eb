"""Shared by bench/send.py and bench/send_crash.py: an embedded PostgreSQL in a temp dir,
a seeded campaign, an in-process SMTP sink, and sender worker processes."""

from __future__ import annotations

import asyncio
import email
import os
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("VECTRA_SECRET_KEY", "bench-secret-key-not-for-production-0123456789")
os.environ.setdefault("VECTRA_LOG_LEVEL", "WARNING")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from vectra.accounts.actor import system_actor
from vectra.accounts.models import Organization
from vectra.campaigns.models import Campaign
from vectra.db import migrate
from vectra.db.embedded import (
    OWNER_ROLE,
    EmbeddedServer,
    ensure_database,
    ensure_roles,
    start_embedded_server,
)
from vectra.db.engine import Database, DatabaseUrls
from vectra.db.tenancy import set_tenant
from vectra.mail import delivery, dkim, mailboxes
from vectra.mail.mailbox_schemas import MailboxCreate
from vectra.mail.sink import SinkHandler, start_sink

APP_ROLE = "vectra_app"
DOMAIN = "acme-sender.com"
ALWAYS_OPEN = {"weekdays": list(range(7)), "start": "00:00", "end": "23:59:59"}


def start_database(root: Path) -> tuple[EmbeddedServer, DatabaseUrls]:
    server = start_embedded_server(root / "pg")
    ensure_roles(server, app_role=APP_ROLE)
    ensure_database(server, "bench", app_role=APP_ROLE)
    urls = DatabaseUrls(
        owner=server.uri(user=OWNER_ROLE, database="bench"),
        app=server.uri(user=APP_ROLE, database="bench"),
        app_role=APP_ROLE,
    )
    database = Database(urls, pool_size=2)
    migrate.upgrade(database)
    database.dispose()
    return server, urls


@dataclass
class Seeded:
    campaign_id: uuid.UUID
    daily_limit: int
    mailbox_caps: dict[str, int]  # from address -> cap
    dkim_record: bytes
    selector: str
    emails: int


def seed(
    urls: DatabaseUrls,
    *,
    port: int,
    emails: int,
    daily_limit: int,
    mailbox_caps: list[int],
) -> Seeded:
    """One organization on the scale plan, an active campaign, mailboxes, approved emails."""
    database = Database(urls, pool_size=2)
    with database.sessions() as session:
        set_tenant(session, None, system=True)
        with session.begin():
            org = Organization(name="Bench", slug=f"bench-{uuid.uuid4().hex[:8]}", plan="scale")
            session.add(org)
            session.flush()
            actor = system_actor(org.id)
            campaign = Campaign(
                organization_id=org.id,
                name="Bench",
                status="active",
                daily_limit=daily_limit,
                target_criteria={"sending": {"window": ALWAYS_OPEN}},
            )
            session.add(campaign)
            session.flush()
            boxes = [
                mailboxes.create_mailbox(
                    session,
                    actor,
                    MailboxCreate(
                        name=f"box{i}",
                        from_name="Bench Sender",
                        from_address=f"sender{i}@{DOMAIN}",
                        smtp_host="127.0.0.1",
                        smtp_port=port,
                        smtp_security="none",
                        daily_cap=cap,
                        min_interval_seconds=0,
                        jitter_seconds=0,
                    ),
                )
                for i, cap in enumerate(mailbox_caps)
            ]
            mailboxes.set_campaign_mailboxes(session, actor, campaign.id, [b.id for b in boxes])
            key = dkim.ensure_domain_key(session, actor, DOMAIN)
            # Bulk rows: leads then approved emails, one statement each.
            session.execute(
                text(
                    "INSERT INTO leads (campaign_id, organization_id, email, first_name, status, "
                    "enrichment_data) SELECT :c, :o, 'lead' || g || '@prospect-mail.com', "
                    "'Lead' || g, 'qualified', '{\"timezone\": \"UTC\"}'::jsonb "
                    "FROM generate_series(1, :n) g"
                ),
                {"c": campaign.id, "o": org.id, "n": emails},
            )
            session.execute(
                text(
                    "INSERT INTO emails (organization_id, campaign_id, lead_id, subject, body, "
                    "body_html, status, sequence_step, approved_at) "
                    "SELECT :o, :c, l.id, 'Quick question, ' || l.first_name, "
                    "'Hi ' || l.first_name || E',\\n\\nA short plain-text body for the bench.', "
                    "'<p>Hi ' || l.first_name || ',</p><p>A short HTML body.</p>', "
                    "'approved', 0, NOW() FROM leads l WHERE l.campaign_id = :c"
                ),
                {"c": campaign.id, "o": org.id},
            )
    database.dispose()
    return Seeded(
        campaign_id=campaign.id,
        daily_limit=daily_limit,
        mailbox_caps={b.from_address: cap for b, cap in zip(boxes, mailbox_caps, strict=True)},
        dkim_record=dkim.txt_record_value(key.public_key).encode(),
        selector=key.selector,
        emails=emails,
    )


def worker_main(urls: DatabaseUrls, until_empty: bool, ready: Any = None, go: Any = None) -> None:
    """A sender worker process: run the sender until nothing is left to do. With `ready` and
    `go` (multiprocessing events) it first imports and connects, says so, and waits for go."""
    database = Database(urls, pool_size=2)
    if ready is not None and go is not None:
        with database.system_session() as session:
            session.execute(text("SELECT 1"))
        ready.set()
        go.wait()

    async def loop() -> None:
        idle = 0
        while True:
            try:
                report = await delivery.run_sender(database, batch=20)
            except DBAPIError as exc:
                # Like a Procrastinate job failing: the next run adopts what this one held.
                print(f"worker {os.getpid()}: database error: {exc.orig}", file=sys.stderr)
                database.app_engine.dispose()
                await asyncio.sleep(0.5)
                continue
            if report.sent or report.adopted:
                idle = 0
                continue
            idle += 1
            if until_empty and idle >= 3 and remaining(database) == 0:
                return
            await asyncio.sleep(0.05)

    asyncio.run(loop())


def baseline_worker(port: int, count: int, pem: bytes, ready: Any, go: Any) -> None:
    """The same-run baseline: `count` messages built and DKIM-signed like the real ones, sent
    over one SMTP connection to the sink, with no database and no claim."""
    import aiosmtplib

    from vectra.mail.dkim import DkimSigner
    from vectra.mail.outgoing import build_message, new_message_id

    signer = DkimSigner(domain=DOMAIN, selector="baseline", private_key_pem=pem)
    ready.set()
    go.wait()

    async def send() -> None:
        async with aiosmtplib.SMTP(hostname="127.0.0.1", port=port) as client:
            for n in range(count):
                email_id = uuid.uuid4()
                message = build_message(
                    email_id=email_id,
                    message_id=new_message_id(DOMAIN),
                    from_name="Bench Sender",
                    from_address=f"sender0@{DOMAIN}",
                    to_address=f"lead{n}@prospect-mail.com",
                    to_name=f"Lead{n}",
                    subject=f"Quick question, Lead{n}",
                    text=f"Hi Lead{n},\n\nA short plain-text body for the bench.\n",
                    html=f"<p>Hi Lead{n},</p><p>A short HTML body.</p>",
                    signer=signer,
                )
                await client.sendmail(message.mail_from, [message.rcpt_to], message.data)

    asyncio.run(send())


def remaining(database: Database) -> int:
    """Approved emails not yet sent, failed or stopped (queued or in flight)."""
    with database.system_session() as session:
        value = session.execute(
            text(
                "SELECT count(*) FROM emails WHERE status = 'approved' "
                "AND (send_state IS NULL OR send_state IN ('sending', 'transmitting'))"
            )
        ).scalar()
    return int(value or 0)


def start_memory_sink(folder: Path, port: int) -> tuple[Any, SinkHandler]:
    return start_sink(folder, port=port)


def read_received(folder: Path) -> list[tuple[bytes, email.message.Message]]:
    out = []
    for path in folder.glob("*.eml"):
        raw = path.read_bytes()
        out.append((raw, email.message_from_bytes(raw)))
    return out


def wait_for(predicate: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()
