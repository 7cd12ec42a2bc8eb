"""Transmitting claimed emails over SMTP (aiosmtplib), and the sender loop a job runs.

Per batch: the emails, leads, organizations and mailboxes are read once. Per email: one
autocommit statement marks the previous email `sent` and takes this one to `transmitting`
after re-checking the lead (stop, suppression, status) and the kill switch; the message
(built and DKIM-signed beforehand) goes out on the mailbox's pooled SMTP connection.
One email is in flight per worker at a time, so a killed worker can leave at most one
possible duplicate behind.
"""

from __future__ import annotations

import datetime as dt
import logging
import ssl
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiosmtplib
from sqlalchemy import Connection, select, text
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from vectra.accounts.models import Organization
from vectra.db.base import utcnow
from vectra.db.engine import Database
from vectra.db.tenancy import set_tenant
from vectra.integrations import vault
from vectra.leads.models import Lead
from vectra.mail import counters, sending
from vectra.mail.dkim import DkimSigner, signer_for
from vectra.mail.drafts import message_parts
from vectra.mail.mailbox_models import DkimKey, Mailbox
from vectra.mail.models import Email
from vectra.mail.outgoing import Outgoing, build_message, domain_of
from vectra.privacy.hashing import email_hash

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


_SIGNER_TTL = 300.0  # seconds: a key made after a worker started is picked up this soon
_signers: dict[tuple[uuid.UUID, str], tuple[float, DkimSigner | None]] = {}


def _signer(session: Session, organization_id: uuid.UUID, domain: str) -> DkimSigner | None:
    key = (organization_id, domain)
    cached = _signers.get(key)
    if cached is not None and time.monotonic() - cached[0] < _SIGNER_TTL:
        return cached[1]
    row = session.scalar(
        select(DkimKey).where(DkimKey.organization_id == organization_id, DkimKey.domain == domain)
    )
    signer = signer_for(row) if row is not None else None
    _signers[key] = (time.monotonic(), signer)
    return signer


# The happy path in one round trip (autocommit: one statement is one transaction): mark the
# previous email sent (the server accepted it) and take this one to `transmitting`, only if it
# is still ours, the kill switch is off, the lead may be mailed, its sequence isn't stopped
# and its address isn't suppressed. The suppression test is `leads.suppression.
# suppressed_among` in SQL: the address, its domain, or the peppered hash an erasure leaves.
_ADVANCE = text(
    "WITH sent AS (UPDATE emails SET status = 'sent', send_state = 'sent', sent_at = :now, "
    "send_error = NULL WHERE id = :previous RETURNING lead_id), "
    # A qualified lead that got its first email is now contacted.
    "contacted AS (UPDATE leads SET status = 'contacted' WHERE id IN (SELECT lead_id FROM sent) "
    "AND status = 'qualified') "
    "UPDATE emails e SET send_state = 'transmitting', smtp_started_at = NOW() "
    "FROM leads l, organizations o "
    "WHERE e.id = :i AND e.claimed_by = :w AND e.send_state IN ('sending', 'transmitting') "
    "AND l.id = e.lead_id AND o.id = e.organization_id "
    "AND NOT COALESCE((o.settings ->> 'sending_paused')::boolean, false) "
    "AND (l.status IS NULL OR NOT (l.status = ANY (:blocked))) "
    "AND NOT EXISTS (SELECT 1 FROM sequence_stops st WHERE st.lead_id = e.lead_id) "
    "AND NOT EXISTS (SELECT 1 FROM suppressions s WHERE s.organization_id = e.organization_id "
    "AND ((s.kind = 'email' AND s.value IN (lower(btrim(l.email)), :hashed)) "
    "OR (s.kind = 'domain' AND s.value = split_part(lower(btrim(l.email)), '@', 2)))) "
    "RETURNING e.subject, e.body, e.body_html, l.email AS to_address, l.first_name, "
    "l.last_name"
)


def _refusal(session: Session, claimed: sending.Claimed, worker_id: str) -> str:
    """Why `_TO_TRANSMITTING` matched nothing; settles the email accordingly."""
    row = session.execute(
        text(
            "SELECT e.send_state, e.claimed_by, e.lead_id, o.settings FROM emails e "
            "JOIN organizations o ON o.id = e.organization_id WHERE e.id = :i"
        ),
        {"i": claimed.email_id},
    ).one_or_none()
    if (
        row is None
        or row.claimed_by != worker_id
        or row.send_state
        not in (
            "sending",
            "transmitting",
        )
    ):
        return "no longer ours"
    if sending.kill_switch_on(row.settings):
        _requeue(session, claimed, None, "kill switch on")  # may be lifted later
        return "kill switch on"
    reason = sending.lead_blocked(session, claimed.organization_id, row.lead_id) or "lead gone"
    _stop(session, claimed, reason)
    return reason


