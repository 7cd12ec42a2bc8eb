"""The mail that comes back in the demo: delivery reports (RFC 3464) and replies.

Each one answers a message the sink really received: a report goes to that message's VERP
return path and quotes its headers, a reply comes from the recipient with In-Reply-To set
to its Message-ID, exactly as remote servers and mail clients write them.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import uuid
from dataclasses import dataclass
from pathlib import Path

from vectra.mail.sink import Received


@dataclass(frozen=True)
class Bounce:
    status: str
    diagnostic: str
    label: str


HARD_BOUNCES = [
    Bounce("5.1.1", "550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown in virtual "
           "mailbox table", "hard: user unknown"),
    Bounce("5.1.10", "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP "
           "address lookup", "hard: recipient not found"),
]  # fmt: skip
SOFT_BOUNCE = Bounce(
    "4.2.2", "452 4.2.2 The email account that you tried to reach is over quota.", "soft: full"
)

# (intent the classifier should read, the reply's words)
REPLIES: list[tuple[str, str]] = [
    ("meeting_request", "Hi {sender},\n\nSounds interesting, can we set up a call on Tuesday "
     "afternoon? Send me a link and I will pick a time.\n\nBest,\n{first}"),
    ("interested", "Hi {sender},\n\nThanks for reaching out. This looks relevant for us: we are "
     "reviewing our outbound tooling, and I am interested in learning more.\n\n{first}"),
    ("not_interested", "Thanks, but we are not interested. We already use another vendor and "
     "are happy with it.\n\n{first}"),
    ("out_of_office", "I am out of the office until Monday {back} with limited access to "
     "email. For urgent matters please contact my colleague.\n\n{first}"),
]  # fmt: skip


def _headers(path: Path) -> bytes:
    raw = path.read_bytes()
    return raw.split(b"\r\n\r\n", 1)[0] + b"\r\n"


def delivery_report(sent: Received, bounce: Bounce) -> bytes:
    """A Postfix-style non-delivery report for `sent`, addressed to its VERP return path."""
    rcpt = sent.rcpt_tos[0]
    reporting = "mx1." + rcpt.rsplit("@", 1)[1]
    boundary = f"report-{uuid.uuid4().hex}"
    diagnostic = bounce.diagnostic.format(rcpt=rcpt)
    text = (
        f"From: MAILER-DAEMON@{reporting} (Mail Delivery System)\r\n"
        f"To: {sent.mail_from}\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        f"Date: {email.utils.formatdate(localtime=False)}\r\n"
        f"Message-ID: <{uuid.uuid4().hex}@{reporting}>\r\n"
        "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"\r\n'
        f"\r\n--{boundary}\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
        f"This is the mail system at host {reporting}.\r\n\r\n"
        "I'm sorry to have to inform you that your message could not\r\n"
        "be delivered to one or more recipients.\r\n\r\n"
        f"<{rcpt}>: {diagnostic}\r\n"
        f"\r\n--{boundary}\r\nContent-Type: message/delivery-status\r\n\r\n"
        f"Reporting-MTA: dns; {reporting}\r\n\r\n"
        f"Final-Recipient: rfc822; {rcpt}\r\nOriginal-Recipient: rfc822;{rcpt}\r\n"
        "Action: failed\r\n"
        f"Status: {bounce.status}\r\nRemote-MTA: dns; {reporting}\r\n"
        f"Diagnostic-Code: smtp; {diagnostic}\r\n"
        f"\r\n--{boundary}\r\nContent-Type: text/rfc822-headers\r\n\r\n"
    )
    return text.encode() + _headers(sent.path) + f"\r\n--{boundary}--\r\n".encode()


def reply(
    sent: Received, words: str, *, first_name: str, sender_name: str, back: str = ""
) -> bytes:
    """The recipient's answer to `sent`, threaded by In-Reply-To and References."""
    original = email.message_from_bytes(_headers(sent.path), policy=email.policy.default)
    rcpt = sent.rcpt_tos[0]
    message = email.message.EmailMessage(policy=email.policy.SMTP)
    message["From"] = email.utils.formataddr((first_name, rcpt))
    message["To"] = str(original.get("From", ""))
    subject = str(original.get("Subject", ""))
    message["Subject"] = subject if subject.lower().startswith("re:") else f"Re: {subject}"
    message["Date"] = email.utils.formatdate(localtime=False)
    message["Message-ID"] = f"<{uuid.uuid4().hex}@{rcpt.rsplit('@', 1)[1]}>"
    if sent.message_id:
        message["In-Reply-To"] = sent.message_id
        message["References"] = sent.message_id
    body = words.format(first=first_name, sender=sender_name, back=back)
    message.set_content(body + f"\n\nOn {original.get('Date', '')}, {original.get('From', '')} "
                        "wrote:\n> (original message)\n")  # fmt: skip
    return message.as_bytes()
