"""Received mail is stored raw first, then processed once per (organization, Message-ID).

`receive` only inserts the bytes and defers `process_inbound_message` in the same
transaction, so a message is either stored with its job or not accepted at all (the SMTP
server then answers 451 and the sender retries). `process` reads it, threads it to one of
our emails (VERP token, quoted original Message-ID, In-Reply-To, References), finds its
organization, claims it as `processed` (a partial unique index makes a second delivery of
the same Message-ID a `duplicate`) and applies the effects in that tenant's context.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from vectra.accounts.actor import system_actor
from vectra.db.base import utcnow
from vectra.db.tenancy import as_tenant
from vectra.mail import tokens
from vectra.mail.inbound import effects
from vectra.mail.inbound.models import InboundMessage
from vectra.mail.inbound.parse import InboundKind, parse_message
from vectra.mail.inbound.parse import InboundMessage as Parsed

log = logging.getLogger("vectra.mail.inbound")

MAX_RAW_BYTES = 25 * 1024 * 1024
RECEIPTS = frozenset({"delivered", "relayed", "expanded"})


@dataclass(frozen=True)
class Thread:
    """The sent email a message is about, and how it was found."""

    email_id: uuid.UUID
    organization_id: uuid.UUID
    lead_id: uuid.UUID | None
    campaign_id: uuid.UUID | None
    matched_by: str


def receive(
    session: Session,
    raw: bytes,
    *,
    source: str,
    mail_from: str | None = None,
    rcpt_to: Iterable[str] = (),
    mailbox_id: uuid.UUID | None = None,
    organization_id: uuid.UUID | None = None,
) -> InboundMessage:
    """Store the raw message and queue its processing in the caller's transaction."""
    from vectra.mail.inbound.tasks import process_inbound_message
    from vectra.worker.app import defer_in_session

    row = InboundMessage(
        organization_id=organization_id,
        source=source,
        mail_from=(mail_from or None) and mail_from[:998],
        rcpt_to=[r[:998] for r in rcpt_to],
        mailbox_id=mailbox_id,
        raw=raw,
        raw_size=len(raw),
    )
    session.add(row)
    session.flush()
    defer_in_session(session, process_inbound_message, inbound_id=str(row.id))
    return row


def dedupe_key(parsed: Parsed, raw: bytes) -> str:
    """The Message-ID when there is one; a message without it is identified by its bytes."""
    if parsed.message_id:
        return parsed.message_id.strip()[:998]
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def _verp_email_ids(parsed: Parsed, rcpt_to: list[str]) -> list[uuid.UUID]:
    found: list[uuid.UUID] = []
    for address in rcpt_to:
        email_id = tokens.read_verp_address(address)
        if email_id is not None:
            found.append(email_id)
    if parsed.verp_token:
        payload = tokens.read_token("bounce", parsed.verp_token)
        if payload is not None:
            found.append(payload.email_id)
    return found


def find_thread(
    session: Session,
    parsed: Parsed,
    rcpt_to: list[str],
    *,
    organization_id: uuid.UUID | None = None,
) -> Thread | None:
    """Our email this message is about; within `organization_id` when that is already known.

    The signed VERP token is the strongest proof; then the Message-ID a report quotes; then
    the reply headers, In-Reply-To before References (newest reference first).
    """
    candidates: list[tuple[str, str, object]] = [
        ("verp", "id", e) for e in _verp_email_ids(parsed, rcpt_to)
    ]
    if parsed.original_message_id:
        candidates.append(("original_message_id", "message_id", parsed.original_message_id))
    if parsed.in_reply_to:
        candidates.append(("in_reply_to", "message_id", parsed.in_reply_to))
    candidates += [("references", "message_id", r) for r in reversed(parsed.references)]
    for how, column, value in candidates:
        row = session.execute(
            text(
                f"SELECT id, organization_id, lead_id, campaign_id FROM emails WHERE {column} = :v "
                "AND (CAST(:org AS uuid) IS NULL OR organization_id = CAST(:org AS uuid))"
            ),
            {"v": value, "org": organization_id},
        ).first()
        if row is not None:
            return Thread(row.id, row.organization_id, row.lead_id, row.campaign_id, how)
    return None


def _lead_by_sender(
    session: Session, organization_id: uuid.UUID, address: str | None
) -> Thread | None:
    """A reply that quotes none of our ids (some clients drop them): the sender's latest email."""
    if not address:
        return None
    from email.utils import parseaddr

    sender = parseaddr(address)[1].strip().lower()
    if not sender:
        return None
    row = session.execute(
        text(
            "SELECT e.id, e.organization_id, e.lead_id, e.campaign_id FROM emails e "
            "JOIN leads l ON l.id = e.lead_id WHERE e.organization_id = :o "
            "AND lower(l.email) = :a AND e.sent_at IS NOT NULL ORDER BY e.sent_at DESC LIMIT 1"
        ),
        {"o": organization_id, "a": sender},
    ).first()
    if row is None:
        return None
    return Thread(row.id, row.organization_id, row.lead_id, row.campaign_id, "sender")