def _stop(session: Session, claimed: sending.Claimed, reason: str) -> None:
    """The lead must not get this email: it never reached SMTP, so its counts go back."""
    _release_counts(session, claimed)
    session.execute(
        text("UPDATE emails SET send_state = 'stopped', send_error = :r WHERE id = :i"),
        {"r": reason, "i": claimed.email_id},
    )


@dataclass
class LoadedBatch:
    """What a batch's messages are built from, read in one transaction before sending."""

    emails: dict[uuid.UUID, Email]
    leads: dict[uuid.UUID, Lead]
    organizations: dict[uuid.UUID, Organization]  # held: the identity map only refers weakly
    mailboxes: dict[uuid.UUID, Mailbox]


def load_batch(session: Session, pending: list[sending.Claimed]) -> LoadedBatch:
    """The batch's emails, leads, organizations and mailboxes in four queries, fresh (a mailbox
    paused or a footer edited since the last batch is seen); they stay in the session's
    identity map, so building each message needs no query."""
    fresh = {"populate_existing": True}
    emails = {
        e.id: e
        for e in session.scalars(
            select(Email)
            .where(Email.id.in_([c.email_id for c in pending]))
            .execution_options(**fresh)
        )
    }
    lead_ids = {e.lead_id for e in emails.values() if e.lead_id is not None}
    leads = {
        lead.id: lead
        for lead in session.scalars(
            select(Lead).where(Lead.id.in_(lead_ids)).execution_options(**fresh)
        )
    }
    organization_ids = {c.organization_id for c in pending}
    organizations = {
        org.id: org
        for org in session.scalars(
            select(Organization)
            .where(Organization.id.in_(organization_ids))
            .execution_options(**fresh)
        )
    }
    mailboxes = {
        box.id: box
        for box in session.scalars(
            select(Mailbox)
            .where(Mailbox.id.in_({c.mailbox_id for c in pending}))
            .execution_options(**fresh)
        )
    }
    return LoadedBatch(emails, leads, organizations, mailboxes)


def _build(
    session: Session, claimed: sending.Claimed, stored: Email, lead: Lead, mailbox: Mailbox
) -> Outgoing:
    """The signed message from loaded rows (the session's identity map: no query)."""
    organization = session.get(Organization, claimed.organization_id)  # loaded: no query
    org_settings = (organization.settings if organization is not None else None) or {}
    # Footer (postal address, unsubscribe link), privacy notice and tracking are added here,
    # at send time, so no edit of the stored draft can drop them (CAN-SPAM, GDPR Art. 14).
    parts = message_parts(session, stored, signature=mailbox.signature)
    return build_message(
        email_id=claimed.email_id,
        message_id=claimed.message_id,
        from_name=mailbox.from_name,
        from_address=mailbox.from_address,
        to_address=lead.email,
        to_name=" ".join(p for p in (lead.first_name, lead.last_name) if p) or None,
        subject=stored.subject,
        text=parts.text,
        html=parts.html,
        bounce_domain=org_settings.get("bounce_domain"),
        signer=_signer(session, claimed.organization_id, domain_of(mailbox.from_address)),
    )


def prepare(
    session: Session,
    lease: Connection,
    loaded: LoadedBatch,
    claimed: sending.Claimed,
    worker_id: str,
    previous: sending.Claimed | None,
) -> Outgoing | str:
    """Build the message, then in one statement mark `previous` sent and this email
    `transmitting` after the right-before-SMTP checks; the message, or why it must not go
    (settled in the database). `lease` is the worker's autocommit, system-context connection."""
    stored = loaded.emails.get(claimed.email_id)
    lead = loaded.leads.get(stored.lead_id) if stored and stored.lead_id else None
    mailbox = loaded.mailboxes.get(claimed.mailbox_id)
    if mailbox is None or mailbox.status != "active":
        with session.begin():
            if previous is not None:
                mark_sent(session, previous)
            _requeue(session, claimed, None, "mailbox unavailable")
        return "mailbox unavailable"
    advanced = False
    try:
        outgoing = None
        if stored is not None and lead is not None:
            with session.begin():  # no round trip unless a cache misses
                outgoing = _build(session, claimed, stored, lead, mailbox)
        row = lease.execute(
            _ADVANCE,
            {
                "previous": previous.email_id if previous else None,
                "now": utcnow(),
                "i": claimed.email_id,
                "w": worker_id,
                "blocked": list(sending.NO_SEND_LEAD_STATUSES),
                "hashed": email_hash(lead.email) if lead is not None else "",
            },
        ).one_or_none()
        advanced = True
    finally:
        if not advanced and previous is not None:  # it was accepted: record that first
            with session.begin():
                mark_sent(session, previous)
    if row is None or stored is None or lead is None:
        with session.begin():
            return _refusal(session, claimed, worker_id)
    if row.to_address != lead.email:
        # The address changed after the batch was read: the hash above was of the old one.
        with session.begin():
            if sending.suppressed_now(session, claimed.organization_id, row.to_address):
                _stop(session, claimed, "suppressed")
                return "suppressed"
    current = (row.subject, row.body, row.body_html, row.to_address, row.first_name, row.last_name)
    if current != (
        stored.subject, stored.body, stored.body_html, lead.email, lead.first_name, lead.last_name
    ):  # fmt: skip
        for name, value in zip(("subject", "body", "body_html"), current[:3], strict=True):
            set_committed_value(stored, name, value)
        for name, value in zip(("email", "first_name", "last_name"), current[3:], strict=True):
            set_committed_value(lead, name, value)
        with session.begin():
            outgoing = _build(session, claimed, stored, lead, mailbox)
    assert outgoing is not None
    return outgoing


