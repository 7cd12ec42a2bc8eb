"""Delivery reports: RFC 3464 DSNs, RFC 5965 feedback reports and servers' own text NDRs.

`read_report(msg)` finds what failed (recipient, status, diagnostic) and why (reason and
category, from `bounce_rules`); it returns None for a message that is not a report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.message import Message

from vectra.mail.inbound import mime
from vectra.mail.inbound.bounce_rules import BounceType, Verdict, classify
from vectra.mail.inbound.ses import ses_fields, ses_notification

STATUS = re.compile(r"(?<![\d.])([45])\.(\d)\.(\d{1,3})(?![\d]|\.\d)")
SMTP_CODE = re.compile(r"(?<![\d.\-])([45][0-5]\d)(?=[ -])(?![\d.])")
ADDRESS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")

# Where a server's NDR text stops describing the failure and starts quoting the original.
_COPY_MARKERS = re.compile(
    r"^\s*(-{2,}\s*)?("
    r"(this|below) is a copy of the (original )?message"
    r"|below this line is a copy of the message"
    r"|original message (headers|follows)"
    r"|(the |a copy of the |below is a copy of the )?original message"
    r"\s*(follows|headers)?\s*[-:]*\s*$"
    r"|unsent message below"
    r"|message headers follow"
    r"|returned message"
    r"|headers of your message follow"
    r"|content-type: message/rfc822"
    r")",
    re.IGNORECASE | re.MULTILINE,
)
_DAEMON = re.compile(
    r"mailer-daemon|post_?master|mail delivery (subsystem|system)|mail administrator"
    r"|mailer daemon|\bMAILER\b|nobody@|no-?reply-?dsn|bounce",
    re.IGNORECASE,
)
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|undelivered|delivery (status|failure|failed|has failed|notification)"
    r"|returned mail|mail delivery failed|failure notice|non[- ]?delivery|nondeliverable"
    r"|could not send|delivery problem|not (be )?delivered|rejected|returned to sender"
    r"|mail system error|unzustellbar|non remis|no se puede entregar|failed delivery"
    r"|delivery report|message you sent blocked|\bbounce|mail failure|mail error",
    re.IGNORECASE,
)
_NDR_BODY = re.compile(
    r"could not be delivered to|was not delivered to|couldn't be delivered to"
    r"|delivery to the following recipients? (failed|has failed)|undeliverable to"
    r"|the following addresses? (had|failed)|unable to deliver (your|the) message"
    r"|did not reach (the following|some or all)|permanent (fatal )?errors?",
    re.IGNORECASE,
)
_DELAY_TEXT = re.compile(
    r"\(delay\)|delivery delayed|has been delayed|is delayed|delivery is delayed"
    r"|will (continue to )?(retry|try)|still trying|not yet been delivered|warning: could not send",
    re.IGNORECASE,
)
_FAILED_TEXT = re.compile(
    r"permanent|failed|failure|gave up|giving up|could not be delivered|undeliverable"
    r"|was not delivered|couldn't be delivered|rejected",
    re.IGNORECASE,
)
_SYSTEM_ADDRESS = re.compile(r"(mailer-daemon|postmaster|mailer_daemon)@", re.IGNORECASE)
_VERP = re.compile(r"\bb\+([A-Za-z0-9._=\-]+)@", re.IGNORECASE)
_MESSAGE_ID = re.compile(r"^message-id:\s*(<[^>\s]+>)", re.IGNORECASE | re.MULTILINE)


@dataclass
class _Parts:
    delivery_status: list[str] = field(default_factory=list)
    feedback_report: list[str] = field(default_factory=list)
    originals: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Report:
    """What one delivery report says about the failed (or delayed) recipient."""

    kind: str  # bounce | delay | complaint | receipt
    bounce_type: BounceType | None
    reason: str | None
    status: str | None
    recipient: str | None
    diagnostic: str | None
    action: str | None
    remote_mta: str | None
    feedback_type: str | None
    original_message_id: str | None
    verp_token: str | None


def _collect(part: Message, into: _Parts, depth: int = 0) -> None:
    if depth > 20:  # a pathological nesting is not worth following
        return
    ctype = mime.content_type(part)
    if ctype in ("message/delivery-status", "message/global-delivery-status"):
        into.delivery_status.append(_status_text(part))
        return
    if ctype == "message/feedback-report":
        into.feedback_report.append(_status_text(part))
        return
    if ctype in ("message/rfc822", "text/rfc822-headers", "message/rfc822-headers"):
        into.originals.append(
            mime.raw_part_text(part) if ctype == "message/rfc822" else mime.part_text(part)
        )
        return
    if ctype.startswith("multipart/") or ctype.startswith("message/"):
        try:
            children = part.get_payload()
        except Exception:
            children = None
        if isinstance(children, list):
            for child in children:
                if isinstance(child, Message):
                    _collect(child, into, depth + 1)
            return
    if ctype.startswith("text/") or ctype == "application/octet-stream" or depth == 0:
        into.texts.append(mime.part_text(part))


def _status_text(part: Message) -> str:
    """A delivery-status or feedback part as `Field: value` blocks, however it parsed."""
    try:
        payload = part.get_payload()
    except Exception:
        return ""
    if isinstance(payload, str):
        return mime.part_text(part)
    blocks = []
    for block in payload if isinstance(payload, list) else []:
        if isinstance(block, Message):
            lines = [f"{k}: {' '.join(str(v).split())}" for k, v in block.raw_items()]
            body = block.get_payload()
            if isinstance(body, str) and body.strip():
                lines.append(body)  # fields after a malformed line land in the body
            blocks.append("\n".join(lines))
    return mime.decode_iso2022("\n\n".join(blocks))


def _fields(text: str) -> list[dict[str, str]]:
    """RFC 3464 field blocks (separated by blank lines), folded lines joined."""
    blocks: list[dict[str, str]] = []
    current: dict[str, str] = {}
    last: str | None = None
    for line in text.splitlines():
        if not line.strip():
            if current:
                blocks.append(current)
            current, last = {}, None
            continue
        if line[:1] in (" ", "\t") and last:
            current[last] += " " + line.strip()
            continue
        name, sep, value = line.partition(":")
        if sep and re.fullmatch(r"[A-Za-z][A-Za-z0-9\-]*", name.strip()):
            last = name.strip().lower()
            current.setdefault(last, value.strip())
        elif last:
            current[last] += " " + line.strip()
    if current:
        blocks.append(current)
    return blocks


def _address(value: str | None) -> str | None:
    if not value:
        return None
    _, _, addr = value.rpartition(";")  # "rfc822; user@example.com"
    found = ADDRESS.search(addr or value)
    return found.group(0).strip(".").lower() if found else None


def _strip_copy(text: str) -> str:
    marker = _COPY_MARKERS.search(text)
    return text[: marker.start()] if marker else text


def _status_in(text: str | None) -> str | None:
    if not text:
        return None
    found = STATUS.search(text)
    return ".".join(found.groups()) if found else None


_WRAPPER_STATUS = frozenset({"4.4.7", "5.4.7", "5.5.0"})
_VAGUE_STATUS = re.compile(r"^[45]\.0\.0$|^4\.4\.7$")


def _pick_status(*sources: str | None) -> str | None:
    """The remote server's own code first: MTAs fill the Status field with a vaguer one
    (x.0.0, or 4.4.7 "expired" around the real 4.x.x that kept failing)."""
    found: list[str] = []
    for source in sources:
        found += [".".join(m.groups()) for m in STATUS.finditer(source or "")]
    for status in found:
        if not _VAGUE_STATUS.match(status):
            return status
    return found[0] if found else None


_COMMAND = (
    re.compile(r"in reply to (end of )?(data|rcpt to|mail from|rcpt|mail)\b", re.I),
    re.compile(r">>> ?(data|rcpt|mail)[^\n]*\n\s*<<< ?[45]", re.I),
    re.compile(r"after (end of data|data|rcpt to|mail from)", re.I),
    re.compile(r"most progress was (rcpt|mail|data)", re.I),  # qmail
)


# Providers' own wording for a dead address, whatever the code and command around it.
_CERTAIN_UNKNOWN = re.compile(
    r"(doesn't|does not) have an? .{0,40} account|invalid recipient"
    r"|email account (that )?you tried to reach does not exist",
    re.IGNORECASE,
)


def smtp_command(text: str) -> str | None:
    """The SMTP command the remote server was answering (DATA, RCPT or MAIL), when said."""
    for pattern in _COMMAND:
        found = pattern.search(text)
        if found:
            said = found.group(found.lastindex or 1).lower()
            return "DATA" if "data" in said else "RCPT" if "rcpt" in said else "MAIL"
    return None


def _adjust(
    verdict: Verdict,
    *,
    diagnostic: str | None,
    evidence: str | None,
    status: str | None,
    command: str | None,
) -> Verdict:
    """Corrections that depend on the SMTP dialogue rather than the words."""
    if diagnostic and re.match(r"\s*x-unix\s*;", diagnostic, re.IGNORECASE):
        # The local delivery program failed (procmail, a pipe): not the address.
        return Verdict("mailererror", BounceType.SOFT)
    subject = status.split(".")[1] if status else None
    if (
        verdict.reason == "userunknown"
        and command != "RCPT"
        and subject != "1"
        and status != "5.4.1"
        and evidence
        and SMTP_CODE.search(evidence)
        and not _CERTAIN_UNKNOWN.search(evidence)
    ):
        # A remote server said "user unknown" outside the RCPT phase and without a 5.1.x code:
        # the address was accepted, then the recipient's filter refused the message (the rule
        # sisimai applies too). At RCPT, or with 5.1.x, the address itself is dead.
        return Verdict("filtered", BounceType.POLICY)
    return verdict


def _recipient_from_text(text: str, exclude: set[str]) -> str | None:
    for pattern in (
        r"<([^<>\s]+@[^<>\s]+)>",
        r"(?:to|recipient|address)[^\n@]{0,40}?([^\s<>()\"':;,]+@[^\s<>()\"':;,]+)",
    ):
        for found in re.finditer(pattern, text, re.IGNORECASE):
            addr = _address(found.group(1))
            if addr and addr not in exclude and not _SYSTEM_ADDRESS.match(addr):
                return addr
    for found in ADDRESS.finditer(text):
        addr = found.group(0).strip(".").lower()
        if addr not in exclude and not _SYSTEM_ADDRESS.match(addr):
            return addr
    return None


def _diagnostic_lines(text: str) -> str | None:
    """The lines of a text NDR that carry the server's answer (an SMTP code or status)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    picked = [ln for ln in lines if STATUS.search(ln) or SMTP_CODE.search(ln)]
    return " ".join(picked)[:1000] if picked else None