def _unsubscribe_token(rcpt_to: list[str]) -> str | None:
    """The token of a List-Unsubscribe mailto (`unsubscribe+<token>@bounce-domain`)."""
    for address in rcpt_to:
        local = address.strip().strip("<>").rsplit("@", 1)[0].lower()
        if local.startswith("unsubscribe+"):
            return local.removeprefix("unsubscribe+")
    return None


def process(session: Session, inbound_id: uuid.UUID) -> InboundMessage | None:
    """Read, thread, claim and apply one stored message (system context; idempotent)."""
    row = session.scalar(
        select(InboundMessage)
        .where(InboundMessage.id == inbound_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if row is None or row.state != "received":
        return row  # processed (or gone) already: a retried job changes nothing
    parsed = parse_message(row.raw)
    _fill(row, parsed)
    thread = find_thread(session, parsed, row.rcpt_to, organization_id=row.organization_id)
    organization_id = row.organization_id or (thread.organization_id if thread else None)
    if thread is None and organization_id is not None and parsed.kind == InboundKind.REPLY:
        thread = _lead_by_sender(session, organization_id, parsed.sender)
    if thread is not None:
        row.email_id, row.lead_id, row.campaign_id = (
            thread.email_id,
            thread.lead_id,
            thread.campaign_id,
        )
        row.details = {**row.details, "matched_by": thread.matched_by}
    row.organization_id = organization_id
    row.dedupe_key = dedupe_key(parsed, row.raw)
    row.processed_at = utcnow()
    unsubscribe_token = _unsubscribe_token(row.rcpt_to)
    # A positive DSN (RFC 3464 Action: delivered/relayed/expanded) is a receipt, not an error.
    receipt = parsed.kind == InboundKind.UNKNOWN and (parsed.action or "").lower() in RECEIPTS
    if receipt:
        row.kind, row.error = "receipt", None
    if parsed.kind == InboundKind.UNKNOWN and unsubscribe_token is None and not receipt:
        # Kept and flagged: an operator can read the raw bytes; nothing is inferred.
        row.state = "unparseable"
        row.error = parsed.error or "unparseable"
        session.flush()
        return row
    if organization_id is None:
        row.state = "quarantined"
        row.error = "no organization: the message names none of our emails"
        session.flush()
        return row
    if not _claim(session, row):
        return row
    with as_tenant(session, organization_id):
        actor = system_actor(organization_id)
        if receipt:
            effects.apply_receipt(session, actor, row)
        elif unsubscribe_token is not None:
            effects.apply_mailto_unsubscribe(session, row, unsubscribe_token)
        elif row.kind == InboundKind.REPLY:
            effects.classify(row, parsed)
            effects.apply_reply(session, actor, row)
        else:
            effects.apply_report(session, actor, row, parsed)
    session.flush()
    return row


def _clean(value: object) -> object:
    """PostgreSQL text and jsonb cannot hold NUL, which real NDRs do contain."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _text(value: str | None, limit: int | None = None) -> str | None:
    cleaned = value.replace("\x00", "") if value else value
    return cleaned[:limit] if cleaned and limit else cleaned


def _fill(row: InboundMessage, parsed: Parsed) -> None:
    row.kind = parsed.kind.value
    row.message_id = _text(parsed.message_id, 998)
    row.bounce_type = parsed.bounce_type.value if parsed.bounce_type else None
    row.dsn_status = _text(parsed.status, 20)
    row.recipient = _text(parsed.recipient, 320)
    row.sender = _text(parsed.sender)
    row.subject = _text(parsed.subject)
    row.body = _text(parsed.body)
    row.error = _text(parsed.error)
    row.details = {
        k: _clean(v)
        for k, v in {
            "reason": parsed.reason,
            "diagnostic": parsed.diagnostic,
            "action": parsed.action,
            "feedback_type": parsed.feedback_type,
            "original_message_id": parsed.original_message_id,
            "in_reply_to": parsed.in_reply_to,
            "references": parsed.references or None,
            "auto_submitted": parsed.auto_submitted,
            "date": parsed.sent_at.isoformat() if parsed.sent_at else None,
        }.items()
        if v is not None
    }


def _claim(session: Session, row: InboundMessage) -> bool:
    """Mark `row` processed, unless this organization already processed its Message-ID."""
    session.flush()
    try:
        with session.begin_nested():
            session.execute(
                text("UPDATE inbound_messages SET state = 'processed' WHERE id = :i"),
                {"i": row.id},
            )
    except IntegrityError:
        first = session.scalar(
            select(InboundMessage.id).where(
                InboundMessage.organization_id == row.organization_id,
                InboundMessage.dedupe_key == row.dedupe_key,
                InboundMessage.state == "processed",
            )
        )
        row.state = "duplicate"
        row.duplicate_of = first
        session.flush()
        log.info("inbound %s: duplicate of %s (%s)", row.id, first, row.dedupe_key)
        return False
    row.state = "processed"
    return True
