"""Transmitting claimed emails over SMTP (aiosmtplib), and the sender loop a job runs.

Per email: re-check the lead (stop, suppression, status) and commit `transmitting`, build and
DKIM-sign the message, send it on the mailbox's pooled SMTP connection, commit `sent`.
One email is in flight per worker at a time, so a killed worker can leave at most one
possible duplicate behind.
"""

from __future__ import annotations

import datetime as dt
import logging
import ssl
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiosmtplib
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from vectra.db.base import utcnow
from vectra.db.engine import Database
from vectra.db.tenancy import set_tenant
from vectra.integrations import vault
from vectra.mail import counters, sending
from vectra.mail.dkim import DkimSigner, signer_for
from vectra.mail.mailbox_models import DkimKey, Mailbox
from vectra.mail.outgoing import Outgoing, build_message, domain_of

log = logging.getLogger("vectra.mail.sending")


@dataclass
class SendRunReport:
    """What one run of the sender did."""

    sent: int = 0
    failed: int = 0
    requeued: int = 0
    stopped: int = 0
    deferred: int = 0
    capped: int = 0
    held: int = 0
    adopted: int = 0
    possible_duplicates: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "errors"} | {
            "errors": self.errors[:20]
        }


@dataclass
class SmtpSettings:
    """How to reach a mailbox's server (decrypted for the duration of a run)."""

    host: str
    port: int
    security: str
    username: str | None
    password: str | None


def smtp_settings(mailbox: Mailbox) -> SmtpSettings:
    secret = vault.decrypt(mailbox.secret) if mailbox.secret else {}
    return SmtpSettings(
        mailbox.smtp_host,
        mailbox.smtp_port,
        mailbox.smtp_security,
        mailbox.smtp_username,
        secret.get("password"),
    )


def tls_context(*, verify: bool = True, cafile: str | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=cafile)
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


async def open_smtp(
    settings: SmtpSettings, *, tls: ssl.SSLContext | None = None, timeout: float = 30
) -> aiosmtplib.SMTP:
    """A connected, authenticated SMTP client for `settings` (STARTTLS, implicit TLS or none)."""
    client = aiosmtplib.SMTP(
        hostname=settings.host,
        port=settings.port,
        use_tls=settings.security == "tls",
        start_tls=settings.security == "starttls",
        tls_context=tls if settings.security != "none" else None,
        timeout=timeout,
    )
    await client.connect()
    if settings.username and settings.password:
        await client.login(settings.username, settings.password)
    return client


