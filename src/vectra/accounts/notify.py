"""The platform's own mail (verification, password reset, invitations) over SMTP.

This is Vectra writing to its users, not a campaign mailbox: one relay configured by
`VECTRA_SMTP_HOST/PORT/USER/PASSWORD/FROM` (and `VECTRA_SMTP_SECURITY`).
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import make_msgid

from vectra.errors import ServiceUnavailable
from vectra.settings import Settings, get_settings

log = logging.getLogger(__name__)
_TIMEOUT_S = 15


class MailNotConfigured(ServiceUnavailable):
    """Outgoing mail is not configured (set VECTRA_SMTP_HOST)."""


def mail_configured(settings: Settings | None = None) -> bool:
    return bool((settings or get_settings()).smtp_host)


def build_message(*, to: str, subject: str, body: str, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2].strip("> ") or None)
    # Automated mail: suppress out-of-office replies (RFC 3834).
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body)
    return message


def send_system_mail(*, to: str, subject: str, body: str, settings: Settings | None = None) -> None:
    """Send one plain-text message through the configured relay (503 when it cannot)."""
    settings = settings or get_settings()
    if not settings.smtp_host:
        raise MailNotConfigured()
    message = build_message(to=to, subject=subject, body=body, sender=settings.smtp_from)
    security = settings.smtp_security.lower()
    try:
        smtp: smtplib.SMTP
        if security == "tls":
            smtp = smtplib.SMTP_SSL(
                settings.smtp_host,
                settings.smtp_port,
                timeout=_TIMEOUT_S,
                context=ssl.create_default_context(),
            )
        else:
            smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=_TIMEOUT_S)
        with smtp:
            if security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password or "")
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("system mail to %s failed: %s", to, exc)
        raise ServiceUnavailable("Could not send the email right now; try again later.") from exc