def _original_ids(parts: _Parts, texts: str, msg: Message) -> tuple[str | None, str | None]:
    message_id = None
    for original in parts.originals:
        found = _MESSAGE_ID.search(original)
        if found:
            message_id = found.group(1)
            break
    if message_id is None:
        copy = _COPY_MARKERS.search(texts)
        if copy:
            found = _MESSAGE_ID.search(texts[copy.start() :])
            message_id = found.group(1) if found else None
    token = None
    for name in ("to", "delivered-to", "x-original-to", "envelope-to", "x-envelope-to"):
        for value in mime.headers(msg, name):
            verp = _VERP.search(value)
            if verp:
                return message_id, verp.group(1)
    for original in parts.originals:
        verp = re.search(r"^return-path:\s*<?b\+([A-Za-z0-9._=\-]+)@", original, re.I | re.M)
        if verp:
            token = verp.group(1)
            break
    return message_id, token


def looks_like_report(msg: Message, parts: _Parts | None = None) -> bool:
    """A report by structure, or a text NDR by its sender and subject."""
    parts = parts or _gather(msg)
    if parts.delivery_status or parts.feedback_report:
        return True
    if ses_notification("\n".join(parts.texts)) is not None:
        return True
    sender = " ".join(mime.headers(msg, "from") + mime.headers(msg, "return-path"))
    subject = mime.header(msg, "subject") or ""
    if mime.headers(msg, "x-failed-recipients"):
        return True
    from_daemon = bool(_DAEMON.search(sender)) or "<>" in " ".join(mime.headers(msg, "return-path"))
    if from_daemon and (_BOUNCE_SUBJECT.search(subject) or parts.originals):
        return True
    body = _strip_copy("\n".join(parts.texts))
    # A person's answer ("Re: Undeliverable ...") is a reply, whatever it quotes.
    answered = re.match(r"\s*(re|aw|sv|antw|rif|r)\s*:", subject, re.IGNORECASE)
    if answered:
        return False
    if _BOUNCE_SUBJECT.search(subject):
        return bool(STATUS.search(body) or SMTP_CODE.search(body) or from_daemon)
    if _NDR_BODY.search(body[:3000]) and ADDRESS.search(body[:3000]):
        return True  # a provider's own NDR from an ordinary-looking sender (carriers, MMS)
    return from_daemon and bool(STATUS.search(body) or SMTP_CODE.search(body))