class SmtpPool:
    """One open connection per mailbox for the length of a run."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.tls = tls
        self._clients: dict[uuid.UUID, aiosmtplib.SMTP] = {}

    async def client(self, mailbox: Mailbox) -> aiosmtplib.SMTP:
        existing = self._clients.get(mailbox.id)
        if existing is not None and existing.is_connected:
            return existing
        client = await open_smtp(smtp_settings(mailbox), tls=self.tls)
        self._clients[mailbox.id] = client
        return client

    def drop(self, mailbox_id: uuid.UUID) -> None:
        self._clients.pop(mailbox_id, None)

    async def close(self) -> None:
        for client in self._clients.values():
            try:
                await client.quit()
            except (aiosmtplib.SMTPException, OSError):
                client.close()
        self._clients.clear()


_signers: dict[tuple[uuid.UUID, str], DkimSigner | None] = {}


def _signer(session: Session, organization_id: uuid.UUID, domain: str) -> DkimSigner | None:
    key = (organization_id, domain)
    if key not in _signers:
        row = session.scalar(
            select(DkimKey).where(
                DkimKey.organization_id == organization_id, DkimKey.domain == domain
            )
        )
        _signers[key] = signer_for(row) if row is not None else None
    return _signers[key]


def prepare(
    session: Session, claimed: sending.Claimed, worker_id: str
) -> tuple[Mailbox, Outgoing] | str:
    """Re-check the lead and mark the email `transmitting` (caller commits); the message to send,
    or the reason it must not go."""
    row = session.execute(
        text(
            "SELECT e.subject, e.body, e.body_html, e.lead_id, e.send_state, e.claimed_by, "
            "l.email AS to_address, l.first_name, l.last_name, o.settings AS org_settings "
            "FROM emails e JOIN leads l ON l.id = e.lead_id "
            "JOIN organizations o ON o.id = e.organization_id WHERE e.id = :i FOR UPDATE OF e"
        ),
        {"i": claimed.email_id},
    ).one_or_none()
    if (
        row is None
        or row.claimed_by != worker_id
        or row.send_state not in ("sending", "transmitting")
    ):
        return "no longer ours"
    if sending.kill_switch_on(row.org_settings):
        # Hand it back unsent: the kill switch may be lifted later.
        _requeue(session, claimed, None, "kill switch on")
        return "kill switch on"
    blocked = sending.lead_blocked(session, claimed.organization_id, row.lead_id)
    if blocked is not None:
        session.execute(
            text("UPDATE emails SET send_state = 'stopped', send_error = :r WHERE id = :i"),
            {"r": blocked, "i": claimed.email_id},
        )
        return blocked
    mailbox = session.get(Mailbox, claimed.mailbox_id)
    if mailbox is None or mailbox.status != "active":
        _requeue(session, claimed, None, "mailbox unavailable")
        return "mailbox unavailable"
    session.execute(
        text(
            "UPDATE emails SET send_state = 'transmitting', smtp_started_at = NOW() WHERE id = :i"
        ),
        {"i": claimed.email_id},
    )
    domain = domain_of(mailbox.from_address)
    org_settings = row.org_settings or {}
    signature = f"\n\n{mailbox.signature}" if mailbox.signature else ""
    outgoing = build_message(
        email_id=claimed.email_id,
        message_id=claimed.message_id,
        from_name=mailbox.from_name,
        from_address=mailbox.from_address,
        to_address=row.to_address,
        to_name=" ".join(p for p in (row.first_name, row.last_name) if p) or None,
        subject=row.subject,
        text=row.body + signature,
        html=row.body_html,
        bounce_domain=org_settings.get("bounce_domain"),
        signer=_signer(session, claimed.organization_id, domain),
    )
    return mailbox, outgoing


def mark_sent(session: Session, claimed: sending.Claimed, response: str) -> None:
    now = utcnow()
    session.execute(
        text(
            "UPDATE emails SET status = 'sent', send_state = 'sent', sent_at = :now, "
            "send_error = NULL WHERE id = :i"
        ),
        {"now": now, "i": claimed.email_id},
    )
    session.execute(
        text("UPDATE mailboxes SET sent_total = sent_total + 1, last_sent_at = :now WHERE id = :m"),
        {"now": now, "m": claimed.mailbox_id},
    )
    # A qualified lead that got its first email is now contacted.
    session.execute(
        text(
            "UPDATE leads SET status = 'contacted' WHERE id = "
            "(SELECT lead_id FROM emails WHERE id = :i) AND status = 'qualified'"
        ),
        {"i": claimed.email_id},
    )


def _release_counts(session: Session, claimed: sending.Claimed, claimed_day: dt.date) -> None:
    campaign_id = session.execute(
        text("SELECT campaign_id FROM emails WHERE id = :i"), {"i": claimed.email_id}
    ).scalar()
    if campaign_id is not None:
        counters.release(session, "campaign", campaign_id, claimed_day)
    counters.release(session, "mailbox", claimed.mailbox_id, claimed_day)


def _requeue(
    session: Session, claimed: sending.Claimed, delay: dt.timedelta | None, error: str
) -> None:
    """Hand the email back unsent (it never reached an SMTP accept): counts released."""
    claimed_at = session.execute(
        text("SELECT claimed_at FROM emails WHERE id = :i"), {"i": claimed.email_id}
    ).scalar()
    _release_counts(session, claimed, (claimed_at or utcnow()).date())
    session.execute(
        text(
            "UPDATE emails SET send_state = NULL, claimed_by = NULL, claimed_at = NULL, "
            "send_error = :e, scheduled_for = :at WHERE id = :i"
        ),
        {"e": error[:1000], "at": utcnow() + delay if delay else None, "i": claimed.email_id},
    )


def mark_failed(session: Session, claimed: sending.Claimed, error: str) -> None:
    """A permanent refusal (5xx): the email is not retried; the lead gets no follow-ups."""
    session.execute(
        text("UPDATE emails SET send_state = 'failed', send_error = :e WHERE id = :i"),
        {"e": error[:1000], "i": claimed.email_id},
    )
    session.execute(
        text("UPDATE mailboxes SET failed_total = failed_total + 1 WHERE id = :m"),
        {"m": claimed.mailbox_id},
    )


def _transient(exc: Exception) -> bool:
    """4xx and network trouble retry later; a 5xx refusal is final (RFC 5321 4.2.1)."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return not all(500 <= r.code < 600 for r in exc.recipients)
    code = getattr(exc, "code", None)
    return not (isinstance(code, int) and 500 <= code < 600)


