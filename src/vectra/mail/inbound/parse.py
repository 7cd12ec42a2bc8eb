"""One entry point: raw bytes -> a typed reading of what came back."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace
from email.utils import parsedate_to_datetime
from enum import StrEnum

from vectra.mail.inbound import mime
from vectra.mail.inbound.bounce_rules import BounceType
from vectra.mail.inbound.bounces import read_report
from vectra.mail.inbound.replies import auto_reply_signal, reply_body

_MSGID = re.compile(r"<[^<>\s]+>")


class InboundKind(StrEnum):
    BOUNCE = "bounce"
    DELAY = "delay"
    COMPLAINT = "complaint"
    REPLY = "reply"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class InboundMessage:
    """What a received message is; enough for the suppression / status / intent effects."""

    kind: InboundKind
    bounce_type: BounceType | None = None
    reason: str | None = None  # finer family: userunknown, mailboxfull, blocked...
    status: str | None = None  # RFC 3463, only when the message carries one
    recipient: str | None = None  # the address the report is about
    diagnostic: str | None = None
    action: str | None = None
    feedback_type: str | None = None
    original_message_id: str | None = None  # the Message-ID of our email, when quoted
    verp_token: str | None = None  # from a b+<token>@ return path
    message_id: str | None = None
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    sender: str | None = None
    subject: str | None = None
    sent_at: dt.datetime | None = None  # the Date header (reference for an OOO return date)
    auto_submitted: str | None = None  # which header or phrase marked it automatic
    body: str | None = None  # a reply's new text, quotes and signature removed
    defects: int = 0
    error: str | None = None


def parse_message(raw: bytes) -> InboundMessage:
    """Read raw RFC 5322 bytes; malformed input gives kind=unknown with an error, never raises."""
    if not raw or not raw.strip():
        return InboundMessage(kind=InboundKind.UNKNOWN, error="empty message")
    try:
        msg = mime.load(raw)
    except Exception as exc:  # the stdlib parser is lenient; this is the last guard
        return InboundMessage(kind=InboundKind.UNKNOWN, error=f"unparseable: {exc!r}"[:300])
    try:
        names = [k for k, _ in msg.raw_items()]
    except Exception:
        names = []
    if not names:
        return InboundMessage(kind=InboundKind.UNKNOWN, error="no header fields")
    base = InboundMessage(
        kind=InboundKind.UNKNOWN,
        message_id=_first_id(mime.header(msg, "message-id")),
        in_reply_to=_first_id(mime.header(msg, "in-reply-to")),
        references=_MSGID.findall(" ".join(mime.headers(msg, "references"))),
        sender=mime.header(msg, "from"),
        subject=mime.header(msg, "subject"),
        sent_at=_date(mime.header(msg, "date")),
        defects=len(getattr(msg, "defects", []) or []),
    )
    try:
        report = read_report(msg)
    except Exception as exc:  # a parser bug must not lose the message: keep it, flagged
        return replace(base, error=f"report: {exc!r}"[:300])
    if report is not None and report.kind == "receipt":
        return replace(
            base,
            action=report.action,
            recipient=report.recipient,
            original_message_id=report.original_message_id,
            verp_token=report.verp_token,
            error=f"delivery receipt (Action: {report.action}), not a failure or a reply",
        )
    if report is not None:
        return replace(
            base,
            kind=InboundKind(report.kind),
            bounce_type=report.bounce_type,
            reason=report.reason,
            status=report.status,
            recipient=report.recipient,
            diagnostic=report.diagnostic,
            action=report.action,
            feedback_type=report.feedback_type,
            original_message_id=report.original_message_id,
            verp_token=report.verp_token,
        )
    try:
        body = reply_body(msg)
        auto = auto_reply_signal(msg, body)
    except Exception as exc:
        return replace(base, error=f"reply: {exc!r}"[:300])
    return replace(base, kind=InboundKind.REPLY, body=body, auto_submitted=auto)


def _date(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None


def _first_id(value: str | None) -> str | None:
    if not value:
        return None
    found = _MSGID.search(value)
    return found.group(0) if found else value.strip() or None