def _gather(msg: Message) -> _Parts:
    parts = _Parts()
    _collect(msg, parts)
    return parts


def read_report(msg: Message) -> Report | None:
    """Parse a DSN, an ARF complaint or a text NDR; None when the message is none of these."""
    parts = _gather(msg)
    if not looks_like_report(msg, parts):
        return None
    human = _strip_copy("\n".join(parts.texts))
    message_id, token = _original_ids(parts, "\n".join(parts.texts), msg)
    if parts.feedback_report:
        return _complaint(parts, message_id, token)

    per_message: dict[str, str] = {}
    recipients: list[dict[str, str]] = []
    ses = ses_notification("\n".join(parts.texts))
    if ses is not None:
        fields = ses_fields(ses)
        if fields["kind"] == "complaint":
            return Report("complaint", None, "feedback", None, _address(fields["recipient"]),
                          fields["feedback-type"], None, None, fields["feedback-type"],
                          message_id, token)  # fmt: skip
        recipients.append({"final-recipient": fields["recipient"], **fields})
    for text in parts.delivery_status:
        blocks = _fields(text)
        for block in blocks:
            if "final-recipient" in block or "original-recipient" in block:
                recipients.append(block)
            elif not per_message:
                per_message = block
    chosen = _choose_recipient(recipients)
    action = (chosen or {}).get("action", "").lower().split(" ")[0] or None
    # Some MTAs put the server's answer only in another recipient's block.
    diagnostic = (chosen or {}).get("diagnostic-code") or next(
        (b["diagnostic-code"] for b in recipients if b.get("diagnostic-code")), None
    )
    raw_diagnostic = diagnostic
    if diagnostic:
        diagnostic = re.sub(r"^\s*smtp\s*;\s*", "", diagnostic, flags=re.I)
    field_status = (chosen or {}).get("status")
    recipient = _address((chosen or {}).get("final-recipient")) or _address(
        (chosen or {}).get("original-recipient")
    )
    failed_hdr = mime.headers(msg, "x-failed-recipients")
    if recipient is None and failed_hdr:
        recipient = _address(failed_hdr[0])
    if recipient is None:
        exclude = {a for v in mime.headers(msg, "from") for a in [_address(v)] if a}
        exclude |= {a for v in mime.headers(msg, "to") for a in [_address(v)] if a}
        recipient = _recipient_from_text(human, exclude)
        if recipient is None:
            for original in parts.originals:
                to = re.search(r"^to:\s*(.+)$", original, re.I | re.M)
                recipient = _address(to.group(1)) if to else None
                if recipient:
                    break
    text_diag = _diagnostic_lines(human)
    # Without a Diagnostic-Code the NDR text is the server's own words and may be more precise.
    status = _pick_status(diagnostic, field_status, None if diagnostic else text_diag)
    if status in _WRAPPER_STATUS and diagnostic:
        # "Expired" / "protocol error" wrap the answer the server kept giving: report that.
        inner = _pick_status(text_diag)
        status = inner if inner and not _VAGUE_STATUS.match(inner) else status
    code_in = SMTP_CODE.search(diagnostic or text_diag or "")
    smtp_code = code_in.group(1) if code_in else None

    delayed = action == "delayed" or (
        action is None
        and not parts.delivery_status
        and bool(_DELAY_TEXT.search(human + " " + (mime.header(msg, "subject") or "")))
        and not _FAILED_TEXT.search(human)
    )
    if action in ("delivered", "relayed", "expanded") and not delayed:
        # A positive DSN is a receipt: neither a failure nor a person's reply.
        return Report(
            "receipt",
            None,
            None,
            _status_in(field_status),
            recipient,
            diagnostic,
            action,
            (chosen or {}).get("remote-mta"),
            None,
            message_id,
            token,
        )
    # The Status field may carry a comment: "4.4.7 (unable to deliver after 1 day)".
    comment = re.sub(r"^[\d.\s]+", "", field_status or "")
    texts = [t for t in (diagnostic, comment, text_diag, human) if t]
    verdict = classify(status, texts, smtp_code=smtp_code)
    verdict = _adjust(
        verdict,
        diagnostic=raw_diagnostic,
        evidence=diagnostic or text_diag,
        status=status,
        command=smtp_command("\n".join([diagnostic or "", human, *parts.delivery_status])),
    )
    return Report(
        kind="delay" if delayed else "bounce",
        # A delay is recorded only (kind), but its category says what kind of trouble it is.
        bounce_type=verdict.category,
        reason=verdict.reason,
        status=status,
        recipient=recipient,
        diagnostic=(diagnostic or text_diag or _first_lines(human)),
        action=action or ("delayed" if delayed else "failed"),
        remote_mta=(chosen or {}).get("remote-mta"),
        feedback_type=None,
        original_message_id=message_id,
        verp_token=token,
    )


