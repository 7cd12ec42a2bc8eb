"""System mail of the meetings domain: confirmations with .ics, reminders, outcome prompts.

Sent over SMTP to the system relay (`VECTRA_SYSTEM_SMTP_*`), always from a job after the
booking committed, so a rolled-back booking never mails anyone.
"""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from vectra.meetings.config import MeetingsSettings, get_meetings_settings


def build_message(
    *,
    to: list[str],
    subject: str,
    text: str,
    sender: str,
    calendar: bytes | None = None,
    method: str = "REQUEST",
) -> EmailMessage:
    """A plain-text message; with `calendar`, an inline text/calendar part and invite.ics."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="vectra.local")
    message.set_content(text)
    if calendar is not None:
        # Mail clients show Accept/Decline for the inline part (RFC 6047); the file is a fallback.
        message.add_alternative(
            calendar.decode(), subtype="calendar", params={"method": method}, charset="utf-8"
        )
        message.add_attachment(
            calendar,
            maintype="application",
            subtype="ics",
            filename="invite.ics" if method == "REQUEST" else "cancel.ics",
        )
    return message


def send_system_mail(message: EmailMessage, *, settings: MeetingsSettings | None = None) -> None:
    """Hand `message` to the system SMTP relay."""
    settings = settings or get_meetings_settings()
    if "From" not in message:
        message["From"] = settings.system_mail_from
    with smtplib.SMTP(settings.system_smtp_host, settings.system_smtp_port, timeout=30) as smtp:
        smtp.send_message(message)
