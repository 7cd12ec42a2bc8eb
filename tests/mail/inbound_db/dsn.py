"""RFC 3464 reports as Exim/Postfix/Gmail write them, for one recipient and one VERP sender."""

from __future__ import annotations

import uuid


def dsn(
    *, verp: str, rcpt: str, status: str, action: str, diagnostic: str, reporter: str = "mx.example"
) -> bytes:
    boundary = f"dsn-{uuid.uuid4().hex[:12]}"
    subject = (
        "Delivery Status Notification (Delay)"
        if action == "delayed"
        else ("Delivery Status Notification (Failure)")
    )
    text = f"""From: Mail Delivery Subsystem <mailer-daemon@{reporter}>
To: {verp}
Subject: {subject}
Date: Tue, 13 Jan 2026 11:00:00 +0000
Message-ID: <{uuid.uuid4().hex}@{reporter}>
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"

--{boundary}
Content-Type: text/plain; charset=us-ascii

Delivery to the following recipient {"has been delayed" if action == "delayed" else "failed"}:

     {rcpt}

The remote server said: {diagnostic}

--{boundary}
Content-Type: message/delivery-status

Reporting-MTA: dns; {reporter}

Final-Recipient: rfc822; {rcpt}
Action: {action}
Status: {status}
Diagnostic-Code: smtp; {diagnostic}

--{boundary}
Content-Type: text/rfc822-headers

Return-Path: <{verp}>
From: Ann Seller <ann@acme-sender.com>
To: {rcpt}
Subject: Quick question

--{boundary}--
"""
    return text.replace("\n", "\r\n").encode()
