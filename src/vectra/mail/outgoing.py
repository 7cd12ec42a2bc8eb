"""The outgoing MIME message: headers a deliverability engineer expects, then DKIM.

- Message-ID chosen before the SMTP transaction and stored, so a re-send after a crash
  carries the same id (receivers and our own reports can de-duplicate on it).
- List-Unsubscribe with an HTTPS one-click URL and a mailto, plus
  `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058).
- The envelope sender (which the receiving MTA turns into Return-Path) is a VERP address
  `b+<token>@<bounce domain>`, so every bounce names the email it is about.
- multipart/alternative: text first, HTML last (RFC 2046 5.1.4: the last is preferred).
"""

from __future__ import annotations

import datetime as dt
import email.policy
import email.utils
import uuid
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage

from vectra.mail import tokens
from vectra.mail.dkim import DkimSigner

# SMTP policy (CRLF). Lines up to 998 (RFC 5322 2.1.1): folding at 78 would turn the long
# List-Unsubscribe URL into RFC 2047 encoded words, which receivers do not decode there.
POLICY = email.policy.SMTP.clone(max_line_length=998)


@dataclass(frozen=True)
class Outgoing:
    """One message ready for SMTP: envelope and signed bytes."""

    mail_from: str
    rcpt_to: str
    data: bytes


def new_message_id(domain: str) -> str:
    """A globally unique Message-ID on the sender's domain (RFC 5322 3.6.4)."""
    return f"<{uuid.uuid4().hex}@{domain}>"


def domain_of(address: str) -> str:
    return address.rsplit("@", 1)[-1].strip().lower()


def build_message(
    *,
    email_id: uuid.UUID,
    message_id: str,
    from_name: str,
    from_address: str,
    to_address: str,
    to_name: str | None,
    subject: str,
    text: str,
    html: str | None,
    bounce_domain: str | None = None,
    signer: DkimSigner | None = None,
    date: dt.datetime | None = None,
) -> Outgoing:
    """The complete message for `email_id`, DKIM-signed when a signer is given."""
    bounce_domain = bounce_domain or domain_of(from_address)
    message = EmailMessage(policy=POLICY)
    message["Message-ID"] = message_id
    when = (date or dt.datetime.now(dt.UTC)).replace(tzinfo=dt.UTC)
    message["Date"] = email.utils.format_datetime(when)
    from_local, from_domain = from_address.rsplit("@", 1)
    message["From"] = Address(display_name=from_name or "", username=from_local, domain=from_domain)
    to_local, to_domain = to_address.rsplit("@", 1)
    message["To"] = Address(display_name=to_name or "", username=to_local, domain=to_domain)
    message["Subject"] = subject
    unsubscribe_token = tokens.make_token("unsubscribe", email_id)
    message["List-Unsubscribe"] = (
        f"<{tokens.unsubscribe_url(email_id)}>, "
        f"<mailto:unsubscribe+{unsubscribe_token}@{bounce_domain}?subject=unsubscribe>"
    )
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["X-Vectra-Email-ID"] = str(email_id)
    message.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    if html:
        message.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    data = message.as_bytes(policy=POLICY)
    if signer is not None:
        data = signer.sign(data) + data
    return Outgoing(
        mail_from=tokens.verp_address(email_id, bounce_domain), rcpt_to=to_address, data=data
    )