_MARK_SENT = text(
    "WITH sent AS (UPDATE emails SET status = 'sent', send_state = 'sent', sent_at = :now, "
    "send_error = NULL WHERE id = :i RETURNING lead_id) "
    # A qualified lead that got its first email is now contacted.
    "UPDATE leads SET status = 'contacted' WHERE id = (SELECT lead_id FROM sent) "
    "AND status = 'qualified'"
)


def mark_sent(session: Session, claimed: sending.Claimed) -> None:
    """The SMTP server accepted the message."""
    session.execute(_MARK_SENT, {"now": utcnow(), "i": claimed.email_id})


def _record_mailbox_sends(session: Session, sent: dict[uuid.UUID, int]) -> None:
    for mailbox_id, n in sent.items():
        session.execute(
            text(
                "UPDATE mailboxes SET sent_total = sent_total + :n, last_sent_at = NOW() "
                "WHERE id = :m"
            ),
            {"n": n, "m": mailbox_id},
        )


def _release_counts(session: Session, claimed: sending.Claimed) -> None:
    """Give back the campaign and mailbox counts of a claim that never reached SMTP."""
    row = session.execute(
        text("SELECT campaign_id, claimed_at FROM emails WHERE id = :i"), {"i": claimed.email_id}
    ).one()
    day = (row.claimed_at or utcnow()).date()
    if row.campaign_id is not None:
        counters.release(session, "campaign", row.campaign_id, day)
    counters.release(session, "mailbox", claimed.mailbox_id, day)
    # The plan's email count stays used: billing meters attempts, and this is rare.


def _requeue(
    session: Session, claimed: sending.Claimed, delay: dt.timedelta | None, error: str
) -> None:
    """Hand the email back unsent (it never reached an SMTP accept): counts released."""
    _release_counts(session, claimed)
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
        # The lease's own statements (per-email transitions) run in system context; the
        # setting is session-wide here, so the connection never goes back to the pool.
        lease.execute(text("SELECT set_config('app.system', 'on', false)"))
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
                await _send_all(session, lease, pool, pending, worker_id, report, on_sent)
                pending = []
    finally:
        await pool.close()
        lease.invalidate()
        lease.close()
    return report


async def _send_all(
    session: Session,
    lease: Connection,
    pool: SmtpPool,
    pending: list[sending.Claimed],
    worker_id: str,
    report: SendRunReport,
    on_sent: Callable[[uuid.UUID], None] | None,
) -> None:
    with session.begin():
        loaded = load_batch(session, pending)
    sent_by_mailbox: dict[uuid.UUID, int] = {}
    accepted: sending.Claimed | None = None  # SMTP-accepted, `sent` not yet committed
    for claimed in pending:
        # One statement marks the previous email sent and this one transmitting: a crash
        # between them leaves the previous one `transmitting`, i.e. a possible duplicate.
        prepared = prepare(session, lease, loaded, claimed, worker_id, accepted)
        accepted = None
        if isinstance(prepared, str):
            report.stopped += 1
            continue
        mailbox = loaded.mailboxes[claimed.mailbox_id]
        try:
            client = await pool.client(mailbox)
            # One recipient: a refusal raises SMTPRecipientsRefused, never a partial dict.
            await client.sendmail(prepared.mail_from, [prepared.rcpt_to], prepared.data)
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
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
        accepted = claimed
        sent_by_mailbox[mailbox.id] = sent_by_mailbox.get(mailbox.id, 0) + 1
        report.sent += 1
        if claimed.resend:
            report.possible_duplicates += 1
        if on_sent is not None:
            on_sent(claimed.email_id)
    with session.begin():
        if accepted is not None:
            mark_sent(session, accepted)
        _record_mailbox_sends(session, sent_by_mailbox)