async def run_sender(
    database: Database,
    *,
    worker_id: str | None = None,
    batch: int = 20,
    max_batches: int | None = None,
    tls: ssl.SSLContext | None = None,
    on_sent: Callable[[uuid.UUID], None] | None = None,
) -> SendRunReport:
    """Adopt dead workers' emails, then claim and send batches until nothing is due."""
    worker_id = worker_id or sending.new_worker_id()
    report = SendRunReport()
    pool = SmtpPool(tls)
    lease = database.app_engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    try:
        with sending.worker_lease(lease, worker_id), database.sessions() as session:
            set_tenant(session, None, system=True)
            with session.begin():
                pending = sending.adopt_orphans(session, worker_id)
            report.adopted = len(pending)
            batches = 0
            while True:
                if not pending:
                    if max_batches is not None and batches >= max_batches:
                        break
                    with session.begin():
                        claim = sending.claim_due_emails(session, worker_id, limit=batch)
                    batches += 1
                    for name in ("deferred", "capped", "held", "stopped"):
                        setattr(report, name, getattr(report, name) + getattr(claim, name))
                    pending = claim.claimed
                    if not pending:
                        break
                await _send_all(session, pool, pending, worker_id, report, on_sent)
                pending = []
    finally:
        await pool.close()
        lease.close()
    return report


async def _send_all(
    session: Session,
    pool: SmtpPool,
    pending: list[sending.Claimed],
    worker_id: str,
    report: SendRunReport,
    on_sent: Callable[[uuid.UUID], None] | None,
) -> None:
    for claimed in pending:
        with session.begin():
            prepared = prepare(session, claimed, worker_id)
        if isinstance(prepared, str):
            report.stopped += 1
            continue
        mailbox, outgoing = prepared
        try:
            client = await pool.client(mailbox)
            # One recipient: a refusal raises SMTPRecipientsRefused, never a partial dict.
            _refused, response = await client.sendmail(
                outgoing.mail_from, [outgoing.rcpt_to], outgoing.data
            )
        except (TimeoutError, aiosmtplib.SMTPException, OSError) as exc:
            pool.drop(mailbox.id)
            with session.begin():
                if _transient(exc):
                    _requeue(session, claimed, dt.timedelta(minutes=5), str(exc))
                    session.execute(
                        text("UPDATE mailboxes SET last_error = :e WHERE id = :m"),
                        {"e": str(exc)[:1000], "m": mailbox.id},
                    )
                    report.requeued += 1
                else:
                    mark_failed(session, claimed, str(exc))
                    report.failed += 1
            report.errors.append(f"{claimed.email_id}: {exc}")
            continue
        with session.begin():
            mark_sent(session, claimed, response)
        report.sent += 1
        if claimed.resend:
            report.possible_duplicates += 1
        if on_sent is not None:
            on_sent(claimed.email_id)