def _choose_recipient(blocks: list[dict[str, str]]) -> dict[str, str] | None:
    """The first failed recipient; else the first delayed one; else the first."""
    for wanted in ("failed", "delayed"):
        for block in blocks:
            if block.get("action", "").lower().startswith(wanted):
                return block
    return blocks[0] if blocks else None


def _first_lines(text: str) -> str | None:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return " ".join(lines[:6])[:1000] or None


def _complaint(parts: _Parts, message_id: str | None, token: str | None) -> Report:
    fields: dict[str, str] = {}
    for text in parts.feedback_report:
        for block in _fields(text):
            for key, value in block.items():
                fields.setdefault(key, value)
    recipient = _address(fields.get("original-rcpt-to")) or _address(
        fields.get("removal-recipient")
    )
    if recipient is None:
        for original in parts.originals:
            to = re.search(r"^to:\s*(.+)$", original, re.I | re.M)
            recipient = _address(to.group(1)) if to else None
            if recipient:
                break
    return Report(
        kind="complaint",
        bounce_type=None,
        reason="feedback",
        status=None,
        recipient=recipient,
        diagnostic=fields.get("feedback-type"),
        action=None,
        remote_mta=fields.get("reported-domain"),
        feedback_type=(fields.get("feedback-type") or "abuse").lower(),
        original_message_id=message_id,
        verp_token=token,
    )
